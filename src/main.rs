//! `gen`: parse the command line, run the command, map the outcome to an
//! exit code (0 ok, 1 findings or drift, 2 usage or input error).

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = schemagen::cli::Cli::parse();
    match schemagen::run::run(&cli) {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}
