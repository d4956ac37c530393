//! One render in a single pass: every source frame is decoded, given the
//! overlay the page shows at its time (captured only when the fingerprint
//! changed, never outside the alive intervals), composited and encoded; the
//! encoded stream is then muxed with the source's audio.
//!
//! The browser side runs on the async runtime; decoding, compositing and
//! encoding run on a thread of their own, fed over a bounded channel.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;
use tokio::sync::mpsc;

use super::overlay::{decode_overlay, OverlayImage};
use crate::browser::{page_dir, AssetServer, BrowserError, HeadlessBrowser, LaunchOptions, OverlayPage, PageTimeouts};
use crate::media::{composite, merge_segments, probe, quality_to_crf, Decoder, Encoder, MediaError, MediaInfo, X264Encoder};
use crate::scenario::Scenario;

/// Frames decoded ahead of the compositor, and overlays handed ahead of it.
const CHANNEL_FRAMES: usize = 8;

/// What to render.
#[derive(Debug)]
pub struct RenderRequest {
    pub video: PathBuf,
    pub scenario: Scenario,
    pub out: PathBuf,
    /// Where the intermediate segment is written (a temporary folder inside).
    pub work_dir: PathBuf,
    pub preset: String,
    /// 1..=100, mapped to an x264 CRF.
    pub quality: u32,
    /// Plugins beyond the bundled standard pack.
    pub plugin_dir: Option<PathBuf>,
    pub browser: LaunchOptions,
}

/// How the output's frames came to be.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FrameCounts {
    pub source: u64,
    pub output: u64,
    /// Frames whose overlay was captured from the page.
    pub captured: u64,
    /// Frames that reused the previous capture (same fingerprint).
    pub reused: u64,
    /// Frames with no overlay: outside every alive interval, or nothing visible.
    pub empty: u64,
    /// Frames for which the page was asked at all.
    pub seeked: u64,
}

/// What a finished render reports (the base of the QC report).
#[derive(Debug, Clone, Serialize)]
pub struct RenderReport {
    pub frames: FrameCounts,
    pub source_duration_seconds: f64,
    pub output_duration_seconds: f64,
    pub audio_kept: bool,
    pub plugins_missing: Vec<String>,
    pub warnings: Vec<String>,
    pub wall_seconds: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error(transparent)]
    Media(#[from] MediaError),
    #[error(transparent)]
    Browser(#[from] BrowserError),
    #[error("frame {frame}: {message}")]
    Capture { frame: u64, message: String },
    #[error("cannot prepare {path}: {error}")]
    WorkDir { path: PathBuf, error: std::io::Error },
    #[error("the compositor stopped: {0}")]
    Compositor(String),
    #[error("QC failed: {0}")]
    Qc(String),
}

impl RenderError {
    /// The error code of the HTTP API for this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Media(e) => e.code(),
            Self::Browser(_) | Self::Capture { .. } => "BROWSER_ERROR",
            Self::WorkDir { .. } => "STORAGE_ACCESS_ERROR",
            Self::Compositor(_) => "FFMPEG_ERROR",
            Self::Qc(_) => "QC_FAILED",
        }
    }
}

type Overlay = Option<Arc<OverlayImage>>;

/// Renders `request`, calling `progress(done, total)` after each frame.
pub async fn render(request: &RenderRequest, progress: &mut (dyn FnMut(u64, u64) + Send)) -> Result<RenderReport, RenderError> {
    let started = Instant::now();
    let video = request.video.clone();
    let info = blocking(move || probe(&video)).await??;
    std::fs::create_dir_all(&request.work_dir).map_err(|error| RenderError::WorkDir { path: request.work_dir.clone(), error })?;
    let scratch = tempfile::Builder::new()
        .prefix(".render-")
        .tempdir_in(&request.work_dir)
        .map_err(|error| RenderError::WorkDir { path: request.work_dir.clone(), error })?;
    let segment_path = scratch.path().join("segment-0000.mp4");

    let (overlays, overlay_rx) = mpsc::channel::<(u64, Overlay)>(CHANNEL_FRAMES);
    let compositor = {
        let (info, segment_path) = (info.clone(), segment_path.clone());
        let (preset, crf) = (request.preset.clone(), quality_to_crf(request.quality));
        std::thread::Builder::new()
            .name("compositor".to_owned())
            .spawn(move || composite_and_encode(&info, &segment_path, &preset, crf, overlay_rx))
            .map_err(|e| RenderError::Compositor(e.to_string()))?
    };

    let produced = produce_overlays(request, &info, overlays, progress).await;
    let encoded = blocking(move || compositor.join().map_err(|_| RenderError::Compositor("the compositor thread panicked".to_owned()))).await??;
    let (mut frames, plugins_missing, warnings) = produced?;
    let encoded_frames = encoded?;

    let (segment, source, out, has_audio) = (segment_path.clone(), request.video.clone(), request.out.clone(), info.has_audio());
    blocking(move || merge_segments(&[segment], &source, &out, has_audio)).await??;
    let out = request.out.clone();
    let result = blocking(move || probe(&out)).await?;
    let result = match result {
        Ok(result) => result,
        Err(e) => {
            let _ = std::fs::remove_file(&request.out);
            return Err(e.into());
        }
    };
    frames.output = result.frame_count;
    let report = RenderReport {
        frames,
        source_duration_seconds: info.duration_seconds,
        output_duration_seconds: result.duration_seconds,
        audio_kept: result.has_audio() == info.has_audio(),
        plugins_missing,
        warnings,
        wall_seconds: started.elapsed().as_secs_f64(),
    };
    if let Err(reason) = qc_gate(&report, &info, encoded_frames) {
        let _ = std::fs::remove_file(&request.out);
        return Err(RenderError::Qc(reason));
    }
    Ok(report)
}

/// The gate a render must pass before its output is kept.
fn qc_gate(report: &RenderReport, info: &MediaInfo, encoded: u64) -> Result<(), String> {
    let frames = &report.frames;
    if encoded != frames.source || frames.output != frames.source {
        return Err(format!("source has {} frames, encoder took {encoded}, output has {}", frames.source, frames.output));
    }
    if !report.audio_kept {
        return Err("the source's audio stream is missing from the output".to_owned());
    }
    let drift = (report.output_duration_seconds - report.source_duration_seconds).abs();
    if drift > info.frame_rate.frame_duration() * 1.5 {
        return Err(format!("output lasts {:.3} s, source {:.3} s", report.output_duration_seconds, report.source_duration_seconds));
    }
    Ok(())
}

/// The browser side: one overlay (or none) per source frame, in order.
async fn produce_overlays(
    request: &RenderRequest,
    info: &MediaInfo,
    overlays: mpsc::Sender<(u64, Overlay)>,
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<(FrameCounts, Vec<String>, Vec<String>), RenderError> {
    let server = AssetServer::start(&page_dir(), request.plugin_dir.as_deref()).await?;
    let browser = HeadlessBrowser::launch(&request.browser).await?;
    let page = OverlayPage::open(&browser, &server.base_url(), info.width, info.height, PageTimeouts::default()).await?;
    page.configure_plugins(&server.base_url()).await?;
    let loaded = page.load(&request.scenario.document, info.frame_rate.as_f64()).await?;
    let plugins_missing = loaded.plugins.missing.iter().map(|m| format!("{}: {}", m.name, m.reason)).collect();

    let alive = request.scenario.alive_intervals();
    let mut counts = FrameCounts { source: info.frame_count, ..FrameCounts::default() };
    let mut last: Option<(String, Overlay)> = None;
    for index in 0..info.frame_count {
        let t = info.frame_rate.frame_time(index);
        let overlay = if alive.iter().any(|range| range.contains(t)) {
            counts.seeked += 1;
            let state = page.seek(t).await?;
            match (state.bbox, &last) {
                (None, _) => None,
                (Some(_), Some((fingerprint, overlay))) if *fingerprint == state.fingerprint => {
                    counts.reused += 1;
                    overlay.clone()
                }
                (Some(bbox), _) => {
                    let png = page.capture(bbox).await?;
                    let image = blocking(move || decode_overlay(&png, bbox)).await?.map_err(|message| RenderError::Capture { frame: index, message })?;
                    counts.captured += 1;
                    let overlay = Some(Arc::new(image));
                    last = Some((state.fingerprint.clone(), overlay.clone()));
                    overlay
                }
            }
        } else {
            last = None;
            None
        };
        if overlay.is_none() {
            counts.empty += 1;
        }
        if overlays.send((index, overlay)).await.is_err() {
            break; // the compositor stopped; its error is reported by the caller
        }
        progress(index + 1, info.frame_count);
    }
    drop(overlays);
    let _ = page.close().await;
    let _ = browser.close().await;
    server.shutdown().await;
    Ok((counts, plugins_missing, loaded.warnings))
}

/// The data path: decode, blend the overlay, encode. Returns frames encoded.
fn composite_and_encode(
    info: &MediaInfo,
    segment: &std::path::Path,
    preset: &str,
    crf: u8,
    mut overlays: mpsc::Receiver<(u64, Overlay)>,
) -> Result<u64, RenderError> {
    let decoder = Decoder::spawn(&info.path, info, 0, info.frame_count, CHANNEL_FRAMES)?;
    let mut encoder: Box<dyn Encoder> = Box::new(X264Encoder::spawn(segment, info.width, info.height, info.frame_rate, preset, crf)?);
    for decoded in decoder {
        let frame = decoded?;
        let Some((index, overlay)) = overlays.blocking_recv() else {
            return Err(RenderError::Compositor(format!("no overlay came for frame {}", frame.index)));
        };
        if index != frame.index {
            return Err(RenderError::Compositor(format!("overlay of frame {index} met decoded frame {}", frame.index)));
        }
        match overlay {
            Some(overlay) => {
                let mut pixels = frame.data.to_vec();
                composite(&mut pixels, info.width, info.height, &overlay.rgba, overlay.bbox)?;
                encoder.write_frame(&pixels)?;
            }
            None => encoder.write_frame(&frame.data)?,
        }
    }
    Ok(encoder.finish()?.frames)
}

/// Runs blocking work off the async threads.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, RenderError> {
    tokio::task::spawn_blocking(work).await.map_err(|e| RenderError::Compositor(format!("a blocking task failed: {e}")))
}

