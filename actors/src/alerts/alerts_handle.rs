//! What the rest of the engine calls to raise an alert: the thresholds are
//! checked here, and an alert that passes goes to the alerter's mailbox
//! without waiting (a full mailbox drops it, with a log line).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use actix::Addr;
use motionrender_config::AlertsConfig;

use super::{Alert, Alerter};

/// The engine's alerts; without a webhook every call does nothing.
#[derive(Debug, Clone)]
pub struct Alerts {
    alerter: Option<Addr<Alerter>>,
    max_drop_rate: f64,
    max_queue_depth: u32,
    /// Whether the queue is over its depth now (an alert goes out when it
    /// crosses the depth, not on every job while it stays over).
    over_depth: Arc<AtomicBool>,
}

impl Alerts {
    /// Alerts through `alerter` with the thresholds of `config`; `None`: off.
    pub fn new(config: &AlertsConfig, alerter: Option<Addr<Alerter>>) -> Self {
        Self { alerter, max_drop_rate: config.max_drop_rate, max_queue_depth: config.max_queue_depth, over_depth: Arc::default() }
    }

    /// A job failed.
    pub fn job_failed(&self, job_id: &str, code: &str, message: &str) {
        self.raise(Alert::JobFailed { job_id: job_id.to_owned(), code: code.to_owned(), message: message.to_owned() });
    }

    /// A render finished having dropped `rate` of its overlays.
    pub fn render_finished(&self, job_id: &str, rate: f64) {
        if rate > self.max_drop_rate {
            self.raise(Alert::DropRate { job_id: job_id.to_owned(), rate, threshold: self.max_drop_rate });
        }
    }

    /// `waiting` jobs wait for a run slot now.
    pub fn queue_length(&self, waiting: usize) {
        let over = waiting > self.max_queue_depth as usize;
        if over && !self.over_depth.swap(true, Ordering::Relaxed) {
            self.raise(Alert::QueueDepth { waiting, depth: self.max_queue_depth });
        } else if !over {
            self.over_depth.store(false, Ordering::Relaxed);
        }
    }

    fn raise(&self, alert: Alert) {
        if let Some(alerter) = &self.alerter {
            if alerter.try_send(alert.clone()).is_err() {
                tracing::warn!(text = %alert.text(), "the alerter's mailbox is full or closed; the alert is dropped");
            }
        }
    }
}
