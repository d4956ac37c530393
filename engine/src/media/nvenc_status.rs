//! `nvenc_status`: whether this process can encode with NVENC and, if not, why; found out once and cached.
//!
//! The checks run cheapest first and stop at the first obstacle: was the
//! binary built with the `nvenc` feature, is there an NVIDIA device node, does
//! the FFmpeg on `PATH` have `h264_nvenc`, and does a one-frame trial encode
//! with it succeed. The last check is the one that counts (it finds a missing
//! driver library, a GPU without NVENC, or no free session); the others only
//! make the common "no GPU here" answer fast and its reason clear.

use std::sync::OnceLock;

/// Whether NVENC can be used, with the reason in one human sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NvencStatus {
    pub usable: bool,
    /// Why it is (not) usable: `"no NVIDIA device (/dev/nvidia0 missing)"`.
    pub reason: String,
}

impl NvencStatus {
    fn unusable(reason: impl Into<String>) -> Self {
        NvencStatus {
            usable: false,
            reason: reason.into(),
        }
    }
}

/// Whether NVENC is usable in this process. The first call finds out (at
/// most a few FFmpeg runs, on a machine with an NVIDIA device); later calls
/// return the same answer. The first call blocks on those child processes, so
/// make it from a blocking thread, not from an async task or an actor.
pub fn nvenc_status() -> NvencStatus {
    static STATUS: OnceLock<NvencStatus> = OnceLock::new();
    STATUS
        .get_or_init(|| {
            let status = detect();
            tracing::info!(usable = status.usable, reason = %status.reason, "NVENC detection");
            status
        })
        .clone()
}

#[cfg(not(feature = "nvenc"))]
fn detect() -> NvencStatus {
    NvencStatus::unusable("built without the `nvenc` feature")
}

#[cfg(feature = "nvenc")]
fn detect() -> NvencStatus {
    match probe::first_obstacle() {
        Some(reason) => NvencStatus::unusable(reason),
        None => NvencStatus {
            usable: true,
            reason: "a one-frame trial encode with FFmpeg's h264_nvenc succeeded".to_owned(),
        },
    }
}

#[cfg(feature = "nvenc")]
mod probe {
    use std::process::{Command, Stdio};
    use std::time::Duration;

    use super::super::process::{run_to_end, ChildProcess, FFMPEG};

    /// How long the trial encode may take; driver start-up is usually well
    /// under a second, so this only catches a wedged driver.
    const TRIAL_TIMEOUT: Duration = Duration::from_secs(20);

    /// The first reason NVENC cannot be used, or `None` if it can.
    pub(super) fn first_obstacle() -> Option<String> {
        missing_device()
            .or_else(missing_encoder)
            .or_else(trial_encode_failure)
    }

    /// On Linux the driver creates `/dev/nvidia0`, `/dev/nvidia1`, … (a
    /// container may see only some of them); without one, nothing else can
    /// work. Other systems have no such node to look for.
    fn missing_device() -> Option<String> {
        if !cfg!(target_os = "linux") {
            return None;
        }
        let found = std::fs::read_dir("/dev").ok()?.flatten().any(|entry| {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            name.strip_prefix("nvidia")
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        });
        (!found).then(|| "no NVIDIA device (/dev/nvidia0 missing)".to_owned())
    }

    fn missing_encoder() -> Option<String> {
        let mut command = Command::new(FFMPEG);
        command.args(["-nostdin", "-hide_banner", "-encoders"]);
        match run_to_end(command, "encoder list") {
            Ok(stdout) => {
                let listing = String::from_utf8_lossy(&stdout);
                let listed = listing
                    .lines()
                    .any(|line| line.split_whitespace().nth(1) == Some("h264_nvenc"));
                (!listed).then(|| "ffmpeg has no h264_nvenc encoder".to_owned())
            }
            Err(error) => Some(format!("could not list ffmpeg's encoders: {error}")),
        }
    }

    /// Encodes one generated frame with `h264_nvenc` to nowhere; on failure,
    /// the first line of FFmpeg's error.
    pub(super) fn trial_encode_failure() -> Option<String> {
        let mut command = Command::new(FFMPEG);
        command
            .args(["-nostdin", "-hide_banner", "-v", "error"])
            .args(["-f", "lavfi", "-i", "color=size=256x256:rate=1"])
            .args(["-frames:v", "1", "-c:v", "h264_nvenc", "-f", "null", "-"])
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        let mut process = match ChildProcess::spawn(command, "h264_nvenc trial encode") {
            Ok(process) => process,
            Err(error) => return Some(error.to_string()),
        };
        match process.wait_within(TRIAL_TIMEOUT) {
            Ok(Some((status, _))) if status.success() => None,
            Ok(Some((status, stderr))) => Some(format!(
                "h264_nvenc trial encode failed: {}",
                first_error_line(&stderr).unwrap_or_else(|| status.to_string())
            )),
            Ok(None) => {
                let _ = process.kill();
                Some(format!(
                    "h264_nvenc trial encode did not finish within {} s",
                    TRIAL_TIMEOUT.as_secs()
                ))
            }
            Err(error) => Some(error.to_string()),
        }
    }

    /// The first non-empty line of FFmpeg's stderr, without its
    /// `[h264_nvenc @ 0x55d0c0a8]` context prefix.
    fn first_error_line(stderr: &str) -> Option<String> {
        let line = stderr.lines().map(str::trim).find(|l| !l.is_empty())?;
        let message = match line.strip_prefix('[').and_then(|l| l.split_once("] ")) {
            Some((_, rest)) => rest,
            None => line,
        };
        Some(message.to_owned())
    }

    #[cfg(test)]
    mod tests {
        #![allow(clippy::unwrap_used)]

        use super::first_error_line;

        #[test]
        fn the_context_prefix_is_cut_from_ffmpegs_first_line() {
            let stderr = "\n[h264_nvenc @ 0x55d0c0a8] Cannot load libcuda.so.1\n\
                          Error initializing output stream 0:0\n";
            assert_eq!(
                first_error_line(stderr).as_deref(),
                Some("Cannot load libcuda.so.1")
            );
            assert_eq!(
                first_error_line("Unknown encoder 'h264_nvenc'").as_deref(),
                Some("Unknown encoder 'h264_nvenc'")
            );
            assert_eq!(first_error_line("  \n"), None);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::nvenc_status;

    #[test]
    fn the_status_always_has_a_reason_and_is_cached() {
        let status = nvenc_status();
        assert!(!status.reason.trim().is_empty(), "{status:?}");
        assert_eq!(
            nvenc_status(),
            status,
            "a second call gives the same answer"
        );
    }

    #[cfg(not(feature = "nvenc"))]
    #[test]
    fn without_the_feature_nvenc_is_never_usable() {
        let status = nvenc_status();
        assert!(!status.usable);
        assert!(status.reason.contains("`nvenc` feature"), "{status:?}");
    }

    /// With the feature on a machine without an NVIDIA device node (this CI
    /// machine), the device check answers, before any FFmpeg runs.
    #[cfg(all(feature = "nvenc", target_os = "linux"))]
    #[test]
    fn without_a_device_node_nvenc_is_not_usable() {
        if std::path::Path::new("/dev/nvidia0").exists() {
            return; // a GPU machine: covered by the selection tests
        }
        let status = nvenc_status();
        assert!(!status.usable);
        assert!(status.reason.contains("/dev/nvidia0"), "{status:?}");
    }

    /// Runs the real trial encode. Without a working NVIDIA driver FFmpeg
    /// fails, and the reason is its first error line.
    #[cfg(feature = "nvenc")]
    #[test]
    fn a_failing_trial_encode_reports_ffmpegs_error() {
        if std::path::Path::new("/dev/nvidia0").exists() {
            return; // the trial may well succeed here
        }
        let reason = super::probe::trial_encode_failure().unwrap();
        assert!(
            reason.starts_with("h264_nvenc trial encode failed: "),
            "{reason}"
        );
        assert!(!reason.contains("@ 0x"), "context prefix removed: {reason}");
    }
}
