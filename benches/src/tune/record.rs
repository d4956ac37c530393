//! A sweep's run folder and what it holds: `results.jsonl` (one line per
//! run), `points.csv` (one row per point), `record.json` (parameters,
//! machine, times, artifacts, recommendation), read back by `compare`.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::TuneError;
use super::machine::MachineInfo;
use super::metrics::RunMetrics;
use super::point_summary::{PointSummary, METRICS};
use super::recommend::Recommendation;
use super::spec::{policy_name, Point, SweepSpec};

pub const RESULTS: &str = "results.jsonl";
pub const POINTS: &str = "points.csv";
pub const RECORD: &str = "record.json";
pub const SUMMARY: &str = "summary.md";
pub const SUMMARY_HTML: &str = "summary.html";
pub const RECOMMENDATION: &str = "recommendation.toml";

/// One line of `results.jsonl`: a measured run. Nothing in it depends on
/// the clock of the machine for a synthetic run, so a rerun with the same
/// seed writes the same line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunLine {
    pub point: usize,
    pub key: String,
    pub params: Point,
    pub run: u32,
    pub seed: u64,
    pub metrics: RunMetrics,
}

/// `record.json`: what a sweep was and what it produced.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SweepRecord {
    /// The run folder's name.
    pub id: String,
    pub started_at: String,
    pub finished_at: String,
    pub wall_seconds: f64,
    pub spec: SweepSpec,
    pub machine: MachineInfo,
    pub points: usize,
    pub runs_per_point: u32,
    pub warmup_per_point: u32,
    /// Files of the folder, relative to it.
    pub artifacts: Vec<String>,
    pub recommendation: Recommendation,
    pub notes: Vec<String>,
}

/// A new folder `runs_dir/NAME` (`NAME-2`, … when taken) for a sweep named `name`.
pub fn new_run_dir(runs_dir: &Path, stamp: &str, name: &str) -> Result<PathBuf, TuneError> {
    std::fs::create_dir_all(runs_dir).map_err(TuneError::io(runs_dir))?;
    let clean: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '-' }).collect();
    let base = format!("{stamp}-{clean}");
    for attempt in 1.. {
        let dir = runs_dir.join(if attempt == 1 { base.clone() } else { format!("{base}-{attempt}") });
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(error) => return Err(TuneError::Io { path: dir, error }),
        }
    }
    unreachable!("the attempts above never end without returning")
}

/// Appends run lines to `results.jsonl` as runs finish.
#[derive(Debug)]
pub struct ResultsWriter {
    path: PathBuf,
    file: std::fs::File,
}

impl ResultsWriter {
    pub fn create(dir: &Path) -> Result<Self, TuneError> {
        let path = dir.join(RESULTS);
        let file = std::fs::File::create(&path).map_err(TuneError::io(&path))?;
        Ok(Self { path, file })
    }

    pub fn write(&mut self, line: &RunLine) -> Result<(), TuneError> {
        let text = serde_json::to_string(line).map_err(|e| TuneError::Results { path: self.path.clone(), message: e.to_string() })?;
        writeln!(self.file, "{text}").map_err(TuneError::io(&self.path))
    }
}

/// The run lines of a folder's `results.jsonl`.
pub fn read_results(dir: &Path) -> Result<Vec<RunLine>, TuneError> {
    let path = dir.join(RESULTS);
    let text = std::fs::read_to_string(&path).map_err(TuneError::io(&path))?;
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(number, line)| serde_json::from_str(line).map_err(|e| TuneError::Results { path: path.clone(), message: format!("line {}: {e}", number + 1) }))
        .collect()
}

/// A folder's `record.json`.
pub fn read_record(dir: &Path) -> Result<SweepRecord, TuneError> {
    let path = dir.join(RECORD);
    let text = std::fs::read_to_string(&path).map_err(TuneError::io(&path))?;
    serde_json::from_str(&text).map_err(|e| TuneError::Results { path, message: e.to_string() })
}

pub fn write_record(dir: &Path, record: &SweepRecord) -> Result<(), TuneError> {
    let path = dir.join(RECORD);
    let text = serde_json::to_string_pretty(record).map_err(|e| TuneError::Results { path: path.clone(), message: e.to_string() })?;
    std::fs::write(&path, text).map_err(TuneError::io(&path))
}

/// Writes `points.csv`: the point's parameters, its run count and outliers,
/// then the median and MAD of each metric (empty where not measured).
pub fn write_points_csv(dir: &Path, points: &[PointSummary]) -> Result<(), TuneError> {
    let mut csv = String::from("point,key,drop_policy,capacity_frames,capacity_bytes,budget_mb,pages,preset,width,height,fps,runs,outlier_runs");
    for metric in METRICS {
        let _ = write!(csv, ",{0}_median,{0}_mad", metric.name);
    }
    csv.push('\n');
    for p in points {
        let q = &p.point;
        let outliers: Vec<String> = p.outlier_runs().iter().map(usize::to_string).collect();
        let _ = write!(
            csv,
            "{},{},{},{},{},{},{},{},{},{},{},{},{}",
            p.index,
            p.key,
            policy_name(q.drop_policy),
            q.capacity_frames,
            q.capacity_bytes,
            q.budget_mb,
            q.pages,
            q.preset,
            q.width,
            q.height,
            q.fps,
            p.runs,
            outliers.join(" ")
        );
        for metric in METRICS {
            match p.metrics.get(metric.name) {
                Some(m) => {
                    let _ = write!(csv, ",{},{}", m.median, m.mad);
                }
                None => csv.push_str(",,"),
            }
        }
        csv.push('\n');
    }
    let path = dir.join(POINTS);
    std::fs::write(&path, csv).map_err(TuneError::io(&path))
}

/// Groups run lines by point number, in order.
pub fn runs_by_point(lines: &[RunLine]) -> Vec<(usize, Point, Vec<&RunMetrics>)> {
    let mut grouped: Vec<(usize, Point, Vec<&RunMetrics>)> = Vec::new();
    for line in lines {
        match grouped.iter_mut().find(|(index, _, _)| *index == line.point) {
            Some((_, _, runs)) => runs.push(&line.metrics),
            None => grouped.push((line.point, line.params.clone(), vec![&line.metrics])),
        }
    }
    grouped.sort_by_key(|(index, _, _)| *index);
    grouped
}
