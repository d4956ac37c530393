//! The folders a render writes: the work folder, and for a service the data
//! folder (job store) and the output folder. A folder that does not exist
//! yet must be creatable; the check leaves nothing behind.

use std::path::{Path, PathBuf};

use motionrender_config::Config;

use super::{Check, Purpose};

/// The work folder, and for `serve` the data and output folders.
pub fn checks(config: &Config, purpose: Purpose) -> Vec<Check> {
    let paths = &config.paths;
    let mut folders = vec![("work folder", "paths.work_dir", &paths.work_dir)];
    if purpose == Purpose::Serve {
        folders.push(("data folder", "paths.data_dir", &paths.data_dir));
        if config.s3.bucket().is_none() {
            folders.push(("output folder", "paths.output_dir", &paths.output_dir));
        }
    }
    folders.into_iter().map(|(part, key, dir)| writable(part, key, Path::new(dir))).collect()
}

fn writable(part: &'static str, key: &str, dir: &Path) -> Check {
    let Some(existing) = nearest_existing(dir) else {
        return Check::fail(part, format!("{key} = {}: no part of it exists", dir.display()), format!("set {key} to a writable folder"));
    };
    if !existing.is_dir() {
        return Check::fail(part, format!("{key} = {}: {} is not a folder", dir.display(), existing.display()), format!("set {key} to a writable folder"));
    }
    // A probe file, removed when dropped.
    match tempfile::Builder::new().prefix(".motionrender-check-").tempfile_in(&existing) {
        Ok(_) if existing == dir => Check::ok(part, format!("{} is writable", dir.display())),
        Ok(_) => Check::ok(part, format!("{} will be made in {}", dir.display(), existing.display())),
        Err(error) => Check::fail(
            part,
            format!("{key} = {}: {} is not writable ({error})", dir.display(), existing.display()),
            format!("make it writable for this user, or set {key} to a writable folder"),
        ),
    }
}

/// `dir` itself when it exists, else its nearest ancestor that does.
fn nearest_existing(dir: &Path) -> Option<PathBuf> {
    let absolute = if dir.is_absolute() { dir.to_path_buf() } else { std::env::current_dir().ok()?.join(dir) };
    absolute.ancestors().find(|candidate| candidate.exists()).map(Path::to_path_buf)
}
