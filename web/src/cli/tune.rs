//! `motionrender tune`: runs a sweep of SWEEP.toml (and flags) with a
//! progress bar into a run folder, and `tune compare A B` reports what
//! changed between two run folders, failing on a regression when asked.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use motionrender_benches::tune::{self, CompareOptions, Recommendation, SweepSpec};
use motionrender_config::Config;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct TuneArgs {
    #[command(subcommand)]
    command: Option<TuneCommand>,
    #[command(flatten)]
    sweep: SweepArgs,
}

#[derive(Debug, Subcommand)]
enum TuneCommand {
    /// Compare two run folders: the points whose metrics changed beyond noise.
    Compare(CompareArgs),
}

/// The sweep to run; every flag overrides the same key of SWEEP.toml.
#[derive(Debug, Args)]
struct SweepArgs {
    /// The sweep file (TOML; see the README's "Tuning" section). Without
    /// one, the defaults and the flags make the sweep.
    sweep: Option<PathBuf>,
    /// `synthetic` (seeded model producers and consumers) or `real` (the whole pipeline).
    #[arg(long)]
    mode: Option<String>,
    #[arg(long)]
    seed: Option<u64>,
    /// Measured runs per point.
    #[arg(long)]
    runs: Option<u32>,
    /// Warm-up runs per point, discarded.
    #[arg(long)]
    warmup: Option<u32>,
    /// `none` (throughput) or `deadline` (paced at the output rate).
    #[arg(long)]
    deadline: Option<String>,
    /// The deadline's latency budget in milliseconds.
    #[arg(long)]
    latency_budget_ms: Option<f64>,
    /// Drop policies, comma-separated: block, drop_newest, drop_oldest.
    #[arg(long, value_delimiter = ',')]
    drop_policy: Vec<String>,
    /// Queue capacities in frames, comma-separated.
    #[arg(long, value_delimiter = ',')]
    capacity_frames: Vec<u32>,
    /// Queue capacities in bytes, comma-separated.
    #[arg(long, value_delimiter = ',')]
    capacity_bytes: Vec<u64>,
    /// Memory budgets in MB, comma-separated.
    #[arg(long, value_delimiter = ',')]
    budget_mb: Vec<u64>,
    /// Page counts, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pages: Vec<u32>,
    /// Encoder presets, comma-separated.
    #[arg(long, value_delimiter = ',')]
    preset: Vec<String>,
    /// Output sizes WIDTHxHEIGHT, comma-separated.
    #[arg(long, value_delimiter = ',')]
    size: Vec<String>,
    /// Output frame rates, comma-separated.
    #[arg(long, value_delimiter = ',')]
    fps: Vec<u32>,
    /// The video of a real sweep.
    #[arg(long)]
    video: Option<PathBuf>,
    /// The scenario of a real sweep.
    #[arg(long)]
    scenario: Option<PathBuf>,
    /// Set any key of SWEEP.toml, e.g. `--with synthetic.consumer.service_ms=40` (repeatable).
    #[arg(long = "with", value_name = "KEY=VALUE")]
    with: Vec<String>,
    /// Where run folders are kept.
    #[arg(long, default_value = "tune-runs")]
    runs_dir: PathBuf,
    /// The run folder to write (created; must be empty or new) instead of a new one under --runs-dir.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct CompareArgs {
    /// The baseline: a run folder, or the name of one under --runs-dir.
    baseline: PathBuf,
    /// The candidate.
    candidate: PathBuf,
    #[arg(long, default_value = "tune-runs")]
    runs_dir: PathBuf,
    /// Significance level of the Mann-Whitney test.
    #[arg(long, default_value_t = 0.05)]
    alpha: f64,
    /// Smallest relative change of the medians that counts (0.05 = 5%).
    #[arg(long, default_value_t = 0.05)]
    min_change: f64,
    /// Metrics to compare, comma-separated (default: drop rate, p99 latency,
    /// deadline misses, throughput, render-time factor, blocked time, peak memory).
    #[arg(long, value_delimiter = ',')]
    metrics: Vec<String>,
    /// Exit with status 2 when any change is a regression.
    #[arg(long)]
    fail_on_regression: bool,
    /// Also write the report (Markdown) to this file.
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn run(args: &TuneArgs, config: &Config) -> anyhow::Result<ExitCode> {
    match &args.command {
        Some(TuneCommand::Compare(compare)) => run_compare(compare),
        None => run_sweep(&args.sweep, config),
    }
}

/// The flags as (SWEEP.toml key, value) overrides, `--with` last.
fn overrides(args: &SweepArgs) -> anyhow::Result<Vec<(String, toml::Value)>> {
    let mut set = Vec::new();
    let text = |s: &str| toml::Value::String(s.to_owned());
    let int = |n: u64| i64::try_from(n).map(toml::Value::Integer).context("a number is too large");
    let list = |values: Vec<toml::Value>| toml::Value::Array(values);
    if let Some(mode) = &args.mode {
        set.push(("mode".to_owned(), text(mode)));
    }
    if let Some(seed) = args.seed {
        set.push(("seed".to_owned(), int(seed)?));
    }
    if let Some(runs) = args.runs {
        set.push(("runs".to_owned(), int(runs.into())?));
    }
    if let Some(warmup) = args.warmup {
        set.push(("warmup".to_owned(), int(warmup.into())?));
    }
    if let Some(deadline) = &args.deadline {
        set.push(("deadline.mode".to_owned(), text(deadline)));
    }
    if let Some(budget) = args.latency_budget_ms {
        set.push(("deadline.latency_budget_ms".to_owned(), toml::Value::Float(budget)));
    }
    let strings = |key: &str, values: &[String], set: &mut Vec<(String, toml::Value)>| {
        if !values.is_empty() {
            set.push((key.to_owned(), list(values.iter().map(|v| text(v)).collect())));
        }
    };
    strings("sweep.drop_policy", &args.drop_policy, &mut set);
    strings("sweep.preset", &args.preset, &mut set);
    strings("sweep.size", &args.size, &mut set);
    for (key, values) in [
        ("sweep.queue.capacity_frames", args.capacity_frames.iter().map(|&v| u64::from(v)).collect::<Vec<_>>()),
        ("sweep.queue.capacity_bytes", args.capacity_bytes.clone()),
        ("sweep.memory.budget_mb", args.budget_mb.clone()),
        ("sweep.pages", args.pages.iter().map(|&v| u64::from(v)).collect()),
        ("sweep.fps", args.fps.iter().map(|&v| u64::from(v)).collect()),
    ] {
        if !values.is_empty() {
            set.push((key.to_owned(), list(values.into_iter().map(int).collect::<anyhow::Result<_>>()?)));
        }
    }
    if let Some(video) = &args.video {
        set.push(("real.video".to_owned(), text(&video.to_string_lossy())));
    }
    if let Some(scenario) = &args.scenario {
        set.push(("real.scenario".to_owned(), text(&scenario.to_string_lossy())));
    }
    for assignment in &args.with {
        set.push(tune::parse_assignment(assignment).map_err(|e| anyhow::anyhow!("--with: {e}"))?);
    }
    Ok(set)
}

fn run_sweep(args: &SweepArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let spec = SweepSpec::load(args.sweep.as_deref(), &overrides(args)?)?;
    let dir = match &args.out {
        Some(out) => {
            std::fs::create_dir_all(out).with_context(|| format!("cannot create the run folder {}", out.display()))?;
            let used = std::fs::read_dir(out).with_context(|| format!("cannot read {}", out.display()))?.next().is_some();
            anyhow::ensure!(!used, "the run folder {} is not empty", out.display());
            out.clone()
        }
        None => {
            let stamp = humantime_stamp();
            tune::new_run_dir(&args.runs_dir, &stamp, &spec.name)?
        }
    };
    let points = spec.points().len();
    let bar = ProgressBar::new(points as u64 * u64::from(spec.runs + spec.warmup));
    bar.set_style(
        ProgressStyle::with_template("tune [{bar:30}] {pos}/{len} runs  {msg}  ETA {eta}")
            .map_err(|e| anyhow::anyhow!("progress bar: {e}"))?
            .progress_chars("=> "),
    );
    let mut progress = |p: tune::Progress| {
        bar.set_position(p.done);
        let kind = if p.warmup { "warm-up" } else { "run" };
        let runs = if p.warmup { spec.warmup } else { spec.runs };
        bar.set_message(format!("point {}/{}  {kind} {}/{}", p.point + 1, p.points, p.run + 1, runs));
    };
    let outcome = tune::run_sweep(&spec, config, &dir, &mut progress);
    bar.finish_and_clear();
    let outcome = outcome?;
    println!("tune: {} points × {} runs in {}", outcome.points.len(), spec.runs, outcome.dir.display());
    match &outcome.recommendation {
        Recommendation::NoTargets => println!("recommendation: none asked for (no [targets])"),
        Recommendation::Meets { point, key, .. } => println!("recommendation: point {point}, {key} (see {})", outcome.dir.join(tune::RECOMMENDATION).display()),
        Recommendation::NoneMeets { closest, key, .. } => println!("recommendation: no configuration meets the targets; closest is point {point}, {key}", point = closest),
    }
    println!("summary: {}", outcome.dir.join(tune::SUMMARY).display());
    Ok(ExitCode::SUCCESS)
}

/// `YYYYMMDDTHHMMSS` (UTC) for a run folder's name.
fn humantime_stamp() -> String {
    let text = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    text.chars().filter(|c| c.is_ascii_digit() || *c == 'T').collect()
}

/// A run folder named on the command line: a path, or a name under `runs_dir`.
fn run_folder(given: &Path, runs_dir: &Path) -> anyhow::Result<PathBuf> {
    if given.join(tune::RESULTS).is_file() {
        return Ok(given.to_path_buf());
    }
    let named = runs_dir.join(given);
    anyhow::ensure!(named.join(tune::RESULTS).is_file(), "{} is not a run folder (no {} there, nor in {})", given.display(), tune::RESULTS, named.display());
    Ok(named)
}

fn run_compare(args: &CompareArgs) -> anyhow::Result<ExitCode> {
    let baseline = run_folder(&args.baseline, &args.runs_dir)?;
    let candidate = run_folder(&args.candidate, &args.runs_dir)?;
    anyhow::ensure!(args.alpha > 0.0 && args.alpha < 1.0, "--alpha must be within (0, 1), got {}", args.alpha);
    anyhow::ensure!(args.min_change >= 0.0, "--min-change must be >= 0, got {}", args.min_change);
    let mut options = CompareOptions { alpha: args.alpha, min_change: args.min_change, ..CompareOptions::default() };
    if !args.metrics.is_empty() {
        options.metrics.clone_from(&args.metrics);
    }
    let comparison = tune::compare(&baseline, &candidate, &options)?;
    let report = tune::compare_report(&baseline, &candidate, &options, &comparison);
    print!("{report}");
    if let Some(out) = &args.out {
        std::fs::write(out, &report).with_context(|| format!("cannot write {}", out.display()))?;
    }
    if args.fail_on_regression && comparison.regressions() > 0 {
        eprintln!("tune compare: {} regression(s)", comparison.regressions());
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}
