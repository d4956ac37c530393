//! `motionrender render`: one video and one scenario in, a burned-in MP4 and
//! its QC report (`OUT.qc.json`) out, with a progress line on the way.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use clap::Args;
use motionrender_config::Config;
use motionrender_config::{DropPolicy, EncoderChoice};
use motionrender_engine::media::FrameRate;
use motionrender_actors::render_blocking;
use motionrender_engine::render::{OutputShape, RenderRequest, RenderSettings};
use motionrender_engine::scenario;

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// The source video.
    #[arg(long)]
    video: PathBuf,
    /// The MotionText scenario (JSON, v2.0 or v1.3).
    #[arg(long)]
    scenario: PathBuf,
    /// The MP4 to write; its QC report goes beside it as OUT.qc.json.
    #[arg(long)]
    out: PathBuf,
    /// Output width in pixels (even); default the source's, or kept in
    /// proportion when only --height is given.
    #[arg(long)]
    width: Option<u32>,
    /// Output height in pixels (even).
    #[arg(long)]
    height: Option<u32>,
    /// Output frame rate, `30` or `30000/1001`; default the source's.
    #[arg(long, value_parser = parse_frame_rate)]
    fps: Option<FrameRate>,
    /// Quality 1..=100 (mapped to the encoder's rate control); default from configuration.
    #[arg(long)]
    quality: Option<u32>,
    /// Encoder preset (x264: ultrafast … veryslow); default from configuration.
    #[arg(long)]
    preset: Option<String>,
    /// A plugin directory added to the bundled standard pack (its plugins
    /// take precedence for the same name and version).
    #[arg(long)]
    plugins: Option<PathBuf>,
    /// A directory of font files the page loads as web fonts (and where the
    /// scenario's font assets are looked up); default `paths.font_dir`.
    #[arg(long)]
    fonts: Option<PathBuf>,
    /// Fail with PLUGIN_NOT_FOUND when a plugin the scenario names cannot be
    /// loaded (default: render without the effect and list it in QC).
    #[arg(long)]
    strict_plugins: bool,
    /// Encoder back end; `auto` uses NVENC when a device is usable, else x264.
    #[arg(long, value_enum)]
    encoder: Option<EncoderArg>,
    /// What a full frame queue does: wait (lossless) or drop an overlay,
    /// showing the nearest earlier one instead.
    #[arg(long, value_enum)]
    drop_policy: Option<DropPolicyArg>,
    /// Pages (headless browsers) rendering segments in parallel.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=64))]
    pages: Option<u32>,
    /// Target segment length in seconds (cuts go between cues when possible).
    #[arg(long)]
    segment_seconds: Option<f64>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum EncoderArg {
    Auto,
    Nvenc,
    X264,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
#[value(rename_all = "snake_case")]
enum DropPolicyArg {
    Block,
    DropNewest,
    DropOldest,
}

fn parse_frame_rate(text: &str) -> Result<FrameRate, String> {
    FrameRate::parse(text).ok_or_else(|| format!("expected a frame rate such as 30 or 30000/1001, got {text:?}"))
}

/// The render settings: configuration first, then the flags given.
fn settings(args: &RenderArgs, config: &Config) -> anyhow::Result<RenderSettings> {
    let mut settings = RenderSettings::from_config(config).context("invalid [queue] configuration")?;
    if let Some(quality) = args.quality {
        anyhow::ensure!((1..=100).contains(&quality), "--quality must be 1..=100, got {quality}");
        settings.quality = quality;
    }
    if let Some(preset) = &args.preset {
        settings.preset.clone_from(preset);
    }
    if let Some(encoder) = args.encoder {
        settings.encoder = match encoder {
            EncoderArg::Auto => EncoderChoice::Auto,
            EncoderArg::Nvenc => EncoderChoice::Nvenc,
            EncoderArg::X264 => EncoderChoice::X264,
        };
    }
    if let Some(policy) = args.drop_policy {
        settings.drop_policy = match policy {
            DropPolicyArg::Block => DropPolicy::Block,
            DropPolicyArg::DropNewest => DropPolicy::DropNewest,
            DropPolicyArg::DropOldest => DropPolicy::DropOldest,
        };
    }
    if let Some(pages) = args.pages {
        settings.pages = pages;
    }
    if let Some(seconds) = args.segment_seconds {
        anyhow::ensure!(seconds.is_finite() && seconds > 0.0, "--segment-seconds must be positive, got {seconds}");
        settings.segment_seconds = seconds;
    }
    settings.strict_plugins = args.strict_plugins;
    settings.output = OutputShape { width: args.width, height: args.height, frame_rate: args.fps };
    Ok(settings)
}

/// Renders and writes the QC report; fails with a one-line reason.
pub fn run(args: &RenderArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&args.scenario).with_context(|| format!("cannot read scenario file {}", args.scenario.display()))?;
    let scenario = scenario::load(&text).with_context(|| format!("{} is refused", args.scenario.display()))?;
    if !args.video.is_file() {
        anyhow::bail!("video file {} does not exist", args.video.display());
    }
    check_writable_dir(&args.out)?;
    let request = RenderRequest {
        video: args.video.clone(),
        scenario,
        out: args.out.clone(),
        work_dir: PathBuf::from(&config.paths.work_dir),
        plugin_dir: args.plugins.clone().or_else(|| config.paths.plugin_dir().map(PathBuf::from)),
        font_dir: args.fonts.clone().or_else(|| config.paths.font_dir().map(PathBuf::from)),
        settings: settings(args, config)?,
    };
    let started = Instant::now();
    let mut last_shown = Instant::now();
    let mut progress = move |done: u64, total: u64| {
        if done == total || last_shown.elapsed().as_millis() >= 250 {
            last_shown = Instant::now();
            let elapsed = started.elapsed().as_secs_f64();
            let fps = done as f64 / elapsed.max(1e-9);
            let eta = (total - done) as f64 / fps.max(1e-9);
            eprint!("\rrender: frame {done}/{total}  {fps:6.1} fps  ETA {eta:5.1} s ");
            let _ = std::io::stderr().flush();
        }
    };
    // The render side of the same actor tree a service runs.
    let report = render_blocking(&request, &mut progress);
    eprintln!();
    let report = report.map_err(|error| anyhow::anyhow!("render of {} failed [{}]: {error}", args.video.display(), error.code()))?;
    let qc_path = qc_path(&args.out);
    std::fs::write(&qc_path, serde_json::to_string_pretty(&report)?).with_context(|| format!("cannot write {}", qc_path.display()))?;
    let f = &report.frames;
    println!(
        "wrote {} ({} frames: {} captured, {} reused, {} empty, {} dropped; {} segments on {} pages; {:.1} s) and {}",
        args.out.display(),
        f.output,
        f.captured,
        f.reused,
        f.empty,
        f.dropped_total(),
        report.segments,
        report.pages,
        report.wall_seconds,
        qc_path.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Fails before any work when the output's folder cannot take a file.
fn check_writable_dir(out: &Path) -> anyhow::Result<()> {
    let dir = match out.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    tempfile::Builder::new()
        .prefix(".motionrender-write-check-")
        .tempfile_in(dir)
        .map(drop)
        .with_context(|| format!("cannot write the output {}: its folder {} is not writable", out.display(), dir.display()))
}

fn qc_path(out: &Path) -> PathBuf {
    let mut name = out.as_os_str().to_owned();
    name.push(".qc.json");
    PathBuf::from(name)
}
