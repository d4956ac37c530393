//! The `motionrender` binary: parses the command line and runs one command.

use std::process::ExitCode;

use clap::Parser;

mod cli;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("motionrender: {error:#}");
            ExitCode::FAILURE
        }
    }
}
