//! The queue as Redis sees it, for `/queue/status` and `/metrics`: the task
//! stream's length, tasks delivered and not yet acknowledged, the workers
//! of the consumer group with their pending tasks and idle time, and each
//! worker's last heartbeat.

use serde::Serialize;

use super::link::RedisLink;
use super::names::{FarmNames, WORKERS_GROUP};
use super::stream::{int, list, pairs, text};
use super::FarmError;

/// One worker of the consumer group.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WorkerState {
    pub name: String,
    /// Tasks delivered to it and not acknowledged.
    pub pending: u64,
    /// Milliseconds since it last read or claimed.
    pub idle_ms: u64,
    /// Milliseconds since its last heartbeat; `None` when it never sent one.
    pub heartbeat_age_ms: Option<u64>,
}

/// The task stream and its workers.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QueueSnapshot {
    /// The broker, without credentials.
    pub url: String,
    /// Tasks in the stream (waiting or being rendered).
    pub stream_length: u64,
    /// Tasks delivered to a worker and not acknowledged yet.
    pub pending_tasks: u64,
    /// Tasks no worker has read yet.
    pub waiting_tasks: u64,
    /// Reports in the result stream not read by the server yet.
    pub results_length: u64,
    pub workers: Vec<WorkerState>,
}

impl QueueSnapshot {
    /// Reads the snapshot (one attempt per command).
    pub async fn read(link: &RedisLink, names: &FarmNames) -> Result<Self, FarmError> {
        let ask = |command: redis::Cmd| async move {
            let answer = link.once(&command).await;
            answer.map_err(|error| link.refused(&command, &error))
        };
        let stream_length = int(&ask(redis::cmd("XLEN").arg(names.tasks()).clone()).await?).unwrap_or(0).max(0) as u64;
        let results_length = int(&ask(redis::cmd("XLEN").arg(names.results()).clone()).await?).unwrap_or(0).max(0) as u64;
        let summary = ask(redis::cmd("XPENDING").arg(names.tasks()).arg(WORKERS_GROUP).clone()).await.ok();
        let pending_tasks = summary.as_ref().and_then(|s| list(s).first().and_then(int)).unwrap_or(0).max(0) as u64;
        let groups = ask(redis::cmd("XINFO").arg("GROUPS").arg(names.tasks()).clone()).await.ok();
        let lag = groups
            .as_ref()
            .map(list)
            .unwrap_or_default()
            .iter()
            .map(pairs)
            .find(|group| group.iter().any(|(k, v)| k == "name" && text(v).as_deref() == Some(WORKERS_GROUP)))
            .and_then(|group| group.iter().find(|(k, _)| k == "lag").and_then(|(_, v)| int(v)));
        let consumers = ask(redis::cmd("XINFO").arg("CONSUMERS").arg(names.tasks()).arg(WORKERS_GROUP).clone()).await.ok();
        let beats = ask(redis::cmd("HGETALL").arg(names.heartbeats()).clone()).await?;
        let now = now_ms();
        let beats: Vec<(String, u64)> = pairs(&beats).into_iter().filter_map(|(name, at)| Some((name, int(&at)?.max(0) as u64))).collect();
        let mut workers: Vec<WorkerState> = consumers
            .as_ref()
            .map(list)
            .unwrap_or_default()
            .iter()
            .filter_map(|consumer| {
                let fields = pairs(consumer);
                let get = |key: &str| fields.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
                let name = text(&get("name")?)?;
                let heartbeat_age_ms = beats.iter().find(|(n, _)| *n == name).map(|(_, at)| now.saturating_sub(*at));
                Some(WorkerState {
                    pending: get("pending").as_ref().and_then(int).unwrap_or(0).max(0) as u64,
                    idle_ms: get("idle").as_ref().and_then(int).unwrap_or(0).max(0) as u64,
                    heartbeat_age_ms,
                    name,
                })
            })
            .collect();
        for (name, at) in &beats {
            if !workers.iter().any(|w| &w.name == name) {
                workers.push(WorkerState { name: name.clone(), pending: 0, idle_ms: now.saturating_sub(*at), heartbeat_age_ms: Some(now.saturating_sub(*at)) });
            }
        }
        workers.sort_by(|a, b| a.name.cmp(&b.name));
        let waiting_tasks = lag.map_or_else(|| stream_length.saturating_sub(pending_tasks), |lag| lag.max(0) as u64);
        Ok(Self { url: link.url().to_owned(), stream_length, pending_tasks, waiting_tasks, results_length, workers })
    }

    /// Age of the most recent heartbeat of any worker, in milliseconds.
    pub fn last_heartbeat_age_ms(&self) -> Option<u64> {
        self.workers.iter().filter_map(|w| w.heartbeat_age_ms).min()
    }
}

/// Unix time in milliseconds.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// The work queue's levels as Prometheus text, read at scrape time:
/// `motionrender_work_queue_up`, `…_stream_length`, `…_pending_tasks`,
/// `…_waiting_tasks`, `…_consumers`, `…_consumer_pending{consumer}`,
/// `…_last_heartbeat_age_seconds`. Without a snapshot only `up` is 0.
pub fn prometheus_text(snapshot: Option<&QueueSnapshot>) -> String {
    use prometheus::{Encoder as _, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder};
    let registry = Registry::new();
    let gauge = |name: &str, help: &str, value: i64| {
        if let Ok(gauge) = IntGauge::new(name, help) {
            gauge.set(value);
            let _ = registry.register(Box::new(gauge));
        }
    };
    let level = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    gauge("motionrender_work_queue_up", "Whether the work queue's Redis answered this scrape", i64::from(snapshot.is_some()));
    if let Some(s) = snapshot {
        gauge("motionrender_work_queue_stream_length", "Tasks in the task stream", level(s.stream_length));
        gauge("motionrender_work_queue_pending_tasks", "Tasks delivered to a worker and not acknowledged", level(s.pending_tasks));
        gauge("motionrender_work_queue_waiting_tasks", "Tasks no worker has read yet (the lag a scaler watches)", level(s.waiting_tasks));
        gauge("motionrender_work_queue_consumers", "Workers known to the consumer group", level(s.workers.len() as u64));
        if let Some(age) = s.last_heartbeat_age_ms() {
            gauge("motionrender_work_queue_last_heartbeat_age_seconds", "Seconds since the most recent worker heartbeat", level(age / 1000));
        }
        if let Ok(pending) = IntGaugeVec::new(Opts::new("motionrender_work_queue_consumer_pending", "Tasks pending per worker"), &["consumer"]) {
            for worker in &s.workers {
                pending.with_label_values(&[worker.name.as_str()]).set(level(worker.pending));
            }
            let _ = registry.register(Box::new(pending));
        }
    }
    let mut text = Vec::new();
    let _ = TextEncoder::new().encode(&registry.gather(), &mut text);
    String::from_utf8_lossy(&text).into_owned()
}
