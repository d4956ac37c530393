//! The engine handle a host starts, submits jobs to and shuts down: the Rust
//! API over the actor tree (the HTTP routes are one user of it, Rust code
//! embedding the engine another). It starts the tree inside the caller's
//! actix System — no runtime of its own — and reads job state from the
//! store's index, never from the database.

mod error;
pub(crate) mod events;
pub(crate) mod input;
pub(crate) mod options;
mod reaper;

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use motionrender_config::Config;
use motionrender_engine::render::RenderSettings;
use motionrender_engine::storage::Storage;
use tokio::sync::{broadcast, watch};

pub use error::ApiError;
pub use events::{CancelledEvent, CompletedEvent, FailedEvent, JobEvent, JobEventPayload, ProgressEvent};

use crate::browser_pool::{PoolSettings, PoolStatus};
use crate::callbacks::CallbackClient;
use crate::alerts::{Alerter, Alerts};
use crate::metrics::Metrics;
use crate::job::{JobRecord, JobStatus, RenderJobRequest};
use crate::notifier::Notifier;
use crate::pipeline::RenderActors;
use crate::store::Store;
use crate::supervisor::{Admit, CancelJob, Shutdown, Supervisor};
use crate::url_policy::UrlPolicy;
use crate::work_folders;

/// Live events kept for slow watchers before they miss some.
const EVENT_BUFFER: usize = 1024;
/// Jobs `jobs()` lists at most (the latest).
const LISTED_JOBS: usize = 1000;

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

/// Jobs waiting and running, as the supervisor last published them.
#[derive(Debug, Default)]
pub(crate) struct QueueGauge {
    pub waiting: AtomicUsize,
    pub running: AtomicUsize,
}

/// What the actors of one engine share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub config: Config,
    pub public_base_url: String,
    pub store: Store,
    pub storage: Storage,
    pub policy: UrlPolicy,
    pub events: broadcast::Sender<JobEvent>,
    pub accepting: AtomicBool,
    pub metrics: Arc<Metrics>,
    pub alerts: Alerts,
    pub notifier: Addr<Notifier>,
    pub render: RenderActors,
    /// The farm jobs render on, when `work_queue.url` is set.
    pub farm: Option<Arc<crate::farm::Dispatcher>>,
    pub queue: QueueGauge,
    /// Set when the engine shuts down (stops callback retries).
    pub stopping: watch::Sender<bool>,
}

impl Shared {
    pub fn is_accepting(&self) -> bool {
        self.accepting.load(Ordering::Relaxed)
    }

    /// Seconds a client should wait before retrying a refused submit.
    pub fn retry_after_seconds(&self) -> u64 {
        let waiting = self.queue.waiting.load(Ordering::Relaxed) as u64;
        (10 * (1 + waiting / u64::from(self.config.server.max_running_jobs.max(1)))).min(600)
    }
}

/// A handle to a running engine; cheap to clone.
#[derive(Clone, Debug)]
pub struct Engine {
    shared: Arc<Shared>,
    supervisor: Addr<Supervisor>,
    /// The actix System the tree runs in (the host's).
    system_id: usize,
}

/// Why an engine could not start.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("the engine must be started inside a running actix System (e.g. under #[actix_web::main])")]
    NoSystem,
    #[error("cannot build the callback client: {0}")]
    Callbacks(#[from] crate::callbacks::ClientBuildError),
    #[error("storage: {0}")]
    Storage(#[from] motionrender_engine::storage::StorageError),
    #[error("configuration: {0}")]
    Config(String),
    #[error("cannot set up the metrics: {0}")]
    Metrics(#[from] prometheus::Error),
}

impl Engine {
    /// Opens the store under `paths.data_dir`, clears what a killed earlier
    /// run left in the work folder (browsers, the folders of jobs that will
    /// not run again), starts the actor tree in the current actix System,
    /// resumes the jobs a previous run left queued or running, and starts
    /// taking jobs.
    pub async fn start(options: EngineOptions) -> Result<Self, EngineError> {
        let Some(system) = System::try_current() else {
            return Err(EngineError::NoSystem);
        };
        let config = options.config;
        let work_dir = PathBuf::from(&config.paths.work_dir);
        let _ = std::fs::create_dir_all(&work_dir);
        reaper::reap_browsers(&work_dir);
        let store = Store::start(&PathBuf::from(&config.paths.data_dir).join("jobs.redb"))?;
        // Before any browser or job starts: only the jobs that resume keep their folders.
        let resumed: HashSet<String> = store.index().latest(usize::MAX).into_iter().filter(|job| !job.status.is_finished()).map(|job| job.job_id).collect();
        let cleared_dir = work_dir.clone();
        let _ = tokio::task::spawn_blocking(move || work_folders::clear_leftovers(&cleared_dir, &resumed)).await;
        let storage = Storage::from_config(&config).await?;
        let farm = match config.work_queue.url() {
            None => None,
            Some(_) if !storage.is_s3() => {
                return Err(EngineError::Config("work_queue.url needs s3.bucket: sources and segments travel through S3".to_owned()))
            }
            Some(_) => Some(crate::farm::Dispatcher::start(&config.work_queue).map_err(|e| EngineError::Config(e.to_string()))?),
        };
        let metrics = Arc::new(Metrics::new()?);
        let render = RenderActors::start(pool_settings(&config, config.server.max_running_jobs)?, high_water(&config), Arc::clone(&metrics));
        let stopping = watch::channel(false).0;
        let notifier = {
            let (store, client, deadline, metrics, stopping) =
                (store.clone(), CallbackClient::new(&config.callbacks)?, config.callbacks.deadline_secs, Arc::clone(&metrics), stopping.subscribe());
            actix::Supervisor::start(move |_| Notifier::new(store, client, deadline, metrics, stopping))
        };
        let policy = UrlPolicy::new(&config.url_policy, &config.paths);
        let alerts = start_alerts(&config, &policy, &metrics, &stopping).await?;
        let shared = Arc::new(Shared {
            public_base_url: options.public_base_url.trim_end_matches('/').to_owned(),
            policy,
            store,
            storage,
            events: broadcast::channel(EVENT_BUFFER).0,
            accepting: AtomicBool::new(true),
            metrics,
            alerts,
            notifier,
            render,
            farm,
            queue: QueueGauge::default(),
            stopping,
            config,
        });
        let supervisor = Supervisor::new(Arc::clone(&shared)).start();
        Ok(Self { shared, supervisor, system_id: system.id() })
    }

    /// Checks and queues a job; an identical repeat returns the existing one.
    pub async fn submit(&self, request: RenderJobRequest) -> Result<Submitted, ApiError> {
        if !self.is_accepting() {
            return Err(ApiError::new(503, "UNEXPECTED_ERROR", "the engine is shutting down").suggest("retry against another instance"));
        }
        let job_id = match &request.job_id {
            Some(id) => checked_job_id(id)?,
            None => uuid::Uuid::new_v4().to_string(),
        };
        let request = RenderJobRequest { job_id: Some(job_id.clone()), ..request };
        // The digest and the scenario's checks are CPU work over up to
        // limits.max_scenario_bytes: a blocking thread's, not the caller's.
        let (request, digest) = input::check_request_content(&self.shared.config, request).await.map_err(|e| e.with_job(&job_id))?;
        if let Some(existing) = self.shared.store.index().get(&job_id).cloned() {
            return repeat_of(existing, &digest);
        }
        let config = &self.shared.config;
        input::check_request(config, &self.shared.policy, &request).await.map_err(|e| e.with_job(&job_id))?;
        let output_key = match request.options.output_key.as_deref() {
            Some(key) => input::checked_output_key(key).map_err(|e| e.with_job(&job_id))?,
            None => format!("{job_id}.mp4"),
        };
        let record = JobRecord::queued(job_id, output_key, request.callback_url.clone(), digest);
        self.supervisor.send(Admit { record, request }).await.map_err(|e| ApiError::internal(format!("the supervisor stopped: {e}")))?
    }

    /// A job's record.
    pub fn job(&self, job_id: &str) -> Result<JobRecord, ApiError> {
        self.shared.store.index().get(job_id).cloned().ok_or_else(|| ApiError::not_found(job_id))
    }

    /// The latest jobs (at most a thousand), oldest first.
    pub fn jobs(&self) -> Result<Vec<JobRecord>, ApiError> {
        Ok(self.shared.store.index().latest(LISTED_JOBS))
    }

    /// How many jobs are in `status` (kept as jobs change, not counted).
    pub fn count(&self, status: JobStatus) -> u64 {
        self.shared.store.index().count(status)
    }

    /// Cancels a queued or running job; `Ok(false)` when it had finished.
    pub async fn cancel(&self, job_id: &str) -> Result<bool, ApiError> {
        self.supervisor.send(CancelJob(job_id.to_owned())).await.map_err(|e| ApiError::internal(format!("the supervisor stopped: {e}")))?
    }

    /// Live events of every job (progress, completion, failure, cancel).
    pub fn subscribe(&self) -> broadcast::Receiver<JobEvent> {
        self.shared.events.subscribe()
    }

    /// Jobs waiting and running.
    pub fn queue_counts(&self) -> (usize, usize) {
        let queue = &self.shared.queue;
        (queue.waiting.load(Ordering::Relaxed), queue.running.load(Ordering::Relaxed))
    }

    /// The work queue as Redis sees it; `None` when jobs render in this process.
    pub async fn work_queue(&self) -> Option<Result<crate::farm::QueueSnapshot, crate::farm::FarmError>> {
        let farm = self.shared.farm.as_ref()?;
        let timeout = Duration::from_millis(farm.config().timeout_ms);
        Some(tokio::time::timeout(timeout, farm.snapshot()).await.unwrap_or_else(|_| {
            Err(crate::farm::FarmError::Unreachable { url: farm.url().to_owned(), detail: "no answer in time".to_owned() })
        }))
    }

    /// Whether the work queue's Redis answers; `None` without a work queue.
    pub async fn work_queue_reachable(&self) -> Option<Result<(), crate::farm::FarmError>> {
        Some(self.shared.farm.as_ref()?.ping().await)
    }

    /// Browsers of the warm pool alive and idle.
    pub async fn browsers(&self) -> PoolStatus {
        self.shared.render.pool.send(crate::browser_pool::Status).await.unwrap_or_default()
    }

    /// The id of the actix System the engine's actors run in.
    pub fn system_id(&self) -> usize {
        self.system_id
    }

    /// Whether new jobs are taken (false while shutting down).
    pub fn is_accepting(&self) -> bool {
        self.shared.is_accepting()
    }

    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    /// The engine's metrics (what `/metrics` renders).
    pub fn metrics(&self) -> &Metrics {
        &self.shared.metrics
    }

    /// Seconds a client should wait before retrying a refused submit.
    pub fn retry_after_seconds(&self) -> u64 {
        self.shared.retry_after_seconds()
    }

    /// Where a finished job's output lies when it is stored locally.
    pub fn local_output(&self, job: &JobRecord) -> Option<PathBuf> {
        let path = self.shared.storage.local_path(&job.output_key)?;
        (job.status == JobStatus::Completed && path.is_file()).then_some(path)
    }

    /// Stops taking jobs, checkpoints running renders without failing them
    /// (their finished segments are kept and they resume on the next
    /// start), and closes the warm browsers.
    pub async fn shutdown(&self) {
        let _ = self.supervisor.send(Shutdown).await;
        let _ = self.shared.render.pool.send(crate::browser_pool::Close).await;
        if let Some(farm) = &self.shared.farm {
            farm.stop();
        }
    }
}

/// The answer to a repeated job id: the existing job when the request is the same.
pub(crate) fn repeat_of(existing: JobRecord, digest: &str) -> Result<Submitted, ApiError> {
    if existing.request_digest != digest {
        return Err(ApiError::new(409, "JOB_ALREADY_EXISTS", format!("job {} exists with a different request", existing.job_id))
            .with_job(&existing.job_id)
            .suggest("use a new jobId, or resend the same body"));
    }
    Ok(Submitted { job: existing, created: false })
}

/// The alerts of `[alerts]`: an alerter actor when a webhook is set (its
/// URL checked by the URL policy as a callback URL), else none.
async fn start_alerts(config: &Config, policy: &UrlPolicy, metrics: &Arc<Metrics>, stopping: &watch::Sender<bool>) -> Result<Alerts, EngineError> {
    let Some(url) = config.alerts.webhook_url() else {
        return Ok(Alerts::new(&config.alerts, None));
    };
    policy.check_callback_url(url).await.map_err(|refused| EngineError::Config(format!("alerts.webhook_url is refused: {refused}")))?;
    let alerter = Alerter::new(
        url.to_owned(),
        CallbackClient::new(&config.callbacks)?,
        policy.clone(),
        Duration::from_secs(config.alerts.min_interval_secs),
        Duration::from_secs(config.callbacks.deadline_secs),
        Arc::clone(metrics),
        stopping.subscribe(),
    );
    Ok(Alerts::new(&config.alerts, Some(alerter.start())))
}

/// The browser pool's settings: `pages` jobs' worth of browsers at most.
pub fn pool_settings(config: &Config, jobs: u32) -> Result<PoolSettings, EngineError> {
    let settings = RenderSettings::from_config(config).map_err(|e| EngineError::Config(e.to_string()))?;
    let mut launch = settings.browser.clone();
    launch.profile_parent = Some(crate::work_folders::profiles_dir(std::path::Path::new(&config.paths.work_dir)));
    if let Some(parent) = &launch.profile_parent {
        let _ = std::fs::create_dir_all(parent);
    }
    Ok(PoolSettings {
        capacity: settings.pages.max(1) * jobs.max(1),
        min_idle: config.browser.min_idle,
        idle_timeout: Duration::from_secs(config.browser.idle_timeout_secs),
        launch,
    })
}

/// The engine's resident memory above which producers pause.
pub fn high_water(config: &Config) -> u64 {
    RenderSettings::from_config(config).map_or(u64::MAX, |settings| settings.memory_high_water_bytes)
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
