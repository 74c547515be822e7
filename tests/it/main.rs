//! samrs's integration tests, all in one binary: every test binary links the AWS SDK again, so one
//! binary keeps `cargo test` builds short. `harness` starts the offline AWS (patched moto and an OCI
//! registry, see tests/emulator/) once per run; every other module holds tests.

mod bad_input;
mod cli_docs;
mod companion;
mod delete;
mod demo;
mod deploy;
mod engine;
mod faults;
mod guided;
mod harness;
mod interrupts;
mod parser_properties;
mod push;
mod security;
mod smoke;
