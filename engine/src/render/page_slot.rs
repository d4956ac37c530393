//! One page of the pool: a headless browser with one overlay page that has
//! the job's scenario loaded. Started on first use, health-checked before each
//! segment, and replaced after a browser fault.

use std::time::Instant;

use super::job::JobContext;
use super::report::RenderError;
use crate::browser::{HeadlessBrowser, LoadReport, OverlayPage};

/// A page ready to seek, and what loading the scenario reported.
pub(super) struct ReadyPage {
    browser: HeadlessBrowser,
    pub page: OverlayPage,
    pub loaded: LoadReport,
}

/// What a page reported when it started: its scenario load and capture mode.
#[derive(Debug, Clone)]
pub(super) struct PageReport {
    pub loaded: LoadReport,
    pub capture_mode: String,
    pub capture_fallback: Option<String>,
}

impl ReadyPage {
    pub fn report(&self) -> PageReport {
        PageReport {
            loaded: self.loaded.clone(),
            capture_mode: self.page.capture_mode().as_str().to_owned(),
            capture_fallback: self.page.begin_frame_fallback().map(str::to_owned),
        }
    }
}

#[derive(Default)]
pub(super) struct PageSlot {
    ready: Option<ReadyPage>,
}

impl PageSlot {
    /// The slot's page, started (or restarted) when needed. Returns the
    /// seconds spent starting a browser, zero when the page was healthy.
    pub async fn ready(&mut self, job: &JobContext) -> Result<(&ReadyPage, f64), RenderError> {
        if let Some(ready) = &self.ready {
            if ready.page.evaluate("typeof window.motionrender").await.is_err() {
                self.discard().await;
            }
        }
        let mut started_in = 0.0;
        if self.ready.is_none() {
            let started = Instant::now();
            self.ready = Some(start(job).await?);
            started_in = started.elapsed().as_secs_f64();
        }
        match &self.ready {
            Some(ready) => Ok((ready, started_in)),
            None => Err(RenderError::Stopped),
        }
    }

    /// Closes the page and its browser (killing it when it does not exit).
    pub async fn discard(&mut self) {
        if let Some(ready) = self.ready.take() {
            let _ = ready.page.close().await;
            let _ = ready.browser.close().await;
        }
    }
}

async fn start(job: &JobContext) -> Result<ReadyPage, RenderError> {
    let settings = &job.settings;
    let browser = HeadlessBrowser::launch(&settings.browser).await?;
    let page = OverlayPage::open(&browser, &job.asset_base_url, job.info.width, job.info.height, settings.page_timeouts).await?;
    page.configure_plugins(&job.asset_base_url).await?;
    let loaded = page.load(&job.scenario, job.info.frame_rate.as_f64()).await?;
    if settings.strict_plugins && !loaded.plugins.missing.is_empty() {
        let missing = loaded.plugins.missing.iter().map(|m| format!("{}: {}", m.name, m.reason)).collect();
        let _ = page.close().await;
        let _ = browser.close().await;
        return Err(RenderError::PluginNotFound(missing));
    }
    Ok(ReadyPage { browser, page, loaded })
}
