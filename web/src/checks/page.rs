//! The browser page: its folder (configured, installed or the source
//! tree's), its npm packages and the plugin pack.

use std::path::{Path, PathBuf};

use motionrender_config::Config;
use motionrender_engine::browser::{install_command, locate_page_dir, missing_packages, PAGE_PACKAGES};

use super::{Check, Verdict};

/// The page folder and its packages.
pub fn checks(config: &Config) -> Vec<Check> {
    let page = match locate_page_dir(config.paths.page_dir().map(Path::new)) {
        Ok(page) => page,
        Err(error) => return vec![Check::new("page", Verdict::Fail, error.to_string())],
    };
    let dir = &page.path;
    let mut checks = vec![Check::ok("page", format!("{} ({})", dir.display(), page.source.describe()))];
    let missing = missing_packages(dir);
    if missing.is_empty() {
        let versions: Vec<String> = PAGE_PACKAGES.iter().map(|name| format!("{name} {}", package_version(dir, name))).collect();
        checks.push(Check::ok("page packages", versions.join(", ")));
    } else {
        let advice = if dir.join("package-lock.json").is_file() {
            format!("run `{}`", install_command(dir))
        } else {
            "reinstall the page (scripts/install PREFIX), or point paths.page_dir at a complete page folder".to_owned()
        };
        checks.push(Check::fail("page packages", format!("{} missing in {}", missing.join(", "), dir.join("node_modules").display()), advice));
    }
    checks
}

/// The plugin pack: `paths.plugin_dir`, else the page's own `plugins/`.
pub fn plugins(config: &Config) -> Option<Check> {
    let dir = match config.paths.plugin_dir() {
        Some(dir) => PathBuf::from(dir),
        None => locate_page_dir(config.paths.page_dir().map(Path::new)).ok()?.path.join("plugins"),
    };
    let index = dir.join("index.json");
    let check = match std::fs::read_to_string(&index).ok().and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok()) {
        Some(listing) => {
            let count = listing.as_array().map(Vec::len).or_else(|| listing.as_object().map(serde_json::Map::len)).unwrap_or(0);
            Check::ok("plugins", format!("{} ({count} listed in index.json)", dir.display()))
        }
        None => Check::new("plugins", Verdict::Warn, format!("no readable {}: scenarios naming plugins render without them", index.display()))
            .advise("set paths.plugin_dir to a plugin pack, or reinstall the page"),
    };
    Some(check)
}

/// The `version` of `node_modules/NAME/package.json`.
fn package_version(dir: &Path, name: &str) -> String {
    let manifest = dir.join("node_modules").join(name).join("package.json");
    std::fs::read_to_string(manifest)
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|manifest| manifest.get("version").and_then(serde_json::Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| "(version unknown)".to_owned())
}
