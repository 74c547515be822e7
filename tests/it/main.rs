//! samrs's integration tests, all in one binary: every test binary links the AWS SDK again, so one
//! binary keeps `cargo test` builds short. `harness` starts the offline AWS (patched moto and an OCI
//! registry, see tests/emulator/) once per run; every other module holds tests.

// Tests read their environment and print what a person needs to follow them (a kept work
// directory, the module graph): the UI-only rules of Cargo.toml's [lints] are for src/.
#![allow(clippy::print_stdout, clippy::print_stderr, clippy::disallowed_methods)]

mod architecture;
mod bad_input;
mod cli_docs;
mod companion;
mod delete;
mod demo;
mod deploy;
mod dry_run;
mod engine;
mod express;
mod faults;
mod flags;
mod guided;
mod harness;
mod interrupts;
mod json_output;
mod language_extensions;
mod max_wait;
mod network;
mod on_failure;
mod parser_properties;
mod plan_apply;
mod plan_changes;
mod push;
mod security;
mod shortcut;
mod side_by_side;
mod signing;
mod slow_calls;
mod smoke;
mod wall_clock;
