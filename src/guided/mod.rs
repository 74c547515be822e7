//! `samrs deploy --guided`.

pub mod auth;
pub mod theme;
