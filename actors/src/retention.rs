//! Retention (`jobs.retention`): finished jobs — completed, failed or
//! cancelled — are deleted once they finished longer ago than the retention,
//! with everything of them: their stored output and QC report, their work
//! folder, and (last, so a sweep cut short is done again by the next) their
//! record, stored request, segments and undelivered callbacks, which frees
//! their output key. The supervisor runs a sweep when the engine starts and
//! then every `jobs.retention_sweep`; queued and running jobs are never
//! touched.

use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, SystemTime};

use motionrender_engine::storage::Storage;

use crate::job::JobRecord;
use crate::store::{Store, StoreError};
use crate::work_folders::job_dir;

/// Jobs deleted at most per store transaction; a sweep goes on until none is left.
const BATCH: usize = 100;

/// What one sweep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    /// Jobs deleted.
    pub deleted: usize,
    /// Expired jobs kept for the next sweep because a file of theirs could not be deleted.
    pub kept: usize,
}

/// Deletes the finished jobs (none of `live`: jobs whose actor still runs)
/// that finished more than `retention` ago, with their files.
pub async fn sweep(store: &Store, storage: &Storage, work_dir: &Path, retention: Duration, live: HashSet<String>) -> Result<Swept, StoreError> {
    let Some(cutoff) = SystemTime::now().checked_sub(retention) else { return Ok(Swept::default()) };
    let mut swept = Swept::default();
    let mut skipped = live;
    loop {
        let expired = store.finished_before(cutoff, skipped.clone(), BATCH).await?;
        if expired.is_empty() {
            return Ok(swept);
        }
        let mut gone = Vec::with_capacity(expired.len());
        for (job, owned) in expired {
            skipped.insert(job.job_id.clone());
            match delete_files(storage, work_dir, &job, &owned).await {
                Ok(()) => gone.push(job),
                Err(reason) => {
                    tracing::warn!(job_id = %job.job_id, %reason, "cannot delete an expired job's files; it is tried again next sweep");
                    swept.kept += 1;
                }
            }
        }
        swept.deleted += gone.len();
        for job in &gone {
            tracing::info!(job_id = %job.job_id, status = job.status.as_str(), finished_at = %job.updated_at, "job deleted (jobs.retention)");
        }
        store.forget(gone).await?;
    }
}

/// Deletes the stored files a job owns (`owned`: its output and QC report
/// keys, unless an older store let another job have one) and its work
/// folder; a file already gone is no error.
async fn delete_files(storage: &Storage, work_dir: &Path, job: &JobRecord, owned: &[String]) -> Result<(), String> {
    for key in owned {
        storage.delete(key).await.map_err(|e| e.to_string())?;
    }
    let dir = job_dir(work_dir, &job.job_id);
    let removed = tokio::task::spawn_blocking(move || match std::fs::remove_dir_all(&dir) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(format!("cannot remove {}: {error}", dir.display())),
        _ => Ok(()),
    })
    .await;
    removed.map_err(|e| e.to_string())?
}
