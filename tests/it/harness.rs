//! The ground samrs's end-to-end tests stand on: one offline AWS per test run (`Emulator`), an
//! isolated directory, HOME and name prefix per test ([`TestEnv`]), and assertion helpers that read
//! what the emulator holds (SDK clients for CloudFormation, S3, ECR and STS; raw HTTP for Lambda and
//! the registry). Tests are plain `#[test]` functions that call SDK clients through [`block_on`]: the
//! helpers block, so they must not run inside `#[tokio::test]`. Re-export more of the submodules'
//! items here as tests come to name them.

mod aws;
mod emulator;
mod faults;
mod http;
mod testenv;
mod tls;
mod tty;

pub use aws::block_on;
pub use emulator::Emulator;
pub use faults::{Call, Fault, FaultProxy, Rule};
pub use http::{basic_auth, request};
pub use testenv::{samrs_bin, RunOutput, TestEnv, SIGINT, SIGKILL, SIGTERM};
pub use tls::{Ca, TlsProxy};
pub use tty::Tty;
