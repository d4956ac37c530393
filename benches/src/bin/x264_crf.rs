//! Prints the x264 CRF the engine encodes with at a quality of the 1..=100
//! scale (`motionrender_engine::media::quality_to_crf`), so `scripts/bench`
//! gives its plain FFmpeg transcode the same rate control: `x264_crf QUALITY`.

use clap::Parser;
use motionrender_engine::media::quality_to_crf;

/// Prints the x264 CRF for a quality.
#[derive(Debug, Parser)]
#[command(name = "x264_crf")]
struct Args {
    /// Quality 1..=100, as in `encoder.quality` or `render --quality`.
    quality: u32,
}

fn main() {
    let args = Args::parse();
    println!("{}", quality_to_crf(args.quality));
}
