//! The frame-drop tuning harness behind `motionrender tune`: sweeps over the
//! queue, memory, page and encoder settings, run on synthetic or real
//! producers and consumers around the engine's own frame queue, reported as
//! JSONL, CSV, Markdown, plots and a recommendation, and compared run to run.

mod compare;
mod error;
mod machine;
mod metrics;
mod plots;
mod point_config;
mod point_summary;
mod real;
mod recommend;
mod record;
mod simulate;
mod spec;
mod stats;
mod summary;
mod sweep;
mod synthetic;

pub use compare::{compare, report as compare_report, Change, CompareOptions, Comparison, DEFAULT_METRICS};
pub use error::TuneError;
pub use machine::MachineInfo;
pub use metrics::{add_queue_stats, add_sequencer_stats, LatencySummary, PeakMemoryMb, RunMetrics, RunRecorder, RunTotals};
pub use point_config::{point_config, point_settings, point_toml};
pub use point_summary::{metric, Better, Metric, MetricSummary, PointSummary, METRICS, OUTLIER_METRICS};
pub use recommend::{recommend, Recommendation, TargetCheck};
pub use record::{new_run_dir, read_record, read_results, RunLine, SweepRecord, POINTS, RECOMMENDATION, RECORD, RESULTS, SUMMARY, SUMMARY_HTML};
pub use simulate::run_synthetic;
pub use spec::{parse_assignment, parse_size, policy_name, Deadline, Mode, Point, SweepSpec, Targets, PRESETS};
pub use stats::{mad, mann_whitney_p, median, outliers, OUTLIER_Z};
pub use sweep::{run_sweep, Progress, SweepOutcome};
pub use synthetic::{preset_factor, run_seed, ConsumerModel, MemoryModel, ProducerModel, StallDistribution, StallModel, SyntheticModel};
