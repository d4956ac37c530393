//! Stops browsers a killed earlier run of the engine left behind. Their
//! profile folders live under the engine's work folder, so their command
//! lines name it. (FFmpeg children need no reaping: their pipes close with
//! the process that fed them, and they exit.)

use std::path::Path;

use motionrender_engine::browser::PROFILE_PREFIX;

/// Kills every process whose command line names a browser profile under
/// `work_dir`; returns how many there were.
pub fn reap_browsers(work_dir: &Path) -> usize {
    let Ok(work_dir) = work_dir.canonicalize() else { return 0 };
    let marker = format!("{}/", work_dir.display());
    let Ok(entries) = std::fs::read_dir("/proc") else { return 0 };
    let own = std::process::id();
    let mut killed = 0;
    for entry in entries.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|name| name.parse::<u32>().ok()) else { continue };
        if pid == own {
            continue;
        }
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else { continue };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        let leftover = cmdline.split(' ').any(|arg| {
            arg.strip_prefix("--user-data-dir=").is_some_and(|dir| dir.starts_with(&marker) && dir.contains(PROFILE_PREFIX))
        });
        if leftover && std::process::Command::new("kill").args(["-9", &pid.to_string()]).status().is_ok_and(|s| s.success()) {
            killed += 1;
        }
    }
    if killed > 0 {
        tracing::warn!(killed, "stopped browsers left by an earlier run");
    }
    killed
}
