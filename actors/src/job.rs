//! Job: one actor per job, the only writer of that job's state. It asks the
//! store for each legal change (queued → processing → completed | failed |
//! cancelled; nothing leaves a terminal state), each written with its outbox
//! event in one transaction, one at a time. Its work — fetch the source,
//! render on the tree's pipeline, store the output — runs in its context;
//! any error or panic of that work becomes this job's typed failure
//! (`INTERNAL_ERROR` with the message for a panic), and the supervisor is
//! told so the slot is freed.

mod record;
mod request;

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use actix::prelude::*;
use motionrender_engine::render::{RenderControl, RenderError, RenderReport, RenderRequest};
use serde_json::json;
use tokio::sync::oneshot;

pub use record::{qc_key, timestamp, IllegalTransition, JobChange, JobRecord, JobStatus};
pub use request::{RenderJobRequest, RenderOptions};

use crate::metrics::JobOutcome;
use crate::engine::{events, input, options, ApiError, JobEvent, Shared};
use crate::notifier::Deliver;
use crate::panic_guard::{catching, fault_at};
use crate::store::StoreError;
use crate::supervisor::{JobEnded, Supervisor};

const MAILBOX: usize = 32;
/// Share of the progress bar the render takes; storing the output the rest.
const RENDER_SHARE: f64 = 95.0;
/// Least time between two progress records of a job.
const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// Where the job's actor is in its work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Waiting,
    Working,
    Ending,
}

/// The actor of one job.
pub struct Job {
    record: JobRecord,
    shared: Arc<Shared>,
    supervisor: Addr<Supervisor>,
    cancel: Arc<AtomicBool>,
    /// Set when the engine shuts down: the job is checkpointed, not failed.
    checkpoint: bool,
    phase: Phase,
    /// The job's writes, done one at a time in order.
    writes: VecDeque<Write>,
    writing: bool,
    /// When the job's actor was made (queued, or resumed after a restart).
    queued_at: Instant,
    /// When its work started (it got a run slot).
    started_at: Option<Instant>,
}

/// One write of the job's actor.
#[derive(Debug)]
enum Write {
    /// A change of state; the answer says whether the store took it.
    Change(JobChange, Option<oneshot::Sender<bool>>),
    /// Free the slot and stop; `forget` removes the job's segments and work folder.
    Leave { forget: bool },
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job").field("job_id", &self.record.job_id).field("phase", &self.phase).finish()
    }
}

impl Job {
    pub(crate) fn new(record: JobRecord, shared: Arc<Shared>, supervisor: Addr<Supervisor>) -> Self {
        Self { record, shared, supervisor, cancel: Arc::new(AtomicBool::new(false)),
            checkpoint: false,
            phase: Phase::Waiting,
            writes: VecDeque::new(),
            writing: false,
            queued_at: Instant::now(),
            started_at: None,
        }
    }

    fn id(&self) -> String {
        self.record.job_id.clone()
    }

    /// Asks the store for `change`; on success the job's record, the live
    /// event and (when there is one) the callback follow it.
    fn change(&mut self, change: JobChange, ctx: &mut Context<Self>) {
        self.write(Write::Change(change, None), ctx);
    }

    /// Queues a write; the job's writes run one at a time, in order, and no
    /// message of the job is handled while one runs.
    fn write(&mut self, write: Write, ctx: &mut Context<Self>) {
        self.writes.push_back(write);
        if !self.writing {
            self.next_write(ctx);
        }
    }

    fn next_write(&mut self, ctx: &mut Context<Self>) {
        let Some(write) = self.writes.pop_front() else {
            self.writing = false;
            return;
        };
        self.writing = true;
        match write {
            Write::Change(change, answer) => {
                let store = self.shared.store.clone();
                let id = self.id();
                let cancelling = change == JobChange::Cancel;
                ctx.wait(async move { store.apply(&id, change).await }.into_actor(self).map(move |applied, job, ctx| {
                    let taken = job.applied(applied);
                    if let Some(answer) = answer {
                        let _ = answer.send(taken);
                    }
                    if taken && cancelling {
                        tracing::info!(job_id = %job.record.job_id, "job cancelled");
                        if job.phase == Phase::Waiting {
                            job.phase = Phase::Ending;
                            job.writes.push_back(Write::Leave { forget: true });
                        }
                    }
                    job.next_write(ctx);
                }));
            }
            Write::Leave { forget } => {
                let (shared, id, dir) = (Arc::clone(&self.shared), self.id(), job_dir(&self.shared, &self.record.job_id));
                let (supervisor, completed, output_key) = (self.supervisor.clone(), self.record.status == JobStatus::Completed, self.record.output_key.clone());
                ctx.wait(
                    async move {
                        if forget && fault_at(&format!("slow_cleanup:{id}")) {
                            // The window a kill -9 lands in: the job has ended, its folder is still there.
                            tokio::time::sleep(std::time::Duration::from_secs(60)).await;
                        }
                        if forget {
                            if let Err(error) = shared.store.drop_segments(&id).await {
                                tracing::warn!(job_id = %id, %error, "cannot forget the job's segments");
                            }
                            let _ = tokio::task::spawn_blocking(move || std::fs::remove_dir_all(dir)).await;
                            // A job that did not complete keeps no output (a cancel may have
                            // won the race with its upload).
                            if !completed {
                                let _ = shared.storage.delete(&qc_key(&output_key)).await;
                                let _ = shared.storage.delete(&output_key).await;
                            }
                        }
                        let _ = supervisor.send(JobEnded(id)).await;
                    }
                    .into_actor(self)
                    .map(|(), _, ctx| ctx.stop()),
                );
            }
        }
    }

    fn applied(&mut self, applied: Result<(JobRecord, Option<crate::store::OutboxEvent>), StoreError>) -> bool {
        match applied {
            Ok((record, event)) => {
                self.record = record;
                // A live event is the callback's payload, with its event id when it has one.
                let payload = match &event {
                    Some(event) => {
                        let mut payload = event.payload.clone();
                        payload["event_id"] = event.event_id.clone().into();
                        payload
                    }
                    None => events::payload(&self.record),
                };
                let _ = self.shared.events.send(JobEvent { job_id: self.id(), payload });
                if event.is_some() {
                    self.shared.metrics.callbacks_enqueued(1);
                }
                if event.is_some() && self.shared.notifier.try_send(Deliver(self.id())).is_err() {
                    tracing::warn!(job_id = %self.record.job_id, "the notifier's mailbox is full; the event waits in the outbox");
                }
                true
            }
            Err(StoreError::Illegal(refused)) => {
                tracing::debug!(job_id = %self.record.job_id, %refused, "change refused");
                false
            }
            Err(error) => {
                tracing::error!(job_id = %self.record.job_id, %error, "cannot record a change of the job");
                false
            }
        }
    }

    /// The work has ended: record the outcome, clean up, free the slot.
    fn ended(&mut self, outcome: Result<Result<Stored, ApiError>, String>, ctx: &mut Context<Self>) {
        self.phase = Phase::Ending;
        let id = self.id();
        if self.checkpoint && self.record.status == JobStatus::Processing {
            tracing::info!(job_id = %id, "render stopped for shutdown; it resumes on the next start");
            self.leave(ctx, false);
            return;
        }
        let took = self.started_at.map(|started| started.elapsed()).unwrap_or_default();
        let (metrics, alerts) = (Arc::clone(&self.shared.metrics), self.shared.alerts.clone());
        match outcome {
            _ if self.record.status == JobStatus::Cancelled => metrics.job_ended(JobOutcome::Cancelled, took),
            Ok(Ok(stored)) => {
                metrics.render_finished(&stored.report);
                metrics.job_ended(JobOutcome::Completed, took);
                let mut job_metrics = job_metrics(&self.shared, &self.record, &stored.report, stored.size);
                if let Some(used) = &stored.farm_use {
                    job_metrics["farm"] = serde_json::to_value(used).unwrap_or_default();
                }
                alerts.render_finished(&id, job_metrics["drop_rate"].as_f64().unwrap_or(0.0));
                self.change(JobChange::Complete { download_url: stored.download_url, metrics: job_metrics }, ctx);
                tracing::info!(job_id = %id, wall_seconds = stored.report.wall_seconds, "job completed");
            }
            Ok(Err(error)) => {
                metrics.job_failed(&error.error_code);
                metrics.job_ended(JobOutcome::Failed, took);
                alerts.job_failed(&id, &error.error_code, &error.error_message);
                tracing::warn!(job_id = %id, code = %error.error_code, message = %error.error_message, "job failed");
                self.change(JobChange::Fail { code: error.error_code, message: error.error_message, details: error.details }, ctx);
            }
            Err(panic) => {
                metrics.job_panicked();
                metrics.job_failed("INTERNAL_ERROR");
                metrics.job_ended(JobOutcome::Failed, took);
                tracing::error!(job_id = %id, panic = %panic, "the job's work panicked");
                let message = format!("the job's work panicked: {panic}");
                alerts.job_failed(&id, "INTERNAL_ERROR", &message);
                self.change(JobChange::Fail { code: "INTERNAL_ERROR".into(), message, details: json!({}) }, ctx);
            }
        }
        self.leave(ctx, true);
    }

    /// Frees the slot and stops (after the writes queued before).
    fn leave(&mut self, ctx: &mut Context<Self>, forget: bool) {
        self.write(Write::Leave { forget }, ctx);
    }
}

impl Actor for Job {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(MAILBOX);
    }
}

/// Start the job's work (the supervisor gave it a slot).
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct Run;

impl Handler<Run> for Job {
    type Result = ();

    fn handle(&mut self, _: Run, ctx: &mut Self::Context) {
        if self.phase != Phase::Waiting || self.record.status.is_finished() {
            return;
        }
        self.phase = Phase::Working;
        self.started_at = Some(Instant::now());
        self.shared.metrics.job_started(self.queued_at.elapsed());
        // A job resumed after a restart is processing already.
        if self.record.status == JobStatus::Queued {
            self.change(JobChange::Start, ctx);
        }
        // Every event of the work carries the job's id through its span.
        let span = tracing::info_span!("job", job_id = %self.record.job_id);
        let work = tracing::Instrument::instrument(work(Arc::clone(&self.shared), self.record.clone(), Arc::clone(&self.cancel), ctx.address()), span);
        let me = ctx.address();
        // The outcome comes back as a message, so its writes run in a handler's turn.
        ctx.spawn(catching(work).into_actor(self).map(move |outcome, _, _| tell(me, Ended(outcome))));
    }
}

/// Progress of the render, from the job's work.
#[derive(Debug, Message)]
#[rtype(result = "()")]
struct Progress {
    progress: f64,
    metrics: serde_json::Value,
}

impl Handler<Progress> for Job {
    type Result = ();

    fn handle(&mut self, Progress { progress, metrics }: Progress, ctx: &mut Self::Context) {
        if self.phase == Phase::Working && self.record.status == JobStatus::Processing && !self.cancel.load(Ordering::Relaxed) {
            self.change(JobChange::Progress { progress, metrics }, ctx);
        }
    }
}

/// Cancel the job; answers whether it was cancelled (false: it had ended).
#[derive(Debug, Message)]
#[rtype(result = "bool")]
pub struct Cancel;

impl Handler<Cancel> for Job {
    type Result = ResponseFuture<bool>;

    fn handle(&mut self, _: Cancel, ctx: &mut Self::Context) -> Self::Result {
        if self.record.status.is_finished() || self.phase == Phase::Ending {
            return Box::pin(async { false });
        }
        self.cancel.store(true, Ordering::Relaxed);
        let (answer, answered) = oneshot::channel();
        // In line with the job's other writes: whichever the store takes first wins.
        self.write(Write::Change(JobChange::Cancel, Some(answer)), ctx);
        Box::pin(async move { answered.await.unwrap_or(false) })
    }
}

/// The engine is shutting down: stop the work and keep what it finished.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct Checkpoint;

impl Handler<Checkpoint> for Job {
    type Result = ();

    fn handle(&mut self, _: Checkpoint, ctx: &mut Self::Context) {
        self.checkpoint = true;
        self.cancel.store(true, Ordering::Relaxed);
        if self.phase == Phase::Waiting {
            self.phase = Phase::Ending;
            self.leave(ctx, false);
        }
    }
}

/// Sends `message` to the job's own actor, waiting for room in its mailbox.
fn tell<M>(job: Addr<Job>, message: M)
where
    M: Message<Result = ()> + Send + 'static,
    Job: Handler<M>,
{
    actix::spawn(async move {
        let _ = job.send(message).await;
    });
}

/// The job's work ended: with its outcome, or a panic's message.
#[derive(Message)]
#[rtype(result = "()")]
struct Ended(Result<Result<Stored, ApiError>, String>);

impl Handler<Ended> for Job {
    type Result = ();

    fn handle(&mut self, Ended(outcome): Ended, ctx: &mut Self::Context) {
        self.ended(outcome, ctx);
    }
}

/// A render stored under the job's key.
struct Stored {
    report: RenderReport,
    download_url: String,
    size: u64,
    /// What the farm did, when the job rendered on it.
    farm_use: Option<crate::farm::FarmUse>,
}

fn job_dir(shared: &Shared, job_id: &str) -> PathBuf {
    crate::work_folders::job_dir(Path::new(&shared.config.paths.work_dir), job_id)
}

/// The job's work: fetch, render, store. Progress goes to the actor.
async fn work(shared: Arc<Shared>, record: JobRecord, cancel: Arc<AtomicBool>, actor: Addr<Job>) -> Result<Stored, ApiError> {
    let job_id = record.job_id.clone();
    let dir = job_dir(&shared, &job_id);
    let request = shared.store.request(&job_id).await?.ok_or_else(|| ApiError::internal(format!("job {job_id} has no stored request")))?;
    let config = &shared.config;
    let scenario = input::load_scenario(&request.scenario)?;
    let settings = options::render_settings(config, &request.options)?;
    std::fs::create_dir_all(&dir).map_err(|e| ApiError::new(500, "STORAGE_ACCESS_ERROR", format!("cannot create {}: {e}", dir.display())))?;
    let video = input::fetch_video(&shared.policy, &shared.storage, &request.video_url, &dir, &cancel).await?;
    let render = RenderRequest {
        video,
        scenario,
        out: dir.join("output.mp4"),
        work_dir: dir.clone(),
        plugin_dir: config.paths.plugin_dir().map(PathBuf::from),
        font_dir: config.paths.font_dir().map(PathBuf::from),
        settings,
    };
    let finished: BTreeMap<_, _> = shared.store.segments(&job_id).await?.into_iter().collect();
    let (store, hook_job) = (shared.store.clone(), job_id.clone());
    let control = RenderControl {
        cancel: Arc::clone(&cancel),
        segments_dir: Some(dir.join("segments")),
        finished,
        on_segment: Some(Arc::new(move |index, segment| {
            let (store, job_id, segment) = (store.clone(), hook_job.clone(), segment.clone());
            actix::spawn(async move {
                if let Err(error) = store.put_segment(&job_id, index, segment).await {
                    tracing::warn!(job_id = %job_id, segment = index, %error, "cannot record a finished segment");
                }
            });
        })),
        pressure: None,
        on_capture: None,
    };
    let started = Instant::now();
    let mut last = Instant::now();
    let fault = format!("job_panic:{job_id}");
    let mut progress = move |done: u64, total: u64| {
        if done > 0 && fault_at(&fault) {
            panic!("injected fault: {fault}");
        }
        if last.elapsed() < PROGRESS_EVERY && done < total {
            return;
        }
        last = Instant::now();
        let fps = done as f64 / started.elapsed().as_secs_f64().max(1e-3);
        let metrics = json!({
            "frames_processed": done,
            "frames_total": total,
            "fps": fps,
            "eta_seconds": (total.saturating_sub(done)) as f64 / fps.max(1e-3),
        });
        // Progress is lossy: a full mailbox skips one update.
        let _ = actor.try_send(Progress { progress: RENDER_SHARE * done as f64 / total.max(1) as f64, metrics });
    };
    let (report, farm_use) = match &shared.farm {
        Some(farm) => {
            let (report, used) = crate::farm::render_on_farm(&shared, farm, &job_id, &request, &render, control, &mut progress).await?;
            (report, Some(used))
        }
        None => (shared.render.render(&render, control, &mut progress).await.map_err(render_failure)?, None),
    };
    if cancel.load(Ordering::Relaxed) {
        return Err(render_failure(RenderError::Cancelled));
    }
    let download_url = store_output(&shared, &record, &dir, &report, &cancel).await?;
    let size = std::fs::metadata(dir.join("output.mp4")).map_or(0, |m| m.len());
    Ok(Stored { report, download_url, size, farm_use })
}

pub(crate) fn render_failure(error: RenderError) -> ApiError {
    let status = match error.code() {
        "INVALID_VIDEO_FORMAT" | "VIDEO_NOT_FOUND" | "PLUGIN_NOT_FOUND" | "ENCODER_UNAVAILABLE" => 422,
        _ => 500,
    };
    let code = match error.code() {
        "FFMPEG_FAILED" | "FFMPEG_UNAVAILABLE" | "PROBE_FAILED" => "FFMPEG_ERROR",
        "VIDEO_NOT_FOUND" => "INVALID_VIDEO_URL",
        "IO_ERROR" => "STORAGE_ACCESS_ERROR",
        "INVALID_ARGUMENT" => "INVALID_RENDER_OPTIONS",
        other => other,
    };
    ApiError::new(status, code, error.to_string())
}

/// Stores the output and its QC report under the job's key (local folder or
/// S3); returns the download URL. A failed or cancelled upload leaves
/// nothing behind.
async fn store_output(shared: &Shared, job: &JobRecord, dir: &Path, report: &RenderReport, cancel: &Arc<AtomicBool>) -> Result<String, ApiError> {
    let storage = &shared.storage;
    let qc = qc_path(&dir.join("output.mp4"));
    let text = serde_json::to_string_pretty(report).map_err(|e| ApiError::internal(e.to_string()))?;
    std::fs::write(&qc, text).map_err(|e| ApiError::new(500, "STORAGE_ACCESS_ERROR", format!("cannot write {}: {e}", qc.display())))?;
    // The upload watches the job's cancel flag.
    let (cancelled, watching) = tokio::sync::watch::channel(false);
    let flag = Arc::clone(cancel);
    let watcher = actix::spawn(async move {
        while !flag.load(Ordering::Relaxed) {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let _ = cancelled.send(true);
    });
    let stored = async {
        storage.put_file(&qc_key(&job.output_key), &qc, &watching).await?;
        storage.put_file(&job.output_key, &dir.join("output.mp4"), &watching).await?;
        storage.download_url(&job.output_key).await
    }
    .await;
    watcher.abort();
    match stored {
        Ok(url) => Ok(url.unwrap_or_else(|| format!("{}/api/render/{}/download", shared.public_base_url, job.job_id))),
        Err(error) => {
            let _ = storage.delete(&qc_key(&job.output_key)).await;
            let _ = storage.delete(&job.output_key).await;
            Err(ApiError::new(502, error.code(), error.to_string()))
        }
    }
}

/// The QC report beside an output: `OUT.mp4.qc.json` next to `OUT.mp4`.
pub fn qc_path(output: &Path) -> PathBuf {
    let mut name = output.as_os_str().to_owned();
    name.push(".qc.json");
    PathBuf::from(name)
}

fn job_metrics(shared: &Shared, job: &JobRecord, report: &RenderReport, size: u64) -> serde_json::Value {
    let frames = &report.frames;
    let dropped = frames.dropped_total();
    json!({
        "frames_processed": frames.output,
        "frames_captured": frames.captured,
        "frames_reused": frames.reused,
        "frames_empty": frames.empty,
        "frames_dropped": dropped,
        "drop_rate": dropped as f64 / frames.output.max(1) as f64,
        "fps": frames.output as f64 / report.wall_seconds.max(1e-3),
        "memory_peak_mb": (report.peak_memory.engine_bytes + report.peak_memory.chromium_bytes) / (1024 * 1024),
        "file_size": size,
        "duration": report.output_duration_seconds,
        "stages": report.stages,
        "segments": report.segments,
        "segments_reused": report.segments_reused,
        "browsers_launched": report.browsers_launched,
        "browsers_reused": report.browsers_reused,
        "retries": report.retries.len(),
        "qc_report_url": format!("{}/api/render/{}/qc", shared.public_base_url, job.job_id),
    })
}
