//! The browser side of the rasterizer: a loopback asset server for the page
//! in `engine/page/`, a headless Chromium launched for it, and the overlay page
//! that loads a scenario, seeks, fingerprints and captures.

mod asset_server;
mod capture_mode;
mod error;
mod fonts;
mod launch;
mod overlay_page;

pub use asset_server::{page_dir, AssetServer};
pub use capture_mode::CaptureMode;
pub use error::BrowserError;
pub use fonts::{first_family, plan_fonts, FontFace, FontFallback, FontPlan, FontReport};
pub use launch::{find_executable, is_headless_shell, HeadlessBrowser, LaunchOptions, PROFILE_PREFIX};
pub use overlay_page::{
    LoadReport, MissingPlugin, OverlayPage, PageTimeouts, PluginReport, SeekState,
};
