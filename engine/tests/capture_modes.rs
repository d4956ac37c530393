//! The two capture modes against real Chromium: on `chromium-headless-shell`
//! the probe picks `HeadlessExperimental.beginFrame`, and its captures are
//! pixel-equal to `Page.captureScreenshot` captures of the same states. Needs
//! `scripts/setup` (chromium-headless-shell and `engine/page/node_modules`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::time::Instant;

use motionrender_engine::browser::{
    is_headless_shell, AssetServer, CaptureMode, HeadlessBrowser, LaunchOptions,
    OverlayPage, PageTimeouts,
};
use motionrender_engine::media::BoundingBox;

/// The source tree's browser page folder (`engine/page/`).
fn page_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("page")
}

const HEADLESS_SHELL: &str = "/usr/lib/chromium/chromium-headless-shell";
const CHROMIUM: &str = "/usr/bin/chromium";
/// The browser binary itself (`/usr/bin/chromium` is a wrapper script on Debian).
const CHROMIUM_BINARY: &str = "/usr/lib/chromium/chromium";

/// Times in demo_fades.json: fading in, fully shown, popping, fading out,
/// another cue, fully shown again (a repeat of an earlier state), and the
/// same time twice in a row (the second frame has nothing new to draw).
const TIMES: &[f64] = &[0.25, 1.0, 4.3, 4.4, 7.7, 2.9, 1.0, 1.0, 10.5, 11.75];

fn require_setup() -> PathBuf {
    let package = page_dir().join("node_modules/motiontext-renderer/dist/index.js");
    assert!(
        package.is_file(),
        "{} is missing: run scripts/setup (it runs `npm ci` in engine/page)",
        package.display()
    );
    let shell = PathBuf::from(HEADLESS_SHELL);
    assert!(
        shell.is_file(),
        "{HEADLESS_SHELL} is missing: run scripts/setup (it installs chromium-headless-shell)"
    );
    shell
}

fn plugin_dir() -> PathBuf {
    page_dir().join("plugins")
}

fn demo_scenario() -> serde_json::Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/scenarios/demo_fades.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture is readable"))
        .expect("fixture is JSON")
}

struct Rig {
    page: OverlayPage,
    browser: HeadlessBrowser,
}

async fn rig(
    server: &AssetServer,
    executable: &Path,
    begin_frame_control: bool,
    (width, height): (u32, u32),
) -> Rig {
    let options = LaunchOptions {
        executable: Some(executable.to_path_buf()),
        begin_frame_control,
        ..LaunchOptions::default()
    };
    let browser = HeadlessBrowser::launch(&options)
        .await
        .expect("chromium launches");
    let started = Instant::now();
    let page = OverlayPage::open(
        &browser,
        &server.base_url(),
        width,
        height,
        PageTimeouts::default(),
    )
    .await
    .expect("overlay page opens");
    page.configure_plugins(&server.base_url())
        .await
        .expect("plugins configured");
    let report = page.load(&demo_scenario(), 30.0).await.expect("demo loads");
    assert!(report.plugins.missing.is_empty(), "{report:?}");
    eprintln!(
        "{} begin_frame_control={begin_frame_control}: {} mode, open+load {:?}",
        executable.display(),
        page.capture_mode(),
        started.elapsed()
    );
    Rig { page, browser }
}

impl Rig {
    async fn close(self) {
        self.page.close().await.expect("page closes");
        self.browser.close().await.expect("browser closes");
    }
}

/// RGBA8 pixels of a capture.
fn decode(png_bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let mut reader = png::Decoder::new(std::io::Cursor::new(png_bytes))
        .read_info()
        .expect("capture is a PNG");
    let mut pixels = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut pixels).expect("PNG decodes");
    assert_eq!(info.color_type, png::ColorType::Rgba, "capture has alpha");
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    pixels.truncate(info.buffer_size());
    (info.width, info.height, pixels)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_picks_begin_frame_on_the_headless_shell_only() {
    let shell = require_setup();
    assert!(is_headless_shell(&shell));
    assert!(!is_headless_shell(Path::new(CHROMIUM)));
    let server = AssetServer::start(&page_dir(), Some(&plugin_dir()))
        .await
        .unwrap();

    let on_shell = rig(&server, &shell, true, (320, 180)).await;
    assert!(on_shell.browser.begin_frame_control());
    assert_eq!(
        on_shell.page.capture_mode(),
        CaptureMode::BeginFrame,
        "fell back: {:?}",
        on_shell.page.begin_frame_fallback()
    );
    assert_eq!(on_shell.page.begin_frame_fallback(), None);
    on_shell.close().await;

    let turned_off = rig(&server, &shell, false, (320, 180)).await;
    assert!(!turned_off.browser.begin_frame_control());
    assert_eq!(turned_off.page.capture_mode(), CaptureMode::Screenshot);
    assert_eq!(turned_off.page.begin_frame_fallback(), None);
    turned_off.close().await;

    if Path::new(CHROMIUM).is_file() {
        // The new headless mode has no begin-frame control: no probe, no fallback.
        let chromium = rig(&server, Path::new(CHROMIUM), true, (320, 180)).await;
        assert!(!chromium.browser.begin_frame_control());
        assert_eq!(chromium.page.capture_mode(), CaptureMode::Screenshot);
        assert_eq!(chromium.page.begin_frame_fallback(), None);
        chromium.close().await;
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn begin_frame_captures_equal_screenshot_captures() {
    let shell = require_setup();
    let server = AssetServer::start(&page_dir(), Some(&plugin_dir()))
        .await
        .unwrap();
    let size = (640, 360);
    let begin_frame = rig(&server, &shell, true, size).await;
    let screenshot = rig(&server, &shell, false, size).await;
    assert_eq!(begin_frame.page.capture_mode(), CaptureMode::BeginFrame);
    assert_eq!(screenshot.page.capture_mode(), CaptureMode::Screenshot);

    let (mut opaque_seen, mut partial_alpha_seen) = (false, false);
    for &t in TIMES {
        let a = begin_frame.page.seek(t).await.expect("seek");
        let b = screenshot.page.seek(t).await.expect("seek");
        assert_eq!(a, b, "same scenario, same time {t}: same state");
        let bbox = a
            .bbox
            .unwrap_or_else(|| panic!("a caption is visible at {t}s"));
        let (wa, ha, pa) = decode(
            &begin_frame
                .page
                .capture(bbox)
                .await
                .expect("beginFrame capture"),
        );
        let (wb, hb, pb) = decode(
            &screenshot
                .page
                .capture(bbox)
                .await
                .expect("screenshot capture"),
        );
        assert_eq!(
            (wa, ha),
            (bbox.width, bbox.height),
            "capture is the box's size at {t}s"
        );
        assert_eq!(
            (wb, hb),
            (bbox.width, bbox.height),
            "capture is the box's size at {t}s"
        );
        let differing = pa
            .chunks_exact(4)
            .zip(pb.chunks_exact(4))
            .filter(|(x, y)| x != y)
            .count();
        assert_eq!(
            differing,
            0,
            "{differing} of {} pixels differ at {t}s in {bbox:?}",
            pa.len() / 4
        );
        assert!(
            pa.chunks_exact(4).any(|p| p[3] > 0),
            "the caption paints pixels at {t}s"
        );
        opaque_seen |= pa.chunks_exact(4).any(|p| p[3] == 255);
        partial_alpha_seen |= pa.chunks_exact(4).any(|p| p[3] > 0 && p[3] < 255);
    }
    assert!(opaque_seen, "a fully shown caption paints opaque pixels");
    assert!(
        partial_alpha_seen,
        "antialiased or fading text has partial alpha somewhere"
    );

    // The same state captured again (a frame with nothing new to draw)
    // gives the same pixels.
    let state = begin_frame.page.seek(2.9).await.expect("seek");
    let bbox = state.bbox.expect("a caption is visible at 2.9s");
    let first = decode(&begin_frame.page.capture(bbox).await.expect("capture"));
    let second = decode(&begin_frame.page.capture(bbox).await.expect("capture again"));
    assert_eq!(
        first, second,
        "an unchanged state captures the same pixels twice"
    );

    // A box that is only transparent page, right after the last frame: both
    // modes see nothing drawn there.
    let corner = BoundingBox {
        x: 0,
        y: 0,
        width: 16,
        height: 16,
    };
    for rig in [&begin_frame, &screenshot] {
        let (_, _, pixels) = decode(&rig.page.capture(corner).await.expect("corner capture"));
        assert!(
            pixels.iter().all(|&v| v == 0),
            "{} corner is transparent",
            rig.page.capture_mode()
        );
    }

    begin_frame.close().await;
    screenshot.close().await;
    server.shutdown().await;
}

/// A browser that takes the begin-frame switches but cannot draw with
/// `beginFrame`: the full Chromium (new headless mode), started through a
/// link named like the headless shell. The probe fails, the page reopens in
/// screenshot mode with the reason, and its captures still work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_probe_falls_back_to_screenshots() {
    require_setup();
    let chromium = PathBuf::from(CHROMIUM_BINARY);
    assert!(
        chromium.is_file(),
        "{CHROMIUM_BINARY} is missing: run scripts/setup"
    );
    let dir = tempfile::tempdir().unwrap();
    let disguised = dir.path().join("chromium-headless-shell");
    std::os::unix::fs::symlink(&chromium, &disguised).unwrap();
    let server = AssetServer::start(&page_dir(), Some(&plugin_dir()))
        .await
        .unwrap();

    let rig = rig(&server, &disguised, true, (320, 180)).await;
    assert!(rig.browser.begin_frame_control());
    assert_eq!(rig.page.capture_mode(), CaptureMode::Screenshot);
    let reason = rig
        .page
        .begin_frame_fallback()
        .expect("the fallback says why");
    eprintln!("fallback reason: {reason}");
    assert!(!reason.is_empty());
    let state = rig.page.seek(2.9).await.expect("seek");
    let bbox = state.bbox.expect("a caption is visible at 2.9s");
    let (w, h, pixels) = decode(&rig.page.capture(bbox).await.expect("capture"));
    assert_eq!((w, h), (bbox.width, bbox.height));
    assert!(
        pixels.chunks_exact(4).any(|p| p[3] == 255),
        "the caption is drawn"
    );
    rig.close().await;
    server.shutdown().await;
}

/// A fading caption is one faded group: the page reports its opacity as
/// `alpha` and keeps it out of the fingerprint, and the opaque capture faded
/// by `alpha` matches what Chromium draws at that opacity, up to rounding.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fading_caption_is_its_opaque_capture_times_alpha() {
    use motionrender_engine::render::{decode_overlay, fade};

    let shell = require_setup();
    let server = AssetServer::start(&page_dir(), Some(&plugin_dir())).await.unwrap();
    let rig = rig(&server, &shell, true, (640, 360)).await;
    // demo_fades.json: the first cue fades in from 0.2 s and out towards 2.0 s.
    let mut fading = 0;
    let mut fingerprints = Vec::new();
    for t in [0.3, 0.4, 0.5, 1.0, 1.8, 1.9] {
        let state = rig.page.seek(t).await.unwrap();
        let bbox = state.bbox.expect("the caption is visible");
        fingerprints.push((state.fingerprint.clone(), state.alpha));
        if state.alpha >= 1.0 {
            continue;
        }
        fading += 1;
        let drawn = decode_overlay(&rig.page.capture(bbox).await.unwrap(), bbox).unwrap();
        let opaque = decode_overlay(&rig.page.capture_opaque(bbox).await.unwrap(), bbox).unwrap();
        let faded = fade(&opaque.rgba, state.alpha);
        let worst = drawn.rgba.iter().zip(&faded).map(|(a, b)| a.abs_diff(*b)).max().unwrap();
        eprintln!("at {t} s alpha {:.3}: worst channel difference {worst}", state.alpha);
        assert!(worst <= 1, "at {t} s (alpha {}): the faded opaque capture differs by {worst}", state.alpha);
        assert!(opaque.rgba.iter().zip(&drawn.rgba).any(|(o, d)| o > d), "at {t} s the opaque capture is not brighter");
        // The page is back to its faded self after an opaque capture.
        assert_eq!(rig.page.seek(t).await.unwrap().alpha, state.alpha);
    }
    assert!(fading >= 3, "no fading frames among the times: {fingerprints:?}");
    let fade_in: Vec<_> = fingerprints[..3].iter().map(|(f, _)| f.clone()).collect();
    assert!(fade_in.iter().all(|f| *f == fade_in[0]), "a fade must keep one fingerprint: {fingerprints:?}");
    rig.close().await;
    server.shutdown().await;
}
