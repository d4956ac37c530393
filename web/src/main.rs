//! The `motionrender` binary: parses the command line and runs one command.

use std::process::ExitCode;

use clap::Parser;

mod cli;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(code) => code,
        Err(error) => {
            // One line: child-process output inside an error is folded in.
            let reason = format!("{error:#}");
            let reason: Vec<&str> = reason.lines().map(str::trim).filter(|line| !line.is_empty()).collect();
            eprintln!("motionrender: {}", reason.join(" | "));
            ExitCode::FAILURE
        }
    }
}
