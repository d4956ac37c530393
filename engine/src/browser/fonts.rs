//! Fonts for the overlay page: the faces a render loads through the asset
//! server (`/fonts/`), and which requested families fell back.
//!
//! Faces come from two places. The configured font directory: every
//! `.ttf`/`.otf`/`.woff`/`.woff2` file in it is a face; a file inside a
//! sub-folder `<dir>/<Family>/…` belongs to the family named by that folder,
//! a file at the top level to the family its name table gives (the file's
//! stem when it has none we can read). And the scenario's font assets,
//! `define` entries `{type: "font", url | src, family?}`: the family is
//! `family`, else the entry's key (styles name it so, e.g. `"fontFamily":
//! "custom_font"`); the file is `url` looked up under the font directory
//! (as written, then by file name). The page reaches only the asset server,
//! so an asset on another host or outside the directory is not loaded, and
//! says so.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Font file extensions the directory scan picks up.
const FONT_EXTENSIONS: [&str; 4] = ["ttf", "otf", "woff", "woff2"];
/// How deep the directory scan goes (the top level and one family folder).
const MAX_DEPTH: usize = 2;

/// One face to load: `url` is on the asset server (`/fonts/…`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FontFace {
    pub family: String,
    pub url: String,
    pub weight: String,
    pub style: String,
}

/// The faces of a render, and the font assets that could not be served.
#[derive(Debug, Clone, Default)]
pub struct FontPlan {
    pub faces: Vec<FontFace>,
    pub warnings: Vec<String>,
}

/// What the QC report says about fonts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FontReport {
    /// Families whose faces loaded, each once, in order.
    pub loaded: Vec<String>,
    /// Each requested family that did not draw the text, and what did.
    pub fallbacks: Vec<FontFallback>,
    /// Faces or assets that could not be loaded, with the reason.
    pub failed: Vec<String>,
}

/// A requested family that fell back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FontFallback {
    /// The family asked for (the first of the `fontFamily` list).
    pub family: String,
    /// The whole `fontFamily` value.
    pub requested: String,
    /// The font Chromium drew the probe text with (most glyphs first).
    pub used: String,
}

/// The faces for `document` (a v2.0 scenario) with fonts from `font_dir`.
pub fn plan_fonts(font_dir: Option<&Path>, document: &Value) -> FontPlan {
    let mut plan = FontPlan::default();
    if let Some(dir) = font_dir {
        let mut files = Vec::new();
        scan(dir, dir, 1, &mut files);
        files.sort();
        for (relative, folder_family) in files {
            let file = dir.join(&relative);
            let (table_family, weight, style) = describe(&file);
            let family = folder_family
                .or(table_family)
                .unwrap_or_else(|| file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default());
            plan.faces.push(FontFace { family, url: url_of(&relative), weight, style });
        }
    }
    for (key, asset) in font_assets(document) {
        let family = asset.get("family").and_then(Value::as_str).unwrap_or(&key).to_owned();
        let Some(src) = asset.get("url").or_else(|| asset.get("src")).and_then(Value::as_str) else {
            plan.warnings.push(format!("font asset define.{key} has no url"));
            continue;
        };
        match font_dir.and_then(|dir| find_in(dir, src)) {
            Some(relative) => {
                let (_, weight, style) = describe(&font_dir.map(|d| d.join(&relative)).unwrap_or_default());
                plan.faces.push(FontFace { family, url: url_of(&relative), weight, style });
            }
            None => plan.warnings.push(format!(
                "font asset define.{key} ({src}) is not in the font directory{}; only fonts served by the engine are loaded",
                font_dir.map(|d| format!(" {}", d.display())).unwrap_or_else(|| " (none is configured)".to_owned())
            )),
        }
    }
    plan
}

/// Font files under `dir`: (path relative to `root`, family of their folder).
fn scan(root: &Path, dir: &Path, depth: usize, out: &mut Vec<(PathBuf, Option<String>)>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if depth < MAX_DEPTH {
                scan(root, &path, depth + 1, out);
            }
        } else if is_font(&path) {
            if let Ok(relative) = path.strip_prefix(root) {
                let folder = relative.parent().and_then(|p| p.file_name()).map(|n| n.to_string_lossy().into_owned());
                out.push((relative.to_path_buf(), folder));
            }
        }
    }
}

fn is_font(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| FONT_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// `src` under `dir`: as written when it stays inside, else by file name.
fn find_in(dir: &Path, src: &str) -> Option<PathBuf> {
    if src.contains("://") || src.starts_with("data:") || src.starts_with('/') {
        return None;
    }
    let plain = Path::new(src);
    let inside = plain.components().all(|c| matches!(c, std::path::Component::Normal(_)));
    if inside && dir.join(plain).is_file() {
        return Some(plain.to_path_buf());
    }
    let name = plain.file_name()?;
    dir.join(name).is_file().then(|| PathBuf::from(name))
}

/// The `define` entries (at any depth) whose `type` is "font", by key.
fn font_assets(document: &Value) -> Vec<(String, Value)> {
    fn walk(value: &Value, out: &mut Vec<(String, Value)>) {
        if let Value::Object(map) = value {
            for (key, item) in map {
                if item.get("type").and_then(Value::as_str) == Some("font") {
                    out.push((key.clone(), item.clone()));
                } else {
                    walk(item, out);
                }
            }
        }
    }
    let mut out = Vec::new();
    if let Some(define) = document.get("define") {
        walk(define, &mut out);
    }
    out
}

/// Family (typographic, else legacy), CSS weight and style from a font's
/// tables; `None`/"normal" when the file cannot be read as TrueType/OpenType.
fn describe(file: &Path) -> (Option<String>, String, String) {
    let normal = || (None, "normal".to_owned(), "normal".to_owned());
    let Ok(data) = std::fs::read(file) else { return normal() };
    let Ok(face) = ttf_parser::Face::parse(&data, 0) else { return normal() };
    let name = |id: u16| {
        face.names().into_iter().filter(|n| n.name_id == id && n.is_unicode()).find_map(|n| n.to_string())
    };
    let family = name(ttf_parser::name_id::TYPOGRAPHIC_FAMILY).or_else(|| name(ttf_parser::name_id::FAMILY));
    let style = if face.is_italic() { "italic" } else if face.is_oblique() { "oblique" } else { "normal" };
    (family, face.weight().to_number().to_string(), style.to_owned())
}

/// `/fonts/<relative path>`, each segment percent-encoded.
fn url_of(relative: &Path) -> String {
    let mut url = String::from("/fonts");
    for part in relative.components() {
        url.push('/');
        for b in part.as_os_str().to_string_lossy().bytes() {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                url.push(b as char);
            } else {
                url.push_str(&format!("%{b:02X}"));
            }
        }
    }
    url
}

/// The first family of a CSS `font-family` list, unquoted; `None` for a
/// generic family (nothing to load, nothing to fall back from).
pub fn first_family(list: &str) -> Option<String> {
    let first = list.split(',').next()?.trim().trim_matches(|c| c == '"' || c == '\'').trim();
    const GENERIC: [&str; 14] = [
        "serif", "sans-serif", "monospace", "cursive", "fantasy", "system-ui", "ui-serif", "ui-sans-serif",
        "ui-monospace", "ui-rounded", "emoji", "math", "fangsong", "-apple-system",
    ];
    (!first.is_empty() && !GENERIC.contains(&first.to_ascii_lowercase().as_str())).then(|| first.to_owned())
}

/// Whether the fonts Chromium used for a probe of `family` include it:
/// a loaded face of that family (a custom font), or a platform font of that
/// name. `None` when it did: else the font that drew most glyphs.
pub fn fallback_of(family: &str, loaded: &[String], used: &[(String, bool, f64)]) -> Option<String> {
    let drawn: Vec<&(String, bool, f64)> = used.iter().filter(|(_, _, glyphs)| *glyphs > 0.0).collect();
    let ours = loaded.iter().any(|f| f.eq_ignore_ascii_case(family));
    let found = drawn.iter().any(|(name, custom, _)| (ours && *custom) || name.eq_ignore_ascii_case(family));
    if found {
        return None;
    }
    let most = drawn.iter().max_by(|a, b| a.2.total_cmp(&b.2)).map(|(name, _, _)| name.clone());
    Some(most.unwrap_or_else(|| "nothing (no glyphs drawn)".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_family_skips_generic_names_and_quotes() {
        assert_eq!(first_family("'Roboto Flex', system-ui, sans-serif").as_deref(), Some("Roboto Flex"));
        assert_eq!(first_family("sans-serif"), None);
    }

    #[test]
    fn a_family_that_drew_nothing_falls_back_to_the_font_with_most_glyphs() {
        let used = vec![("DejaVu Sans".to_owned(), false, 30.0), ("Noto Sans CJK".to_owned(), false, 4.0)];
        assert_eq!(fallback_of("Roboto Flex", &[], &used).as_deref(), Some("DejaVu Sans"));
        assert_eq!(fallback_of("dejavu sans", &[], &used), None);
        let custom = vec![("DejaVu Serif".to_owned(), true, 30.0)];
        assert_eq!(fallback_of("Brand Face", &["Brand Face".to_owned()], &custom), None);
    }

    #[test]
    fn urls_are_percent_encoded_per_segment() {
        assert_eq!(url_of(Path::new("Brand Face/a b.ttf")), "/fonts/Brand%20Face/a%20b.ttf");
    }
}
