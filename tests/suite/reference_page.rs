//! The package's own picture, for comparing with the engine's: a reference
//! page of the tests' own (`fixtures/reference/index.html`, the real
//! `motiontext-renderer` mounted over a `<video>` as its demo does, none of
//! the engine's adapter) served from a temporary folder, screenshot at t in
//! the same Chromium the engine uses, composited onto the decoded source
//! frame; and the comparison (luma PSNR inside a box).

use std::path::{Path, PathBuf};
use std::process::Command;

use motionrender_engine::browser::{AssetServer, HeadlessBrowser, LaunchOptions, OverlayPage, PageTimeouts};
use motionrender_engine::media::BoundingBox;
use motionrender_tests::fixtures_dir;
use serde_json::{json, Value};

/// A caption box in output pixels: `(x0, y0, x1, y1)`, end exclusive.
pub type CaptionBox = (u32, u32, u32, u32);

/// The served folder: the reference page, copies of the package's and
/// GSAP's browser bundles, the source as WebM, the plugin pack and fonts.
pub struct ReferenceSite {
    pub root: tempfile::TempDir,
}

impl ReferenceSite {
    /// Lays out the site for `source` (an MP4 the engine renders over).
    pub fn new(source: &Path) -> Self {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path();
        std::fs::copy(fixtures_dir().join("reference/index.html"), dir.join("index.html")).unwrap();
        for file in ["motiontext-renderer/dist/index.js", "gsap/dist/gsap.min.js"] {
            let to = dir.join("node_modules").join(file);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(engine_page_dir().join("node_modules").join(file), &to)
                .unwrap_or_else(|e| panic!("copy {file} (run `npm ci` in engine/page): {e}"));
        }
        copy_tree(&engine_page_dir().join("plugins"), &dir.join("plugins"));
        let status = Command::new("ffmpeg")
            .args(["-nostdin", "-y", "-v", "error", "-i"])
            .arg(source)
            .args(["-t", "1", "-an", "-c:v", "libvpx", "-b:v", "200k"])
            .arg(dir.join("source.webm"))
            .status()
            .unwrap();
        assert!(status.success(), "ffmpeg could not make source.webm");
        Self { root }
    }

    /// Copies a font file into the site (`webfonts/`: the asset server keeps `/fonts/` for a font directory); its URL.
    pub fn add_font(&self, file: &Path, name: &str) -> String {
        let fonts = self.root.path().join("webfonts");
        std::fs::create_dir_all(&fonts).unwrap();
        std::fs::copy(file, fonts.join(name)).unwrap();
        format!("webfonts/{name}")
    }
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// What the package drew at one time: RGBA pixels (not premultiplied) of
/// the whole output and the box around its visible text and boxes.
pub struct ReferenceShot {
    pub rgba: Vec<u8>,
    pub caption: Option<CaptionBox>,
}

/// A mounted reference page.
pub struct ReferencePage {
    runtime: tokio::runtime::Runtime,
    fps: f64,
    browser: Option<HeadlessBrowser>,
    page: Option<OverlayPage>,
    _server: AssetServer,
    width: u32,
    height: u32,
}

impl ReferencePage {
    /// Opens the site in a fresh Chromium (the engine's launcher: the same
    /// build, begin-frame capture when it has it) and mounts `scenario`.
    /// `fonts` are `[{family, url}]` on the site.
    pub fn mount(site: &ReferenceSite, scenario: &Value, width: u32, height: u32, fps: f64, fonts: Value) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let (server, browser, page) = runtime.block_on(async {
            let server = AssetServer::start(site.root.path(), None).await.unwrap();
            let browser = HeadlessBrowser::launch(&LaunchOptions::default()).await.expect("chromium launches");
            let page = OverlayPage::open(&browser, &server.base_url(), width, height, PageTimeouts::default())
                .await
                .expect("the reference page opens");
            let plugins = plugin_names(scenario);
            let arg = json!({"scenario": scenario, "width": width, "height": height, "fps": fps, "plugins": plugins, "fonts": fonts});
            let mounted = page.evaluate(&format!("window.reference.mount({arg})")).await.expect("the package mounts the scenario");
            assert_eq!(mounted["videoWidth"].as_u64(), Some(u64::from(width)), "the reference video: {mounted}");
            (server, browser, page)
        });
        Self { runtime, fps, browser: Some(browser), page: Some(page), _server: server, width, height }
    }

    /// The package's picture at `t` (played from 0 at the page's fps; `t`
    /// should be a frame time).
    pub fn shot(&self, t: f64) -> ReferenceShot {
        let page = self.page.as_ref().unwrap();
        self.runtime.block_on(async {
            let bbox = page.evaluate(&format!("window.reference.seek({t}, {})", self.fps)).await.expect("seek");
            let caption = bbox.as_object().map(|b| {
                let n = |k: &str| b[k].as_i64().unwrap_or(0).max(0) as u32;
                let (x, y) = (n("x").min(self.width), n("y").min(self.height));
                (x, y, (x + n("w")).min(self.width), (y + n("h")).min(self.height))
            });
            let png = page
                .capture(BoundingBox { x: 0, y: 0, width: self.width, height: self.height })
                .await
                .expect("screenshot");
            ReferenceShot { rgba: decode_png(&png, self.width, self.height), caption }
        })
    }

    /// Any expression on the page (for the font tests' text widths).
    pub fn evaluate(&self, expression: &str) -> Value {
        let page = self.page.as_ref().unwrap();
        self.runtime.block_on(page.evaluate(expression)).expect("evaluate")
    }
}

impl Drop for ReferencePage {
    fn drop(&mut self) {
        let (page, browser) = (self.page.take(), self.browser.take());
        self.runtime.block_on(async {
            if let Some(page) = page {
                let _ = page.close().await;
            }
            if let Some(browser) = browser {
                let _ = browser.close().await;
            }
        });
    }
}

/// Plugin names of every pluginChain entry in the document (no `define.` references).
fn plugin_names(scenario: &Value) -> Vec<String> {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                if let Some(Value::Array(chain)) = map.get("pluginChain") {
                    for entry in chain {
                        if let Some(name) = entry.get("name").and_then(Value::as_str) {
                            if !out.iter().any(|n| n == name) {
                                out.push(name.to_owned());
                            }
                        }
                    }
                }
                map.values().for_each(|x| walk(x, out));
            }
            Value::Array(items) => items.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(scenario, &mut out);
    out
}

fn decode_png(png_bytes: &[u8], width: u32, height: u32) -> Vec<u8> {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), (width, height), "screenshot size");
    assert_eq!(info.color_type, png::ColorType::Rgba, "screenshot colour type");
    buf.truncate(info.buffer_size());
    buf
}

/// Frame `index` of `video` as RGB24 (`width`×`height`), decoded by FFmpeg.
pub fn rgb_frame(video: &Path, width: u32, height: u32, index: u64) -> Vec<u8> {
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(video)
        .args(["-vf", &format!("select=eq(n\\,{index})"), "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.stdout.len(), (width * height * 3) as usize, "frame {index} of {}", video.display());
    out.stdout
}

/// Frame `index` of `video`'s luma plane, as FFmpeg decodes it (no colour conversion).
pub fn luma_plane(video: &Path, width: u32, height: u32, index: u64) -> Vec<u8> {
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(video)
        .args(["-vf", &format!("select=eq(n\\,{index})"), "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let luma = (width * height) as usize;
    assert!(out.stdout.len() >= luma, "frame {index} of {}", video.display());
    out.stdout[..luma].to_vec()
}

/// The luma plane of `overlay` (RGBA, straight alpha) over a decoded luma
/// plane: each overlay pixel's colour in BT.709 limited range (Chromium, and
/// so an editor's preview, shows untagged video as BT.709, and the engine's
/// compositor converts with BT.709), blended by its alpha. The source
/// plane is used as decoded, with no colour conversion on either side.
pub fn composite_luma(source: &[u8], overlay: &[u8]) -> Vec<u8> {
    source
        .iter()
        .zip(overlay.chunks_exact(4))
        .map(|(&y, o)| {
            let a = f64::from(o[3]) / 255.0;
            let rgb = 0.2126 * f64::from(o[0]) + 0.7152 * f64::from(o[1]) + 0.0722 * f64::from(o[2]);
            let over = 16.0 + 219.0 / 255.0 * rgb;
            (over * a + f64::from(y) * (1.0 - a)).round().clamp(0.0, 255.0) as u8
        })
        .collect()
}

/// `overlay` (RGBA, straight alpha) over `frame` (RGB24).
pub fn composite(frame: &[u8], overlay: &[u8]) -> Vec<u8> {
    let mut out = frame.to_vec();
    for (px, o) in out.chunks_exact_mut(3).zip(overlay.chunks_exact(4)) {
        let a = f64::from(o[3]) / 255.0;
        for c in 0..3 {
            px[c] = (f64::from(o[c]) * a + f64::from(px[c]) * (1.0 - a)).round() as u8;
        }
    }
    out
}

/// PSNR (dB) of two luma planes `width` wide inside `area`.
pub fn psnr(a: &[u8], b: &[u8], width: u32, (x0, y0, x1, y1): CaptionBox) -> f64 {
    let (mut sum, mut n) = (0.0, 0.0);
    for y in y0..y1 {
        for x in x0..x1 {
            let i = (y * width + x) as usize;
            let d = f64::from(a[i]) - f64::from(b[i]);
            sum += d * d;
            n += 1.0;
        }
    }
    assert!(n > 0.0, "empty comparison box");
    let mse = sum / n;
    if mse == 0.0 { f64::INFINITY } else { 10.0 * (255.0 * 255.0 / mse).log10() }
}

/// A scenario of the conformance corpus, as copied into `fixtures/corpus/`.
pub fn corpus(name: &str) -> PathBuf {
    fixtures_dir().join("corpus").join(name)
}

/// The engine's page folder in this source tree (its npm packages and plugins).
fn engine_page_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../engine/page")
}
