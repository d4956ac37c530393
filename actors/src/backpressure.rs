//! DropPolicy / Backpressure: owns every segment's frame queue — made here
//! with the job's bounds and drop policy (`block`, `drop_newest`,
//! `drop_oldest`) — and the controller that watches those queues' fill and
//! the memory of the engine, its browsers and the system (through
//! `sysinfo`). Above the high-water mark it closes the producers' gate (they
//! pause while the queue still holds frames) and asks the browser pool to
//! shrink; below it, it opens the gate again. Every decision is counted
//! (metrics) and reaches the job's QC report.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use motionrender_config::DropPolicy;
use motionrender_engine::queue::{FrameQueue, QueueCapacity};
use motionrender_engine::render::PressureGate;
use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate};

type System = sysinfo::System;

use crate::browser_pool::{BrowserPool, Shrink};
use crate::metrics::Metrics;

const MAILBOX: usize = 256;
/// How often memory and queue fill are read.
const TICK: Duration = Duration::from_millis(500);
/// Chromium's memory is read every this many ticks (every 2 s), the last
/// reading standing in between: its proportional size walks every page
/// table of every browser process, about 40 ms of CPU a reading with two
/// 1080p browsers (4 % of a 60 s render's CPU when read every tick).
const CHROMIUM_EVERY: u32 = 4;

/// What the controller reads and decides, for readers outside the actor.
#[derive(Debug, Default)]
pub struct PressureReadings {
    pub engine_bytes: AtomicU64,
    pub chromium_bytes: AtomicU64,
    pub system_available_bytes: AtomicU64,
    /// Overlays waiting in all open queues.
    pub queued_frames: AtomicU64,
}

impl PressureReadings {
    pub fn chromium(&self) -> u64 {
        self.chromium_bytes.load(Ordering::Relaxed)
    }
}

/// The controller actor.
pub struct Backpressure {
    gate: Arc<PressureGate>,
    readings: Arc<PressureReadings>,
    /// The engine's resident memory above which producers pause.
    high_water_bytes: u64,
    /// System memory that must stay available, else producers pause too.
    system_reserve_bytes: u64,
    queues: Vec<FrameQueue>,
    pool: Option<Addr<BrowserPool>>,
    metrics: Arc<Metrics>,
    /// Read on a blocking thread, one reading at a time.
    system: Option<Arc<parking_lot::Mutex<System>>>,
    reading: bool,
    /// Readings started, for [`CHROMIUM_EVERY`].
    readings_started: u32,
}

/// One reading of memory.
#[derive(Debug, Clone, Copy)]
struct Reading {
    engine: u64,
    chromium: u64,
    available: u64,
}

impl std::fmt::Debug for Backpressure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backpressure").field("high_water_bytes", &self.high_water_bytes).field("queues", &self.queues.len()).finish()
    }
}

impl Backpressure {
    pub fn new(gate: Arc<PressureGate>, readings: Arc<PressureReadings>, high_water_bytes: u64, pool: Option<Addr<BrowserPool>>, metrics: Arc<Metrics>) -> Self {
        Self {
            gate,
            readings,
            high_water_bytes,
            system_reserve_bytes: 256 * 1024 * 1024,
            queues: Vec::new(),
            pool,
            metrics,
            system: match sysinfo::System::new() {
                Ok(system) => Some(Arc::new(parking_lot::Mutex::new(system))),
                Err(error) => {
                    tracing::error!(%error, "cannot read memory (sysinfo); producers are never paused");
                    None
                }
            },
            reading: false,
            readings_started: 0,
        }
    }

    /// Starts a reading off the actor's thread (it scans /proc).
    fn sample(&mut self, ctx: &mut Context<Self>) {
        let Some(system) = self.system.clone() else { return };
        if self.reading {
            return;
        }
        self.reading = true;
        let last_chromium = self.readings.chromium();
        let with_chromium = self.readings_started % CHROMIUM_EVERY == 0;
        self.readings_started = self.readings_started.wrapping_add(1);
        let read = tokio::task::spawn_blocking(move || {
            let mut reading = read(&mut system.lock(), with_chromium);
            if !with_chromium {
                reading.chromium = last_chromium;
            }
            reading
        });
        ctx.spawn(read.into_actor(self).map(|reading, controller, _| {
            controller.reading = false;
            if let Ok(reading) = reading {
                controller.decide(reading);
            }
        }));
    }

    fn decide(&mut self, Reading { engine, chromium, available }: Reading) {
        self.queues.retain(|queue| !queue.is_closed());
        let queued: u64 = self.queues.iter().map(|queue| queue.stats().depth()).sum();
        let readings = &self.readings;
        readings.engine_bytes.store(engine, Ordering::Relaxed);
        readings.chromium_bytes.store(chromium, Ordering::Relaxed);
        readings.system_available_bytes.store(available, Ordering::Relaxed);
        readings.queued_frames.store(queued, Ordering::Relaxed);

        let system_short = available > 0 && available < self.system_reserve_bytes;
        // Idle browsers go first when the engine and its browsers together near the budget.
        if system_short || engine + chromium > self.high_water_bytes {
            if let Some(pool) = &self.pool {
                let _ = pool.try_send(Shrink);
            }
        }
        let short = engine > self.high_water_bytes || system_short;
        if self.gate.set_closed(short) {
            if short {
                self.metrics.backpressure_paused();
                tracing::warn!(engine_bytes = engine, available_bytes = available, queued_frames = queued, "memory short: producers paused");
            } else {
                tracing::info!(engine_bytes = engine, "memory back under the high-water mark: producers resume");
            }
        }
    }
}

/// Reads the engine's and the system's memory, and with `with_chromium`
/// its browsers' (else `chromium` is 0).
fn read(system: &mut System, with_chromium: bool) -> Reading {
    system.refresh_memory();
    system.refresh_processes_specifics(ProcessesToUpdate::All, true, ProcessRefreshKind::nothing().with_memory().without_tasks());
    let own = Pid::from_u32(std::process::id());
    let engine = system.process(own).map_or(0, |p| p.memory());
    if !with_chromium {
        return Reading { engine, chromium: 0, available: system.available_memory() };
    }
    let chromium = system
        .processes()
        .values()
        // Threads are listed as tasks of their process: count processes only.
        .filter(|process| process.thread_kind().is_none())
        .filter(|process| {
            let name = process.name().to_string_lossy();
            (name.contains("chrom") || name.contains("headless")) && descends_from(system, process.pid(), own)
        })
        // Summed by proportional size: a browser's processes share much of
        // their memory, which a sum of their resident sizes counts again and again.
        .map(|process| motionrender_engine::render::shared_fairly_bytes(process.pid().as_u32()))
        .sum();
    Reading { engine, chromium, available: system.available_memory() }
}

/// Whether `pid` has `root` among its ancestors.
fn descends_from(system: &System, pid: Pid, root: Pid) -> bool {
    let mut at = system.process(pid).and_then(|p| p.parent());
    for _ in 0..64 {
        match at {
            Some(parent) if parent == root => return true,
            Some(parent) => at = system.process(parent).and_then(|p| p.parent()),
            None => return false,
        }
    }
    false
}

impl Actor for Backpressure {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(MAILBOX);
        ctx.run_interval(TICK, |controller, ctx| controller.sample(ctx));
    }
}

impl actix::Supervised for Backpressure {
    fn restarting(&mut self, _: &mut Self::Context) {
        self.metrics.restarted("backpressure");
        self.reading = false;
        self.gate.set_closed(false);
    }
}

/// A new frame queue for one segment, with the job's bounds and policy.
#[derive(Debug, Message)]
#[rtype(result = "FrameQueue")]
pub struct OpenQueue {
    pub capacity: QueueCapacity,
    pub policy: DropPolicy,
}

impl Handler<OpenQueue> for Backpressure {
    type Result = MessageResult<OpenQueue>;

    fn handle(&mut self, OpenQueue { capacity, policy }: OpenQueue, _: &mut Self::Context) -> Self::Result {
        let queue = FrameQueue::new(capacity, policy);
        self.queues.push(queue.clone());
        MessageResult(queue)
    }
}
