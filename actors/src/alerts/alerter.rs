//! Alerter: the actor that posts alerts. It applies the rate limit in
//! order of arrival, then delivers each alert it lets through on a task of
//! its own: the URL policy's check of the webhook, then the callback
//! client (signed, retried with backoff until the deadline).

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use tokio::sync::watch;

use super::{Alert, RateLimit};
use crate::callbacks::CallbackClient;
use crate::metrics::Metrics;
use crate::url_policy::UrlPolicy;

/// Alerts waiting to be looked at; more are dropped (and logged) by the sender.
pub(super) const MAILBOX: usize = 64;

/// The alert poster of one engine.
pub struct Alerter {
    webhook_url: String,
    client: CallbackClient,
    policy: UrlPolicy,
    limit: RateLimit,
    metrics: Arc<Metrics>,
    deadline: Duration,
    stopping: watch::Receiver<bool>,
    sent: u64,
}

impl std::fmt::Debug for Alerter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Alerter").field("sent", &self.sent).finish_non_exhaustive()
    }
}

impl Alerter {
    pub fn new(
        webhook_url: String,
        client: CallbackClient,
        policy: UrlPolicy,
        min_interval: Duration,
        deadline: Duration,
        metrics: Arc<Metrics>,
        stopping: watch::Receiver<bool>,
    ) -> Self {
        Self { webhook_url, client, policy, limit: RateLimit::new(min_interval), metrics, deadline, stopping, sent: 0 }
    }
}

impl Actor for Alerter {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(MAILBOX);
    }
}

impl Handler<Alert> for Alerter {
    type Result = ();

    fn handle(&mut self, alert: Alert, ctx: &mut Self::Context) {
        let kind = alert.kind().as_str();
        if !self.limit.allow(alert.kind(), Instant::now()) {
            tracing::info!(kind, text = %alert.text(), "alert suppressed by alerts.min_interval_secs");
            self.metrics.alert(kind, "suppressed");
            return;
        }
        self.sent += 1;
        let event_id = format!("alert-{}", uuid::Uuid::new_v4());
        let body = alert.body(&crate::job::timestamp(), &event_id);
        let (url, client, policy, metrics, stopping) =
            (self.webhook_url.clone(), self.client.clone(), self.policy.clone(), Arc::clone(&self.metrics), self.stopping.clone());
        let deadline = Instant::now() + self.deadline;
        ctx.spawn(
            async move {
                let outcome = match policy.check_callback_url(&url).await {
                    Err(refused) => Err(refused.to_string()),
                    Ok(_) => client.deliver(&url, &body, deadline, &stopping).await.map(drop).map_err(|error| error.to_string()),
                };
                match outcome {
                    Ok(()) => {
                        tracing::info!(kind, %event_id, "alert sent");
                        metrics.alert(kind, "sent");
                    }
                    Err(reason) => {
                        tracing::warn!(kind, %event_id, %reason, "alert not delivered");
                        metrics.alert(kind, "failed");
                    }
                }
            }
            .into_actor(self),
        );
    }
}
