//! A render's overlay page on a browser: opened with the render's size,
//! plugins and scenario, health-checked, closed when the render is done.

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
            Ok::<_, RenderError>(page.load_with_fonts(&job.scenario, job.info.frame_rate.as_f64(), &job.fonts).await?)
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

