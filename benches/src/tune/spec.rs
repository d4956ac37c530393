//! The sweep a `motionrender tune` run measures: SWEEP.toml (and the flags
//! that override it) read as plain data, then validated into a [`SweepSpec`]
//! whose cartesian product is the list of [`Point`]s.

use std::path::{Path, PathBuf};

use motionrender_config::DropPolicy;
use serde::{Deserialize, Serialize};

use super::error::TuneError;
use super::synthetic::SyntheticModel;

/// x264's presets, fastest first: the encoder presets a sweep may name.
pub const PRESETS: [&str; 10] = ["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo"];

/// Where frames come from and go to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Seeded model producers and consumers around the engine's queue.
    Synthetic,
    /// The whole pipeline: Chromium, compositor, encoder, on a video.
    Real,
}

/// How consumption is paced.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum Deadline {
    /// As fast as it goes: throughput.
    None,
    /// Frame `i` is due `i / fps` seconds after the start (a live or
    /// time-boxed render): producers cannot start it earlier, the consumer
    /// takes at most one frame per output frame time, and a frame encoded
    /// more than `latency_budget_ms` after its scheduled time missed its deadline.
    Deadline { latency_budget_ms: f64 },
}

/// What the recommendation must meet; a target left out is not checked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Targets {
    /// Highest acceptable share of frames dropped by the queue, 0..=1.
    pub max_drop_rate: Option<f64>,
    /// Highest acceptable p99 enqueue-to-encode latency.
    pub max_p99_latency_ms: Option<f64>,
    /// Highest acceptable peak memory, engine and Chromium together.
    pub max_memory_mb: Option<f64>,
}

/// The lists a sweep multiplies; each must have at least one value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SweepLists {
    pub drop_policy: Vec<DropPolicy>,
    pub queue: QueueLists,
    pub memory: MemoryLists,
    /// Pages (headless browsers; synthetic: producers) in parallel.
    pub pages: Vec<u32>,
    /// Encoder presets (x264 names).
    pub preset: Vec<String>,
    /// Output sizes, `WIDTHxHEIGHT`.
    pub size: Vec<String>,
    /// Output frame rates, whole frames per second.
    pub fps: Vec<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QueueLists {
    pub capacity_frames: Vec<u32>,
    pub capacity_bytes: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MemoryLists {
    pub budget_mb: Vec<u64>,
}

impl Default for SweepLists {
    fn default() -> Self {
        Self {
            drop_policy: vec![DropPolicy::Block],
            queue: QueueLists::default(),
            memory: MemoryLists::default(),
            pages: vec![1],
            preset: vec!["veryfast".to_owned()],
            size: vec!["1920x1080".to_owned()],
            fps: vec![30],
        }
    }
}

impl Default for QueueLists {
    fn default() -> Self {
        Self { capacity_frames: vec![64], capacity_bytes: vec![256 * 1024 * 1024] }
    }
}

impl Default for MemoryLists {
    fn default() -> Self {
        Self { budget_mb: vec![4096] }
    }
}

/// `[real]`: what a real run renders.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RealInput {
    /// The source video (relative paths: from the current folder).
    pub video: Option<PathBuf>,
    /// The MotionText scenario (JSON, v2.0 or v1.3).
    pub scenario: Option<PathBuf>,
    /// Segment length in seconds; default the configuration's.
    pub segment_seconds: Option<f64>,
}

/// `[plots]`: choices for the plots.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PlotChoices {
    /// Points (by number) whose first run's queue depth is drawn over time;
    /// default: for each policy, the point with the most frames of capacity.
    pub depth_points: Vec<usize>,
}

/// SWEEP.toml as written, every key optional.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SweepSpec {
    /// A short name for the run folder.
    pub name: String,
    pub mode: Mode,
    /// Seed of every synthetic draw; a run's seed derives from it, its point and its number.
    pub seed: u64,
    /// Measured runs per point.
    pub runs: u32,
    /// Runs per point made first and discarded.
    pub warmup: u32,
    pub deadline: Deadline,
    pub sweep: SweepLists,
    pub synthetic: SyntheticModel,
    pub real: RealInput,
    pub targets: Targets,
    pub plots: PlotChoices,
}

impl Default for SweepSpec {
    fn default() -> Self {
        Self {
            name: "sweep".to_owned(),
            mode: Mode::Synthetic,
            seed: 1,
            runs: 3,
            warmup: 0,
            deadline: Deadline::None,
            sweep: SweepLists::default(),
            synthetic: SyntheticModel::default(),
            real: RealInput::default(),
            targets: Targets::default(),
            plots: PlotChoices::default(),
        }
    }
}

/// One configuration of the sweep.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Point {
    pub drop_policy: DropPolicy,
    pub capacity_frames: u32,
    pub capacity_bytes: u64,
    pub budget_mb: u64,
    pub pages: u32,
    pub preset: String,
    pub width: u32,
    pub height: u32,
    pub fps: u32,
}

impl Point {
    /// A name that is the same for the same configuration in every sweep,
    /// used to match points when comparing sweeps.
    pub fn key(&self) -> String {
        format!(
            "{}/frames={}/bytes={}/budget={}MB/pages={}/{}/{}x{}/{}fps",
            policy_name(self.drop_policy),
            self.capacity_frames,
            self.capacity_bytes,
            self.budget_mb,
            self.pages,
            self.preset,
            self.width,
            self.height,
            self.fps
        )
    }
}

/// The config-file spelling of a policy.
pub fn policy_name(policy: DropPolicy) -> &'static str {
    match policy {
        DropPolicy::Block => "block",
        DropPolicy::DropNewest => "drop_newest",
        DropPolicy::DropOldest => "drop_oldest",
    }
}

impl SweepSpec {
    /// Reads `file` (when given), applies `overrides` (dotted key, TOML
    /// value) and validates the result; errors name the file and the key.
    pub fn load(file: Option<&Path>, overrides: &[(String, toml::Value)]) -> Result<Self, TuneError> {
        let source = file.map_or_else(|| "the flags".to_owned(), |f| f.display().to_string());
        let spec_error = |message: String| TuneError::Spec { origin: source.clone(), message };
        let mut table = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|error| TuneError::Io { path: path.to_path_buf(), error })?;
                text.parse::<toml::Table>().map_err(|e| spec_error(e.to_string()))?
            }
            None => toml::Table::new(),
        };
        for (key, value) in overrides {
            set_key(&mut table, key, value.clone()).map_err(spec_error)?;
        }
        // `--deadline none` over a file's deadline: its budget no longer applies.
        if let Some(deadline) = table.get_mut("deadline").and_then(toml::Value::as_table_mut) {
            if deadline.get("mode").and_then(toml::Value::as_str) == Some("none") && overrides.iter().any(|(k, _)| k == "deadline.mode") {
                deadline.remove("latency_budget_ms");
            }
        }
        let spec: SweepSpec = serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|error| {
            let path = error.path().to_string();
            let message = error.into_inner().to_string();
            if path == "." { spec_error(message) } else { spec_error(format!("{path}: {message}")) }
        })?;
        spec.validate().map_err(spec_error)?;
        Ok(spec)
    }

    /// Refuses what could not run, naming the key.
    pub fn validate(&self) -> Result<(), String> {
        let lists = &self.sweep;
        let empty = |name: &str, len: usize| if len == 0 { Err(format!("sweep.{name} is empty: give at least one value")) } else { Ok(()) };
        empty("drop_policy", lists.drop_policy.len())?;
        empty("queue.capacity_frames", lists.queue.capacity_frames.len())?;
        empty("queue.capacity_bytes", lists.queue.capacity_bytes.len())?;
        empty("memory.budget_mb", lists.memory.budget_mb.len())?;
        empty("pages", lists.pages.len())?;
        empty("preset", lists.preset.len())?;
        empty("size", lists.size.len())?;
        empty("fps", lists.fps.len())?;
        if let Some(zero) = lists.queue.capacity_frames.iter().find(|&&f| f == 0) {
            return Err(format!("sweep.queue.capacity_frames: {zero} is not at least 1"));
        }
        if lists.queue.capacity_bytes.contains(&0) {
            return Err("sweep.queue.capacity_bytes: 0 is not at least 1".to_owned());
        }
        if lists.memory.budget_mb.contains(&0) {
            return Err("sweep.memory.budget_mb: 0 is not at least 1".to_owned());
        }
        if let Some(pages) = lists.pages.iter().find(|&&p| !(1..=64).contains(&p)) {
            return Err(format!("sweep.pages: {pages} is not within 1..=64"));
        }
        if let Some(preset) = lists.preset.iter().find(|p| !PRESETS.contains(&p.as_str())) {
            return Err(format!("sweep.preset: {preset:?} is not an x264 preset ({})", PRESETS.join(", ")));
        }
        for size in &lists.size {
            parse_size(size).map_err(|e| format!("sweep.size: {e}"))?;
        }
        if let Some(fps) = lists.fps.iter().find(|&&f| !(1..=240).contains(&f)) {
            return Err(format!("sweep.fps: {fps} is not within 1..=240"));
        }
        if self.runs == 0 {
            return Err("runs must be at least 1".to_owned());
        }
        if let Deadline::Deadline { latency_budget_ms } = self.deadline {
            if !(latency_budget_ms.is_finite() && latency_budget_ms > 0.0) {
                return Err(format!("deadline.latency_budget_ms must be positive, got {latency_budget_ms}"));
            }
        }
        for (name, target) in [
            ("targets.max_drop_rate", self.targets.max_drop_rate),
            ("targets.max_p99_latency_ms", self.targets.max_p99_latency_ms),
            ("targets.max_memory_mb", self.targets.max_memory_mb),
        ] {
            if let Some(value) = target.filter(|v| !(v.is_finite() && *v >= 0.0)) {
                return Err(format!("{name} must be a number >= 0, got {value}"));
            }
        }
        let points = self.points().len();
        if let Some(index) = self.plots.depth_points.iter().find(|&&i| i >= points) {
            return Err(format!("plots.depth_points: point {index} does not exist (the sweep has {points} points, numbered from 0)"));
        }
        match self.mode {
            Mode::Synthetic => self.synthetic.validate(),
            Mode::Real => {
                if self.deadline != Deadline::None {
                    return Err("deadline.mode = \"deadline\" is for synthetic sweeps: the engine's render has no pacing; use mode = \"none\" for real runs".to_owned());
                }
                for (name, path) in [("real.video", &self.real.video), ("real.scenario", &self.real.scenario)] {
                    match path {
                        None => return Err(format!("{name} is required when mode = \"real\"")),
                        Some(path) if !path.is_file() => return Err(format!("{name}: {} is not a file", path.display())),
                        Some(_) => {}
                    }
                }
                if let Some(seconds) = self.real.segment_seconds.filter(|s| !(s.is_finite() && *s > 0.0)) {
                    return Err(format!("real.segment_seconds must be positive, got {seconds}"));
                }
                Ok(())
            }
        }
    }

    /// The cartesian product of the lists, policies outermost, rates innermost.
    pub fn points(&self) -> Vec<Point> {
        let l = &self.sweep;
        let mut points = Vec::new();
        for &drop_policy in &l.drop_policy {
            for &capacity_frames in &l.queue.capacity_frames {
                for &capacity_bytes in &l.queue.capacity_bytes {
                    for &budget_mb in &l.memory.budget_mb {
                        for &pages in &l.pages {
                            for preset in &l.preset {
                                for size in &l.size {
                                    let Ok((width, height)) = parse_size(size) else { continue };
                                    for &fps in &l.fps {
                                        points.push(Point { drop_policy, capacity_frames, capacity_bytes, budget_mb, pages, preset: preset.clone(), width, height, fps });
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        points
    }
}

/// `WIDTHxHEIGHT` with even sides within 16..=8192.
pub fn parse_size(text: &str) -> Result<(u32, u32), String> {
    let parsed = text.split_once('x').and_then(|(w, h)| Some((w.trim().parse::<u32>().ok()?, h.trim().parse::<u32>().ok()?)));
    match parsed {
        Some((w, h)) if [w, h].iter().all(|side| (16..=8192).contains(side) && side % 2 == 0) => Ok((w, h)),
        _ => Err(format!("{text:?} is not WIDTHxHEIGHT with even sides within 16..=8192")),
    }
}

/// Sets dotted `key` in `table`, making the tables on the way.
fn set_key(table: &mut toml::Table, key: &str, value: toml::Value) -> Result<(), String> {
    let mut parts: Vec<&str> = key.split('.').collect();
    let Some(last) = parts.pop().filter(|last| !last.is_empty()) else {
        return Err(format!("malformed key {key:?}"));
    };
    let mut current = table;
    for part in parts {
        let entry = current.entry(part.to_owned()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
        current = entry.as_table_mut().ok_or_else(|| format!("{key}: {part} is not a table"))?;
    }
    current.insert(last.to_owned(), value);
    Ok(())
}

/// Reads a `--with KEY=VALUE` flag: the value as TOML (`[4, 16]`, `"x"`,
/// `0.5`), or as a bare string when it is not TOML.
pub fn parse_assignment(text: &str) -> Result<(String, toml::Value), String> {
    let (key, value) = text.split_once('=').ok_or_else(|| format!("expected KEY=VALUE, got {text:?}"))?;
    let key = key.trim().to_owned();
    let value = value.trim();
    let parsed = format!("v = {value}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(value.to_owned()));
    Ok((key, parsed))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn load(text: &str) -> Result<SweepSpec, TuneError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sweep.toml");
        std::fs::write(&path, text).unwrap();
        SweepSpec::load(Some(&path), &[])
    }

    #[test]
    fn lists_multiply_into_points() {
        let spec = load("[sweep]\ndrop_policy = [\"block\", \"drop_newest\"]\npages = [1, 2]\n[sweep.queue]\ncapacity_frames = [4, 8, 16]\n").unwrap();
        let points = spec.points();
        assert_eq!(points.len(), 12);
        assert_eq!(points[0].key(), "block/frames=4/bytes=268435456/budget=4096MB/pages=1/veryfast/1920x1080/30fps");
    }

    #[test]
    fn unknown_keys_and_empty_lists_are_named() {
        let error = load("[sweep.queue]\ncapacity_frame = [4]\n").unwrap_err().to_string();
        assert!(error.contains("sweep.queue") && error.contains("capacity_frame"), "{error}");
        let error = load("[sweep]\npages = []\n").unwrap_err().to_string();
        assert!(error.contains("sweep.pages is empty"), "{error}");
        let error = load("[sweep]\nsize = [\"1921x1080\"]\n").unwrap_err().to_string();
        assert!(error.contains("sweep.size"), "{error}");
    }

    #[test]
    fn overrides_win_over_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.toml");
        std::fs::write(&path, "runs = 5\n").unwrap();
        let spec = SweepSpec::load(Some(&path), &[parse_assignment("runs=2").unwrap(), parse_assignment("sweep.fps=[25, 50]").unwrap()]).unwrap();
        assert_eq!(spec.runs, 2);
        assert_eq!(spec.sweep.fps, vec![25, 50]);
    }
}
