//! Store: the actor that owns the durable job store (redb) on a thread of
//! its own. Nothing else opens the database: jobs, requests, segments and the
//! callback outbox are read and written through its messages, each state
//! change and its outbox event in one transaction. It also keeps the job
//! index — every job's record without its request, and the count of jobs by
//! state — updated as it writes, so status, lists and metrics never scan the
//! database. A new job takes its storage keys in the transaction that
//! records it (refused when another job holds one), and a job deleted by
//! retention goes with everything the store keeps of it.

mod db;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use actix::prelude::*;
use motionrender_engine::render::FinishedSegment;
use parking_lot::RwLock;

pub use db::{Inserted, OutboxEvent, StoreError};

use crate::job::{JobChange, JobRecord, JobStatus, RenderJobRequest};

/// Requests in the store's mailbox at once; a caller beyond that waits its turn.
const MAILBOX: usize = 256;

/// Every job's record (without its request) and the counts by state, kept by
/// the store actor as it writes.
#[derive(Debug, Default)]
pub struct JobIndex {
    jobs: HashMap<String, JobRecord>,
    /// Job ids in submission order.
    order: Vec<String>,
    counts: HashMap<JobStatus, u64>,
}

impl JobIndex {
    pub fn get(&self, job_id: &str) -> Option<&JobRecord> {
        self.jobs.get(job_id)
    }

    /// The latest `limit` jobs, oldest first.
    pub fn latest(&self, limit: usize) -> Vec<JobRecord> {
        let skip = self.order.len().saturating_sub(limit);
        self.order[skip..].iter().filter_map(|id| self.jobs.get(id)).cloned().collect()
    }

    /// Jobs in `status`.
    pub fn count(&self, status: JobStatus) -> u64 {
        self.counts.get(&status).copied().unwrap_or(0)
    }

    fn put(&mut self, job: JobRecord) {
        *self.counts.entry(job.status).or_default() += 1;
        if let Some(old) = self.jobs.insert(job.job_id.clone(), job) {
            if let Some(count) = self.counts.get_mut(&old.status) {
                *count = count.saturating_sub(1);
            }
        }
    }

    fn push_order(&mut self, job_id: &str) {
        self.order.push(job_id.to_owned());
    }

    fn remove(&mut self, job_ids: &HashSet<&str>) {
        for id in job_ids {
            if let Some(old) = self.jobs.remove(*id) {
                if let Some(count) = self.counts.get_mut(&old.status) {
                    *count = count.saturating_sub(1);
                }
            }
        }
        self.order.retain(|id| !job_ids.contains(id.as_str()));
    }

    /// Finished jobs that last changed before `cutoff`, oldest first, at most `limit`.
    fn finished_before(&self, cutoff: SystemTime, except: &HashSet<String>, limit: usize) -> Vec<JobRecord> {
        self.order
            .iter()
            .filter_map(|id| self.jobs.get(id))
            .filter(|job| job.status.is_finished() && !except.contains(&job.job_id) && job.updated().is_some_and(|at| at < cutoff))
            .take(limit)
            .cloned()
            .collect()
    }
}

/// The actor: the database, and the index it keeps for readers.
pub struct StoreActor {
    db: db::Db,
    index: Arc<RwLock<JobIndex>>,
}

impl Actor for StoreActor {
    type Context = SyncContext<Self>;
}

/// A handle to the store: messages go through a bounded number of places.
#[derive(Clone, Debug)]
pub struct Store {
    addr: Addr<StoreActor>,
    index: Arc<RwLock<JobIndex>>,
    places: Arc<tokio::sync::Semaphore>,
}

impl std::fmt::Debug for StoreActor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreActor")
    }
}

impl Store {
    /// Opens the database at `path`, loads the index, and starts the actor
    /// on its own thread (inside the current actix System).
    pub fn start(path: &Path) -> Result<Self, StoreError> {
        let db = db::Db::open(path)?;
        let mut index = JobIndex::default();
        for job in db.jobs()? {
            index.push_order(&job.job_id);
            index.put(job);
        }
        let index = Arc::new(RwLock::new(index));
        // The database moves into the one thread the arbiter starts.
        let slot = Arc::new(parking_lot::Mutex::new(Some(db)));
        let shared = Arc::clone(&index);
        let addr = SyncArbiter::start_with_thread_builder(1, || std::thread::Builder::new().name("motionrender-store".into()), move || StoreActor {
            db: slot.lock().take().unwrap_or_else(db::Db::unavailable),
            index: Arc::clone(&shared),
        });
        Ok(Self { addr, index, places: Arc::new(tokio::sync::Semaphore::new(MAILBOX)) })
    }

    /// The index, for reading.
    pub fn index(&self) -> parking_lot::RwLockReadGuard<'_, JobIndex> {
        self.index.read()
    }

    async fn ask<M>(&self, message: M) -> Result<M::Result, StoreError>
    where
        M: Message + Send + 'static,
        M::Result: Send,
        StoreActor: Handler<M>,
    {
        let _place = self.places.acquire().await.map_err(|e| StoreError::Stopped(e.to_string()))?;
        self.addr.send(message).await.map_err(|e| StoreError::Stopped(e.to_string()))
    }

    /// Stores a new job unless its id exists or one of its storage keys is another job's.
    pub async fn insert(&self, job: JobRecord, request: RenderJobRequest) -> Result<Inserted, StoreError> {
        self.ask(Insert { job, request }).await?
    }

    /// Finished jobs (none of `except`) that last changed before `cutoff`,
    /// oldest first, at most `limit`, each with the storage keys it owns;
    /// read on the store's thread.
    pub async fn finished_before(&self, cutoff: SystemTime, except: HashSet<String>, limit: usize) -> Result<Vec<(JobRecord, Vec<String>)>, StoreError> {
        self.ask(FinishedBefore { cutoff, except, limit }).await?
    }

    /// Removes jobs and all the store keeps of them, and frees their storage keys.
    pub async fn forget(&self, jobs: Vec<JobRecord>) -> Result<(), StoreError> {
        self.ask(Forget(jobs)).await?
    }

    pub async fn apply(&self, job_id: &str, change: JobChange) -> Result<(JobRecord, Option<OutboxEvent>), StoreError> {
        self.ask(Apply { job_id: job_id.to_owned(), change }).await?
    }

    pub async fn request(&self, job_id: &str) -> Result<Option<RenderJobRequest>, StoreError> {
        self.ask(LoadRequest(job_id.to_owned())).await?
    }

    pub async fn put_segment(&self, job_id: &str, index: u32, segment: FinishedSegment) -> Result<(), StoreError> {
        self.ask(PutSegment { job_id: job_id.to_owned(), index, segment }).await?
    }

    pub async fn segments(&self, job_id: &str) -> Result<Vec<(u32, FinishedSegment)>, StoreError> {
        self.ask(Segments(job_id.to_owned())).await?
    }

    pub async fn drop_segments(&self, job_id: &str) -> Result<(), StoreError> {
        self.ask(DropSegments(job_id.to_owned())).await?
    }

    /// Undelivered events of one job in order (every job's when `job_id` is empty).
    pub async fn pending_events(&self, job_id: &str) -> Result<Vec<OutboxEvent>, StoreError> {
        self.ask(PendingEvents(job_id.to_owned())).await?
    }

    pub async fn delivered(&self, event: OutboxEvent) -> Result<(), StoreError> {
        self.ask(Delivered(event)).await?
    }
}

#[derive(Debug, Message)]
#[rtype(result = "Result<Inserted, StoreError>")]
struct Insert {
    job: JobRecord,
    request: RenderJobRequest,
}

impl Handler<Insert> for StoreActor {
    type Result = Result<Inserted, StoreError>;

    fn handle(&mut self, Insert { job, request }: Insert, _: &mut Self::Context) -> Self::Result {
        let inserted = self.db.insert_job(&job, &request)?;
        if inserted == Inserted::Created {
            let mut index = self.index.write();
            index.push_order(&job.job_id);
            index.put(job);
        }
        Ok(inserted)
    }
}

#[derive(Debug, Message)]
#[rtype(result = "Result<Vec<(JobRecord, Vec<String>)>, StoreError>")]
struct FinishedBefore {
    cutoff: SystemTime,
    except: HashSet<String>,
    limit: usize,
}

impl Handler<FinishedBefore> for StoreActor {
    type Result = Result<Vec<(JobRecord, Vec<String>)>, StoreError>;

    fn handle(&mut self, FinishedBefore { cutoff, except, limit }: FinishedBefore, _: &mut Self::Context) -> Self::Result {
        let jobs = self.index.read().finished_before(cutoff, &except, limit);
        jobs.into_iter()
            .map(|job| {
                let owned = self.db.owned_keys(&job)?;
                Ok((job, owned))
            })
            .collect()
    }
}

#[derive(Debug, Message)]
#[rtype(result = "Result<(), StoreError>")]
struct Forget(Vec<JobRecord>);

impl Handler<Forget> for StoreActor {
    type Result = Result<(), StoreError>;

    fn handle(&mut self, Forget(jobs): Forget, _: &mut Self::Context) -> Self::Result {
        self.db.forget_jobs(&jobs)?;
        let ids: HashSet<&str> = jobs.iter().map(|job| job.job_id.as_str()).collect();
        self.index.write().remove(&ids);
        Ok(())
    }
}

#[derive(Debug, Message)]
#[rtype(result = "Result<(JobRecord, Option<OutboxEvent>), StoreError>")]
struct Apply {
    job_id: String,
    change: JobChange,
}

impl Handler<Apply> for StoreActor {
    type Result = Result<(JobRecord, Option<OutboxEvent>), StoreError>;

    fn handle(&mut self, Apply { job_id, change }: Apply, _: &mut Self::Context) -> Self::Result {
        let (job, event) = self.db.apply(&job_id, &change)?;
        self.index.write().put(job.clone());
        Ok((job, event))
    }
}

#[derive(Debug, Message)]
#[rtype(result = "Result<Option<RenderJobRequest>, StoreError>")]
struct LoadRequest(String);

impl Handler<LoadRequest> for StoreActor {
    type Result = Result<Option<RenderJobRequest>, StoreError>;
    fn handle(&mut self, LoadRequest(id): LoadRequest, _: &mut Self::Context) -> Self::Result {
        self.db.request(&id)
    }
}

#[derive(Debug, Message)]
#[rtype(result = "Result<(), StoreError>")]
struct PutSegment {
    job_id: String,
    index: u32,
    segment: FinishedSegment,
}

impl Handler<PutSegment> for StoreActor {
    type Result = Result<(), StoreError>;
    fn handle(&mut self, message: PutSegment, _: &mut Self::Context) -> Self::Result {
        self.db.put_segment(&message.job_id, message.index, &message.segment)
    }
}

#[derive(Debug, Message)]
#[rtype(result = "Result<Vec<(u32, FinishedSegment)>, StoreError>")]
struct Segments(String);

impl Handler<Segments> for StoreActor {
    type Result = Result<Vec<(u32, FinishedSegment)>, StoreError>;
    fn handle(&mut self, Segments(id): Segments, _: &mut Self::Context) -> Self::Result {
        self.db.segments(&id)
    }
}

#[derive(Debug, Message)]
#[rtype(result = "Result<(), StoreError>")]
struct DropSegments(String);

impl Handler<DropSegments> for StoreActor {
    type Result = Result<(), StoreError>;
    fn handle(&mut self, DropSegments(id): DropSegments, _: &mut Self::Context) -> Self::Result {
        self.db.drop_segments(&id)
    }
}

#[derive(Debug, Message)]
#[rtype(result = "Result<Vec<OutboxEvent>, StoreError>")]
struct PendingEvents(String);

impl Handler<PendingEvents> for StoreActor {
    type Result = Result<Vec<OutboxEvent>, StoreError>;
    fn handle(&mut self, PendingEvents(id): PendingEvents, _: &mut Self::Context) -> Self::Result {
        self.db.pending_events(&id)
    }
}

#[derive(Debug, Message)]
#[rtype(result = "Result<(), StoreError>")]
struct Delivered(OutboxEvent);

impl Handler<Delivered> for StoreActor {
    type Result = Result<(), StoreError>;
    fn handle(&mut self, Delivered(event): Delivered, _: &mut Self::Context) -> Self::Result {
        self.db.delivered(&event)
    }
}
