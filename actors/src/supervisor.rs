//! Supervisor: the root of the tree. It owns admission (a bounded queue of
//! waiting jobs, `429 QUEUE_FULL` beyond it, idempotent job ids), dispatch
//! (at most `server.max_running_jobs` jobs run, in submission order), the
//! resumption of what a previous run left queued or running, and graceful
//! shutdown (stop taking work, checkpoint running jobs so they resume on the
//! next start). Each job is a `Job` actor it starts and is told of when it ends.
//! It also runs the retention sweeps (`jobs.retention`): at start, then
//! every `jobs.retention_sweep`.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;

use crate::engine::{events, repeat_of, ApiError, JobEvent, Shared, Submitted};
use crate::job::{Checkpoint, Job, JobRecord, JobStatus, RenderJobRequest, Run};
use crate::retention;
use crate::store::Inserted;

const MAILBOX: usize = 1024;
/// How long shutdown waits for running jobs to checkpoint.
const CHECKPOINT_WAIT: Duration = Duration::from_secs(10);

pub struct Supervisor {
    shared: Arc<Shared>,
    /// Every job not yet ended, by id.
    jobs: HashMap<String, Addr<Job>>,
    waiting: VecDeque<String>,
    running: HashSet<String>,
    /// Admissions whose store write is under way (they count as waiting).
    admitting: usize,
    /// Whether a retention sweep is under way.
    sweeping: bool,
}

impl std::fmt::Debug for Supervisor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Supervisor").field("waiting", &self.waiting.len()).field("running", &self.running.len()).finish()
    }
}

impl Supervisor {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self { shared, jobs: HashMap::new(), waiting: VecDeque::new(), running: HashSet::new(), admitting: 0, sweeping: false }
    }

    fn publish_counts(&self) {
        let queue = &self.shared.queue;
        queue.waiting.store(self.waiting.len(), Ordering::Relaxed);
        queue.running.store(self.running.len(), Ordering::Relaxed);
        self.shared.alerts.queue_length(self.waiting.len());
    }

    /// Gives free slots to the longest-waiting jobs.
    fn dispatch(&mut self) {
        let limit = self.shared.config.server.max_running_jobs.max(1) as usize;
        while self.running.len() < limit && self.shared.is_accepting() {
            let Some(job_id) = self.waiting.pop_front() else { break };
            let Some(job) = self.jobs.get(&job_id) else { continue };
            if job.try_send(Run).is_err() {
                tracing::error!(job_id = %job_id, "cannot start the job: its actor is gone");
                self.jobs.remove(&job_id);
                continue;
            }
            self.running.insert(job_id);
        }
        self.publish_counts();
    }

    fn enqueue(&mut self, record: JobRecord, ctx: &mut Context<Self>) {
        let job_id = record.job_id.clone();
        let job = Job::new(record, Arc::clone(&self.shared), ctx.address()).start();
        self.jobs.insert(job_id.clone(), job);
        self.waiting.push_back(job_id);
    }

    /// Re-queues what a previous run left unfinished, running jobs first.
    fn resume(&mut self, ctx: &mut Context<Self>) {
        let jobs = self.shared.store.index().latest(usize::MAX);
        for status in [JobStatus::Processing, JobStatus::Queued] {
            for job in jobs.iter().filter(|job| job.status == status) {
                tracing::info!(job_id = %job.job_id, status = status.as_str(), "resuming job");
                self.enqueue(job.clone(), ctx);
            }
        }
        self.dispatch();
    }

    /// Deletes the finished jobs past `jobs.retention` (one sweep at a time;
    /// the deleting runs beside the supervisor's messages, not in their way).
    fn sweep_expired(&mut self, ctx: &mut Context<Self>) {
        let Some(retention) = self.shared.config.jobs.retention() else { return };
        if self.sweeping {
            return;
        }
        self.sweeping = true;
        // A job whose actor still runs is ending; it is left to a later sweep.
        let live: HashSet<String> = self.jobs.keys().cloned().collect();
        let shared = Arc::clone(&self.shared);
        let sweep = async move {
            let work_dir = std::path::PathBuf::from(&shared.config.paths.work_dir);
            retention::sweep(&shared.store, &shared.storage, &work_dir, retention, live).await
        };
        ctx.spawn(sweep.into_actor(self).map(|swept, supervisor, _| {
            supervisor.sweeping = false;
            match swept {
                Ok(swept) if swept.deleted > 0 || swept.kept > 0 => tracing::info!(deleted = swept.deleted, kept = swept.kept, "retention sweep"),
                Ok(_) => {}
                Err(error) => tracing::error!(%error, "retention sweep failed"),
            }
        }));
    }
}

impl Actor for Supervisor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(MAILBOX);
        self.resume(ctx);
        if self.shared.config.jobs.retention().is_some() {
            self.sweep_expired(ctx);
            ctx.run_interval(self.shared.config.jobs.retention_sweep(), |supervisor, ctx| supervisor.sweep_expired(ctx));
        }
    }
}

/// Admit a checked job: answered with the job (or the existing one for an
/// identical repeat), or with why it was refused.
#[derive(Debug, Message)]
#[rtype(result = "Result<Submitted, ApiError>")]
pub struct Admit {
    pub record: JobRecord,
    pub request: RenderJobRequest,
}

impl Handler<Admit> for Supervisor {
    type Result = ResponseActFuture<Self, Result<Submitted, ApiError>>;

    fn handle(&mut self, Admit { record, request }: Admit, _: &mut Self::Context) -> Self::Result {
        if let Some(existing) = self.shared.store.index().get(&record.job_id).cloned() {
            return Box::pin(fut::ready(repeat_of(existing, &record.request_digest)));
        }
        let waiting = self.waiting.len() + self.admitting;
        if waiting >= self.shared.config.server.max_queued_jobs as usize {
            let mut error = ApiError::new(429, "QUEUE_FULL", format!("{waiting} jobs are waiting already"));
            error.details = serde_json::json!({ "retry_after_seconds": self.shared.retry_after_seconds() });
            return Box::pin(fut::ready(Err(error.suggest("retry after the Retry-After delay"))));
        }
        self.admitting += 1;
        let store = self.shared.store.clone();
        let asked = record.clone();
        let defaulted_key = request.options.output_key.is_none();
        Box::pin(async move { store.insert(asked, request).await }.into_actor(self).map(move |inserted, supervisor, ctx| {
            supervisor.admitting -= 1;
            match inserted? {
                Inserted::Exists(existing) => repeat_of(*existing, &record.request_digest),
                Inserted::KeyTaken { key, owner } => Err(ApiError::output_key_taken(&record.job_id, &record.output_key, &key, &owner, defaulted_key)),
                Inserted::Created => {
                    tracing::info!(job_id = %record.job_id, "job queued");
                    let _ = supervisor.shared.events.send(JobEvent { job_id: record.job_id.clone(), payload: events::payload(&record) });
                    supervisor.enqueue(record.clone(), ctx);
                    supervisor.dispatch();
                    Ok(Submitted { job: record, created: true })
                }
            }
        }))
    }
}

/// Cancel a job: `Ok(false)` when it had ended.
#[derive(Debug, Message)]
#[rtype(result = "Result<bool, ApiError>")]
pub struct CancelJob(pub String);

impl Handler<CancelJob> for Supervisor {
    type Result = ResponseFuture<Result<bool, ApiError>>;

    fn handle(&mut self, CancelJob(job_id): CancelJob, _: &mut Self::Context) -> Self::Result {
        let known = self.shared.store.index().get(&job_id).is_some();
        let job = self.jobs.get(&job_id).cloned();
        Box::pin(async move {
            match job {
                // A job whose actor stopped meanwhile has ended: nothing to cancel.
                Some(job) => Ok(job.send(crate::job::Cancel).await.unwrap_or(false)),
                None if known => Ok(false),
                None => Err(ApiError::not_found(&job_id)),
            }
        })
    }
}

/// A job's actor has ended (its slot is free).
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct JobEnded(pub String);

impl Handler<JobEnded> for Supervisor {
    type Result = ();

    fn handle(&mut self, JobEnded(job_id): JobEnded, _: &mut Self::Context) {
        self.jobs.remove(&job_id);
        self.running.remove(&job_id);
        self.waiting.retain(|id| *id != job_id);
        self.dispatch();
    }
}

/// Stop taking work and checkpoint running jobs; answered when they stopped
/// (or after a grace period).
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct Shutdown;

impl Handler<Shutdown> for Supervisor {
    type Result = ResponseActFuture<Self, ()>;

    fn handle(&mut self, _: Shutdown, _: &mut Self::Context) -> Self::Result {
        self.shared.accepting.store(false, Ordering::Relaxed);
        let _ = self.shared.stopping.send(true);
        let jobs: Vec<Addr<Job>> = self.jobs.values().cloned().collect();
        for job in &jobs {
            let _ = job.try_send(Checkpoint);
        }
        Box::pin(
            async move {
                let deadline = tokio::time::Instant::now() + CHECKPOINT_WAIT;
                for job in jobs {
                    while job.connected() && tokio::time::Instant::now() < deadline {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            }
            .into_actor(self),
        )
    }
}
