//! Prints the scenario `scripts/bench` burns in (see
//! `motionrender_benches::fading_cues_scenario`) as JSON on stdout:
//! `bench_scenario [--cues N] [--seconds S]`.

use clap::Parser;
use motionrender_benches::fading_cues_scenario;

/// Prints a generated scenario of fading subtitle cues.
#[derive(Debug, Parser)]
#[command(name = "bench_scenario")]
struct Args {
    /// How many cues.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..))]
    cues: u32,
    /// The length of the video they are spread over, in seconds.
    #[arg(long, default_value_t = 60.0)]
    seconds: f64,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if !(args.seconds.is_finite() && args.seconds > 0.0) {
        anyhow::bail!("--seconds must be a positive number of seconds, got {}", args.seconds);
    }
    let scenario = fading_cues_scenario(args.cues as usize, args.seconds);
    println!("{}", serde_json::to_string_pretty(&scenario)?);
    Ok(())
}
