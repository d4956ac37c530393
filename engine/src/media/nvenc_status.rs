//! `nvenc_status`: whether this process can encode with NVENC and, if not, why; found out once and cached.
//!
//! With the `nvenc` feature the answer is the NVENC helper's: `motionrender-nvenc
//! --probe` opens CUDA, an encoder and a real H.264 session, and encodes one
//! picture. It runs in its own process, so a missing driver library (the
//! loader refuses to start it), a panic in the CUDA or NVENC crates (no
//! `libcuda`, a driver older than the API) or a GPU without an encoder
//! (`NV_ENC_ERR_NO_ENCODE_DEVICE`) each come back as its one line on stderr.

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
    match probe::helper_probe() {
        Ok(answer) => NvencStatus { usable: true, reason: answer },
        Err(reason) => NvencStatus::unusable(reason),
    }
}

#[cfg(feature = "nvenc")]
mod probe {
    use std::process::{Command, Stdio};
    use std::time::Duration;

    use super::super::nvenc_helper::{helper_path, HELPER};
    use super::super::process::ChildProcess;

    /// How long the probe may take; driver start-up is usually well under a
    /// second, so this only catches a wedged driver.
    const PROBE_TIMEOUT: Duration = Duration::from_secs(20);
    /// Reasons are cut to this many characters (cudarc lists every library
    /// name it tried).
    const REASON_CHARS: usize = 300;

    /// The helper's answer: its stdout line when a session worked, else why not.
    pub(super) fn helper_probe() -> Result<String, String> {
        let helper = helper_path()?;
        let mut command = Command::new(&helper);
        command.arg("--probe").stdin(Stdio::null()).stdout(Stdio::piped());
        let mut process = ChildProcess::spawn(command, "probe").map_err(|e| e.to_string())?;
        let stdout = process.take_stdout();
        match process.wait_within(PROBE_TIMEOUT) {
            Ok(Some((status, _))) if status.success() => {
                let mut answer = String::new();
                if let Some(mut stdout) = stdout {
                    let _ = std::io::Read::read_to_string(&mut stdout, &mut answer);
                }
                Ok(format!("{HELPER} --probe: {}", answer.trim()))
            }
            Ok(Some((status, stderr))) => Err(reason(&stderr).unwrap_or_else(|| format!("{HELPER} --probe failed: {status}"))),
            Ok(None) => {
                let _ = process.kill();
                Err(format!("{HELPER} --probe did not finish within {} s", PROBE_TIMEOUT.as_secs()))
            }
            Err(error) => Err(error.to_string()),
        }
    }

    /// The helper's (or the loader's) first line, without the program prefix.
    pub(super) fn reason(stderr: &str) -> Option<String> {
        let line = stderr.lines().map(str::trim).find(|l| !l.is_empty())?;
        let line = match line.split_once(": ") {
            Some((program, rest)) if program.ends_with(HELPER) => rest,
            _ => line,
        };
        let line = line.split(" - searched for").next().unwrap_or(line);
        Some(line.chars().take(REASON_CHARS).collect())
    }

    #[cfg(test)]
    mod tests {
        #![allow(clippy::unwrap_used)]

        use super::reason;

        #[test]
        fn the_reason_is_the_first_line_without_the_program() {
            let loader = "/usr/bin/motionrender-nvenc: error while loading shared libraries: libnvidia-encode.so.1: cannot open shared object file\n";
            assert_eq!(reason(loader).unwrap(), "error while loading shared libraries: libnvidia-encode.so.1: cannot open shared object file");
            let cudarc = "motionrender-nvenc: unavailable: Unable to dynamically load the \"cuda\" shared library - searched for library names: [...]";
            assert_eq!(reason(cudarc).unwrap(), "unavailable: Unable to dynamically load the \"cuda\" shared library");
            assert_eq!(reason("  \n"), None);
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

    /// With the feature on this machine (no NVIDIA driver), the helper's
    /// probe answers: the loader cannot find the driver's libnvidia-encode.
    /// Run after `cargo build -p motionrender-nvenc --features nvenc`.
    #[cfg(feature = "nvenc")]
    #[test]
    fn without_the_driver_the_probe_names_the_missing_library() {
        let status = nvenc_status();
        assert!(!status.usable, "{status:?}");
        assert!(status.reason.contains("libnvidia-encode.so.1"), "{status:?}");
    }
}
