//! The `motionrender` binary: parses the command line and runs one command.

use std::process::ExitCode;

use clap::Parser;

mod cli;

/// jemalloc keeps freed pages for reuse: a render allocates and frees a
/// full picture per frame, which the system allocator hands back to the
/// kernel and takes again zeroed, page by page.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let args = cli::Cli::parse().with_every_set(std::env::args_os());
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
