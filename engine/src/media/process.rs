//! A child FFmpeg process that is killed and reaped when dropped, keeping the tail of its stderr.

use std::collections::VecDeque;
use std::io::Read;
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::thread::{self, JoinHandle};

use super::error::MediaError;

/// The FFmpeg program, found on `PATH`.
pub(crate) const FFMPEG: &str = "ffmpeg";
/// The FFprobe program, found on `PATH`.
pub(crate) const FFPROBE: &str = "ffprobe";

/// How much of a child's stderr is kept for error messages.
const STDERR_TAIL_BYTES: usize = 4096;

/// A running child process owned by one job. Dropping it kills and reaps the
/// child, so no FFmpeg outlives the value that started it.
#[derive(Debug)]
pub(crate) struct ChildProcess {
    child: Child,
    label: String,
    stderr_tail: Option<JoinHandle<String>>,
    exit: Option<(ExitStatus, String)>,
}

/// Bytes a pipe to or from a child may hold: a whole frame's worth at 1080p
/// is 3 MB, and the kernel's default of 64 KiB makes reader and writer take
/// turns dozens of times per frame.
const PIPE_BYTES: i32 = 1 << 20;

/// Grows a pipe to [`PIPE_BYTES`] where the system allows (best effort:
/// `fs.pipe-max-size` may be lower; the pipe then keeps its size).
fn enlarge_pipe(pipe: &impl std::os::fd::AsRawFd) {
    let _ = nix::fcntl::fcntl(pipe.as_raw_fd(), nix::fcntl::FcntlArg::F_SETPIPE_SZ(PIPE_BYTES));
}

impl ChildProcess {
    /// Starts `command` with stderr captured; `purpose` names it in errors
    /// (`"decoder of /in.mp4"`). Stdin and stdout are as the command set them.
    pub(crate) fn spawn(mut command: Command, purpose: &str) -> Result<Self, MediaError> {
        let program = command.get_program().to_string_lossy().into_owned();
        command.stderr(Stdio::piped());
        let mut child = command.spawn().map_err(|source| MediaError::Spawn {
            process: format!("{program} {purpose}"),
            source,
        })?;
        let label = format!("{program} {purpose} (pid {})", child.id());
        if let Some(stdin) = &child.stdin {
            enlarge_pipe(stdin);
        }
        if let Some(stdout) = &child.stdout {
            enlarge_pipe(stdout);
        }
        let stderr_tail = match child.stderr.take() {
            Some(stderr) => {
                let spawned = thread::Builder::new()
                    .name(format!("stderr-{}", child.id()))
                    .spawn(move || read_tail(stderr));
                match spawned {
                    Ok(handle) => Some(handle),
                    Err(source) => {
                        let _ = child.kill();
                        let _ = child.wait();
                        return Err(MediaError::Spawn {
                            process: label,
                            source,
                        });
                    }
                }
            }
            None => None,
        };
        Ok(ChildProcess {
            child,
            label,
            stderr_tail,
            exit: None,
        })
    }

    /// The operating-system process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The label used in errors: program, purpose and pid.
    pub(crate) fn label(&self) -> &str {
        &self.label
    }

    pub(crate) fn take_stdin(&mut self) -> Option<ChildStdin> {
        self.child.stdin.take()
    }

    pub(crate) fn take_stdout(&mut self) -> Option<ChildStdout> {
        self.child.stdout.take()
    }

    /// Waits for the child to exit and returns its status and stderr tail.
    /// Calling it again returns the same result.
    pub(crate) fn wait(&mut self) -> Result<(ExitStatus, String), MediaError> {
        if let Some(exit) = &self.exit {
            return Ok(exit.clone());
        }
        let status = self.child.wait().map_err(|source| MediaError::Pipe {
            process: self.label.clone(),
            source,
            stderr: String::new(),
        })?;
        let tail = self.stderr_tail();
        self.exit = Some((status, tail.clone()));
        Ok((status, tail))
    }

    /// Like `wait`, but gives up after `limit`: `None` if the child is still
    /// running then (it is left running; `kill` or drop it). Used by NVENC
    /// detection, whose probe must not hang on a wedged driver.
    #[cfg(feature = "nvenc")]
    pub(crate) fn wait_within(
        &mut self,
        limit: std::time::Duration,
    ) -> Result<Option<(ExitStatus, String)>, MediaError> {
        use std::time::{Duration, Instant};
        let deadline = Instant::now() + limit;
        while self.exit.is_none() {
            match self.child.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if Instant::now() >= deadline => return Ok(None),
                Ok(None) => thread::sleep(Duration::from_millis(10)),
                Err(source) => {
                    return Err(MediaError::Pipe {
                        process: self.label.clone(),
                        source,
                        stderr: String::new(),
                    })
                }
            }
        }
        self.wait().map(Some)
    }

    /// Waits for the child and turns a non-zero exit into `ProcessFailed`.
    pub(crate) fn wait_success(&mut self) -> Result<(), MediaError> {
        let (status, stderr) = self.wait()?;
        if status.success() {
            Ok(())
        } else {
            Err(MediaError::ProcessFailed {
                process: self.label.clone(),
                status: status.to_string(),
                stderr,
            })
        }
    }

    /// Kills the child (if still running) and reaps it.
    pub(crate) fn kill(&mut self) -> Result<(ExitStatus, String), MediaError> {
        if self.exit.is_none() {
            let _ = self.child.kill();
        }
        self.wait()
    }

    /// The stderr tail, once the child has closed stderr (after exit).
    fn stderr_tail(&mut self) -> String {
        match self.stderr_tail.take() {
            Some(handle) => handle.join().unwrap_or_default(),
            None => String::new(),
        }
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        if self.exit.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Reads `stream` to its end, keeping only its last `STDERR_TAIL_BYTES`.
fn read_tail(mut stream: impl Read) -> String {
    let mut tail: VecDeque<u8> = VecDeque::with_capacity(STDERR_TAIL_BYTES);
    let mut chunk = [0u8; 1024];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                tail.extend(&chunk[..n]);
                let excess = tail.len().saturating_sub(STDERR_TAIL_BYTES);
                tail.drain(..excess);
            }
        }
    }
    let bytes: Vec<u8> = tail.into();
    String::from_utf8_lossy(&bytes).trim().to_owned()
}

/// Runs a short-lived command to completion, returning its stdout, or
/// `ProcessFailed` with its stderr tail.
pub(crate) fn run_to_end(command: Command, purpose: &str) -> Result<Vec<u8>, MediaError> {
    run_to_end_with_stderr(command, purpose).map(|(stdout, _)| stdout)
}

/// As [`run_to_end`], also returning the stderr tail of a successful run
/// (where FFprobe reports damage it read past).
pub(crate) fn run_to_end_with_stderr(mut command: Command, purpose: &str) -> Result<(Vec<u8>, String), MediaError> {
    command.stdin(Stdio::null()).stdout(Stdio::piped());
    let mut process = ChildProcess::spawn(command, purpose)?;
    let mut stdout = Vec::new();
    if let Some(mut out) = process.take_stdout() {
        out.read_to_end(&mut stdout)
            .map_err(|source| MediaError::Pipe {
                process: process.label().to_owned(),
                source,
                stderr: String::new(),
            })?;
    }
    process.wait_success()?;
    let (_, stderr) = process.wait()?;
    Ok((stdout, stderr))
}
