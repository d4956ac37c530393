//! One page of the engine's own pool: a headless browser with one overlay
//! page that has the job's scenario loaded. Started on first use,
//! health-checked before each segment, and replaced after a browser fault.

use std::time::Instant;

use super::prepared::JobContext;
use super::report::RenderError;
use crate::browser::{HeadlessBrowser, LoadReport, OverlayPage};

/// An overlay page with a render's scenario loaded, and what loading reported.
#[derive(Debug)]
pub struct LoadedPage {
    pub page: OverlayPage,
    pub loaded: LoadReport,
}

/// What a page reported when it started: its scenario load and capture mode.
#[derive(Debug, Clone)]
pub struct PageReport {
    pub loaded: LoadReport,
    pub capture_mode: String,
    pub capture_fallback: Option<String>,
}

impl LoadedPage {
    /// Opens a page of the render's size on `browser`, loads its plugins and
    /// scenario; refuses it under strict plugins when one is missing.
    pub async fn open(job: &JobContext, browser: &HeadlessBrowser) -> Result<Self, RenderError> {
        let settings = &job.settings;
        let page = OverlayPage::open(browser, &job.asset_base_url, job.info.width, job.info.height, settings.page_timeouts).await?;
        let loaded = async {
            page.configure_plugins(&job.asset_base_url).await?;
            Ok::<_, RenderError>(page.load(&job.scenario, job.info.frame_rate.as_f64()).await?)
        }
        .await;
        let loaded = match loaded {
            Ok(loaded) => loaded,
            Err(error) => {
                let _ = page.close().await;
                return Err(error);
            }
        };
        if settings.strict_plugins && !loaded.plugins.missing.is_empty() {
            let missing = loaded.plugins.missing.iter().map(|m| format!("{}: {}", m.name, m.reason)).collect();
            let _ = page.close().await;
            return Err(RenderError::PluginNotFound(missing));
        }
        Ok(Self { page, loaded })
    }

    /// Whether the page still answers.
    pub async fn is_healthy(&self) -> bool {
        self.page.evaluate("typeof window.motionrender").await.is_ok()
    }

    pub fn report(&self) -> PageReport {
        PageReport {
            loaded: self.loaded.clone(),
            capture_mode: self.page.capture_mode().as_str().to_owned(),
            capture_fallback: self.page.begin_frame_fallback().map(str::to_owned),
        }
    }

    /// Closes the page (its browser stays).
    pub async fn close(self) {
        let _ = self.page.close().await;
    }
}

/// A page ready to seek, with the browser it runs in.
pub(super) struct ReadyPage {
    browser: HeadlessBrowser,
    loaded: LoadedPage,
}

impl ReadyPage {
    pub fn page(&self) -> &OverlayPage {
        &self.loaded.page
    }

    pub fn report(&self) -> PageReport {
        self.loaded.report()
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
            if !ready.loaded.is_healthy().await {
                self.discard().await;
            }
        }
        let mut started_in = 0.0;
        if self.ready.is_none() {
            let started = Instant::now();
            let browser = HeadlessBrowser::launch(&job.settings.browser).await?;
            let loaded = match LoadedPage::open(job, &browser).await {
                Ok(loaded) => loaded,
                Err(error) => {
                    let _ = browser.close().await;
                    return Err(error);
                }
            };
            self.ready = Some(ReadyPage { browser, loaded });
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
            ready.loaded.close().await;
            let _ = ready.browser.close().await;
        }
    }
}
