//! A render worker: claims segment tasks from the task stream in the
//! workers' consumer group — first any task another worker left idle longer
//! than `work_queue.claim_idle_ms` (`XAUTOCLAIM`), then new ones
//! (`XREADGROUP`) — renders the segment on its own browser pool through the
//! same path as a local render ([`RenderActors::render_one_segment`]),
//! uploads it to S3 under the task's key, and reports and acknowledges in
//! one transaction. While rendering it heartbeats the task (an `XCLAIM` by
//! its owner resets the idle time) and watches the job's cancel mark. A
//! task delivered more than `work_queue.max_deliveries` times is reported
//! as failed instead of rendered again. A stop (SIGTERM) lets the task in
//! hand finish (up to `work_queue.drain_secs`, after which it is left for
//! another worker to reclaim) and takes no new one.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use motionrender_config::Config;
use motionrender_engine::render::{RenderControl, RenderError, RenderRequest};
use motionrender_engine::storage::Storage;

use super::link::RedisLink;
use super::names::{FarmNames, WORKERS_GROUP};
use super::status::now_ms;
use super::stream::{autoclaimed, int, pending_deliveries, read_group_entries, Entry};
use super::task::{entry_fields, SegmentOutcome, SegmentReport, SegmentTask};
use super::FarmError;
use crate::engine::{input, options, ApiError};
use crate::panic_guard::{catching, fault_at};
use crate::pipeline::RenderActors;

/// How long one blocking read for new tasks waits (the stop flag is looked at in between).
const READ_BLOCK: Duration = Duration::from_millis(1000);

/// What a worker did, for its exit line.
#[derive(Debug, Default, Clone, Copy)]
pub struct WorkerSummary {
    pub rendered: u64,
    pub failed: u64,
    pub reclaimed: u64,
    pub dropped: u64,
}

/// A render worker on one host.
#[derive(Debug)]
pub struct Worker {
    config: Config,
    names: FarmNames,
    name: String,
    link: RedisLink,
    reader: RedisLink,
    /// The heartbeat's own connection (it runs beside the render).
    beats: Arc<RedisLink>,
    actors: RenderActors,
    storage: Storage,
    /// Set by SIGTERM: take no new task.
    stop: Arc<AtomicBool>,
}

/// A claimed task.
struct Claimed {
    entry: Entry,
    reclaimed: bool,
}

impl Worker {
    /// A worker named `work_queue.worker_name` (default `HOST-PID`) on the
    /// broker `work_queue.url`, storing segments in the `[s3]` bucket.
    pub fn new(config: Config, actors: RenderActors, storage: Storage, stop: Arc<AtomicBool>) -> Result<Self, FarmError> {
        let queue = &config.work_queue;
        let url = queue.url().ok_or_else(|| FarmError::BadUrl { url: String::new(), detail: "a worker needs --queue redis://HOST:PORT/DB".to_owned() })?;
        if !storage.is_s3() {
            return Err(FarmError::NoS3("set s3.bucket (and s3.endpoint for an S3-compatible server)".to_owned()));
        }
        let names = FarmNames::new(queue);
        let groups = vec![(names.tasks(), WORKERS_GROUP.to_owned())];
        let (timeout, backoff) = (Duration::from_millis(queue.timeout_ms), Duration::from_millis(queue.max_backoff_ms));
        let link = RedisLink::open(url, timeout, Duration::ZERO, backoff)?.with_groups(groups.clone());
        let reader = RedisLink::open(url, timeout, READ_BLOCK, backoff)?.with_groups(groups);
        let beats = Arc::new(RedisLink::open(url, timeout, Duration::ZERO, backoff)?);
        let name = queue.worker_name().map_or_else(default_name, str::to_owned);
        Ok(Self { config, names, name, link, reader, beats, actors, storage, stop })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Takes tasks until stopped.
    pub async fn run(&self) -> WorkerSummary {
        let mut summary = WorkerSummary::default();
        if let Err(error) = self.link.ensure_groups().await {
            tracing::warn!(%error, "cannot make the consumer group yet; retrying as tasks are read");
        }
        tracing::info!(worker = %self.name, url = %self.link.url(), "worker started");
        while !self.stop.load(Ordering::Relaxed) {
            self.beat().await;
            let claimed = match self.claim().await {
                Ok(Some(claimed)) => claimed,
                Ok(None) => continue,
                Err(FarmError::Stopped) => break,
                Err(error) => {
                    tracing::warn!(%error, "cannot claim a task");
                    tokio::time::sleep(READ_BLOCK).await;
                    continue;
                }
            };
            summary.reclaimed += u64::from(claimed.reclaimed);
            match self.handle(claimed).await {
                Handled::Rendered => summary.rendered += 1,
                Handled::Failed => summary.failed += 1,
                Handled::Dropped => summary.dropped += 1,
            }
        }
        let never = AtomicBool::new(true);
        let _ = self.link.run(redis::cmd("HDEL").arg(self.names.heartbeats()).arg(&self.name), &never).await;
        tracing::info!(worker = %self.name, rendered = summary.rendered, failed = summary.failed, reclaimed = summary.reclaimed, "worker stopped");
        summary
    }

    /// A task: one another worker left idle too long, else a new one.
    async fn claim(&self) -> Result<Option<Claimed>, FarmError> {
        let tasks = self.names.tasks();
        let idle = self.config.work_queue.claim_idle_ms;
        let mut reclaim = redis::cmd("XAUTOCLAIM");
        reclaim.arg(&tasks).arg(WORKERS_GROUP).arg(&self.name).arg(idle).arg("0-0").arg("COUNT").arg(1);
        let answer = self.link.run(&reclaim, &self.stop).await?;
        if let Some(entry) = autoclaimed(&answer).into_iter().find(|entry| !entry.fields.is_empty()) {
            return Ok(Some(Claimed { entry, reclaimed: true }));
        }
        let mut read = redis::cmd("XREADGROUP");
        read.arg("GROUP").arg(WORKERS_GROUP).arg(&self.name).arg("COUNT").arg(1).arg("BLOCK").arg(READ_BLOCK.as_millis() as u64);
        read.arg("STREAMS").arg(&tasks).arg(">");
        let answer = self.reader.run(&read, &self.stop).await?;
        Ok(read_group_entries(&answer).into_iter().find(|entry| !entry.fields.is_empty()).map(|entry| Claimed { entry, reclaimed: false }))
    }

    async fn handle(&self, Claimed { entry, reclaimed }: Claimed) -> Handled {
        let task: SegmentTask = match entry.field("body").map(serde_json::from_str) {
            Some(Ok(task)) => task,
            other => {
                let detail = match other {
                    Some(Err(error)) => error.to_string(),
                    _ => "no body".to_owned(),
                };
                tracing::warn!(id = %entry.id, %detail, "an unreadable task; removed");
                self.finish(&entry.id, None).await;
                return Handled::Dropped;
            }
        };
        let (job_id, index) = (task.job_id.clone(), task.plan.index);
        if self.is_cancelled(&job_id).await {
            tracing::info!(job_id, segment = index, "task of a cancelled job dropped");
            self.finish(&entry.id, None).await;
            return Handled::Dropped;
        }
        let deliveries = self.deliveries(&entry.id).await;
        let report = |outcome| SegmentReport { job_id: job_id.clone(), index, worker: self.name.clone(), deliveries, reclaimed, outcome };
        let limit = u64::from(self.config.work_queue.max_deliveries);
        if deliveries > limit {
            let message = format!(
                "segment {index} of job {job_id} was delivered {deliveries} times (work_queue.max_deliveries = {limit}); each worker that took it stopped before finishing it"
            );
            tracing::warn!(job_id, segment = index, deliveries, "delivery limit passed; failing the job");
            self.finish(&entry.id, Some(report(SegmentOutcome::Failed { code: "TASK_DELIVERY_LIMIT_EXCEEDED".to_owned(), message }))).await;
            return Handled::Failed;
        }
        if fault_at(&format!("worker_crash:{job_id}")) {
            tracing::error!(job_id, segment = index, "injected fault: the worker crashes");
            std::process::abort();
        }
        tracing::info!(job_id, segment = index, deliveries, reclaimed, "rendering segment");
        let cancel = Arc::new(AtomicBool::new(false));
        let beating = Arc::new(AtomicBool::new(true));
        let heartbeat = actix::spawn(heartbeat(Arc::clone(&self.beats), self.names.clone(), self.name.clone(), entry.id.clone(), job_id.clone(), self.heartbeat_every(), Arc::clone(&cancel), Arc::clone(&beating), Arc::clone(&self.stop), Duration::from_secs(self.config.work_queue.drain_secs)));
        let outcome = catching(self.render(&task, &cancel)).await.unwrap_or_else(|panic| Err(ApiError::internal(format!("the segment's render panicked: {panic}"))));
        beating.store(false, Ordering::Relaxed);
        heartbeat.abort();
        match outcome {
            Ok(rendered) => {
                if self.is_cancelled(&job_id).await {
                    let _ = self.storage.delete(&task.segment_key).await;
                    self.finish(&entry.id, None).await;
                    return Handled::Dropped;
                }
                self.finish(&entry.id, Some(report(rendered))).await;
                Handled::Rendered
            }
            Err(_) if cancel.load(Ordering::Relaxed) && self.stop.load(Ordering::Relaxed) && !self.is_cancelled(&job_id).await => {
                // Stopped for shutdown: the task stays pending for another worker.
                tracing::info!(job_id, segment = index, "render stopped for shutdown; the task is left to be reclaimed");
                Handled::Dropped
            }
            Err(_) if cancel.load(Ordering::Relaxed) => {
                tracing::info!(job_id, segment = index, "render stopped: the job was cancelled");
                let _ = self.storage.delete(&task.segment_key).await;
                self.finish(&entry.id, None).await;
                Handled::Dropped
            }
            Err(error) => {
                tracing::warn!(job_id, segment = index, code = %error.error_code, message = %error.error_message, "segment failed");
                self.finish(&entry.id, Some(report(SegmentOutcome::Failed { code: error.error_code, message: error.error_message }))).await;
                Handled::Failed
            }
        }
    }

    /// Fetches the source (once per job), renders the segment and uploads it.
    async fn render(&self, task: &SegmentTask, cancel: &Arc<AtomicBool>) -> Result<SegmentOutcome, ApiError> {
        let dir = self.job_dir(&task.job_id);
        clear_other_jobs(&self.jobs_dir(), &dir);
        std::fs::create_dir_all(&dir).map_err(|e| ApiError::new(500, "STORAGE_ACCESS_ERROR", format!("cannot create {}: {e}", dir.display())))?;
        let fetch_started = Instant::now();
        let source = dir.join("source");
        if !source.is_file() {
            let partial = dir.join(format!("source.{}.part", std::process::id()));
            self.storage
                .get_file(&task.source_key, &partial, u64::MAX)
                .await
                .map_err(|e| ApiError::new(502, e.code(), format!("cannot fetch the job's source {}: {e}", task.source_key)))?;
            std::fs::rename(&partial, &source).map_err(|e| ApiError::new(500, "STORAGE_ACCESS_ERROR", format!("cannot keep {}: {e}", source.display())))?;
        }
        let fetch_seconds = fetch_started.elapsed().as_secs_f64();
        let mut settings = options::render_settings(&self.config, &task.request.options)?;
        settings.pages = 1;
        settings.segment_seconds = task.segment_seconds;
        let request = RenderRequest {
            video: source,
            scenario: input::load_scenario(&task.request.scenario)?,
            out: dir.join("unused.mp4"),
            work_dir: dir.clone(),
            plugin_dir: self.config.paths.plugin_dir().map(PathBuf::from),
            font_dir: self.config.paths.font_dir().map(PathBuf::from),
            settings,
        };
        let control = RenderControl { cancel: Arc::clone(cancel), segments_dir: Some(dir.join("segments")), ..RenderControl::default() };
        let started = Instant::now();
        let (segment, path, retries) = self.actors.render_one_segment(&request, control, task.plan).await.map_err(crate::job::render_failure)?;
        let render_seconds = started.elapsed().as_secs_f64();
        if cancel.load(Ordering::Relaxed) {
            return Err(crate::job::render_failure(RenderError::Cancelled));
        }
        let uploaded = Instant::now();
        let (_never, watching) = tokio::sync::watch::channel(false);
        self.storage.put_file(&task.segment_key, &path, &watching).await.map_err(|e| ApiError::new(502, e.code(), format!("cannot upload segment {}: {e}", task.plan.index)))?;
        let _ = std::fs::remove_file(&path);
        Ok(SegmentOutcome::Rendered { segment, retries: retries.len() as u32, render_seconds, upload_seconds: uploaded.elapsed().as_secs_f64(), fetch_seconds })
    }

    /// Reports (when there is something to say), acknowledges and removes
    /// the task, in one transaction; retried until Redis takes it.
    async fn finish(&self, id: &str, report: Option<SegmentReport>) {
        let tasks = self.names.tasks();
        let mut pipeline = redis::pipe();
        pipeline.atomic();
        if let Some(report) = &report {
            match entry_fields(&report.job_id, report.index, report) {
                Ok(fields) => {
                    let add = pipeline.cmd("XADD").arg(self.names.results()).arg("*");
                    for (name, value) in &fields {
                        add.arg(*name).arg(value);
                    }
                    add.ignore();
                }
                Err(error) => tracing::error!(%error, "cannot encode a report"),
            }
        }
        pipeline.cmd("XACK").arg(&tasks).arg(WORKERS_GROUP).arg(id).ignore();
        pipeline.cmd("XDEL").arg(&tasks).arg(id).ignore();
        let never = AtomicBool::new(false);
        if let Err(error) = self.link.run_pipeline(&pipeline, &never).await {
            tracing::error!(%error, id, "cannot report and acknowledge a task; it will be delivered again");
        }
    }

    async fn deliveries(&self, id: &str) -> u64 {
        let answer = self.link.run(redis::cmd("XPENDING").arg(self.names.tasks()).arg(WORKERS_GROUP).arg(id).arg(id).arg(1), &self.stop).await;
        answer.ok().and_then(|answer| pending_deliveries(&answer).first().map(|(_, _, _, count)| *count)).unwrap_or(1)
    }

    async fn is_cancelled(&self, job_id: &str) -> bool {
        let never = AtomicBool::new(false);
        let answer = self.link.run(redis::cmd("EXISTS").arg(self.names.cancelled(job_id)), &never).await;
        answer.ok().and_then(|answer| int(&answer)).unwrap_or(0) > 0
    }

    async fn beat(&self) {
        let never = AtomicBool::new(true);
        if let Err(error) = self.link.run(redis::cmd("HSET").arg(self.names.heartbeats()).arg(&self.name).arg(now_ms()), &never).await {
            tracing::debug!(%error, "heartbeat not sent");
        }
    }

    fn heartbeat_every(&self) -> Duration {
        Duration::from_millis(self.config.work_queue.heartbeat_ms)
    }

    /// This worker's own folder (workers on one host may share `paths.work_dir`).
    fn jobs_dir(&self) -> PathBuf {
        Path::new(&self.config.paths.work_dir).join("workers").join(&self.name)
    }

    fn job_dir(&self, job_id: &str) -> PathBuf {
        self.jobs_dir().join(job_id)
    }
}

enum Handled {
    Rendered,
    Failed,
    Dropped,
}

/// While the render runs: every `every`, reset the task's idle time (so no
/// other worker reclaims it), record the worker's heartbeat, and set
/// `cancel` when the job was cancelled or the drain time after a stop is over.
#[allow(clippy::too_many_arguments)]
async fn heartbeat(
    link: Arc<RedisLink>,
    names: FarmNames,
    worker: String,
    id: String,
    job_id: String,
    every: Duration,
    cancel: Arc<AtomicBool>,
    beating: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    drain: Duration,
) {
    let mut stopped_at: Option<Instant> = None;
    while beating.load(Ordering::Relaxed) {
        tokio::time::sleep(every).await;
        let once = |command: redis::Cmd| {
            let link = Arc::clone(&link);
            async move { tokio::time::timeout(every.max(Duration::from_millis(500)), link.once(&command)).await.ok().and_then(Result::ok) }
        };
        let _ = once(redis::cmd("XCLAIM").arg(names.tasks()).arg(WORKERS_GROUP).arg(&worker).arg(0).arg(&id).arg("JUSTID").clone()).await;
        let _ = once(redis::cmd("HSET").arg(names.heartbeats()).arg(&worker).arg(now_ms()).clone()).await;
        let cancelled = once(redis::cmd("EXISTS").arg(names.cancelled(&job_id)).clone()).await.and_then(|v| int(&v)).unwrap_or(0) > 0;
        if stop.load(Ordering::Relaxed) {
            stopped_at.get_or_insert_with(Instant::now);
        }
        let drained = stopped_at.is_some_and(|at| at.elapsed() >= drain);
        if cancelled || drained {
            tracing::info!(job_id, cancelled, drained, "stopping the segment's render");
            cancel.store(true, Ordering::Relaxed);
        }
    }
}

/// Removes the folders of other jobs under `jobs` (one job's source is kept at a time).
fn clear_other_jobs(jobs: &Path, keep: &Path) {
    for entry in std::fs::read_dir(jobs).into_iter().flatten().flatten() {
        if entry.path() != keep {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// `HOST-PID`.
fn default_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_owned()).ok().filter(|h| !h.is_empty()).unwrap_or_else(|| "worker".to_owned());
    format!("{host}-{}", std::process::id())
}
