//! samrs: a fast, drop-in `sam deploy` with managed ECR companion stacks.
pub mod config;
