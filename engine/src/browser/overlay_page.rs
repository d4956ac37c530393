//! One overlay page: a Chromium tab showing `engine/page/index.html` at the
//! output size on a transparent background, driven through
//! `window.motionrender` (see `engine/page/README.md`): load a scenario, seek
//! to a time and read the fingerprint and bounding box, capture a PNG —
//! with `HeadlessExperimental.beginFrame` when the browser has begin-frame
//! control and the probe at open succeeds, else `Page.captureScreenshot`
//! (see [`CaptureMode`]).
//!
//! Every request the page makes is intercepted; only the asset server's
//! origin (and `data:`/`blob:` URLs) are let through.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use chromiumoxide::cdp::browser_protocol::dom::Rgba;
use chromiumoxide::cdp::browser_protocol::emulation::{
    SetDefaultBackgroundColorOverrideParams, SetDeviceMetricsOverrideParams,
};
use chromiumoxide::cdp::browser_protocol::fetch::{
    ContinueRequestParams, EnableParams as FetchEnableParams, EventRequestPaused,
    FailRequestParams, RequestPattern,
};
use chromiumoxide::cdp::browser_protocol::headless_experimental::{
    BeginFrameParams, ScreenshotParams, ScreenshotParamsFormat,
};
use chromiumoxide::cdp::browser_protocol::network::ErrorReason;
use chromiumoxide::cdp::browser_protocol::page::{
    CaptureScreenshotFormat, CaptureScreenshotParams, NavigateParams, Viewport,
};
use chromiumoxide::cdp::browser_protocol::target::CreateTargetParams;
use chromiumoxide::cdp::js_protocol::runtime::EvaluateParams;
use chromiumoxide::Page;
use futures::StreamExt;
use serde::Deserialize;
use tokio::task::JoinHandle;

use super::fonts::{fallback_of, first_family, FontFace, FontFallback, FontReport};
use super::{BrowserError, CaptureMode, HeadlessBrowser};
use crate::media::BoundingBox;

/// How long each step of an overlay page may take before the page counts as
/// hung.
#[derive(Debug, Clone, Copy)]
pub struct PageTimeouts {
    /// Opening the tab, navigating and waiting for `motionrender.ready`. Default 20 s.
    pub ready: Duration,
    /// One `load` (scenario validation, fonts, plugins). Default 20 s.
    pub load: Duration,
    /// One `seek` or one capture. Default 5 s.
    pub frame: Duration,
}

impl Default for PageTimeouts {
    fn default() -> Self {
        Self {
            ready: Duration::from_secs(20),
            load: Duration::from_secs(20),
            frame: Duration::from_secs(5),
        }
    }
}

/// What is on the stage after a seek. An empty fingerprint means nothing is
/// visible (and `bbox` is `None`): no capture is needed.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SeekState {
    pub fingerprint: String,
    pub bbox: Option<BoundingBox>,
    /// The one factor the whole overlay is faded by (1 when it is not, or
    /// not uniformly); the fingerprint leaves it out. See
    /// [`OverlayPage::capture_opaque`].
    #[serde(default = "opaque")]
    pub alpha: f64,
}

fn opaque() -> f64 {
    1.0
}

/// What `load` reported.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadReport {
    pub device_pixel_ratio: f64,
    pub plugins: PluginReport,
    #[serde(default)]
    pub warnings: Vec<String>,
    /// Filled by [`OverlayPage::load_with_fonts`] from the page's answer and
    /// Chromium's own account of the fonts it drew with.
    #[serde(skip)]
    pub fonts: FontReport,
}

/// The page's account of the faces it loaded.
#[derive(Debug, Clone, Default, Deserialize)]
struct PageFonts {
    #[serde(default)]
    loaded: Vec<PageFace>,
    #[serde(default)]
    failed: Vec<PageFaceFailure>,
}

#[derive(Debug, Clone, Deserialize)]
struct PageFace {
    family: String,
}

#[derive(Debug, Clone, Deserialize)]
struct PageFaceFailure {
    family: String,
    url: String,
    reason: String,
}

/// A probe element the page made for one requested `fontFamily` value.
#[derive(Debug, Clone, Deserialize)]
struct FontProbe {
    selector: String,
    family: String,
}

/// The plugins a scenario named, and which of them could be loaded.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PluginReport {
    pub requested: Vec<String>,
    pub loaded: Vec<String>,
    pub missing: Vec<MissingPlugin>,
}

/// A plugin that could not be loaded, and why.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MissingPlugin {
    pub name: String,
    pub reason: String,
}

/// A Chromium tab with the overlay page loaded and ready.
#[derive(Debug)]
pub struct OverlayPage {
    page: Page,
    width: u32,
    height: u32,
    timeouts: PageTimeouts,
    request_guard: JoinHandle<()>,
    mode: CaptureMode,
    /// Why a browser with begin-frame control still got a screenshot page.
    begin_frame_fallback: Option<String>,
    /// In [`CaptureMode::BeginFrame`]: the clip the compositor draws and the
    /// last capture of it. One capture at a time holds it.
    begin_frame: tokio::sync::Mutex<BeginFrameState>,
}

/// What a [`CaptureMode::BeginFrame`] page remembers between captures.
#[derive(Debug, Default)]
struct BeginFrameState {
    /// The visible viewport set on the page; `None` = the whole page (or
    /// unknown after a failed change).
    clip: Option<BoundingBox>,
    /// The PNG of the last frame drawn with `clip`, for a frame without damage.
    last_capture: Option<Vec<u8>>,
}

/// Side of the box the begin-frame probe captures at page open.
const PROBE_SIDE: u32 = 16;

impl OverlayPage {
    /// Opens a tab of `width` x `height` CSS pixels (device scale factor 1,
    /// transparent background), lets it reach only `asset_base_url` (an origin
    /// such as `http://127.0.0.1:41234`), navigates to
    /// `<asset_base_url>/index.html` and waits until `window.motionrender` is
    /// ready.
    ///
    /// On a browser launched with begin-frame control the tab is created
    /// under begin-frame control and probed with one `beginFrame` screenshot;
    /// if that fails, the tab is closed and reopened normally in
    /// [`CaptureMode::Screenshot`], the reason logged and kept
    /// ([`OverlayPage::begin_frame_fallback`]). Each attempt has its own
    /// `timeouts.ready`.
    pub async fn open(
        browser: &HeadlessBrowser,
        asset_base_url: &str,
        width: u32,
        height: u32,
        timeouts: PageTimeouts,
    ) -> Result<Self, BrowserError> {
        if width == 0 || height == 0 || width > 16384 || height > 16384 {
            return Err(BrowserError::InvalidArgument {
                op: "open page",
                detail: format!("size must be in 1..=16384 on each side, got {width}x{height}"),
            });
        }
        let origin = asset_base_url.trim_end_matches('/').to_string();
        if !browser.begin_frame_control() {
            return Self::open_in(
                browser,
                &origin,
                width,
                height,
                timeouts,
                CaptureMode::Screenshot,
            )
            .await;
        }
        let reason = match Self::open_in(
            browser,
            &origin,
            width,
            height,
            timeouts,
            CaptureMode::BeginFrame,
        )
        .await
        {
            Ok(page) => match page.probe_begin_frame().await {
                Ok(()) => {
                    tracing::debug!(width, height, "overlay page captures with beginFrame");
                    return Ok(page);
                }
                Err(e) => {
                    let _ = tokio::time::timeout(Duration::from_secs(1), page.page.clone().close())
                        .await;
                    e.to_string()
                }
            },
            Err(e) => e.to_string(),
        };
        tracing::warn!(
            reason = %reason,
            executable = %browser.executable().display(),
            "beginFrame capture unavailable; falling back to Page.captureScreenshot"
        );
        let mut page = Self::open_in(
            browser,
            &origin,
            width,
            height,
            timeouts,
            CaptureMode::Screenshot,
        )
        .await?;
        page.begin_frame_fallback = Some(reason);
        Ok(page)
    }

    /// Creates the tab (under begin-frame control for
    /// [`CaptureMode::BeginFrame`]), guards its requests and prepares it.
    async fn open_in(
        browser: &HeadlessBrowser,
        origin: &str,
        width: u32,
        height: u32,
        timeouts: PageTimeouts,
        mode: CaptureMode,
    ) -> Result<Self, BrowserError> {
        let url = format!("{origin}/index.html");
        let deadline = Instant::now() + timeouts.ready;
        let mut target = CreateTargetParams::new("about:blank");
        if mode == CaptureMode::BeginFrame {
            target.enable_begin_frame_control = Some(true);
        }
        let page = within(
            deadline,
            timeouts.ready,
            "Target.createTarget",
            browser.inner().new_page(target),
        )
        .await?;

        // Subscribe before enabling interception, so no paused request is missed.
        let paused = within(
            deadline,
            timeouts.ready,
            "Fetch.requestPaused listener",
            page.event_listener::<EventRequestPaused>(),
        )
        .await?;
        let request_guard = tokio::spawn(guard_requests(page.clone(), paused, origin.to_string()));
        let this = Self {
            page,
            width,
            height,
            timeouts,
            request_guard,
            mode,
            begin_frame_fallback: None,
            begin_frame: tokio::sync::Mutex::new(BeginFrameState::default()),
        };
        match this.prepare(deadline, origin, url).await {
            Ok(()) => Ok(this),
            Err(e) => {
                // Do not leave a half-set-up tab behind in a healthy browser.
                let _ =
                    tokio::time::timeout(Duration::from_secs(1), this.page.clone().close()).await;
                Err(e)
            }
        }
    }

    /// Interception, device metrics, transparent background, navigation,
    /// readiness: everything `open` does after creating the tab.
    async fn prepare(
        &self,
        deadline: Instant,
        origin: &str,
        url: String,
    ) -> Result<(), BrowserError> {
        tracing::debug!(origin, "preparing overlay page");
        let (width, height) = (self.width, self.height);
        let fetch = FetchEnableParams::builder()
            .pattern(RequestPattern::builder().url_pattern("*").build())
            .build();
        self.command(deadline, "Fetch.enable", fetch).await?;
        self.command(
            deadline,
            "Emulation.setDeviceMetricsOverride",
            SetDeviceMetricsOverrideParams::new(i64::from(width), i64::from(height), 1.0, false),
        )
        .await?;
        let transparent = Rgba {
            r: 0,
            g: 0,
            b: 0,
            a: Some(0.0),
        };
        self.command(
            deadline,
            "Emulation.setDefaultBackgroundColorOverride",
            SetDefaultBackgroundColorOverrideParams::builder()
                .color(transparent)
                .build(),
        )
        .await?;
        let nav = self
            .command(deadline, "Page.navigate", NavigateParams::new(url.clone()))
            .await?;
        if let Some(message) = nav.error_text {
            return Err(BrowserError::Navigate { url, message });
        }
        self.wait_ready(deadline, &url).await
    }

    /// The page's size in CSS pixels (= output pixels).
    pub fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// Sets where plugins come from for the following loads: `server_base`
    /// holds them under `plugins/` (the asset server's own origin when it was
    /// started with a plugin directory). Returns the resolved plugin URL.
    pub async fn configure_plugins(&self, server_base: &str) -> Result<String, BrowserError> {
        let arg = serde_json::json!({ "serverBase": server_base });
        let value = self
            .call(
                "configurePlugins",
                format!("motionrender.configurePlugins({arg})"),
                self.timeouts.frame,
            )
            .await?;
        value
            .get("pluginBase")
            .and_then(|v| v.as_str())
            .map(str::to_string)
            .ok_or_else(|| BrowserError::BadAnswer {
                op: "configurePlugins",
                detail: value.to_string(),
            })
    }

    /// Loads a scenario (a v2.0 JSON object) onto a fresh stage of the page's
    /// size. Validation errors come back as [`BrowserError::Script`] with the
    /// package's message; missing plugins do not fail the load.
    pub async fn load(
        &self,
        scenario: &serde_json::Value,
        fps: f64,
    ) -> Result<LoadReport, BrowserError> {
        self.load_with_fonts(scenario, fps, &[]).await
    }

    /// [`OverlayPage::load`] that first loads `fonts` (faces on the asset
    /// server) and then asks Chromium which font drew each `fontFamily`
    /// value of the scenario; the report lists those that fell back.
    pub async fn load_with_fonts(
        &self,
        scenario: &serde_json::Value,
        fps: f64,
        fonts: &[FontFace],
    ) -> Result<LoadReport, BrowserError> {
        if !(fps.is_finite() && fps > 0.0) {
            return Err(BrowserError::InvalidArgument {
                op: "load",
                detail: format!("fps must be positive, got {fps}"),
            });
        }
        let arg = serde_json::json!({ "scenario": scenario, "width": self.width, "height": self.height, "fps": fps, "fonts": fonts });
        let value = self
            .call(
                "load",
                format!("motionrender.load({arg})"),
                self.timeouts.load,
            )
            .await?;
        let mut report: LoadReport = serde_json::from_value(value.clone()).map_err(|e| BrowserError::BadAnswer {
            op: "load",
            detail: format!("{e} in {value}"),
        })?;
        let page_fonts: PageFonts = value.get("fonts").cloned().map(serde_json::from_value).transpose().ok().flatten().unwrap_or_default();
        let mut loaded: Vec<String> = Vec::new();
        for face in page_fonts.loaded {
            if !loaded.contains(&face.family) {
                loaded.push(face.family);
            }
        }
        report.fonts = FontReport {
            failed: page_fonts.failed.iter().map(|f| format!("{} ({}): {}", f.family, f.url, f.reason)).collect(),
            fallbacks: self.font_fallbacks(&loaded).await?,
            loaded,
        };
        for fallback in &report.fonts.fallbacks {
            report.warnings.push(format!("font family {} is not available; the text is drawn with {}", fallback.family, fallback.used));
        }
        Ok(report)
    }

    /// For each `fontFamily` value of the loaded scenario whose first family
    /// did not draw the page's probe text: what did
    /// (`CSS.getPlatformFontsForNode` on the page's probe elements).
    async fn font_fallbacks(&self, loaded: &[String]) -> Result<Vec<FontFallback>, BrowserError> {
        use chromiumoxide::cdp::browser_protocol::css::{EnableParams as CssEnable, GetPlatformFontsForNodeParams};
        use chromiumoxide::cdp::browser_protocol::dom::{EnableParams as DomEnable, GetDocumentParams, QuerySelectorParams};
        let value = self.call("fontProbes", "motionrender.fontProbes()".to_owned(), self.timeouts.frame).await?;
        let probes: Vec<FontProbe> = serde_json::from_value(value.clone())
            .map_err(|e| BrowserError::BadAnswer { op: "fontProbes", detail: format!("{e} in {value}") })?;
        let mut out = Vec::new();
        if probes.iter().all(|p| first_family(&p.family).is_none()) {
            return Ok(out);
        }
        let deadline = Instant::now() + self.timeouts.load;
        self.command(deadline, "DOM.enable", DomEnable::default()).await?;
        self.command(deadline, "CSS.enable", CssEnable::default()).await?;
        let document = self.command(deadline, "DOM.getDocument", GetDocumentParams::default()).await?;
        for probe in probes {
            let Some(family) = first_family(&probe.family) else { continue };
            let node = self
                .command(deadline, "DOM.querySelector", QuerySelectorParams::new(document.root.node_id, probe.selector.clone()))
                .await?;
            let fonts = self.command(deadline, "CSS.getPlatformFontsForNode", GetPlatformFontsForNodeParams::new(node.node_id)).await?;
            let used: Vec<(String, bool, f64)> =
                fonts.fonts.iter().map(|f| (f.family_name.clone(), f.is_custom_font, f.glyph_count)).collect();
            if let Some(used) = fallback_of(&family, loaded, &used) {
                out.push(FontFallback { family, requested: probe.family, used });
            }
        }
        let _ = self.call("clearFontProbes", "motionrender.clearFontProbes()".to_owned(), self.timeouts.frame).await;
        Ok(out)
    }

    /// Renders the stage at media time `t` (seconds) and reports what is visible.
    pub async fn seek(&self, t: f64) -> Result<SeekState, BrowserError> {
        if !t.is_finite() {
            return Err(BrowserError::InvalidArgument {
                op: "seek",
                detail: format!("time must be finite, got {t}"),
            });
        }
        let value = self
            .call(
                "seek",
                format!("motionrender.seek({t})"),
                self.timeouts.frame,
            )
            .await?;
        serde_json::from_value(value.clone()).map_err(|e| BrowserError::BadAnswer {
            op: "seek",
            detail: format!("{e} in {value}"),
        })
    }

    /// The states of the stage at each of `times`, in order, in one call
    /// (the page stays at the last). An empty `times` asks nothing.
    pub async fn seek_many(&self, times: &[f64]) -> Result<Vec<SeekState>, BrowserError> {
        if times.is_empty() {
            return Ok(Vec::new());
        }
        if let Some(t) = times.iter().find(|t| !t.is_finite()) {
            return Err(BrowserError::InvalidArgument { op: "seek", detail: format!("time must be finite, got {t}") });
        }
        let list: Vec<String> = times.iter().map(f64::to_string).collect();
        // Each seek has the frame limit; the call as a whole has their sum.
        let limit = self.timeouts.frame.saturating_mul(u32::try_from(times.len()).unwrap_or(u32::MAX));
        let value = self.call("seek", format!("motionrender.seekMany([{}])", list.join(",")), limit).await?;
        let states: Vec<SeekState> =
            serde_json::from_value(value.clone()).map_err(|e| BrowserError::BadAnswer { op: "seek", detail: format!("{e} in {value}") })?;
        if states.len() != times.len() {
            return Err(BrowserError::BadAnswer { op: "seek", detail: format!("{} states for {} times", states.len(), times.len()) });
        }
        Ok(states)
    }

    /// How this page captures: [`CaptureMode::BeginFrame`] when the browser
    /// has begin-frame control and the probe at open succeeded, else
    /// [`CaptureMode::Screenshot`].
    pub fn capture_mode(&self) -> CaptureMode {
        self.mode
    }

    /// When the browser offered begin-frame control but this page fell back
    /// to [`CaptureMode::Screenshot`]: why (for logs and QC reports).
    pub fn begin_frame_fallback(&self) -> Option<&str> {
        self.begin_frame_fallback.as_deref()
    }

    /// Captures the pixels inside `bbox` as a PNG with alpha (transparent
    /// where nothing is drawn). Both capture modes give the same pixels.
    pub async fn capture(&self, bbox: BoundingBox) -> Result<Vec<u8>, BrowserError> {
        let inside = bbox.width > 0
            && bbox.height > 0
            && u64::from(bbox.x) + u64::from(bbox.width) <= u64::from(self.width)
            && u64::from(bbox.y) + u64::from(bbox.height) <= u64::from(self.height);
        if !inside {
            return Err(BrowserError::InvalidArgument {
                op: "capture",
                detail: format!(
                    "clip {bbox:?} is empty or outside the {}x{} page",
                    self.width, self.height
                ),
            });
        }
        match self.mode {
            CaptureMode::BeginFrame => self.capture_begin_frame(bbox).await,
            CaptureMode::Screenshot => self.capture_screenshot(bbox).await,
        }
    }

    /// A clipped `Page.captureScreenshot` from the surface.
    async fn capture_screenshot(&self, bbox: BoundingBox) -> Result<Vec<u8>, BrowserError> {
        let op = "Page.captureScreenshot";
        let clip = Viewport {
            x: f64::from(bbox.x),
            y: f64::from(bbox.y),
            width: f64::from(bbox.width),
            height: f64::from(bbox.height),
            scale: 1.0,
        };
        let params = CaptureScreenshotParams::builder()
            .format(CaptureScreenshotFormat::Png)
            .clip(clip)
            .from_surface(true)
            .capture_beyond_viewport(false)
            .optimize_for_speed(true)
            .build();
        let deadline = Instant::now() + self.timeouts.frame;
        let shot = self.command(deadline, op, params).await?;
        decode_base64(op, shot.data.as_ref())
    }

    /// Draws one frame with `HeadlessExperimental.beginFrame` and returns its
    /// screenshot of `bbox`. The protocol's screenshot has no clip, so the
    /// page's visible viewport (`Emulation.setDeviceMetricsOverride`'s
    /// `viewport`, which the page does not observe; `Page.captureScreenshot`
    /// clips the same way) is set to `bbox` first, when it differs from the
    /// last capture's. A frame without damage comes without a screenshot:
    /// then nothing was drawn since the last frame, and when that showed the
    /// same box its capture is returned again.
    async fn capture_begin_frame(&self, bbox: BoundingBox) -> Result<Vec<u8>, BrowserError> {
        let op = "HeadlessExperimental.beginFrame";
        let deadline = Instant::now() + self.timeouts.frame;
        // Held across the whole capture: the clip and the frame belong together.
        let mut state = self.begin_frame.lock().await;
        if state.clip != Some(bbox) {
            state.clip = None;
            state.last_capture = None;
            self.set_visible_viewport(deadline, bbox).await?;
            state.clip = Some(bbox);
        }
        let png_bytes = match self.begin_frame_screenshot(deadline).await? {
            Some(png_bytes) => png_bytes,
            None => match &state.last_capture {
                Some(last) => {
                    tracing::debug!(?bbox, "beginFrame without damage; reusing the last capture");
                    return Ok(last.clone());
                }
                None => self
                    .begin_frame_screenshot(deadline)
                    .await?
                    .ok_or_else(|| BrowserError::BadAnswer {
                        op,
                        detail: "two frames without damage returned no screenshot".into(),
                    })?,
            },
        };
        check_png_size(op, &png_bytes, bbox.width, bbox.height)?;
        state.last_capture = Some(png_bytes.clone());
        Ok(png_bytes)
    }

    /// Limits what the compositor draws (and screenshots) to `bbox`, without
    /// changing the page's layout viewport.
    async fn set_visible_viewport(
        &self,
        deadline: Instant,
        bbox: BoundingBox,
    ) -> Result<(), BrowserError> {
        let mut metrics = SetDeviceMetricsOverrideParams::new(
            i64::from(self.width),
            i64::from(self.height),
            1.0,
            false,
        );
        metrics.viewport = Some(Viewport {
            x: f64::from(bbox.x),
            y: f64::from(bbox.y),
            width: f64::from(bbox.width),
            height: f64::from(bbox.height),
            scale: 1.0,
        });
        self.command(
            deadline,
            "Emulation.setDeviceMetricsOverride (clip)",
            metrics,
        )
        .await
        .map(|_| ())
    }

    /// One `beginFrame` with a PNG screenshot of the visible viewport; `None`
    /// when the frame had no damage and Chromium sent no screenshot.
    async fn begin_frame_screenshot(
        &self,
        deadline: Instant,
    ) -> Result<Option<Vec<u8>>, BrowserError> {
        let op = "HeadlessExperimental.beginFrame";
        let params = BeginFrameParams::builder()
            .screenshot(
                ScreenshotParams::builder()
                    .format(ScreenshotParamsFormat::Png)
                    .optimize_for_speed(true)
                    .build(),
            )
            .build();
        let answer = self.command(deadline, op, params).await?;
        if answer.screenshot_data.is_none() {
            tracing::debug!(
                has_damage = answer.has_damage,
                "beginFrame returned no screenshot"
            );
        }
        answer
            .screenshot_data
            .map(|data| decode_base64(op, data.as_ref()))
            .transpose()
    }

    /// Checks that this begin-frame page draws: a capture of a small box in
    /// the top-left corner must come back as a PNG of exactly that size.
    async fn probe_begin_frame(&self) -> Result<(), BrowserError> {
        let corner = BoundingBox {
            x: 0,
            y: 0,
            width: self.width.min(PROBE_SIDE),
            height: self.height.min(PROBE_SIDE),
        };
        self.capture_begin_frame(corner).await.map(|_| ())
    }

    /// Captures `bbox` as [`OverlayPage::capture`] does, but with the faded
    /// element lifted to opacity 1: the overlay before its `alpha`.
    pub async fn capture_opaque(&self, bbox: BoundingBox) -> Result<Vec<u8>, BrowserError> {
        self.call("setOpaque", "motionrender.setOpaque(true)".to_owned(), self.timeouts.frame).await?;
        let captured = self.capture(bbox).await;
        let restored = self.call("setOpaque", "motionrender.setOpaque(false)".to_owned(), self.timeouts.frame).await;
        let png = captured?;
        restored?;
        Ok(png)
    }

    /// Evaluates `expression` in the page (for diagnostics and tests); the
    /// result is returned by value, promises are awaited.
    pub async fn evaluate(&self, expression: &str) -> Result<serde_json::Value, BrowserError> {
        self.call("evaluate", expression.to_string(), self.timeouts.frame)
            .await
    }

    /// Closes the tab.
    pub async fn close(self) -> Result<(), BrowserError> {
        let op = "Page.close";
        let limit = self.timeouts.frame;
        self.request_guard.abort();
        tokio::time::timeout(limit, self.page.clone().close())
            .await
            .map_err(|_| BrowserError::Timeout { op, after: limit })?
            .map_err(|source| BrowserError::Cdp { op, source })
    }

    /// Polls `motionrender.ready` / `motionrender.error` until one is set.
    async fn wait_ready(&self, deadline: Instant, url: &str) -> Result<(), BrowserError> {
        const PROBE: &str = "(() => { const m = window.motionrender; \
            if (!m || location.href === 'about:blank') return null; \
            if (typeof m.error === 'string' && m.error) return { error: m.error }; \
            return m.ready === true ? { ready: true } : null; })()";
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(BrowserError::Timeout {
                    op: "waiting for motionrender.ready",
                    after: self.timeouts.ready,
                });
            }
            // Evaluation fails while the document is being replaced: keep polling.
            if let Ok(value) = self.call("readiness probe", PROBE.to_string(), left).await {
                if let Some(message) = value.get("error").and_then(|v| v.as_str()) {
                    return Err(BrowserError::PageStart {
                        url: url.to_string(),
                        message: message.to_string(),
                    });
                }
                if value.get("ready").is_some() {
                    return Ok(());
                }
            } else if self.request_guard.is_finished() {
                // The event stream ended: the browser is gone.
                return Err(BrowserError::PageStart {
                    url: url.to_string(),
                    message: "the browser connection closed".into(),
                });
            }
            tokio::time::sleep(Duration::from_millis(20).min(left)).await;
        }
    }

    /// `Runtime.evaluate` with `awaitPromise` and `returnByValue`; a thrown
    /// error becomes [`BrowserError::Script`] with its message.
    async fn call(
        &self,
        op: &'static str,
        expression: String,
        limit: Duration,
    ) -> Result<serde_json::Value, BrowserError> {
        let params = EvaluateParams::builder()
            .expression(expression)
            .await_promise(true)
            .return_by_value(true)
            .build()
            .map_err(|detail| BrowserError::InvalidArgument { op, detail })?;
        let answer = self.command(Instant::now() + limit, op, params).await?;
        if let Some(details) = &answer.exception_details {
            let message = details
                .exception
                .as_ref()
                .and_then(|e| e.description.as_deref())
                .and_then(|d| d.lines().next())
                .map(|line| line.strip_prefix("Error: ").unwrap_or(line).to_string())
                .unwrap_or_else(|| details.text.clone());
            return Err(BrowserError::Script { op, message });
        }
        Ok(answer.result.value.unwrap_or(serde_json::Value::Null))
    }

    /// Sends one DevTools command to this tab and returns its result.
    async fn command<C>(
        &self,
        deadline: Instant,
        op: &'static str,
        cmd: C,
    ) -> Result<C::Response, BrowserError>
    where
        C: chromiumoxide::types::Command,
    {
        let limit = deadline.saturating_duration_since(Instant::now());
        within(deadline, limit, op, self.page.execute(cmd))
            .await
            .map(|response| response.result)
    }
}

impl Drop for OverlayPage {
    fn drop(&mut self) {
        self.request_guard.abort();
    }
}

/// Decodes the base64 image data of a DevTools screenshot.
fn decode_base64(op: &'static str, data: &str) -> Result<Vec<u8>, BrowserError> {
    base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|e| BrowserError::BadAnswer {
            op,
            detail: format!("screenshot is not base64: {e}"),
        })
}

/// Checks that `png_bytes` is a PNG of `width` x `height` by its header
/// (signature, then the IHDR chunk: big-endian width and height).
fn check_png_size(
    op: &'static str,
    png_bytes: &[u8],
    width: u32,
    height: u32,
) -> Result<(), BrowserError> {
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    let size = |at: usize| {
        png_bytes
            .get(at..at + 4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(u32::from_be_bytes)
    };
    let is_png = png_bytes.starts_with(SIGNATURE) && png_bytes.get(12..16) == Some(b"IHDR");
    match (is_png, size(16), size(20)) {
        (true, Some(w), Some(h)) if (w, h) == (width, height) => Ok(()),
        (true, Some(w), Some(h)) => Err(BrowserError::BadAnswer {
            op,
            detail: format!("the screenshot is {w}x{h}, the clip {width}x{height}"),
        }),
        _ => Err(BrowserError::BadAnswer {
            op,
            detail: "the screenshot is not a PNG".into(),
        }),
    }
}

/// Runs a DevTools future with a deadline, mapping both failure kinds.
async fn within<T>(
    deadline: Instant,
    limit: Duration,
    op: &'static str,
    fut: impl std::future::Future<Output = chromiumoxide::Result<T>>,
) -> Result<T, BrowserError> {
    match tokio::time::timeout_at(deadline.into(), fut).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(source)) => Err(BrowserError::Cdp { op, source }),
        Err(_) => Err(BrowserError::Timeout { op, after: limit }),
    }
}

/// Lets the page's requests through only when they go to the asset server's
/// origin (or are `data:`/`blob:` URLs it made); fails every other one as
/// blocked by the client.
async fn guard_requests(
    page: Page,
    mut paused: chromiumoxide::listeners::EventStream<EventRequestPaused>,
    origin: String,
) {
    let allowed_prefix = format!("{origin}/");
    while let Some(event) = paused.next().await {
        let event: Arc<EventRequestPaused> = event;
        let url = &event.request.url;
        let allowed = url.starts_with(&allowed_prefix)
            || url == &origin
            || url.starts_with("data:")
            || url.starts_with("blob:");
        let sent = if allowed {
            page.execute(ContinueRequestParams::new(event.request_id.clone()))
                .await
                .map(|_| ())
        } else {
            tracing::warn!(url = %url, "overlay page request blocked");
            page.execute(FailRequestParams::new(
                event.request_id.clone(),
                ErrorReason::BlockedByClient,
            ))
            .await
            .map(|_| ())
        };
        if let Err(e) = sent {
            tracing::debug!(error = %e, "request guard could not answer a paused request");
        }
    }
}
