//! The engine handle a host starts, submits jobs to and shuts down; the HTTP
//! routes are one user of it, Rust code embedding the engine another.
//!
//! Jobs run on the engine's own multi-threaded runtime, at most
//! `server.max_running_jobs` at a time, in submission order; at most
//! `server.max_queued_jobs` wait. Every change of a job is written to the
//! durable store first, then announced (live events, callback outbox).

mod error;
mod events;
mod input;
mod options;
mod reaper;
mod runner;

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use motionrender_config::Config;
use tokio::sync::{broadcast, watch, Notify};

pub use error::ApiError;
pub use events::JobEvent;

use crate::job::{JobRecord, JobStatus, RenderJobRequest};
use crate::callbacks::{CallbackClient, DeliveryError};
use crate::store::Store;
use crate::url_policy::UrlPolicy;
use motionrender_engine::storage::Storage;

/// Live events kept for slow watchers before they miss some.
const EVENT_BUFFER: usize = 1024;

/// How to start an engine.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    pub config: Config,
    /// Base of the URLs the engine hands out (download links), e.g.
    /// `http://127.0.0.1:8090` or a host's `https://host/render-engine`.
    pub public_base_url: String,
}

/// The answer to a submit.
#[derive(Debug, Clone)]
pub struct Submitted {
    pub job: JobRecord,
    /// False when the job existed already (an idempotent repeat).
    pub created: bool,
}

/// A handle to a running engine; cheap to clone.
#[derive(Clone, Debug)]
pub struct Engine {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Queue {
    waiting: VecDeque<String>,
    running: HashMap<String, Running>,
}

#[derive(Debug, Clone)]
struct Running {
    cancel: Arc<AtomicBool>,
}

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct Counters {
    pub frames_captured: AtomicU64,
    pub frames_reused: AtomicU64,
    pub frames_empty: AtomicU64,
    pub frames_dropped: AtomicU64,
    pub queue_pushed: AtomicU64,
    pub queue_popped: AtomicU64,
    pub callbacks_delivered: AtomicU64,
    pub callbacks_abandoned: AtomicU64,
    pub callback_attempts: AtomicU64,
    pub render_seconds_millis: AtomicU64,
    /// Seconds per pipeline stage, summed over finished jobs (milliseconds).
    stage_millis: Mutex<std::collections::BTreeMap<&'static str, u64>>,
}

impl Counters {
    pub fn add_stage(&self, stage: &'static str, seconds: f64) {
        let mut stages = self.stage_millis.lock().unwrap_or_else(PoisonError::into_inner);
        *stages.entry(stage).or_default() += (seconds * 1000.0) as u64;
    }

    /// Seconds per stage so far.
    pub fn stage_seconds(&self) -> Vec<(&'static str, f64)> {
        let stages = self.stage_millis.lock().unwrap_or_else(PoisonError::into_inner);
        stages.iter().map(|(stage, millis)| (*stage, *millis as f64 / 1000.0)).collect()
    }
}

#[derive(Debug)]
struct Inner {
    config: Config,
    public_base_url: String,
    store: Store,
    runtime: Mutex<Option<tokio::runtime::Runtime>>,
    handle: tokio::runtime::Handle,
    queue: Mutex<Queue>,
    wake: Notify,
    events: broadcast::Sender<JobEvent>,
    accepting: AtomicBool,
    counters: Counters,
    policy: UrlPolicy,
    callbacks: CallbackClient,
    storage: Storage,
    /// Jobs whose outbox has a deliverer running.
    delivering: Mutex<HashSet<String>>,
    /// Set when the engine shuts down (stops callback retries).
    stopping: watch::Sender<bool>,
}

/// Why an engine could not start.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("cannot start the engine's runtime: {0}")]
    Runtime(std::io::Error),
    #[error("cannot build the callback client: {0}")]
    Callbacks(#[from] crate::callbacks::ClientBuildError),
    #[error("storage: {0}")]
    Storage(#[from] motionrender_engine::storage::StorageError),
}

impl Engine {
    /// Opens the store under `paths.data_dir`, resumes the jobs a previous
    /// run left queued or running, and starts taking jobs.
    pub fn start(options: EngineOptions) -> Result<Self, EngineError> {
        let config = options.config;
        let store = Store::open(&PathBuf::from(&config.paths.data_dir).join("jobs.redb"))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("motionrender-engine")
            .enable_all()
            .build()
            .map_err(EngineError::Runtime)?;
        // Built on a thread of its own: `start` may be called from a host's
        // async context, where blocking on a runtime is not allowed.
        let storage = {
            let (handle, config) = (runtime.handle().clone(), config.clone());
            std::thread::spawn(move || handle.block_on(Storage::from_config(&config)))
                .join()
                .map_err(|_| EngineError::Runtime(std::io::Error::other("storage set-up panicked")))??
        };
        let inner = Arc::new(Inner {
            storage,
            public_base_url: options.public_base_url.trim_end_matches('/').to_owned(),
            store,
            handle: runtime.handle().clone(),
            runtime: Mutex::new(Some(runtime)),
            queue: Mutex::new(Queue::default()),
            wake: Notify::new(),
            events: broadcast::channel(EVENT_BUFFER).0,
            accepting: AtomicBool::new(true),
            counters: Counters::default(),
            policy: UrlPolicy::new(&config.url_policy, &config.paths),
            callbacks: CallbackClient::new(&config.callbacks)?,
            delivering: Mutex::new(HashSet::new()),
            stopping: watch::channel(false).0,
            config,
        });
        let engine = Self { inner };
        let work_dir = PathBuf::from(&engine.inner.config.paths.work_dir);
        let _ = std::fs::create_dir_all(&work_dir);
        reaper::reap_browsers(&work_dir);
        engine.resume()?;
        let dispatcher = engine.clone();
        engine.inner.handle.spawn(async move { dispatcher.dispatch().await });
        Ok(engine)
    }

    /// Re-queues what a previous run left unfinished (running jobs first)
    /// and restarts the delivery of undelivered callbacks.
    fn resume(&self) -> Result<(), EngineError> {
        let jobs = self.inner.store.jobs()?;
        let mut queue = self.queue();
        for status in [JobStatus::Processing, JobStatus::Queued] {
            for job in jobs.iter().filter(|job| job.status == status) {
                tracing::info!(job = %job.job_id, status = status.as_str(), "resuming job");
                queue.waiting.push_back(job.job_id.clone());
            }
        }
        drop(queue);
        let mut pending: Vec<String> = self.inner.store.pending_events("")?.into_iter().map(|event| event.job_id).collect();
        pending.dedup();
        for job_id in pending {
            self.deliver_events(&job_id);
        }
        Ok(())
    }

    /// Checks and queues a job; an identical repeat returns the existing one.
    pub async fn submit(&self, request: RenderJobRequest) -> Result<Submitted, ApiError> {
        if !self.inner.accepting.load(Ordering::Relaxed) {
            return Err(ApiError::new(503, "UNEXPECTED_ERROR", "the engine is shutting down").suggest("retry against another instance"));
        }
        let job_id = match &request.job_id {
            Some(id) => checked_job_id(id)?,
            None => uuid::Uuid::new_v4().to_string(),
        };
        if let Some(existing) = self.inner.store.job(&job_id)? {
            return self.repeat(existing, &request);
        }
        input::check_request(&self.inner.config, &self.inner.policy, &request).await.map_err(|e| e.with_job(&job_id))?;
        let output_key = match request.options.output_key.as_deref() {
            Some(key) => input::checked_output_key(key).map_err(|e| e.with_job(&job_id))?,
            None => format!("{job_id}.mp4"),
        };
        let (waiting, _) = self.queue_counts();
        if waiting >= self.inner.config.server.max_queued_jobs as usize {
            let mut error = ApiError::new(429, "QUEUE_FULL", format!("{waiting} jobs are waiting already"));
            error.details = serde_json::json!({ "retry_after_seconds": self.retry_after_seconds() });
            return Err(error.suggest("retry after the Retry-After delay"));
        }
        let job = JobRecord::queued(job_id.clone(), output_key, RenderJobRequest { job_id: Some(job_id.clone()), ..request.clone() });
        if let Some(existing) = self.inner.store.insert_job(&job)? {
            return self.repeat(existing, &request);
        }
        self.queue().waiting.push_back(job_id);
        self.inner.wake.notify_one();
        self.announce(&job);
        Ok(Submitted { job, created: true })
    }

    fn repeat(&self, existing: JobRecord, request: &RenderJobRequest) -> Result<Submitted, ApiError> {
        let mut asked = request.clone();
        asked.job_id = existing.request.job_id.clone();
        if asked.digest() != existing.request_digest {
            return Err(ApiError::new(409, "JOB_ALREADY_EXISTS", format!("job {} exists with a different request", existing.job_id))
                .with_job(&existing.job_id)
                .suggest("use a new jobId, or resend the same body"));
        }
        Ok(Submitted { job: existing, created: false })
    }

    /// A job's record.
    pub fn job(&self, job_id: &str) -> Result<JobRecord, ApiError> {
        self.inner.store.job(job_id)?.ok_or_else(|| ApiError::not_found(job_id))
    }

    /// Every job, oldest first.
    pub fn jobs(&self) -> Result<Vec<JobRecord>, ApiError> {
        Ok(self.inner.store.jobs()?)
    }

    /// Cancels a queued or running job; `Ok(false)` when it had finished.
    pub fn cancel(&self, job_id: &str) -> Result<bool, ApiError> {
        let mut job = self.job(job_id)?;
        if job.status.is_finished() {
            return Ok(false);
        }
        {
            let mut queue = self.queue();
            queue.waiting.retain(|id| id != job_id);
            if let Some(running) = queue.running.get(job_id) {
                running.cancel.store(true, Ordering::Relaxed);
            }
        }
        job.status = JobStatus::Cancelled;
        job.message = "Job cancelled".to_owned();
        job.advance(0.0);
        self.record(&mut job)?;
        Ok(true)
    }

    /// Live events of every job (progress, completion, failure, cancel).
    pub fn subscribe(&self) -> broadcast::Receiver<JobEvent> {
        self.inner.events.subscribe()
    }

    /// Jobs waiting and running.
    pub fn queue_counts(&self) -> (usize, usize) {
        let queue = self.queue();
        (queue.waiting.len(), queue.running.len())
    }

    /// Whether new jobs are taken (false while shutting down).
    pub fn is_accepting(&self) -> bool {
        self.inner.accepting.load(Ordering::Relaxed)
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    pub fn counters(&self) -> &Counters {
        &self.inner.counters
    }

    /// Seconds a client should wait before retrying a refused submit.
    pub fn retry_after_seconds(&self) -> u64 {
        let (waiting, _) = self.queue_counts();
        (10 * (1 + waiting as u64 / self.inner.config.server.max_running_jobs.max(1) as u64)).min(600)
    }

    /// Where a finished job's output lies when it is stored locally.
    pub fn local_output(&self, job: &JobRecord) -> Option<PathBuf> {
        let path = self.inner.storage.local_path(&job.output_key)?;
        (job.status == JobStatus::Completed && path.is_file()).then_some(path)
    }

    /// Stops taking jobs, stops running renders without failing them (their
    /// finished segments are kept and they resume on the next start), and
    /// stops the runtime.
    pub fn shutdown(&self) {
        self.inner.accepting.store(false, Ordering::Relaxed);
        let _ = self.inner.stopping.send(true);
        for running in self.queue().running.values() {
            running.cancel.store(true, Ordering::Relaxed);
        }
        let runtime = self.inner.runtime.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(runtime) = runtime {
            runtime.shutdown_timeout(std::time::Duration::from_secs(5));
        }
    }

    fn queue(&self) -> MutexGuard<'_, Queue> {
        self.inner.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Saves a job and announces its new state: live event always, callback
    /// when the job has a callback URL.
    fn record(&self, job: &mut JobRecord) -> Result<(), ApiError> {
        match job.request.callback_url.clone() {
            Some(url) => {
                let payload = events::payload(job);
                self.inner.store.push_event(job, &url, payload)?;
                self.deliver_events(&job.job_id);
            }
            None => self.inner.store.put_job(job)?,
        }
        self.announce(job);
        Ok(())
    }

    fn announce(&self, job: &JobRecord) {
        let _ = self.inner.events.send(JobEvent { job_id: job.job_id.clone(), payload: events::payload(job) });
    }

    /// Takes queued jobs while fewer than the limit run.
    async fn dispatch(&self) {
        loop {
            let next = {
                let mut queue = self.queue();
                if queue.running.len() < self.inner.config.server.max_running_jobs.max(1) as usize && self.is_accepting() {
                    queue.waiting.pop_front().map(|id| {
                        let running = Running { cancel: Arc::new(AtomicBool::new(false)) };
                        queue.running.insert(id.clone(), running.clone());
                        (id, running)
                    })
                } else {
                    None
                }
            };
            match next {
                Some((job_id, running)) => {
                    let engine = self.clone();
                    self.inner.handle.spawn(async move {
                        runner::run(&engine, &job_id, running.cancel).await;
                        engine.queue().running.remove(&job_id);
                        engine.inner.wake.notify_one();
                    });
                }
                None => self.inner.wake.notified().await,
            }
        }
    }

    /// Starts delivering a job's outbox, in order, unless a deliverer for
    /// that job runs already (it takes new events before it stops).
    fn deliver_events(&self, job_id: &str) {
        if !self.delivering().insert(job_id.to_owned()) {
            return;
        }
        let (engine, job_id) = (self.clone(), job_id.to_owned());
        self.inner.handle.spawn(async move { engine.deliver_outbox(&job_id).await });
    }

    fn delivering(&self) -> MutexGuard<'_, HashSet<String>> {
        self.inner.delivering.lock().unwrap_or_else(PoisonError::into_inner)
    }

    async fn deliver_outbox(&self, job_id: &str) {
        let stopping = self.inner.stopping.subscribe();
        loop {
            let events = {
                // Checked under the lock, so an event pushed meanwhile either
                // is seen here or starts a new deliverer.
                let mut delivering = self.delivering();
                let events = self.inner.store.pending_events(job_id).unwrap_or_default();
                if events.is_empty() || *stopping.borrow() {
                    delivering.remove(job_id);
                    return;
                }
                events
            };
            for event in events {
                let deadline = deadline_of(&event.payload, self.inner.config.callbacks.deadline_secs);
                let mut body = event.payload.clone();
                body["event_id"] = serde_json::Value::String(event.event_id.clone());
                let counters = &self.inner.counters;
                match self.inner.callbacks.deliver(&event.callback_url, &body, deadline, &stopping).await {
                    Ok(report) => {
                        counters.callbacks_delivered.fetch_add(1, Ordering::Relaxed);
                        counters.callback_attempts.fetch_add(u64::from(report.attempts), Ordering::Relaxed);
                    }
                    Err(DeliveryError::Cancelled { .. }) => {
                        self.delivering().remove(job_id);
                        return;
                    }
                    Err(error) => {
                        tracing::warn!(job = job_id, event = %event.event_id, %error, "callback abandoned after its deadline");
                        counters.callbacks_abandoned.fetch_add(1, Ordering::Relaxed);
                        counters.callback_attempts.fetch_add(u64::from(error.attempts()), Ordering::Relaxed);
                    }
                }
                if let Err(error) = self.inner.store.delivered(&event) {
                    tracing::error!(job = job_id, %error, "cannot remove a delivered callback from the outbox");
                }
            }
        }
    }
}

/// When an event's delivery is given up: `deadline_secs` after it was made.
fn deadline_of(payload: &serde_json::Value, deadline_secs: u64) -> std::time::Instant {
    let made = payload.get("timestamp").and_then(|t| t.as_str()).and_then(|t| humantime::parse_rfc3339(t).ok());
    let age = made.and_then(|made| std::time::SystemTime::now().duration_since(made).ok()).unwrap_or_default();
    let left = std::time::Duration::from_secs(deadline_secs).saturating_sub(age);
    std::time::Instant::now() + left
}

/// A caller's job id: 1–128 of `A-Z a-z 0-9 . _ -`.
fn checked_job_id(id: &str) -> Result<String, ApiError> {
    let ok = (1..=128).contains(&id.len()) && id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')) && !id.starts_with('.');
    if ok {
        Ok(id.to_owned())
    } else {
        Err(ApiError::field("VALIDATION_ERROR", "jobId", "must be 1–128 characters of A-Z a-z 0-9 . _ - (not starting with a dot)"))
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        let runtime = self.runtime.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(runtime) = runtime {
            runtime.shutdown_background();
        }
    }
}
