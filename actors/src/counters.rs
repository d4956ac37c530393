//! The engine's running counts for `/metrics`, kept as things happen (never
//! by scanning jobs): frames, queue traffic, stage seconds, callbacks, job
//! outcomes, browsers, backpressure decisions and actor restarts.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;

/// Counters shared by the actors of one engine.
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
    /// Jobs whose work panicked (failed with `INTERNAL_ERROR`).
    pub job_panics: AtomicU64,
    pub browsers_launched: AtomicU64,
    pub browsers_reused: AtomicU64,
    /// Browsers that failed a health check or crashed and were replaced.
    pub browsers_replaced: AtomicU64,
    /// Times the memory controller paused the producers.
    pub backpressure_pauses: AtomicU64,
    /// Times it asked the browser pool to shrink.
    pub pool_shrinks: AtomicU64,
    /// Actor restarts by actor name.
    restarts: Mutex<BTreeMap<&'static str, u64>>,
    /// Failed jobs by error code.
    failures: Mutex<BTreeMap<String, u64>>,
    /// Seconds per pipeline stage, summed over finished jobs (milliseconds).
    stage_millis: Mutex<BTreeMap<&'static str, u64>>,
}

impl Counters {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn add_stage(&self, stage: &'static str, seconds: f64) {
        *self.stage_millis.lock().entry(stage).or_default() += (seconds * 1000.0) as u64;
    }

    /// Seconds per stage so far.
    pub fn stage_seconds(&self) -> Vec<(&'static str, f64)> {
        self.stage_millis.lock().iter().map(|(stage, millis)| (*stage, *millis as f64 / 1000.0)).collect()
    }

    pub fn restarted(&self, actor: &'static str) {
        *self.restarts.lock().entry(actor).or_default() += 1;
    }

    pub fn restarts(&self) -> Vec<(&'static str, u64)> {
        self.restarts.lock().iter().map(|(actor, n)| (*actor, *n)).collect()
    }

    pub fn failed(&self, code: &str) {
        *self.failures.lock().entry(code.to_owned()).or_default() += 1;
    }

    pub fn failures(&self) -> Vec<(String, u64)> {
        self.failures.lock().iter().map(|(code, n)| (code.clone(), *n)).collect()
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}
