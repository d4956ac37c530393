//! Finding and launching headless Chromium for overlay pages: the executable
//! lookup, the command line (no network but loopback, fresh profile), the
//! DevTools handler task, and killing and reaping the process at the end.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chromiumoxide::browser::{Browser, BrowserConfig};
use futures::StreamExt;
use tokio::task::JoinHandle;

use super::BrowserError;

/// Where Debian and common distributions install a headless Chromium, best
/// first. The real `chromium-headless-shell` binary comes before its
/// `/usr/bin` wrapper script, so the recorded PID is the browser's own.
const KNOWN_EXECUTABLES: &[&str] = &[
    "/usr/lib/chromium/chromium-headless-shell",
    "/usr/bin/chromium-headless-shell",
    "/usr/lib/chromium/chromium",
    "/usr/bin/chromium",
];

/// Names looked up on `PATH` when none of [`KNOWN_EXECUTABLES`] exists.
const PATH_NAMES: &[&str] = &["chromium-headless-shell", "chromium", "chromium-browser"];

/// Switches that hand the compositor's frame production to DevTools
/// (`HeadlessExperimental.beginFrame`): frames are drawn only when asked, and
/// each drawn frame runs every stage (main-thread commit, raster, draw), so
/// its screenshot shows the DOM as the last `seek` left it. The last three
/// keep animation, scrolling and image decoding on the main frame's
/// schedule, as Chromium's own `--deterministic-mode` does.
const BEGIN_FRAME_ARGS: &[&str] = &[
    "enable-begin-frame-control",
    "run-all-compositor-stages-before-draw",
    "disable-threaded-animation",
    "disable-threaded-scrolling",
    "disable-checker-imaging",
];

/// Name resolution: everything fails except the loopback address, so a page
/// can reach the asset server and no other host.
const HOST_RESOLVER_RULES: &str = "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1";

/// The name prefix of every browser profile folder the engine makes.
pub const PROFILE_PREFIX: &str = "motionrender-chromium-";

/// How to launch the browser.
#[derive(Debug, Clone)]
pub struct LaunchOptions {
    /// The Chromium executable; `None` means [`find_executable`].
    pub executable: Option<PathBuf>,
    /// How long Chromium may take to open its DevTools endpoint. Default 20 s.
    pub launch_timeout: Duration,
    /// How long [`HeadlessBrowser::close`] waits for a graceful exit before
    /// killing the process. Default 2 s.
    pub close_timeout: Duration,
    /// Extra command-line switches (`--name` or `--name=value`), appended
    /// after the defaults.
    pub extra_args: Vec<String>,
    /// Where the fresh profile folder is made; `None`: the system's
    /// temporary folder. A job's own folder lets a restarted service find
    /// (and stop) browsers a killed run left behind.
    pub profile_parent: Option<PathBuf>,
    /// Whether a `chromium-headless-shell` executable is launched with
    /// begin-frame control, so overlay pages can capture with
    /// `HeadlessExperimental.beginFrame` ([`super::CaptureMode::BeginFrame`]).
    /// Ignored for other executables, which do not support it. Default `true`.
    pub begin_frame_control: bool,
}

impl Default for LaunchOptions {
    fn default() -> Self {
        Self {
            executable: None,
            launch_timeout: Duration::from_secs(20),
            close_timeout: Duration::from_secs(2),
            extra_args: Vec::new(),
            profile_parent: None,
            begin_frame_control: true,
        }
    }
}

/// The first Chromium found: a `chromium-headless-shell` (under
/// `/usr/lib/chromium/` or `/usr/bin/`), else `/usr/bin/chromium`, else one
/// of those names on `PATH`.
pub fn find_executable() -> Result<PathBuf, BrowserError> {
    if let Some(found) = KNOWN_EXECUTABLES
        .iter()
        .map(Path::new)
        .find(|p| p.is_file())
    {
        return Ok(found.to_path_buf());
    }
    let path_var = std::env::var_os("PATH").unwrap_or_default();
    for name in PATH_NAMES {
        if let Some(found) = std::env::split_paths(&path_var)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
        {
            return Ok(found);
        }
    }
    Err(BrowserError::NoExecutable {
        tried: KNOWN_EXECUTABLES
            .iter()
            .copied()
            .chain(PATH_NAMES.iter().map(|n| &n[..]))
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// Whether `path` names the old headless shell (`chromium-headless-shell`,
/// `chrome-headless-shell`): the build whose compositor DevTools can drive
/// with `HeadlessExperimental.beginFrame`.
pub fn is_headless_shell(path: &Path) -> bool {
    path.file_name()
        .and_then(|name| name.to_str())
        .is_some_and(|name| name.contains("headless-shell"))
}

/// A running headless Chromium with its DevTools connection.
///
/// Dropping it kills the process (SIGKILL; the runtime reaps it) and removes
/// its profile directory; [`HeadlessBrowser::close`] does the same gracefully
/// and waits for the exit.
#[derive(Debug)]
pub struct HeadlessBrowser {
    browser: Browser,
    handler: JoinHandle<()>,
    executable: PathBuf,
    pid: Option<u32>,
    begin_frame_control: bool,
    close_timeout: Duration,
    /// The fresh profile directory; removed once the browser is gone.
    profile: Option<tempfile::TempDir>,
}

impl HeadlessBrowser {
    /// Launches Chromium headless with a fresh profile, no sandbox, no GPU,
    /// no background networking, and name resolution limited to 127.0.0.1.
    /// A headless shell gets begin-frame control unless the options turn it
    /// off (see [`LaunchOptions::begin_frame_control`]).
    /// Must run inside a multi-threaded tokio runtime.
    pub async fn launch(options: &LaunchOptions) -> Result<Self, BrowserError> {
        let executable = match &options.executable {
            Some(path) if path.is_file() => path.clone(),
            Some(path) => return Err(BrowserError::ExecutableMissing { path: path.clone() }),
            None => find_executable()?,
        };
        let mut profile = tempfile::Builder::new();
        profile.prefix(PROFILE_PREFIX);
        let profile = match &options.profile_parent {
            Some(parent) => profile.tempdir_in(parent),
            None => profile.tempdir(),
        }
        .map_err(|source| BrowserError::Io {
            context: "creating the browser profile directory".into(),
            source,
        })?;

        let mut builder = BrowserConfig::builder()
            .chrome_executable(&executable)
            .no_sandbox()
            .user_data_dir(profile.path())
            .launch_timeout(options.launch_timeout)
            // The overlay page sets its own device metrics.
            .viewport(None)
            .arg("disable-gpu")
            .arg("disable-quic")
            .arg("no-first-run")
            .arg("disable-background-networking")
            .arg("disable-component-update")
            .arg("disable-sync")
            .arg("disable-domain-reliability")
            .arg("no-default-browser-check")
            .arg("hide-scrollbars")
            .arg("mute-audio")
            .arg(("host-resolver-rules", HOST_RESOLVER_RULES));
        let begin_frame_control = options.begin_frame_control && is_headless_shell(&executable);
        if begin_frame_control {
            for arg in BEGIN_FRAME_ARGS {
                builder = builder.arg(*arg);
            }
        }
        for extra in &options.extra_args {
            let extra = extra.trim_start_matches("--");
            builder = match extra.split_once('=') {
                Some((key, value)) => builder.arg((key, value)),
                None => builder.arg(extra),
            };
        }
        let config = builder.build().map_err(|message| BrowserError::Launch {
            executable: executable.clone(),
            source: chromiumoxide::error::CdpError::ChromeMessage(message),
        })?;

        let (mut browser, mut handler) =
            Browser::launch(config)
                .await
                .map_err(|source| BrowserError::Launch {
                    executable: executable.clone(),
                    source,
                })?;
        let pid = browser.get_mut_child().and_then(|child| child.inner.id());
        let handler = tokio::spawn(async move {
            while let Some(event) = handler.next().await {
                if let Err(e) = event {
                    // A dead browser ends the connection; its commands then fail.
                    tracing::debug!(error = %e, "DevTools handler stopped");
                    break;
                }
            }
        });
        tracing::debug!(executable = %executable.display(), ?pid, begin_frame_control, "chromium launched");
        Ok(Self {
            browser,
            handler,
            executable,
            pid,
            begin_frame_control,
            close_timeout: options.close_timeout,
            profile: Some(profile),
        })
    }

    /// The executable that was launched.
    pub fn executable(&self) -> &Path {
        &self.executable
    }

    /// The browser process's id, when known.
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// Whether the browser was launched with begin-frame control, so its
    /// overlay pages try [`super::CaptureMode::BeginFrame`] first.
    pub fn begin_frame_control(&self) -> bool {
        self.begin_frame_control
    }

    /// The browser's product string, e.g. `HeadlessChrome/140.0.0.0`.
    pub async fn version(&self) -> Result<String, BrowserError> {
        let op = "Browser.getVersion";
        let version = tokio::time::timeout(
            self.close_timeout.max(Duration::from_secs(5)),
            self.browser.version(),
        )
        .await
        .map_err(|_| BrowserError::Timeout {
            op,
            after: self.close_timeout,
        })?
        .map_err(|source| BrowserError::Cdp { op, source })?;
        Ok(version.product)
    }

    pub(crate) fn inner(&self) -> &Browser {
        &self.browser
    }

    /// The browser's process and every process below it (its helpers).
    fn processes(&mut self) -> Vec<u32> {
        let Some(pid) = self.browser.get_mut_child().and_then(|child| child.inner.id()) else { return Vec::new() };
        let mut processes = crate::render::descendants(pid);
        processes.push(pid);
        processes
    }

    /// Asks the browser to close, kills it if it does not exit in time, and
    /// waits for the process so none is left behind.
    pub async fn close(mut self) -> Result<(), BrowserError> {
        let helpers = self.processes();
        let graceful = tokio::time::timeout(self.close_timeout, async {
            let _ = self.browser.close().await;
            self.browser.wait().await
        })
        .await;
        if !matches!(graceful, Ok(Ok(_))) {
            if let Some(Err(source)) = self.browser.kill().await {
                // Already gone is fine: kill fails when the process has exited.
                tracing::debug!(error = %source, "killing chromium");
            }
            let _ = self.browser.wait().await;
        }
        self.handler.abort();
        if let Some(profile) = self.profile.take() {
            let path = profile.keep();
            // Chromium's helper processes may still be writing for a moment.
            tokio::task::spawn_blocking(move || remove_profile(&path, &helpers))
                .await
                .map_err(|e| BrowserError::Io {
                    context: "removing the browser profile directory".into(),
                    source: std::io::Error::other(e.to_string()),
                })?
                .map_err(|source| BrowserError::Io {
                    context: "removing the browser profile directory".into(),
                    source,
                })?;
        }
        Ok(())
    }
}

impl Drop for HeadlessBrowser {
    fn drop(&mut self) {
        self.handler.abort();
        let helpers = self.processes();
        if let Some(child) = self.browser.get_mut_child() {
            if let Ok(None) = child.inner.try_wait() {
                // SIGKILL now; tokio reaps the process in the background.
                let _ = child.inner.start_kill();
                let _ = child.inner.try_wait();
            }
        }
        if let Some(profile) = self.profile.take() {
            let path = profile.keep();
            // Not on the async caller's thread: the removal may have to wait
            // for Chromium's helper processes to exit.
            let spawned = std::thread::Builder::new()
                .name("chromium-profile-cleanup".into())
                .spawn(move || {
                    if let Err(e) = remove_profile(&path, &helpers) {
                        tracing::warn!(path = %path.display(), error = %e, "browser profile directory left behind");
                    }
                });
            if let Err(e) = spawned {
                tracing::warn!(error = %e, "could not start the profile cleanup thread");
            }
        }
    }
}

/// Removes a profile directory once every process of the browser
/// (`processes`, the browser's and its helpers', taken before it was told to
/// stop) is gone: a helper that outlives a killed browser, longer on a
/// loaded machine, can write the folder again after it was removed. Waits
/// for them at most [`HELPERS_EXIT_WITHIN`]; the removal itself is retried
/// for up to about ten seconds.
fn remove_profile(path: &Path, processes: &[u32]) -> std::io::Result<()> {
    let deadline = std::time::Instant::now() + HELPERS_EXIT_WITHIN;
    while processes.iter().any(|&pid| is_running(pid)) && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    remove_dir_retrying(path)
}

/// How long a profile's removal waits for the browser's processes to exit.
const HELPERS_EXIT_WITHIN: Duration = Duration::from_secs(10);

/// Whether process `pid` exists and is not a zombie.
fn is_running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|stat| stat.rsplit_once(')').is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z')))
}

fn remove_dir_retrying(path: &Path) -> std::io::Result<()> {
    const ATTEMPTS: u32 = 100;
    let mut attempt = 0;
    loop {
        match std::fs::remove_dir_all(path) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) if attempt >= ATTEMPTS => return Err(e),
            Err(_) => {
                attempt += 1;
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}
