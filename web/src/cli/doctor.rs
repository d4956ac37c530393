//! `motionrender doctor`: every check of what a render needs, one line
//! each with `ok`, `warn`, `FAIL` or `skip` and what to do; the exit status
//! is non-zero when a render could not run.

use std::process::ExitCode;

use motionrender_config::Config;
use motionrender_web::checks::{self, Verdict};

/// Prints every check; fails when one of them did.
pub fn run(config: &Config) -> ExitCode {
    let found = checks::all(config);
    for check in &found {
        println!("{}", check.line());
    }
    let failed = found.iter().filter(|check| check.verdict == Verdict::Fail).count();
    if failed == 0 {
        println!("doctor: a render can run here");
        ExitCode::SUCCESS
    } else {
        println!("doctor: {failed} problem(s) stop renders here; see the FAIL lines");
        ExitCode::FAILURE
    }
}
