//! Chromium: which executable renders the overlays, its version, and
//! whether it captures with `HeadlessExperimental.beginFrame`.

use std::path::{Path, PathBuf};

use motionrender_config::Config;
use motionrender_engine::browser::{find_executable, is_headless_shell};

use super::{command, Check, Verdict};

const INSTALL: &str = "install chromium-headless-shell (apt-get install chromium-headless-shell; scripts/setup does it) or set browser.executable";

/// The configured or found executable, and its path when it exists.
pub fn executable(config: &Config) -> (Check, Option<PathBuf>) {
    match config.browser.executable().map(PathBuf::from) {
        Some(path) if path.is_file() => (Check::ok("chromium", format!("{} (browser.executable)", path.display())), Some(path)),
        Some(path) => (Check::fail("chromium", format!("browser.executable = {} does not exist", path.display()), INSTALL), None),
        None => match find_executable() {
            Ok(path) => (Check::ok("chromium", path.display().to_string()), Some(path)),
            Err(error) => (Check::fail("chromium", error.to_string(), INSTALL), None),
        },
    }
}

/// What `--version` says.
pub fn version(path: &Path) -> Check {
    match command::output(path, &["--version"]) {
        Ok(text) => Check::ok("chromium version", text.lines().next().unwrap_or_default().trim().to_owned()),
        Err(reason) => Check::fail("chromium version", reason, INSTALL),
    }
}

/// Whether overlays are captured with beginFrame (headless shell) or screenshots.
pub fn begin_frame(path: &Path) -> Check {
    if is_headless_shell(path) {
        Check::ok("beginFrame", "supported: chromium-headless-shell captures each frame with HeadlessExperimental.beginFrame")
    } else {
        Check::new("beginFrame", Verdict::Warn, format!("not supported by {}: overlays are captured with screenshots", path.display()))
            .advise("install chromium-headless-shell for beginFrame capture")
    }
}
