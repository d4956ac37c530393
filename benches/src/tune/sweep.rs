//! Running a sweep: every point's warm-up and measured runs, synthetic or
//! real, written to the run folder as they finish, then summarized,
//! plotted and recommended on.

use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

use motionrender_config::Config;

use super::error::TuneError;
use super::machine::MachineInfo;
use super::metrics::RunMetrics;
use super::plots::draw_plots;
use super::point_config::point_settings;
use super::point_summary::PointSummary;
use super::real::RealSource;
use super::recommend::{recommend, Recommendation};
use super::record::{runs_by_point, write_points_csv, write_record, ResultsWriter, RunLine, SweepRecord, RECOMMENDATION};
use super::simulate::run_synthetic;
use super::spec::{Mode, SweepSpec};
use super::summary::write_summary;
use super::synthetic::run_seed;

/// Where a sweep is: told before each run starts.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// Point number (from 0) and the number of points.
    pub point: usize,
    pub points: usize,
    /// Run number within the point (from 0) and whether it is a warm-up.
    pub run: u32,
    pub warmup: bool,
    /// Runs finished so far, and in all (warm-ups included).
    pub done: u64,
    pub total: u64,
}

/// What a finished sweep left in its folder.
#[derive(Debug)]
pub struct SweepOutcome {
    pub dir: PathBuf,
    pub points: Vec<PointSummary>,
    pub recommendation: Recommendation,
    pub record: SweepRecord,
}

/// Runs `spec` on top of the configuration `base`, writing into `dir`
/// (which must exist), calling `progress` before each run.
pub fn run_sweep(spec: &SweepSpec, base: &Config, dir: &Path, progress: &mut dyn FnMut(Progress)) -> Result<SweepOutcome, TuneError> {
    let started = Instant::now();
    let started_at = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    let machine = MachineInfo::detect(base);
    let points = spec.points();
    let real = match spec.mode {
        Mode::Real => Some(RealSource::open(&spec.real, base)?),
        Mode::Synthetic => None,
    };
    let mut results = ResultsWriter::create(dir)?;
    let mut lines = Vec::new();
    let per_point = u64::from(spec.runs + spec.warmup);
    let total = per_point * points.len() as u64;
    let mut done = 0;
    for (index, point) in points.iter().enumerate() {
        let settings = point_settings(base, point)?;
        let key = point.key();
        for run in 0..spec.warmup + spec.runs {
            let warmup = run < spec.warmup;
            progress(Progress { point: index, points: points.len(), run: if warmup { run } else { run - spec.warmup }, warmup, done, total });
            // Warm-ups get seeds of their own (negative run numbers).
            let number: i64 = if warmup { -1 - i64::from(run) } else { i64::from(run - spec.warmup) };
            let seed = run_seed(spec.seed, &key, number);
            let metrics: RunMetrics = match &real {
                None => run_synthetic(point, &settings, &spec.synthetic, spec.deadline, seed)?,
                Some(source) => {
                    let name = if warmup { format!("p{index:03}-warmup{run}") } else { format!("p{index:03}-r{number}") };
                    let qc = dir.join("qc").join(format!("{name}.qc.json"));
                    std::fs::create_dir_all(dir.join("qc")).map_err(TuneError::io(dir.join("qc")))?;
                    let work = dir.join("work");
                    let metrics = source.run(point, number, settings.clone(), &work, &qc)?;
                    let _ = std::fs::remove_dir_all(&work);
                    metrics
                }
            };
            done += 1;
            if warmup {
                continue;
            }
            let line = RunLine { point: index, key: key.clone(), params: point.clone(), run: run - spec.warmup, seed, metrics };
            results.write(&line)?;
            lines.push(line);
        }
    }
    let summaries: Vec<PointSummary> = runs_by_point(&lines).into_iter().map(|(index, point, runs)| PointSummary::of(index, &point, &runs)).collect();
    write_points_csv(dir, &summaries)?;
    let recommendation = recommend(&summaries, &spec.targets);
    let mut notes = Vec::new();
    if let Recommendation::Meets { toml, .. } = &recommendation {
        let path = dir.join(RECOMMENDATION);
        std::fs::write(&path, toml).map_err(TuneError::io(&path))?;
    }
    let plots = draw_plots(dir, spec, &summaries, &lines)?;
    notes.extend(plots.notes);
    let mut record = SweepRecord {
        id: dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        started_at,
        finished_at: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        wall_seconds: started.elapsed().as_secs_f64(),
        spec: spec.clone(),
        machine,
        points: points.len(),
        runs_per_point: spec.runs,
        warmup_per_point: spec.warmup,
        artifacts: Vec::new(),
        recommendation: recommendation.clone(),
        notes,
    };
    write_summary(dir, &record, &summaries, &lines, &plots.files)?;
    record.artifacts = list_artifacts(dir);
    record.artifacts.push(super::record::RECORD.to_owned());
    record.artifacts.sort();
    write_record(dir, &record)?;
    Ok(SweepOutcome { dir: dir.to_path_buf(), points: summaries, recommendation, record })
}

/// The files under `dir`, relative to it.
fn list_artifacts(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if let Ok(relative) = path.strip_prefix(dir) {
                found.push(relative.to_string_lossy().into_owned());
            }
        }
    }
    found
}
