//! `paths.input_roots`: the directories local input files must lie inside,
//! checked after resolving symlinks.

use std::io;
use std::path::{Component, Path, PathBuf};

use super::error::Refusal;

/// The configured input roots, as written (relative ones are relative to the
/// working directory). They are resolved at each check, so a root created
/// after start-up counts and a missing root contains nothing.
#[derive(Debug, Clone)]
pub(crate) struct InputRoots(Vec<PathBuf>);

impl InputRoots {
    pub(crate) fn new(roots: &[String]) -> Self {
        Self(roots.iter().map(PathBuf::from).collect())
    }

    /// The canonical path of the existing regular file `path`, which must be
    /// inside a root once symlinks and `..` are resolved.
    ///
    /// A path whose target cannot be resolved is reported as missing only
    /// when it lies inside a root as written, so refusals do not reveal which
    /// files exist elsewhere.
    pub(crate) async fn confine(&self, path: &Path) -> Result<PathBuf, Refusal> {
        if self.0.is_empty() {
            return Err(Refusal::NoInputRoots);
        }
        let canonical = match tokio::fs::canonicalize(path).await {
            Ok(canonical) => canonical,
            Err(error) => return Err(self.unresolvable(path, &error)),
        };
        if !self.contains(&canonical).await {
            return Err(Refusal::OutsideInputRoots);
        }
        match tokio::fs::metadata(&canonical).await {
            Ok(metadata) if metadata.is_file() => Ok(canonical),
            Ok(_) => Err(Refusal::NotAFile),
            Err(error) => Err(Refusal::Unreadable(error.kind().to_string())),
        }
    }

    async fn contains(&self, canonical: &Path) -> bool {
        for root in &self.0 {
            if let Ok(root) = tokio::fs::canonicalize(root).await {
                if canonical.starts_with(&root) {
                    return true;
                }
            }
        }
        false
    }

    fn unresolvable(&self, path: &Path, error: &io::Error) -> Refusal {
        let inside_as_written = lexical_absolute(path).is_some_and(|path| {
            self.0
                .iter()
                .filter_map(|root| lexical_absolute(root))
                .any(|root| path.starts_with(root))
        });
        match (inside_as_written, error.kind()) {
            (false, _) => Refusal::OutsideInputRoots,
            (true, io::ErrorKind::NotFound) => Refusal::NotFound,
            (true, kind) => Refusal::Unreadable(kind.to_string()),
        }
    }
}

/// `path` made absolute against the working directory with `.` and `..`
/// removed, without touching the file system beyond the working directory.
fn lexical_absolute(path: &Path) -> Option<PathBuf> {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().ok()?.join(path)
    };
    let mut normal = PathBuf::new();
    for component in joined.components() {
        match component {
            Component::ParentDir => {
                normal.pop();
            }
            Component::CurDir => {}
            other => normal.push(other),
        }
    }
    Some(normal)
}
