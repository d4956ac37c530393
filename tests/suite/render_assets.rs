//! What a caption pulls in besides text, end to end through `motionrender
//! render`: web fonts from `--fonts` (QC lists what fell back), animated
//! images on the render's clock, and `--plugins DIR` added to the bundled
//! pack.

use std::path::{Path, PathBuf};
use std::process::Command;

use motionrender_engine::media::{testclip::generate_clip, FrameRate};
use motionrender_tests::{fixtures_dir, luma_frames, read_json, run_render};
use serde_json::{json, Value};

use super::reference_page::{composite_luma, luma_plane, psnr, ReferencePage, ReferenceSite};

const WIDTH: u32 = 640;
const HEIGHT: u32 = 360;
const FPS: u32 = 10;
/// A system font of fonts-dejavu-core (installed by scripts/setup), used
/// under a made-up family name as a "brand" font.
const BRAND_FILE: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf";
const BRAND_FAMILY: &str = "Brandface Test";

fn clip(dir: &Path, seconds: f64) -> PathBuf {
    let path = dir.join("source.mp4");
    generate_clip(&path, seconds, WIDTH, HEIGHT, FrameRate::new(FPS, 1).unwrap(), true).expect("test clip");
    path
}

fn render_ok(dir: &Path, video: &Path, scenario: &str, name: &str, extra: &[&str]) -> (PathBuf, Value) {
    let out = dir.join(format!("{name}.mp4"));
    let result = run_render(dir, video, &fixtures_dir().join(scenario), &out, extra);
    assert!(result.status.success(), "{name}: {}", String::from_utf8_lossy(&result.stderr));
    let qc = read_json(&dir.join(format!("{name}.mp4.qc.json")));
    (out, qc)
}

/// A plugin directory holding only the `flames` test plugin, with its
/// animated GIF (10 distinct frames, 0.1 s each) written by FFmpeg.
fn flames_dir(dir: &Path) -> PathBuf {
    let plugins = dir.join("own-plugins");
    let folder = plugins.join("flames@1.0.0");
    std::fs::create_dir_all(&folder).unwrap();
    for file in ["manifest.json", "index.mjs"] {
        std::fs::copy(fixtures_dir().join("plugins/flames@1.0.0").join(file), folder.join(file)).unwrap();
    }
    let status = Command::new("ffmpeg")
        .args(["-nostdin", "-y", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=48x48:rate=10:duration=1"])
        .args(["-loop", "0"])
        .arg(folder.join("flames.gif"))
        .status()
        .unwrap();
    assert!(status.success(), "ffmpeg could not write flames.gif");
    plugins
}

#[test]
fn a_family_from_the_font_folder_draws_the_text_and_a_missing_one_is_listed_as_a_fallback() {
    let dir = tempfile::tempdir().unwrap();
    let fonts = dir.path().join("fonts");
    std::fs::create_dir_all(fonts.join(BRAND_FAMILY)).unwrap();
    std::fs::copy(BRAND_FILE, fonts.join(BRAND_FAMILY).join("brand.ttf")).unwrap();
    let source = clip(dir.path(), 2.0);
    let fonts_arg = fonts.to_string_lossy().into_owned();
    let (out, qc) = render_ok(dir.path(), &source, "render/brand_font.json", "fonts", &["--fonts", &fonts_arg, "--quality", "100"]);

    let loaded: Vec<&str> = qc["fonts"]["loaded"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert_eq!(loaded, [BRAND_FAMILY], "QC fonts: {}", qc["fonts"]);
    let fallbacks = qc["fonts"]["fallbacks"].as_array().unwrap();
    let fell: Vec<&str> = fallbacks.iter().filter_map(|f| f["family"].as_str()).collect();
    assert_eq!(fell, ["Nowhere Sans Test"], "only the family that exists nowhere falls back: {}", qc["fonts"]);
    assert!(!fallbacks[0]["used"].as_str().unwrap_or_default().is_empty(), "QC names what it fell back to: {}", qc["fonts"]);
    assert!(
        qc["warnings"].as_array().unwrap().iter().any(|w| w.as_str().unwrap_or_default().contains("Nowhere Sans Test")),
        "the fallback is a warning: {}",
        qc["warnings"]
    );

    // The package with the same font draws the same glyphs at the same widths...
    let scenario = read_json(&fixtures_dir().join("render/brand_font.json"));
    let site = ReferenceSite::new(&source);
    let url = site.add_font(Path::new(BRAND_FILE), "brand.ttf");
    let with_font = ReferencePage::mount(&site, &scenario, WIDTH, HEIGHT, f64::from(FPS), json!([{"family": BRAND_FAMILY, "url": url}]));
    let shot = with_font.shot(1.0);
    let widths = with_font.evaluate("window.reference.textWidths()");
    drop(with_font);
    let without_font = ReferencePage::mount(&site, &scenario, WIDTH, HEIGHT, f64::from(FPS), json!([]));
    let _ = without_font.shot(1.0);
    let fallback_widths = without_font.evaluate("window.reference.textWidths()");
    drop(without_font);
    let brand_width = |w: &Value| w.as_array().unwrap().iter().find(|t| t["text"].as_str().unwrap_or_default().starts_with("illicit")).unwrap()["width"].as_f64().unwrap();
    assert!(
        (brand_width(&widths) - brand_width(&fallback_widths)).abs() > 20.0,
        "the brand font must change the line's width for this test to mean anything: {widths} vs {fallback_widths}"
    );

    // ...and the engine's output matches that picture inside the brand line.
    let index = u64::from(FPS);
    let expected = composite_luma(&luma_plane(&source, WIDTH, HEIGHT, index), &shot.rgba);
    let actual = luma_plane(&out, WIDTH, HEIGHT, index);
    let line = (0, 60, WIDTH, 160);
    let db = psnr(&expected, &actual, WIDTH, line);
    eprintln!("brand font line: {db:.1} dB; widths {widths}");
    assert!(db >= 35.0, "the engine's brand line differs from the package's with the same font: {db:.1} dB");
}

#[test]
fn a_caption_with_an_animated_gif_gives_identical_frames_when_rendered_twice() {
    let dir = tempfile::tempdir().unwrap();
    let plugins = flames_dir(dir.path());
    let plugins_arg = plugins.to_string_lossy().into_owned();
    let source = clip(dir.path(), 3.0);
    let mut renders = Vec::new();
    for name in ["first", "second"] {
        let (out, qc) = render_ok(dir.path(), &source, "render/animated_gif.json", name, &["--plugins", &plugins_arg]);
        assert_eq!(qc["plugins_missing"], json!([]), "{name}: {}", qc["plugins_missing"]);
        let warnings = qc["warnings"].to_string();
        assert!(!warnings.contains("animated image"), "{name}: {warnings}");
        renders.push(luma_frames(&out, WIDTH, HEIGHT));
    }
    assert_eq!(renders[0].len(), 30);
    for (index, (a, b)) in renders[0].iter().zip(&renders[1]).enumerate() {
        assert!(a == b, "frame {index} differs between two renders of the same job");
    }
    // The GIF is drawn and animates: inside the caption, frames 0.1 s apart differ.
    let changed = (6..24).filter(|&i| renders[0][i] != renders[0][i + 1]).count();
    assert!(changed >= 15, "the GIF does not animate on the render's clock ({changed} of 18 frame pairs changed)");
}

#[test]
fn a_plugin_folder_with_one_plugin_of_its_own_still_finds_every_bundled_one() {
    let dir = tempfile::tempdir().unwrap();
    let plugins = flames_dir(dir.path());
    let plugins_arg = plugins.to_string_lossy().into_owned();
    let source = clip(dir.path(), 2.0);
    let (_, qc) = render_ok(dir.path(), &source, "render/plugin_pack_and_dir.json", "pack", &["--plugins", &plugins_arg]);
    assert_eq!(qc["plugins_missing"], json!([]), "fadeIn, pop and shakeX come from the pack, flames from the folder: {qc}");
    assert!(
        !qc["warnings"].to_string().contains("plugin"),
        "no plugin warning (missing or substituted): {}",
        qc["warnings"]
    );
}
