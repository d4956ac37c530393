//! What can go wrong in the tuning harness, with the file, field or point it concerns.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum TuneError {
    /// SWEEP.toml or a flag is malformed; `source` names the file (or "the flags") in `origin`.
    #[error("{origin}: {message}")]
    Spec { origin: String, message: String },
    #[error("{}: {error}", path.display())]
    Io { path: PathBuf, error: std::io::Error },
    /// A results file that is not what `tune` writes.
    #[error("{}: {message}", path.display())]
    Results { path: PathBuf, message: String },
    /// The configuration refused a point's values.
    #[error("point {point}: {message}")]
    Point { point: String, message: String },
    /// A real run failed.
    #[error("point {point}, run {run}: {message}")]
    Real { point: String, run: i64, message: String },
    /// The synthetic simulation broke an invariant of its own (a bug).
    #[error("synthetic run: {0}")]
    Simulation(String),
    #[error("plot {file}: {message}")]
    Plot { file: String, message: String },
}

impl TuneError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> TuneError {
        let path = path.into();
        move |error| TuneError::Io { path, error }
    }
}
