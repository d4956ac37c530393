//! `motionrender validate` and `motionrender migrate`: what the engine makes
//! of scenario files.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use motionrender_engine::scenario::{self, Scenario, ScenarioError};
use serde_json::json;

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Scenario files (JSON, v2.0 or v1.3).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// `text`: a block per file; `line`: one line per file; `json`: one JSON object per line.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Line,
    Json,
}

/// Validates every file; fails when any file is refused.
pub fn run(args: &ValidateArgs) -> anyhow::Result<ExitCode> {
    let mut failed = 0;
    for file in &args.files {
        let verdict = read(file).map(|text| scenario::load(&text));
        let report = match (&verdict, args.format) {
            (Ok(Ok(s)), Format::Text) => text_ok(file, s),
            (Ok(Ok(s)), Format::Line) => line_ok(file, s),
            (Ok(Ok(s)), Format::Json) => json_ok(file, s),
            (Ok(Err(e)), Format::Json) => json_err(file, e),
            (Ok(Err(e)), Format::Text) => text_err(file, e),
            (Ok(Err(e)), Format::Line) => format!("FAIL {}: {e}", file.display()),
            (Err(e), Format::Json) => json!({"file": file, "valid": false, "error_code": "STORAGE_ACCESS_ERROR", "error": format!("{e:#}")}).to_string(),
            (Err(e), _) => format!("FAIL {}: {e:#}", file.display()),
        };
        if !matches!(verdict, Ok(Ok(_))) {
            failed += 1;
        }
        print(&report)?;
    }
    Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// Prints the v2.0 document of a scenario (migrated when it is v1.3).
pub fn migrate(file: &Path) -> anyhow::Result<ExitCode> {
    let scenario = scenario::load(&read(file)?).with_context(|| format!("{} is refused", file.display()))?;
    print(&serde_json::to_string_pretty(&scenario.document)?)?;
    Ok(ExitCode::SUCCESS)
}

/// Writes a line to stdout; a closed pipe is an error, not a panic.
fn print(line: &str) -> anyhow::Result<()> {
    writeln!(std::io::stdout().lock(), "{line}").context("cannot write to standard output")
}

fn read(file: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(file).with_context(|| format!("cannot read scenario file {}", file.display()))
}

fn alive(s: &Scenario) -> String {
    let ranges: Vec<String> = s.alive_intervals().iter().map(ToString::to_string).collect();
    if ranges.is_empty() { "none".to_owned() } else { ranges.join(" ") }
}

fn end(s: &Scenario) -> String {
    s.end_time().map_or("open (a cue without times stays alive to the video's end)".to_owned(), |t| format!("{t:.3} s"))
}

fn plugins(s: &Scenario) -> String {
    let named: Vec<String> = s.plugins_named().iter().map(|(p, n)| format!("{p}×{n}")).collect();
    if named.is_empty() { "-".to_owned() } else { named.join(", ") }
}

fn migration(s: &Scenario) -> String {
    match &s.migration {
        None => "none (v2.0 as written)".to_owned(),
        Some(m) => {
            let changes: Vec<String> = m.changes.iter().map(|(what, n)| format!("{what} ×{n}")).collect();
            format!("{} → 2.0: {}", m.from, changes.join(", "))
        }
    }
}

fn text_ok(file: &Path, s: &Scenario) -> String {
    let mut out = format!("{}: valid\n", file.display());
    let _ = writeln!(out, "  version:   {}", s.input_version());
    let _ = writeln!(out, "  migration: {}", migration(s));
    let _ = writeln!(out, "  content:   {} cues on {} tracks, {} nodes", s.cues.len(), s.tracks.len(), s.node_count());
    let _ = writeln!(out, "  alive:     {}", alive(s));
    let _ = writeln!(out, "  end:       {}", end(s));
    let _ = write!(out, "  plugins:   {}", plugins(s));
    for warning in &s.warnings {
        let _ = write!(out, "\n  warning:   {warning}");
    }
    out
}

fn line_ok(file: &Path, s: &Scenario) -> String {
    let migrated = if s.migration.is_some() { "migrated" } else { "as-written" };
    let end = s.end_time().map_or("open".to_owned(), |t| format!("{t:.3}"));
    format!(
        "ok   {}  v{} {migrated} cues={} nodes={} alive={} end={end} plugins={} warnings={}",
        file.display(),
        s.input_version(),
        s.cues.len(),
        s.node_count(),
        alive(s).replace(' ', ""),
        plugins(s).replace(' ', ""),
        s.warnings.len()
    )
}

fn text_err(file: &Path, e: &ScenarioError) -> String {
    let mut out = format!("{}: INVALID ({})", file.display(), e.code());
    match e {
        ScenarioError::Parse { .. } => {
            let _ = write!(out, "\n  {e}");
        }
        ScenarioError::Invalid(issues) => {
            for issue in issues {
                let _ = write!(out, "\n  {issue}");
            }
        }
    }
    out
}

fn json_ok(file: &Path, s: &Scenario) -> String {
    let alive: Vec<_> = s.alive_intervals().iter().map(|r| json!([r.start, finite(r.end)])).collect();
    let plugins: serde_json::Map<_, _> = s.plugins_named().iter().map(|(p, n)| (p.to_string(), json!(n))).collect();
    let changes = s.migration.as_ref().map(|m| json!({"from": m.from, "changes": m.changes}));
    let warnings: Vec<_> = s.warnings.iter().map(|i| json!({"pointer": i.pointer.as_str(), "message": i.message})).collect();
    json!({"file": file, "valid": true, "version": s.input_version(), "migration": changes,
        "cues": s.cues.len(), "nodes": s.node_count(), "alive": alive, "end": s.end_time(), "plugins": plugins,
        "warnings": warnings})
    .to_string()
}

fn json_err(file: &Path, e: &ScenarioError) -> String {
    let issues: Vec<_> = e.issues().iter().map(|i| json!({"pointer": i.pointer.as_str(), "message": i.message})).collect();
    json!({"file": file, "valid": false, "error_code": e.code(), "error": e.to_string(), "issues": issues}).to_string()
}

/// JSON has no infinity: an open end is written as null.
fn finite(value: f64) -> Option<f64> {
    value.is_finite().then_some(value)
}
