//! The browser side of the rasterizer: where the page is (`engine/page/`,
//! installed or configured), a loopback asset server for it, a headless Chromium launched for it, and the overlay page
//! that loads a scenario, seeks, fingerprints and captures.

mod asset_server;
mod capture_mode;
mod error;
mod fonts;
mod launch;
mod overlay_page;
mod page_dir;

pub use asset_server::AssetServer;
pub use capture_mode::CaptureMode;
pub use error::BrowserError;
pub use fonts::{first_family, plan_fonts, FontFace, FontFallback, FontPlan, FontReport};
pub use launch::{find_executable, is_headless_shell, HeadlessBrowser, LaunchOptions, PROFILE_PREFIX};
pub use page_dir::{install_command, installed_page_dir, locate_page_dir, missing_packages, PageDir, PageDirError, PageSource, PAGE_PACKAGES};
pub use overlay_page::{
    LoadReport, MissingPlugin, OverlayPage, PageTimeouts, PluginReport, SeekState,
};
