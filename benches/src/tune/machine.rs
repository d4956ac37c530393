//! The machine and build a sweep ran on, recorded beside its results: CPU,
//! cores, memory, git revision, and the Chromium and FFmpeg versions.

use std::path::Path;
use std::process::Command;

use motionrender_config::Config;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MachineInfo {
    pub cpu: String,
    pub cores: usize,
    pub memory_mb: u64,
    pub os: String,
    /// `git rev-parse HEAD` of the current folder, `-dirty` when it has changes.
    pub git_revision: String,
    /// `debug` or `release`.
    pub build: String,
    pub harness_version: String,
    pub chromium: String,
    pub ffmpeg: String,
}

impl MachineInfo {
    /// What this machine and build are; a part that cannot be found reads `unknown`.
    pub fn detect(config: &Config) -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo.lines().find_map(|l| l.strip_prefix("model name").and_then(|r| r.split_once(':')).map(|(_, v)| v.trim().to_owned()));
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory_kb = meminfo.lines().find_map(|l| l.strip_prefix("MemTotal:")).and_then(|r| r.split_whitespace().next()).and_then(|k| k.parse::<u64>().ok());
        let os = std::fs::read_to_string("/proc/sys/kernel/osrelease").map(|r| format!("{} {}", std::env::consts::OS, r.trim())).unwrap_or_else(|_| std::env::consts::OS.to_owned());
        let chromium = config
            .browser
            .executable()
            .map(std::path::PathBuf::from)
            .or_else(|| motionrender_engine::browser::find_executable().ok())
            .and_then(|exe| first_line(&exe, &["--version"]));
        let revision = first_line(Path::new("git"), &["rev-parse", "HEAD"]).map(|rev| {
            let dirty = Command::new("git").args(["status", "--porcelain", "--untracked-files=no"]).output().is_ok_and(|o| !o.stdout.is_empty());
            if dirty { format!("{rev}-dirty") } else { rev }
        });
        let unknown = || "unknown".to_owned();
        Self {
            cpu: cpu.unwrap_or_else(unknown),
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            memory_mb: memory_kb.map_or(0, |kb| kb / 1024),
            os,
            git_revision: revision.unwrap_or_else(unknown),
            build: if cfg!(debug_assertions) { "debug" } else { "release" }.to_owned(),
            harness_version: env!("CARGO_PKG_VERSION").to_owned(),
            chromium: chromium.unwrap_or_else(unknown),
            ffmpeg: first_line(Path::new("ffmpeg"), &["-hide_banner", "-version"]).unwrap_or_else(unknown),
        }
    }
}

/// The first line a program prints, when it runs and succeeds.
fn first_line(program: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new(program).args(args).output().ok().filter(|o| o.status.success())?;
    String::from_utf8_lossy(&output.stdout).lines().next().map(|l| l.trim().to_owned()).filter(|l| !l.is_empty())
}
