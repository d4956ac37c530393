//! The redb file under the data directory that keeps jobs, their requests
//! (stored once, apart from the records that change), their finished
//! segments and their undelivered callback events, so a restart (even after
//! `kill -9`) resumes where the process stopped. Only the store actor opens it.
//!
//! Values are JSON. Keys: a job's id; `<job id>/<segment index, 6 digits>`;
//! `<job id>/<event sequence, 12 digits>` (so a prefix range is one job's
//! segments or events, in order). The `output_keys` table maps every storage
//! key a job writes (its output and its QC report) to the job that owns it,
//! so no two jobs can write the same file.

use std::path::Path;

use motionrender_engine::render::FinishedSegment;
use redb::{Database, ReadableTable, ReadableTableMetadata, TableDefinition};
use serde::{Deserialize, Serialize};

use crate::engine::events;
use crate::job::{IllegalTransition, JobChange, JobRecord, RenderJobRequest};

const REQUESTS: TableDefinition<&str, &[u8]> = TableDefinition::new("requests");
const JOBS: TableDefinition<&str, &[u8]> = TableDefinition::new("jobs");
const SEGMENTS: TableDefinition<&str, &[u8]> = TableDefinition::new("segments");
const OUTBOX: TableDefinition<&str, &[u8]> = TableDefinition::new("outbox");
/// Storage key → the id of the job that owns it.
const OUTPUT_KEYS: TableDefinition<&str, &str> = TableDefinition::new("output_keys");

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("job store {path}: {message}")]
    Open { path: String, message: String },
    #[error("job store: {0}")]
    Database(String),
    #[error("job store holds an unreadable record {key}: {message}")]
    Corrupt { key: String, message: String },
    #[error("no job {0}")]
    NoJob(String),
    #[error(transparent)]
    Illegal(#[from] IllegalTransition),
    #[error("the job store is not running: {0}")]
    Stopped(String),
}

impl StoreError {
    fn db(error: impl std::fmt::Display) -> Self {
        Self::Database(error.to_string())
    }
}

/// A callback event waiting for delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxEvent {
    pub job_id: String,
    pub seq: u64,
    pub event_id: String,
    pub callback_url: String,
    pub payload: serde_json::Value,
}

/// What inserting a job came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Inserted {
    /// The job is stored, and owns its storage keys.
    Created,
    /// A job with this id exists already (nothing was written).
    Exists(Box<JobRecord>),
    /// Another job owns a storage key the new job would write (nothing was written).
    KeyTaken { key: String, owner: String },
}

/// The database. Every write is one committed transaction.
#[derive(Debug)]
pub struct Db {
    db: Option<Database>,
}

impl Db {
    /// Opens (or creates) the store file.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let open_error = |message: String| StoreError::Open { path: path.display().to_string(), message };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| open_error(e.to_string()))?;
        }
        let db = Database::create(path).map_err(|e| open_error(e.to_string()))?;
        let txn = db.begin_write().map_err(StoreError::db)?;
        for table in [JOBS, REQUESTS, SEGMENTS, OUTBOX] {
            txn.open_table(table).map_err(StoreError::db)?;
        }
        txn.open_table(OUTPUT_KEYS).map_err(StoreError::db)?;
        txn.commit().map_err(StoreError::db)?;
        let store = Self { db: Some(db) };
        store.claim_keys_of_older_jobs()?;
        Ok(store)
    }

    /// A store written before keys were owned has jobs and no owners: each
    /// job claims its keys, oldest first (a key two of them shared goes to
    /// the older).
    fn claim_keys_of_older_jobs(&self) -> Result<(), StoreError> {
        let txn = self.db()?.begin_write().map_err(StoreError::db)?;
        {
            let mut owners = txn.open_table(OUTPUT_KEYS).map_err(StoreError::db)?;
            if !owners.is_empty().map_err(StoreError::db)? {
                return Ok(());
            }
            for job in self.jobs()? {
                for key in job.stored_keys() {
                    if owners.get(key.as_str()).map_err(StoreError::db)?.is_none() {
                        owners.insert(key.as_str(), job.job_id.as_str()).map_err(StoreError::db)?;
                    }
                }
            }
        }
        txn.commit().map_err(StoreError::db)
    }

    /// A database that answers every call with an error (the store's thread
    /// was restarted without one).
    pub fn unavailable() -> Self {
        Self { db: None }
    }

    fn db(&self) -> Result<&Database, StoreError> {
        self.db.as_ref().ok_or_else(|| StoreError::Stopped("the database was not handed to the store's thread".into()))
    }

    /// Inserts `job` and its request, and gives it its storage keys, in one
    /// transaction — unless a job with its id exists, or another job owns
    /// one of its keys; nothing is written then. The store's one thread
    /// writes, so of two racing jobs asking for one key exactly one gets it.
    pub fn insert_job(&self, job: &JobRecord, request: &RenderJobRequest) -> Result<Inserted, StoreError> {
        let txn = self.db()?.begin_write().map_err(StoreError::db)?;
        {
            let mut table = txn.open_table(JOBS).map_err(StoreError::db)?;
            if let Some(bytes) = table.get(job.job_id.as_str()).map_err(StoreError::db)? {
                return Ok(Inserted::Exists(Box::new(decode::<JobRecord>(&job.job_id, bytes.value())?)));
            }
            let mut owners = txn.open_table(OUTPUT_KEYS).map_err(StoreError::db)?;
            let keys = job.stored_keys();
            for key in &keys {
                let owner = owners.get(key.as_str()).map_err(StoreError::db)?.map(|owner| owner.value().to_owned());
                if let Some(owner) = owner.filter(|owner| *owner != job.job_id) {
                    return Ok(Inserted::KeyTaken { key: key.clone(), owner });
                }
            }
            for key in &keys {
                owners.insert(key.as_str(), job.job_id.as_str()).map_err(StoreError::db)?;
            }
            table.insert(job.job_id.as_str(), encode(job).as_slice()).map_err(StoreError::db)?;
            let mut requests = txn.open_table(REQUESTS).map_err(StoreError::db)?;
            requests.insert(job.job_id.as_str(), encode(request).as_slice()).map_err(StoreError::db)?;
        }
        txn.commit().map_err(StoreError::db)?;
        Ok(Inserted::Created)
    }

    /// Removes jobs and everything the store keeps of them — record,
    /// request, segments, undelivered events — and frees their storage keys,
    /// in one transaction.
    pub fn forget_jobs(&self, jobs: &[JobRecord]) -> Result<(), StoreError> {
        let mut prefixed = Vec::new();
        for job in jobs {
            let prefix = format!("{}/", job.job_id);
            for table in [SEGMENTS, OUTBOX] {
                let keys: Vec<String> = self.scan::<serde_json::Value>(table, &prefix)?.into_iter().map(|(key, _)| key).collect();
                prefixed.push((table, keys));
            }
        }
        let txn = self.db()?.begin_write().map_err(StoreError::db)?;
        {
            let mut records = txn.open_table(JOBS).map_err(StoreError::db)?;
            let mut requests = txn.open_table(REQUESTS).map_err(StoreError::db)?;
            let mut owners = txn.open_table(OUTPUT_KEYS).map_err(StoreError::db)?;
            for job in jobs {
                records.remove(job.job_id.as_str()).map_err(StoreError::db)?;
                requests.remove(job.job_id.as_str()).map_err(StoreError::db)?;
                for key in job.stored_keys() {
                    let owned = owners.get(key.as_str()).map_err(StoreError::db)?.is_some_and(|owner| owner.value() == job.job_id);
                    if owned {
                        owners.remove(key.as_str()).map_err(StoreError::db)?;
                    }
                }
            }
            for (table, keys) in prefixed {
                let mut table = txn.open_table(table).map_err(StoreError::db)?;
                for key in &keys {
                    table.remove(key.as_str()).map_err(StoreError::db)?;
                }
            }
        }
        txn.commit().map_err(StoreError::db)
    }

    /// The storage keys of `job` that it owns (all of them, unless an older
    /// store let two jobs share one; then the older job keeps it).
    pub fn owned_keys(&self, job: &JobRecord) -> Result<Vec<String>, StoreError> {
        let mut owned = Vec::new();
        for key in job.stored_keys() {
            if self.owner_of(&key)?.is_some_and(|owner| owner == job.job_id) {
                owned.push(key);
            }
        }
        Ok(owned)
    }

    fn owner_of(&self, key: &str) -> Result<Option<String>, StoreError> {
        let txn = self.db()?.begin_read().map_err(StoreError::db)?;
        let table = txn.open_table(OUTPUT_KEYS).map_err(StoreError::db)?;
        let owner = table.get(key).map_err(StoreError::db)?.map(|owner| owner.value().to_owned());
        Ok(owner)
    }

    /// Applies `change` to the stored job and, when the job has a callback
    /// URL, appends the event that announces it to the outbox — in one
    /// transaction, so the change and its event are written together or not
    /// at all and every event gets its own sequence number.
    pub fn apply(&self, job_id: &str, change: &JobChange) -> Result<(JobRecord, Option<OutboxEvent>), StoreError> {
        let txn = self.db()?.begin_write().map_err(StoreError::db)?;
        let applied = {
            let mut jobs = txn.open_table(JOBS).map_err(StoreError::db)?;
            let mut job: JobRecord = match jobs.get(job_id).map_err(StoreError::db)? {
                Some(bytes) => decode(job_id, bytes.value())?,
                None => return Err(StoreError::NoJob(job_id.to_owned())),
            };
            job.apply(change)?;
            let event = match job.callback_url.clone() {
                Some(url) => {
                    let seq = job.next_event_seq;
                    job.next_event_seq += 1;
                    let event = OutboxEvent { job_id: job_id.to_owned(), seq, event_id: format!("{job_id}:{seq}"), callback_url: url, payload: events::payload(&job) };
                    let mut outbox = txn.open_table(OUTBOX).map_err(StoreError::db)?;
                    outbox.insert(event_key(job_id, seq).as_str(), encode(&event).as_slice()).map_err(StoreError::db)?;
                    Some(event)
                }
                None => None,
            };
            jobs.insert(job_id, encode(&job).as_slice()).map_err(StoreError::db)?;
            (job, event)
        };
        txn.commit().map_err(StoreError::db)?;
        Ok(applied)
    }

    /// The request a job was submitted with.
    pub fn request(&self, id: &str) -> Result<Option<RenderJobRequest>, StoreError> {
        let txn = self.db()?.begin_read().map_err(StoreError::db)?;
        let table = txn.open_table(REQUESTS).map_err(StoreError::db)?;
        let value = table.get(id).map_err(StoreError::db)?;
        value.map(|bytes| decode(id, bytes.value())).transpose()
    }

    #[cfg(test)]
    pub fn job(&self, id: &str) -> Result<Option<JobRecord>, StoreError> {
        let txn = self.db()?.begin_read().map_err(StoreError::db)?;
        let table = txn.open_table(JOBS).map_err(StoreError::db)?;
        let value = table.get(id).map_err(StoreError::db)?;
        value.map(|bytes| decode(id, bytes.value())).transpose()
    }

    /// Every job, oldest first.
    pub fn jobs(&self) -> Result<Vec<JobRecord>, StoreError> {
        let mut jobs: Vec<JobRecord> = self.scan(JOBS, "")?.into_iter().map(|(_, job)| job).collect();
        jobs.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.job_id.cmp(&b.job_id)));
        Ok(jobs)
    }

    /// Records a finished segment of a job.
    pub fn put_segment(&self, job_id: &str, index: u32, segment: &FinishedSegment) -> Result<(), StoreError> {
        self.write(SEGMENTS, &format!("{job_id}/{index:06}"), &encode(segment))
    }

    /// A job's finished segments, by index.
    pub fn segments(&self, job_id: &str) -> Result<Vec<(u32, FinishedSegment)>, StoreError> {
        let prefix = format!("{job_id}/");
        let rows = self.scan::<FinishedSegment>(SEGMENTS, &prefix)?;
        Ok(rows.into_iter().filter_map(|(key, segment)| key[prefix.len()..].parse().ok().map(|index| (index, segment))).collect())
    }

    /// Forgets a job's segments (its output is final, or it will never be).
    pub fn drop_segments(&self, job_id: &str) -> Result<(), StoreError> {
        self.remove_prefix(SEGMENTS, &format!("{job_id}/"))
    }

    /// Undelivered events, per job in order (all jobs when `job_id` is empty).
    pub fn pending_events(&self, job_id: &str) -> Result<Vec<OutboxEvent>, StoreError> {
        let prefix = if job_id.is_empty() { String::new() } else { format!("{job_id}/") };
        Ok(self.scan(OUTBOX, &prefix)?.into_iter().map(|(_, event)| event).collect())
    }

    /// Removes a delivered event.
    pub fn delivered(&self, event: &OutboxEvent) -> Result<(), StoreError> {
        let txn = self.db()?.begin_write().map_err(StoreError::db)?;
        {
            let mut table = txn.open_table(OUTBOX).map_err(StoreError::db)?;
            table.remove(event_key(&event.job_id, event.seq).as_str()).map_err(StoreError::db)?;
        }
        txn.commit().map_err(StoreError::db)
    }

    fn write(&self, table: TableDefinition<&str, &[u8]>, key: &str, value: &[u8]) -> Result<(), StoreError> {
        let txn = self.db()?.begin_write().map_err(StoreError::db)?;
        {
            let mut table = txn.open_table(table).map_err(StoreError::db)?;
            table.insert(key, value).map_err(StoreError::db)?;
        }
        txn.commit().map_err(StoreError::db)
    }

    fn scan<T: for<'de> Deserialize<'de>>(&self, table: TableDefinition<&str, &[u8]>, prefix: &str) -> Result<Vec<(String, T)>, StoreError> {
        let txn = self.db()?.begin_read().map_err(StoreError::db)?;
        let table = txn.open_table(table).map_err(StoreError::db)?;
        let mut rows = Vec::new();
        for row in table.range(prefix..).map_err(StoreError::db)? {
            let (key, value) = row.map_err(StoreError::db)?;
            let key = key.value().to_owned();
            if !key.starts_with(prefix) {
                break;
            }
            let value = decode(&key, value.value())?;
            rows.push((key, value));
        }
        Ok(rows)
    }

    fn remove_prefix(&self, table: TableDefinition<&str, &[u8]>, prefix: &str) -> Result<(), StoreError> {
        let keys: Vec<String> = self.scan::<serde_json::Value>(table, prefix)?.into_iter().map(|(key, _)| key).collect();
        let txn = self.db()?.begin_write().map_err(StoreError::db)?;
        {
            let mut table = txn.open_table(table).map_err(StoreError::db)?;
            for key in &keys {
                table.remove(key.as_str()).map_err(StoreError::db)?;
            }
        }
        txn.commit().map_err(StoreError::db)
    }
}

fn event_key(job_id: &str, seq: u64) -> String {
    format!("{job_id}/{seq:012}")
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

fn decode<T: for<'de> Deserialize<'de>>(key: &str, bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt { key: key.to_owned(), message: e.to_string() })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::job::RenderJobRequest;

    fn request(video: &str) -> RenderJobRequest {
        serde_json::from_value(serde_json::json!({ "videoUrl": video, "scenario": { "version": "2.0" } })).unwrap()
    }

    fn queued(id: &str) -> JobRecord {
        JobRecord::queued(id.into(), format!("{id}.mp4"), Some("http://127.0.0.1:9/cb".into()), "digest".into())
    }

    #[test]
    fn jobs_segments_and_events_survive_reopening_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.redb");
        {
            let store = Db::open(&path).unwrap();
            let job = queued("a");
            assert_eq!(store.insert_job(&job, &request("in.mp4")).unwrap(), Inserted::Created);
            assert!(matches!(store.insert_job(&job, &request("other.mp4")).unwrap(), Inserted::Exists(_)), "a second insert returns the first");
            // "a/…" keys must not be mixed with those of a job named "ab".
            store.insert_job(&queued("ab"), &request("in.mp4")).unwrap();
            store.apply("a", &JobChange::Start).unwrap();
            for n in 0..11 {
                store.apply("a", &JobChange::Progress { progress: f64::from(n), metrics: serde_json::json!({}) }).unwrap();
            }
            store.apply("ab", &JobChange::Cancel).unwrap();
            let refused = store.apply("ab", &JobChange::Start).unwrap_err();
            assert!(matches!(refused, StoreError::Illegal(_)), "{refused}");
            let segment = FinishedSegment { first_frame: 0, frame_count: 10, counts: Default::default(), stages: Default::default(), encoded: 10, warnings: Vec::new() };
            store.put_segment("a", 2, &segment).unwrap();
            store.put_segment("a", 10, &segment).unwrap();
        }
        let store = Db::open(&path).unwrap();
        let job = store.job("a").unwrap().unwrap();
        assert_eq!(job.next_event_seq, 12);
        assert_eq!(store.request("a").unwrap().unwrap().video_url, "in.mp4", "the first request is kept");
        assert_eq!(store.job("ab").unwrap().unwrap().next_event_seq, 1, "a refused change announces nothing");
        let events = store.pending_events("a").unwrap();
        let order: Vec<u64> = events.iter().map(|e| e.seq).collect();
        assert_eq!(order, (0..12).collect::<Vec<_>>(), "events come back in sequence order, one job only");
        assert_eq!(events[3].event_id, "a:3");
        store.delivered(&events[0]).unwrap();
        assert_eq!(store.pending_events("a").unwrap().len(), 11);
        assert_eq!(store.pending_events("").unwrap().len(), 12, "all jobs' events");
        let segments: Vec<u32> = store.segments("a").unwrap().into_iter().map(|(i, _)| i).collect();
        assert_eq!(segments, [2, 10]);
        assert!(store.segments("ab").unwrap().is_empty());
        store.drop_segments("a").unwrap();
        assert!(store.segments("a").unwrap().is_empty());
        assert_eq!(store.jobs().unwrap().len(), 2);
    }

    fn with_key(id: &str, key: &str) -> JobRecord {
        JobRecord::queued(id.into(), key.into(), None, "digest".into())
    }

    #[test]
    fn a_storage_key_belongs_to_one_job_until_that_job_is_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let store = Db::open(&dir.path().join("store.redb")).unwrap();
        assert_eq!(store.insert_job(&with_key("a", "shared.mp4"), &request("in.mp4")).unwrap(), Inserted::Created);
        let taken = store.insert_job(&with_key("b", "shared.mp4"), &request("in.mp4")).unwrap();
        assert_eq!(taken, Inserted::KeyTaken { key: "shared.mp4".into(), owner: "a".into() });
        assert!(store.job("b").unwrap().is_none() && store.request("b").unwrap().is_none(), "a refused job leaves nothing");
        // Another job's default key, and a key that is another job's QC report.
        assert_eq!(store.insert_job(&queued("e"), &request("in.mp4")).unwrap(), Inserted::Created);
        let default = store.insert_job(&with_key("f", "e.mp4"), &request("in.mp4")).unwrap();
        assert_eq!(default, Inserted::KeyTaken { key: "e.mp4".into(), owner: "e".into() });
        assert!(matches!(store.insert_job(&with_key("c", "a.mp4"), &request("in.mp4")).unwrap(), Inserted::Created));
        assert!(matches!(store.insert_job(&queued("a"), &request("in.mp4")).unwrap(), Inserted::Exists(_)), "the id is checked first");
        let qc = store.insert_job(&with_key("d", "shared.mp4.qc.json"), &request("in.mp4")).unwrap();
        assert_eq!(qc, Inserted::KeyTaken { key: "shared.mp4.qc.json".into(), owner: "a".into() });

        let a = store.job("a").unwrap().unwrap();
        store.apply("a", &JobChange::Start).unwrap();
        store.put_segment("a", 0, &FinishedSegment { first_frame: 0, frame_count: 1, counts: Default::default(), stages: Default::default(), encoded: 1, warnings: Vec::new() }).unwrap();
        store.forget_jobs(&[a]).unwrap();
        assert!(store.job("a").unwrap().is_none() && store.request("a").unwrap().is_none());
        assert!(store.segments("a").unwrap().is_empty() && store.pending_events("a").unwrap().is_empty());
        assert_eq!(store.owner_of("shared.mp4").unwrap(), None, "a forgotten job's keys are free");
        assert_eq!(store.owner_of("a.mp4").unwrap().as_deref(), Some("c"), "keys of other jobs stay theirs");
        assert_eq!(store.insert_job(&with_key("b", "shared.mp4"), &request("in.mp4")).unwrap(), Inserted::Created);
        assert_eq!(store.owned_keys(&with_key("b", "shared.mp4")).unwrap(), ["shared.mp4", "shared.mp4.qc.json"]);
        assert!(store.owned_keys(&with_key("x", "shared.mp4")).unwrap().is_empty(), "keys another job owns");
    }

    #[test]
    fn jobs_stored_before_keys_were_owned_claim_them_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.redb");
        {
            let store = Db::open(&path).unwrap();
            store.insert_job(&with_key("old", "old.mp4"), &request("in.mp4")).unwrap();
            // As an older store has it: the job without its owners.
            let txn = store.db().unwrap().begin_write().unwrap();
            txn.delete_table(OUTPUT_KEYS).unwrap();
            txn.commit().unwrap();
        }
        let store = Db::open(&path).unwrap();
        assert_eq!(store.owner_of("old.mp4").unwrap().as_deref(), Some("old"));
        assert!(matches!(store.insert_job(&with_key("new", "old.mp4"), &request("in.mp4")).unwrap(), Inserted::KeyTaken { .. }));
    }
}
