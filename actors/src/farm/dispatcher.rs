//! The server's side of the farm: publishes segment tasks to the task
//! stream (waiting while it holds `work_queue.max_stream_length` tasks),
//! reads the result stream in the servers' consumer group and hands each
//! report to the job waiting for it, and marks cancelled jobs for the
//! workers. One reader per server; reports of jobs nobody waits for are
//! acknowledged and dropped (a repeated segment, a job already ended).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use motionrender_config::WorkQueueConfig;
use parking_lot::Mutex;
use tokio::sync::mpsc;

use super::link::RedisLink;
use super::names::{FarmNames, SERVERS_GROUP, WORKERS_GROUP};
use super::status::QueueSnapshot;
use super::stream::{read_group_entries, Entry};
use super::task::{entry_fields, SegmentReport, SegmentTask};
use super::FarmError;

/// Reports one read of the result stream takes at most.
const READ_BATCH: usize = 32;
/// How long one blocking read of the result stream waits.
const READ_BLOCK: Duration = Duration::from_millis(1000);
/// How long a cancel mark lives (workers that were away see it when back).
const CANCEL_MARK_SECS: u64 = 86_400;
/// How often a publisher waiting for room in the stream looks again.
const ROOM_POLL: Duration = Duration::from_millis(200);

/// The server's handle on the farm; cheap to share.
#[derive(Debug)]
pub struct Dispatcher {
    link: RedisLink,
    names: FarmNames,
    config: WorkQueueConfig,
    /// Reports for each job being rendered, bounded per job.
    waiters: Mutex<HashMap<String, mpsc::Sender<SegmentReport>>>,
    stop: AtomicBool,
}

/// The reports of one job; dropping it stops routing them.
#[derive(Debug)]
pub struct JobReports {
    pub reports: mpsc::Receiver<SegmentReport>,
    job_id: String,
    dispatcher: Arc<Dispatcher>,
}

impl Drop for JobReports {
    fn drop(&mut self) {
        self.dispatcher.waiters.lock().remove(&self.job_id);
    }
}

impl Dispatcher {
    /// Connects lazily to `config.url` and starts the result reader in the
    /// current actix System.
    pub fn start(config: &WorkQueueConfig) -> Result<Arc<Self>, FarmError> {
        let url = config.url().ok_or_else(|| FarmError::BadUrl { url: String::new(), detail: "work_queue.url is empty".to_owned() })?;
        let names = FarmNames::new(config);
        let groups = vec![(names.tasks(), WORKERS_GROUP.to_owned()), (names.results(), SERVERS_GROUP.to_owned())];
        let timeout = Duration::from_millis(config.timeout_ms);
        let backoff = Duration::from_millis(config.max_backoff_ms);
        let link = RedisLink::open(url, timeout, Duration::ZERO, backoff)?.with_groups(groups.clone());
        let reader = RedisLink::open(url, timeout, READ_BLOCK, backoff)?.with_groups(groups);
        let dispatcher = Arc::new(Self { link, names, config: config.clone(), waiters: Mutex::new(HashMap::new()), stop: AtomicBool::new(false) });
        actix::spawn(read_results(Arc::clone(&dispatcher), reader));
        Ok(dispatcher)
    }

    /// The broker's URL, without credentials.
    pub fn url(&self) -> &str {
        self.link.url()
    }

    pub fn names(&self) -> &FarmNames {
        &self.names
    }

    pub fn config(&self) -> &WorkQueueConfig {
        &self.config
    }

    /// Starts routing the reports of `job_id` to the answer.
    pub fn watch(self: &Arc<Self>, job_id: &str) -> JobReports {
        // Room for every task of the job in flight, twice (a repeat each).
        let (sender, reports) = mpsc::channel(2 * self.config.job_tasks_in_flight.max(1) as usize);
        self.waiters.lock().insert(job_id.to_owned(), sender);
        JobReports { reports, job_id: job_id.to_owned(), dispatcher: Arc::clone(self) }
    }

    /// Publishes `task`, waiting while the stream is full; its entry id.
    pub async fn publish(&self, task: &SegmentTask, cancel: &AtomicBool) -> Result<String, FarmError> {
        let stream = self.names.tasks();
        loop {
            let length = self.link.run(redis::cmd("XLEN").arg(&stream), cancel).await?;
            if super::stream::int(&length).unwrap_or(0) < self.config.max_stream_length as i64 {
                break;
            }
            if cancel.load(Ordering::Relaxed) {
                return Err(FarmError::Stopped);
            }
            tokio::time::sleep(ROOM_POLL).await;
        }
        let fields = entry_fields(&task.job_id, task.plan.index, task).map_err(|e| self.link.bad_reply("XADD", e.to_string()))?;
        let mut add = redis::cmd("XADD");
        add.arg(&stream).arg("*");
        for (name, value) in &fields {
            add.arg(*name).arg(value);
        }
        let id = self.link.run(&add, cancel).await?;
        super::stream::text(&id).ok_or_else(|| self.link.bad_reply("XADD", format!("{id:?}")))
    }

    /// Marks `job_id` cancelled for the workers and removes its tasks
    /// `task_ids` that no worker took yet.
    pub async fn cancel(&self, job_id: &str, task_ids: &[String]) -> Result<(), FarmError> {
        let never = AtomicBool::new(false);
        self.link.run(redis::cmd("SET").arg(self.names.cancelled(job_id)).arg("1").arg("EX").arg(CANCEL_MARK_SECS), &never).await?;
        if !task_ids.is_empty() {
            self.link.run(redis::cmd("XDEL").arg(self.names.tasks()).arg(task_ids), &never).await?;
        }
        Ok(())
    }

    /// Whether Redis answers now.
    pub async fn ping(&self) -> Result<(), FarmError> {
        tokio::time::timeout(Duration::from_millis(self.config.timeout_ms), self.link.ping())
            .await
            .unwrap_or_else(|_| Err(FarmError::Unreachable { url: self.link.url().to_owned(), detail: "no answer to PING in time".to_owned() }))
    }

    /// The queue as Redis sees it now (one attempt, no retry).
    pub async fn snapshot(&self) -> Result<QueueSnapshot, FarmError> {
        QueueSnapshot::read(&self.link, &self.names).await
    }

    /// Stops the result reader.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    async fn route(&self, entry: &Entry) {
        let Some(body) = entry.field("body") else {
            tracing::warn!(id = %entry.id, "a result without a body; dropped");
            return;
        };
        let report: SegmentReport = match serde_json::from_str(body) {
            Ok(report) => report,
            Err(error) => {
                tracing::warn!(id = %entry.id, %error, "an unreadable result; dropped");
                return;
            }
        };
        let sender = self.waiters.lock().get(&report.job_id).cloned();
        match sender {
            // Waits for room: the job reads its reports as they come.
            Some(sender) => {
                let _ = sender.send(report).await;
            }
            None => tracing::debug!(job_id = %report.job_id, segment = report.index, "a result for a job not being rendered here; dropped"),
        }
    }
}

/// The result reader: first what this server read before and did not
/// acknowledge (after a restart), then new reports, each routed and acknowledged.
async fn read_results(dispatcher: Arc<Dispatcher>, reader: RedisLink) {
    let stream = dispatcher.names.results();
    let consumer = "server";
    let mut from = "0";
    while !dispatcher.stop.load(Ordering::Relaxed) {
        let mut read = redis::cmd("XREADGROUP");
        read.arg("GROUP").arg(SERVERS_GROUP).arg(consumer).arg("COUNT").arg(READ_BATCH);
        if from == ">" {
            read.arg("BLOCK").arg(READ_BLOCK.as_millis() as u64);
        }
        read.arg("STREAMS").arg(&stream).arg(from);
        let answer = match reader.run(&read, &dispatcher.stop).await {
            Ok(answer) => answer,
            Err(FarmError::Stopped) => return,
            Err(error) => {
                tracing::warn!(%error, "cannot read the result stream");
                tokio::time::sleep(READ_BLOCK).await;
                continue;
            }
        };
        let entries = read_group_entries(&answer);
        if entries.is_empty() {
            from = ">";
            continue;
        }
        for entry in &entries {
            dispatcher.route(entry).await;
        }
        let ids: Vec<&str> = entries.iter().map(|entry| entry.id.as_str()).collect();
        let mut ack = redis::pipe();
        ack.atomic().cmd("XACK").arg(&stream).arg(SERVERS_GROUP).arg(&ids).ignore().cmd("XDEL").arg(&stream).arg(&ids).ignore();
        if let Err(error) = reader.run_pipeline(&ack, &dispatcher.stop).await {
            tracing::warn!(%error, "cannot acknowledge results");
        }
    }
}
