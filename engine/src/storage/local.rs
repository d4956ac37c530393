//! Results kept in a local directory (`paths.output_dir`).

use std::io;
use std::path::{Path, PathBuf};

use tokio::sync::watch;

use super::cancel::is_cancelled;
use super::key::check_key;
use super::{StorageError, StoredObject};

/// The output directory results are copied into, one file per key.
#[derive(Debug, Clone)]
pub(super) struct LocalStorage {
    root: PathBuf,
}

impl LocalStorage {
    pub(super) fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The path of `key` under the output directory, for a safe key.
    pub(super) fn path_of(&self, key: &str) -> Result<PathBuf, StorageError> {
        check_key(key)?;
        Ok(self.root.join(key))
    }

    /// Copies `file` to a temporary file beside `output_dir/key`, then renames
    /// it into place; `file` itself stays.
    pub(super) async fn put_file(
        &self,
        key: &str,
        file: &Path,
        cancel: &watch::Receiver<bool>,
    ) -> Result<StoredObject, StorageError> {
        let destination = self.path_of(key)?;
        if is_cancelled(cancel) {
            return Err(cancelled(key));
        }
        let source = file.to_path_buf();
        let target = destination.clone();
        let size_bytes = tokio::task::spawn_blocking(move || copy_atomically(&source, &target))
            .await
            .map_err(|join| {
                StorageError::io("copy into", &destination, io::Error::other(join))
            })??;
        if is_cancelled(cancel) {
            self.delete(key).await?;
            return Err(cancelled(key));
        }
        tracing::info!(key, path = %destination.display(), size_bytes, "result stored locally");
        Ok(StoredObject {
            key: key.to_owned(),
            size_bytes,
            location: destination.display().to_string(),
        })
    }

    /// Removes `output_dir/key`; a missing file is not an error.
    pub(super) async fn delete(&self, key: &str) -> Result<(), StorageError> {
        let path = self.path_of(key)?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(StorageError::io("delete", path, error)),
        }
    }
}

/// Copies `source` into a temporary file in `target`'s directory (created when
/// missing) and renames it to `target`; returns the size copied.
fn copy_atomically(source: &Path, target: &Path) -> Result<u64, StorageError> {
    let directory = target.parent().ok_or_else(|| {
        StorageError::io(
            "find the directory of",
            target,
            io::ErrorKind::InvalidInput.into(),
        )
    })?;
    std::fs::create_dir_all(directory)
        .map_err(|error| StorageError::io("create directory", directory, error))?;
    let mut input =
        std::fs::File::open(source).map_err(|error| StorageError::io("open", source, error))?;
    let mut staged = tempfile::Builder::new()
        .prefix(".incoming-")
        .tempfile_in(directory)
        .map_err(|error| StorageError::io("create a temporary file in", directory, error))?;
    let size = io::copy(&mut input, staged.as_file_mut())
        .map_err(|error| StorageError::io("copy into", target, error))?;
    staged
        .as_file()
        .sync_all()
        .map_err(|error| StorageError::io("flush", target, error))?;
    staged
        .persist(target)
        .map_err(|error| StorageError::io("rename into", target, error.error))?;
    Ok(size)
}

fn cancelled(key: &str) -> StorageError {
    StorageError::Cancelled {
        key: key.to_owned(),
    }
}
