//! Command-line interface: raw flags parsed into plain data, then dispatched.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use motionrender_config::{parse_override, Config, Sources};
use motionrender_web::checks::{self, Purpose};

mod doctor;
mod log;
mod render;
mod serve;
mod signals;
mod tune;
mod validate;
mod worker;

/// Burns MotionText animated subtitles into videos.
#[derive(Debug, Parser)]
#[command(name = "motionrender", version, about)]
pub struct Cli {
    /// Configuration file (TOML); defaults to $MOTIONRENDER_CONFIG when set.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Override one configuration key, e.g. `--set queue.capacity_frames=128`
    /// (repeatable; wins over the file and the environment).
    #[arg(long = "set", global = true, value_name = "KEY=VALUE")]
    overrides: Vec<String>,
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
    /// Burn a scenario's subtitles into a video: OUT.mp4 and OUT.mp4.qc.json.
    Render(render::RenderArgs),
    /// Serve the HTTP API (see API.md) with a durable job store.
    Serve(serve::ServeArgs),
    /// Render segments of jobs a `serve --queue` publishes, from the same
    /// Redis; sources and segments travel through the `[s3]` bucket.
    Worker(worker::WorkerArgs),
    /// Sweep frame-queue settings on synthetic or real runs and recommend
    /// a configuration (`tune SWEEP.toml`), or compare two sweeps (`tune compare A B`).
    Tune(Box<tune::TuneArgs>),
    /// Check what a render needs (Chromium, FFmpeg and encoders, the page and
    /// its npm packages, fonts, folders, NVENC, S3, the alert webhook) and
    /// say what to do about each; exits non-zero when a render could not run.
    Doctor,
    /// Show the effective configuration (defaults < file < environment < --set), secrets masked.
    Config {
        /// Print the effective configuration as TOML.
        #[arg(long)]
        print: bool,
    },
}

/// Runs the parsed command; the exit code says whether it succeeded.
impl Cli {
    /// Every `--set` of the command line, in order, wherever it stands.
    /// (clap keeps only those after the subcommand when both sides have
    /// some, so `motionrender --set a=1 render --set b=2` lost `a=1`.)
    pub fn with_every_set(mut self, argv: impl IntoIterator<Item = std::ffi::OsString>) -> Self {
        let mut every = Vec::new();
        let mut argv = argv.into_iter().skip(1).map(|a| a.to_string_lossy().into_owned());
        while let Some(arg) = argv.next() {
            if arg == "--" {
                break;
            }
            if arg == "--set" {
                every.extend(argv.next());
            } else if let Some(value) = arg.strip_prefix("--set=") {
                every.push(value.to_owned());
            }
        }
        if every.len() >= self.overrides.len() {
            self.overrides = every;
        }
        self
    }
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Validate(args) => validate::run(&args),
        Command::Migrate { file } => validate::migrate(&file),
        Command::Render(args) => {
            let config = load_config(cli.config, &cli.overrides)?;
            log::install(&config.log)?;
            refuse_without(&config, Purpose::Render, "render")?;
            render::run(&args, &config)
        }
        Command::Tune(args) => tune::run(&args, &load_config(cli.config, &cli.overrides)?),
        Command::Serve(args) => {
            let config = load_config_with(cli.config, args.overrides(), &cli.overrides)?;
            log::install(&config.log)?;
            refuse_without(&config, Purpose::Serve, "serve")?;
            serve::run(config)
        }
        Command::Worker(args) => {
            let config = load_config_with(cli.config, args.overrides(), &cli.overrides)?;
            log::install(&config.log)?;
            refuse_without(&config, Purpose::Render, "start a worker")?;
            worker::run(config)
        }
        Command::Doctor => Ok(doctor::run(&load_config(cli.config, &cli.overrides)?)),
        Command::Config { print } => {
            let config = load_config(cli.config, &cli.overrides)?;
            if print {
                print!("{}", config.to_masked_toml());
            } else {
                println!("configuration is valid (use --print to show it)");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Stops `command` before it starts anything when a part every render
/// needs is missing, with the advice `doctor` gives for it.
fn refuse_without(config: &Config, purpose: Purpose, command: &str) -> anyhow::Result<()> {
    match checks::refusal(config, purpose) {
        Some(advice) => anyhow::bail!("cannot {command}: {advice} (motionrender doctor checks everything)"),
        None => Ok(()),
    }
}

/// The effective configuration: defaults < file < MOTIONRENDER_* < --set.
fn load_config(file: Option<PathBuf>, overrides: &[String]) -> anyhow::Result<Config> {
    load_config_with(file, Vec::new(), overrides)
}

/// As [`load_config`], with a command's own flags as overrides below `--set`.
fn load_config_with(file: Option<PathBuf>, mut flags: Vec<(String, String)>, overrides: &[String]) -> anyhow::Result<Config> {
    for flag in overrides {
        flags.push(parse_override(flag)?);
    }
    Ok(Config::load(&Sources::from_process_env(file, flags))?)
}
