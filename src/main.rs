use clap::{CommandFactory, Parser};

fn main() -> std::process::ExitCode {
    match samrs::cli::Cli::try_parse() {
        Ok(cli) => samrs::run(cli),
        // --help and --version are not mistakes: clap prints them and exits 0.
        Err(err) if !err.use_stderr() => err.exit(),
        Err(err) => {
            let subcommand = std::env::args()
                .nth(1)
                .filter(|a| samrs::cli::Cli::command().find_subcommand(a).is_some());
            eprintln!(
                "Error: {}",
                samrs::cli::usage_error_line(&err, subcommand.as_deref())
            );
            std::process::ExitCode::from(2)
        }
    }
}
