//! `CaptureMode`: how an overlay page turns its drawn state into pixels —
//! `HeadlessExperimental.beginFrame` on a headless shell under begin-frame
//! control, or `Page.captureScreenshot` everywhere else.

use std::fmt;

/// How an overlay page captures. Chosen when the page opens (see
/// [`super::OverlayPage::capture_mode`]) and fixed for its lifetime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CaptureMode {
    /// The page's compositor draws only when DevTools asks
    /// (`HeadlessExperimental.beginFrame`); each capture draws one frame with
    /// a screenshot of the viewport, cropped to the overlay's box here.
    /// Needs `chromium-headless-shell` launched with begin-frame control.
    BeginFrame,
    /// The compositor runs on its own; each capture is a clipped
    /// `Page.captureScreenshot` from the surface.
    Screenshot,
}

impl CaptureMode {
    /// The mode's name as reports and logs spell it: `begin_frame` or `screenshot`.
    pub fn as_str(self) -> &'static str {
        match self {
            CaptureMode::BeginFrame => "begin_frame",
            CaptureMode::Screenshot => "screenshot",
        }
    }
}

impl fmt::Display for CaptureMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
