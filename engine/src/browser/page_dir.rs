//! Where the browser page is found: the folder holding `index.html`,
//! `adapter.js`, the standard plugin pack (`plugins/`) and the npm packages
//! the page loads (`node_modules/motiontext-renderer`, `node_modules/gsap`).
//!
//! In order: the configured folder (`paths.page_dir`); the installed one,
//! `../share/motionrender/page` next to the running executable (what
//! `scripts/install PREFIX` lays out as `PREFIX/bin` and
//! `PREFIX/share/motionrender/page`); and, only in a build with the
//! `source-tree-page` feature (a development build of this workspace), the
//! source tree's `engine/page/`. An installed binary never looks at the
//! build tree.

use std::path::{Path, PathBuf};

/// The npm packages the page loads, each a folder under `node_modules/`.
pub const PAGE_PACKAGES: [&str; 2] = ["motiontext-renderer", "gsap"];

/// Where the page folder in use came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageSource {
    /// `paths.page_dir`.
    Configured,
    /// `../share/motionrender/page` beside the executable.
    Installed,
    /// The source tree (development builds only).
    SourceTree,
}

impl PageSource {
    pub fn describe(self) -> &'static str {
        match self {
            Self::Configured => "paths.page_dir",
            Self::Installed => "installed beside the executable",
            Self::SourceTree => "the source tree, development build",
        }
    }
}

/// The page folder found, and where from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageDir {
    pub path: PathBuf,
    pub source: PageSource,
}

/// Why no page folder could be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageDirError {
    /// `paths.page_dir` names a folder without the page.
    #[error("paths.page_dir = {} holds no browser page (no index.html there); point it at the page folder (PREFIX/share/motionrender/page after scripts/install PREFIX)", .0.display())]
    Configured(PathBuf),
    /// Nothing configured and no installed page beside the executable.
    #[error("the browser page was not found (looked in {}); set paths.page_dir to the page folder, or install with scripts/install PREFIX", tried(.0))]
    NotFound(Vec<PathBuf>),
}

fn tried(places: &[PathBuf]) -> String {
    places.iter().map(|place| place.display().to_string()).collect::<Vec<_>>().join(", ")
}

/// The page folder to use: `configured` when given, else the installed
/// one, else (development builds) the source tree's.
pub fn locate_page_dir(configured: Option<&Path>) -> Result<PageDir, PageDirError> {
    if let Some(dir) = configured {
        return if holds_page(dir) {
            Ok(PageDir { path: dir.to_path_buf(), source: PageSource::Configured })
        } else {
            Err(PageDirError::Configured(dir.to_path_buf()))
        };
    }
    let mut looked = Vec::new();
    if let Some(installed) = installed_page_dir() {
        if holds_page(&installed) {
            return Ok(PageDir { path: installed, source: PageSource::Installed });
        }
        looked.push(installed);
    }
    if let Some(source) = source_tree_page_dir() {
        if holds_page(&source) {
            return Ok(PageDir { path: source, source: PageSource::SourceTree });
        }
        looked.push(source);
    }
    Err(PageDirError::NotFound(looked))
}

/// `../share/motionrender/page` beside the running executable (symlinks
/// to the executable resolved), when the executable can be found.
pub fn installed_page_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let exe = exe.canonicalize().unwrap_or(exe);
    Some(exe.parent()?.parent()?.join("share").join("motionrender").join("page"))
}

/// The source tree's page folder, in a development build only.
#[cfg(feature = "source-tree-page")]
fn source_tree_page_dir() -> Option<PathBuf> {
    Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("page"))
}

/// Without `source-tree-page` the build tree's path is not even compiled in.
#[cfg(not(feature = "source-tree-page"))]
fn source_tree_page_dir() -> Option<PathBuf> {
    None
}

fn holds_page(dir: &Path) -> bool {
    dir.join("index.html").is_file()
}

/// The page's npm packages missing from `dir/node_modules`.
pub fn missing_packages(dir: &Path) -> Vec<&'static str> {
    PAGE_PACKAGES.into_iter().filter(|name| !dir.join("node_modules").join(name).join("package.json").is_file()).collect()
}

/// The command that installs the page's npm packages into `dir`, pinned by
/// its lockfile.
pub fn install_command(dir: &Path) -> String {
    format!("npm ci --prefix {}", shell_word(&dir.display().to_string()))
}

/// `text` as one shell word (quoted when it holds anything unusual).
fn shell_word(text: &str) -> String {
    let plain = !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+:@%=".contains(c));
    if plain {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_configured_folder_must_hold_the_page() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(locate_page_dir(Some(dir.path())), Err(PageDirError::Configured(dir.path().to_path_buf())));
        std::fs::write(dir.path().join("index.html"), "<html></html>").unwrap();
        let found = locate_page_dir(Some(dir.path())).unwrap();
        assert_eq!((found.path.as_path(), found.source), (dir.path(), PageSource::Configured));
    }

    #[test]
    fn missing_packages_are_named_with_the_command_that_installs_them() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(missing_packages(dir.path()), PAGE_PACKAGES);
        let gsap = dir.path().join("node_modules/gsap");
        std::fs::create_dir_all(&gsap).unwrap();
        std::fs::write(gsap.join("package.json"), "{}").unwrap();
        assert_eq!(missing_packages(dir.path()), ["motiontext-renderer"]);
        assert_eq!(install_command(Path::new("/opt/mr/share/page")), "npm ci --prefix /opt/mr/share/page");
        assert_eq!(install_command(Path::new("/tmp/my page")), "npm ci --prefix '/tmp/my page'");
    }
}
