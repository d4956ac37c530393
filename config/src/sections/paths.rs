//! `[paths]`: where motionrender keeps data, scratch files and results, and
//! where local input files may come from.

use serde::{Deserialize, Serialize};

use crate::unset::non_empty;

/// Directories used by the engine. Relative paths are relative to the
/// process's working directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PathsConfig {
    /// Root of motionrender's own data (durable job store, caches).
    /// Default: `"data"`.
    pub data_dir: String,
    /// Scratch directory for segment files and other intermediate output.
    /// Default: `"data/work"`.
    pub work_dir: String,
    /// Directory where finished renders are stored when S3 is not configured
    /// (`s3.bucket` empty); output keys cannot escape it. Default: `"data/output"`.
    pub output_dir: String,
    /// Directory of MotionText plugins added to the bundled standard pack
    /// (its `<name>@<version>/` folders take precedence over the pack's of
    /// the same name and version); empty means the pack alone. Default: `""`.
    pub plugin_dir: String,
    /// Directory of font files (`.ttf`, `.otf`, `.woff`, `.woff2`) the page
    /// loads as web fonts before the first capture, and where scenario font
    /// assets are looked up; empty means system fonts only. Default: `""`.
    pub font_dir: String,
    /// Folder of the browser page (`index.html`, `adapter.js`, `plugins/`
    /// and the npm packages in `node_modules/`); empty means the installed
    /// page, `../share/motionrender/page` beside the executable (and, in a
    /// development build only, the source tree's `engine/page/`).
    /// Default: `""`.
    pub page_dir: String,
    /// Directories that local input files (video, scenario) must lie inside;
    /// a local path outside every root is refused, and an empty list refuses
    /// all local inputs. Default: `["data/inputs"]`.
    pub input_roots: Vec<String>,
}

impl PathsConfig {
    /// The plugin pack directory, or `None` for the bundled standard pack.
    pub fn plugin_dir(&self) -> Option<&str> {
        non_empty(&self.plugin_dir)
    }

    /// The configured page folder, or `None` for the installed one.
    pub fn page_dir(&self) -> Option<&str> {
        non_empty(&self.page_dir)
    }

    /// The font directory, or `None` for system fonts only.
    pub fn font_dir(&self) -> Option<&str> {
        non_empty(&self.font_dir)
    }
}

impl Default for PathsConfig {
    fn default() -> Self {
        Self {
            data_dir: "data".to_owned(),
            work_dir: "data/work".to_owned(),
            output_dir: "data/output".to_owned(),
            plugin_dir: String::new(),
            page_dir: String::new(),
            font_dir: String::new(),
            input_roots: vec!["data/inputs".to_owned()],
        }
    }
}
