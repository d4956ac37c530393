//! The engine's work folder (`paths.work_dir`): each job works in
//! `jobs/<job id>` (its input, segments and output before it is stored), and
//! the warm browsers keep their profiles in `browsers/`. A job's folder goes
//! when the job ends; what a killed earlier run left behind goes when the
//! engine starts ([`clear_leftovers`]).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use motionrender_engine::browser::PROFILE_PREFIX;

/// The folder a job works in.
pub fn job_dir(work_dir: &Path, job_id: &str) -> PathBuf {
    work_dir.join("jobs").join(job_id)
}

/// The folder the warm browsers' profiles are made in.
pub fn profiles_dir(work_dir: &Path) -> PathBuf {
    work_dir.join("browsers")
}

/// What [`clear_leftovers`] removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Cleared {
    pub job_folders: usize,
    pub browser_profiles: usize,
}

/// Removes, before the engine starts anything, the folder of every job that
/// will not run again (every folder under `jobs/` but those of `resumed`,
/// the queued and running jobs) and every browser profile (no browser of
/// this engine runs yet; those of a killed run were stopped). Blocking:
/// call it off async threads.
pub fn clear_leftovers(work_dir: &Path, resumed: &HashSet<String>) -> Cleared {
    let mut cleared = Cleared::default();
    for entry in entries(&work_dir.join("jobs")) {
        let name = entry.file_name();
        if resumed.contains(name.to_string_lossy().as_ref()) {
            continue;
        }
        if remove(&entry.path()) {
            cleared.job_folders += 1;
        }
    }
    for entry in entries(&profiles_dir(work_dir)) {
        if entry.file_name().to_string_lossy().starts_with(PROFILE_PREFIX) && remove(&entry.path()) {
            cleared.browser_profiles += 1;
        }
    }
    if cleared != Cleared::default() {
        tracing::info!(job_folders = cleared.job_folders, browser_profiles = cleared.browser_profiles, "removed what an earlier run left in the work folder");
    }
    cleared
}

fn entries(dir: &Path) -> Vec<std::fs::DirEntry> {
    std::fs::read_dir(dir).map(|entries| entries.flatten().collect()).unwrap_or_default()
}

/// Removes a folder (or a file); false when it could not be.
fn remove(path: &Path) -> bool {
    let removed = if path.is_dir() { std::fs::remove_dir_all(path) } else { std::fs::remove_file(path) };
    match removed {
        Ok(()) => true,
        Err(error) => {
            tracing::warn!(path = %path.display(), %error, "cannot remove a leftover of an earlier run");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn only_resumed_jobs_keep_their_folders_and_no_browser_profile_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let work = dir.path();
        for job in ["cancelled", "resumed", "unknown"] {
            std::fs::create_dir_all(job_dir(work, job).join("segments")).unwrap();
            std::fs::write(job_dir(work, job).join("segments/000000.mp4"), b"x").unwrap();
        }
        let profile = profiles_dir(work).join(format!("{PROFILE_PREFIX}abc"));
        std::fs::create_dir_all(profile.join("Default")).unwrap();
        std::fs::create_dir_all(profiles_dir(work).join("not-ours")).unwrap();
        let resumed: HashSet<String> = ["resumed".to_owned()].into();
        assert_eq!(clear_leftovers(work, &resumed), Cleared { job_folders: 2, browser_profiles: 1 });
        assert!(job_dir(work, "resumed").join("segments/000000.mp4").is_file());
        assert!(!job_dir(work, "cancelled").exists() && !job_dir(work, "unknown").exists());
        assert!(!profile.exists() && profiles_dir(work).join("not-ours").exists());
        assert_eq!(clear_leftovers(&work.join("missing"), &resumed), Cleared::default());
    }
}
