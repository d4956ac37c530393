//! `BrowserError`: what can go wrong serving the page, launching Chromium and
//! driving the overlay page, with the operation and the path or URL involved.

use std::path::PathBuf;
use std::time::Duration;

/// A failure of the browser side. Every variant names the operation it
/// happened in, so a job's error says which step of which page failed.
#[derive(Debug, thiserror::Error)]
pub enum BrowserError {
    /// No Chromium executable was configured or found in the usual places.
    #[error("no Chromium executable found (looked at: {tried}); install chromium-headless-shell or set the executable path")]
    NoExecutable { tried: String },

    /// The configured executable does not exist.
    #[error("the configured Chromium executable {path} does not exist")]
    ExecutableMissing { path: PathBuf },

    /// Chromium could not be started or did not open its DevTools endpoint.
    #[error("launching {executable}: {source}")]
    Launch {
        executable: PathBuf,
        #[source]
        source: chromiumoxide::error::CdpError,
    },

    /// A local file-system step failed (profile directory, page directory).
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },

    /// A DevTools command failed, or the browser went away while it ran.
    #[error("{op}: DevTools call failed: {source}")]
    Cdp {
        op: &'static str,
        #[source]
        source: chromiumoxide::error::CdpError,
    },

    /// An operation did not finish in time (a hung or dead browser).
    #[error("{op}: no answer within {after:?}")]
    Timeout { op: &'static str, after: Duration },

    /// The page reported that its runtime did not start.
    #[error("the overlay page at {url} failed to start: {message}")]
    PageStart { url: String, message: String },

    /// Navigation to the page failed.
    #[error("navigating to {url}: {message}")]
    Navigate { url: String, message: String },

    /// A call into `window.motionrender` threw; `message` is the page's error message.
    #[error("{op}: the page threw: {message}")]
    Script { op: &'static str, message: String },

    /// The page answered with something this engine does not understand.
    #[error("{op}: unexpected answer from the page: {detail}")]
    BadAnswer { op: &'static str, detail: String },

    /// An argument was out of range (non-finite time, empty or off-page clip).
    #[error("{op}: {detail}")]
    InvalidArgument { op: &'static str, detail: String },
}

#[cfg(test)]
mod tests {
    fn assert_send_sync<T: Send + Sync + 'static>() {}

    #[test]
    fn browser_error_crosses_threads() {
        assert_send_sync::<super::BrowserError>();
    }
}
