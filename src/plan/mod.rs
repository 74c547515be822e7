//! Deciding what a deploy does, as pure functions of the settings, the template and what was read
//! from AWS.

pub mod failure;
pub mod shortcut;
