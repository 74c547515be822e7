use clap::{CommandFactory, Parser};

fn main() -> std::process::ExitCode {
    match samrs::cli::Cli::try_parse() {
        Ok(cli) => samrs::run(cli),
        // --help and --version are not mistakes: clap prints them and exits 0.
        Err(err) if !err.use_stderr() => err.exit(),
        // No command at all: sam prints its help and exits 0.
        Err(err)
            if err.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand =>
        {
            samrs::cli::print_help()
        }
        Err(err) => {
            let args: Vec<String> = std::env::args().collect();
            let subcommand = args
                .get(1)
                .map(String::as_str)
                .filter(|a| samrs::cli::Cli::command().find_subcommand(a).is_some());
            samrs::usage_failure(&samrs::cli::usage_error_line(&err, subcommand), &args)
        }
    }
}
