//! Command-line interface: raw flags parsed into plain data, then dispatched.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod validate;

/// Burns MotionText animated subtitles into videos.
#[derive(Debug, Parser)]
#[command(name = "motionrender", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate scenario files: verdict, version, migration, alive intervals, plugins.
    Validate(validate::ValidateArgs),
    /// Print a scenario as the v2.0 document the engine renders (v1.3 is migrated).
    Migrate {
        /// The scenario file (JSON, v2.0 or v1.3).
        file: PathBuf,
    },
}

/// Runs the parsed command; the exit code says whether it succeeded.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Validate(args) => validate::run(&args),
        Command::Migrate { file } => validate::migrate(&file),
    }
}
