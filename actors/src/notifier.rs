//! Notifier: delivers the callback outbox — each job's events in order, at
//! least once, signed, retried with backoff and jitter until their deadline
//! — with one delivery run per job at a time. Told of new events by the
//! jobs; on start it picks up what an earlier run left undelivered. A panic
//! in a delivery stops the actor and its supervisor restarts it (a notifier
//! that keeps crashing is reported and stops delivering, not looped).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use tokio::sync::watch;

use crate::callbacks::{CallbackClient, DeliveryError};
use crate::metrics::Metrics;
use crate::panic_guard::catching;
use crate::store::{OutboxEvent, Store};

const MAILBOX: usize = 1024;
/// Restarts within [`RESTART_WINDOW`] after which the notifier gives up.
const MAX_RESTARTS: u32 = 5;
const RESTART_WINDOW: Duration = Duration::from_secs(60);

pub struct Notifier {
    store: Store,
    client: CallbackClient,
    deadline_secs: u64,
    metrics: Arc<Metrics>,
    stopping: watch::Receiver<bool>,
    /// Jobs with a delivery run going.
    delivering: HashSet<String>,
    /// Jobs told of new events while their run was going.
    again: HashSet<String>,
    restarts: Vec<Instant>,
    failed: bool,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier").field("delivering", &self.delivering.len()).field("failed", &self.failed).finish()
    }
}

impl Notifier {
    pub fn new(store: Store, client: CallbackClient, deadline_secs: u64, metrics: Arc<Metrics>, stopping: watch::Receiver<bool>) -> Self {
        Self {
            store,
            client,
            deadline_secs,
            metrics,
            stopping,
            delivering: HashSet::new(),
            again: HashSet::new(),
            restarts: Vec::new(),
            failed: false,
        }
    }

    fn start_run(&mut self, job_id: String, ctx: &mut Context<Self>) {
        if self.failed {
            return;
        }
        if !self.delivering.insert(job_id.clone()) {
            self.again.insert(job_id);
            return;
        }
        let (store, client, metrics, stopping, deadline_secs) =
            (self.store.clone(), self.client.clone(), Arc::clone(&self.metrics), self.stopping.clone(), self.deadline_secs);
        let id = job_id.clone();
        let run = catching(deliver_outbox(store, client, metrics, stopping, deadline_secs, id));
        ctx.spawn(run.into_actor(self).map(move |outcome, notifier, ctx| {
            notifier.delivering.remove(&job_id);
            match outcome {
                Ok(()) => {
                    if notifier.again.remove(&job_id) {
                        tell(ctx.address(), job_id);
                    }
                }
                Err(message) => {
                    tracing::error!(job_id = %job_id, %message, "callback delivery panicked; restarting the notifier");
                    ctx.stop();
                }
            }
        }));
    }

    /// Starts a run for every job with undelivered events.
    fn resume(&mut self, ctx: &mut Context<Self>) {
        let store = self.store.clone();
        ctx.spawn(async move { store.pending_events("").await }.into_actor(self).map(|pending, notifier, ctx| match pending {
            Ok(events) => {
                notifier.metrics.set_callbacks_pending(events.len() as u64);
                let mut jobs: Vec<String> = events.into_iter().map(|event| event.job_id).collect();
                jobs.dedup();
                for job_id in jobs {
                    tell(ctx.address(), job_id);
                }
            }
            Err(error) => tracing::error!(%error, "cannot read the callback outbox"),
        }));
    }
}

impl Actor for Notifier {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(MAILBOX);
        self.resume(ctx);
    }
}

impl actix::Supervised for Notifier {
    fn restarting(&mut self, _: &mut Self::Context) {
        self.metrics.restarted("notifier");
        self.delivering.clear();
        self.again.clear();
        self.restarts.retain(|at| at.elapsed() < RESTART_WINDOW);
        self.restarts.push(Instant::now());
        if self.restarts.len() as u32 > MAX_RESTARTS {
            self.failed = true;
            tracing::error!(restarts = self.restarts.len(), "the notifier keeps crashing; callbacks stay in the outbox until the next start");
        }
    }
}

/// A job has new events in the outbox.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct Deliver(pub String);

impl Handler<Deliver> for Notifier {
    type Result = ();

    fn handle(&mut self, Deliver(job_id): Deliver, ctx: &mut Self::Context) {
        self.start_run(job_id, ctx);
    }
}

/// Tells the notifier (from one of its own futures) that a job has events,
/// through its mailbox, so the new run starts in a handler's turn.
fn tell(notifier: Addr<Notifier>, job_id: String) {
    actix::spawn(async move {
        let _ = notifier.send(Deliver(job_id)).await;
    });
}

/// Delivers a job's pending events in order until none is left (or the engine stops).
async fn deliver_outbox(store: Store, client: CallbackClient, metrics: Arc<Metrics>, stopping: watch::Receiver<bool>, deadline_secs: u64, job_id: String) {
    loop {
        if *stopping.borrow() {
            return;
        }
        let events = match store.pending_events(&job_id).await {
            Ok(events) if !events.is_empty() => events,
            Ok(_) => return,
            Err(error) => {
                tracing::error!(job_id = %job_id, %error, "cannot read the callback outbox");
                return;
            }
        };
        for event in events {
            if !deliver_one(&store, &client, &metrics, &stopping, deadline_secs, event).await {
                return;
            }
        }
    }
}

/// Delivers one event; false when the engine is stopping.
async fn deliver_one(store: &Store, client: &CallbackClient, metrics: &Metrics, stopping: &watch::Receiver<bool>, deadline_secs: u64, event: OutboxEvent) -> bool {
    let deadline = deadline_of(&event.payload, deadline_secs);
    let mut body = event.payload.clone();
    body["event_id"] = serde_json::Value::String(event.event_id.clone());
    match client.deliver(&event.callback_url, &body, deadline, stopping).await {
        Ok(report) => metrics.callback_finished(true, age_of(&event.payload), report.attempts),
        Err(DeliveryError::Cancelled { .. }) => return false,
        Err(error) => {
            tracing::warn!(job_id = %event.job_id, event_id = %event.event_id, %error, "callback abandoned after its deadline");
            metrics.callback_finished(false, age_of(&event.payload), error.attempts());
        }
    }
    if let Err(error) = store.delivered(event.clone()).await {
        tracing::error!(job_id = %event.job_id, %error, "cannot remove a delivered callback from the outbox");
    }
    true
}

/// When an event's delivery is given up: `deadline_secs` after it was made.
fn deadline_of(payload: &serde_json::Value, deadline_secs: u64) -> std::time::Instant {
    let age = age_of(payload);
    let left = Duration::from_secs(deadline_secs).saturating_sub(age);
    std::time::Instant::now() + left
}

/// How long ago an event was made (its payload's `timestamp`); zero when
/// the timestamp cannot be read.
fn age_of(payload: &serde_json::Value) -> Duration {
    let made = payload.get("timestamp").and_then(|t| t.as_str()).and_then(|t| humantime::parse_rfc3339(t).ok());
    made.and_then(|made| std::time::SystemTime::now().duration_since(made).ok()).unwrap_or_default()
}
