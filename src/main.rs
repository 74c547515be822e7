use clap::Parser;

fn main() -> std::process::ExitCode {
    samrs::run(samrs::cli::Cli::parse())
}
