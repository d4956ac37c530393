//! The frame queue: bounded by frame count and by bytes, with a drop policy
//! for when it is full.
//!
//! Producers (rasterizers) push [`OverlayFrame`]s, one consumer (the
//! compositor) pops them. The queue is full when it holds `capacity.frames`
//! frames, or when the next frame's bytes would take it past
//! `capacity.bytes`. Then [`DropPolicy`] decides:
//!
//! - `Block` (default, lossless): the producer waits for room.
//! - `DropNewest`: the incoming frame is discarded.
//! - `DropOldest`: the oldest queued frames are evicted until the new one fits.
//!
//! A frame larger than the whole byte budget is still admitted when the queue
//! is empty — otherwise it could never be admitted and its producer would wait
//! forever — so `peak_bytes` can exceed `capacity.bytes` by at most one such
//! frame standing alone in the queue.
//!
//! Frames move on a bounded `crossbeam-channel` channel (its capacity is the
//! frame bound) as [`OverlayFrame`]s whose pixels are `bytes::Bytes`. The byte
//! bound is a budget producers reserve from before they send and consumers
//! give back as they pop; a producer blocked on bytes wakes on the next pop.
//! `drop_oldest` evicts through the queue's own receiver, from the
//! producer's side.
//!
//! Every drop is counted with its [`DropReason`]; depth is derived from the
//! pushed, popped and dropped counters, never kept as a gauge.
//!
//! The queue closes when [`FrameQueue::close`] (or `close` on any handle) is
//! called, or when the last [`FrameProducer`] or the last [`FrameConsumer`]
//! is dropped. Closing wakes every waiter: producers get [`QueueClosed`],
//! consumers drain what is left and then get `None`.
//!
//! Cancellation: a push either queues the frame (or counts its drop) or hands
//! it back; a pop either returns a frame or leaves it queued. Nothing is lost
//! between the two.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Select, SelectedOperation, Sender, TryRecvError, TrySendError};
use motionrender_config::{DropPolicy, QueueConfig};
use parking_lot::Mutex;

use super::error::{InvalidCapacity, PopTimeoutError, PushTimeoutError, QueueClosed};
use super::frame::OverlayFrame;
use super::stats::{DropReason, QueueStats};
use super::depth::DepthRecorder;
use super::wait::WaitRecorder;

/// The two bounds of a queue, both at least 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueCapacity {
    frames: u32,
    bytes: u64,
}

impl QueueCapacity {
    /// Bounds of `frames` frames and `bytes` overlay bytes; zero is refused.
    pub fn new(frames: u32, bytes: u64) -> Result<Self, InvalidCapacity> {
        if frames == 0 || bytes == 0 {
            return Err(InvalidCapacity { frames, bytes });
        }
        Ok(Self { frames, bytes })
    }

    /// The bounds configured in `[queue]`.
    pub fn from_config(config: &QueueConfig) -> Result<Self, InvalidCapacity> {
        Self::new(config.capacity_frames, config.capacity_bytes)
    }

    pub fn frames(&self) -> u32 {
        self.frames
    }

    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

/// What became of a pushed frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushOutcome {
    /// The frame is queued.
    Queued,
    /// The frame is queued after `evicted` older frames were dropped to make
    /// room (`DropOldest`).
    QueuedEvicting { evicted: u32 },
    /// The frame itself was dropped (`DropNewest`).
    Dropped(DropReason),
}

/// A bounded overlay-frame queue. Cloning gives another handle to the same
/// queue; [`FrameQueue::producer`] and [`FrameQueue::consumer`] give the
/// handles the two sides use.
#[derive(Debug, Clone)]
pub struct FrameQueue {
    shared: Arc<Shared>,
}

/// The pushing side of a [`FrameQueue`]. The queue closes when the last
/// producer handle is dropped.
#[derive(Debug)]
pub struct FrameProducer {
    shared: Arc<Shared>,
}

/// The popping side of a [`FrameQueue`]. The queue closes when the last
/// consumer handle is dropped, so producers never wait on a consumer that
/// is gone.
#[derive(Debug)]
pub struct FrameConsumer {
    shared: Arc<Shared>,
}

/// The channel and the counters every handle shares.
///
/// Frames travel on a bounded crossbeam channel whose capacity is the frame
/// bound. The byte bound is a counter producers reserve from before they
/// send. The queue holds its own receiver so that `drop_oldest` can evict
/// the oldest frame from the producer's side, and its own sender, so the
/// channel never disconnects: closing is a separate signal.
#[derive(Debug)]
struct Shared {
    capacity: QueueCapacity,
    policy: DropPolicy,
    frames_tx: Sender<Queued>,
    frames_rx: Receiver<Queued>,
    /// One token per pop, so a producer waiting for byte room wakes up.
    room_tx: Sender<()>,
    room_rx: Receiver<()>,
    /// Dropped on close: every select on `closed_rx` then returns at once.
    closed_tx: Mutex<Option<Sender<()>>>,
    closed_rx: Receiver<()>,
    closed: AtomicBool,
    counters: Counters,
    producers: AtomicUsize,
    consumers: AtomicUsize,
}

/// The queue's counters. Each is exact once the queue is quiet; while frames
/// move, a snapshot may catch one frame between two counters.
#[derive(Debug)]
struct Counters {
    /// Bytes queued plus bytes reserved by producers about to send.
    bytes: AtomicU64,
    pushed: AtomicU64,
    popped: AtomicU64,
    dropped_newest: AtomicU64,
    dropped_oldest: AtomicU64,
    peak_frames: AtomicU64,
    peak_bytes: AtomicU64,
    blocked_nanos: AtomicU64,
    /// Push-to-pop time of every popped frame.
    waits: WaitRecorder,
    /// Frames queued over time.
    depth: DepthRecorder,
}

/// A frame in the channel, with the moment it was pushed.
#[derive(Debug)]
struct Queued {
    frame: OverlayFrame,
    at: Instant,
}

impl Queued {
    fn now(frame: OverlayFrame) -> Self {
        Self { frame, at: Instant::now() }
    }
}

/// What a wait for room ended with.
enum Waited {
    Room,
    Closed,
    Timeout,
}

impl FrameQueue {
    /// An open, empty queue.
    pub fn new(capacity: QueueCapacity, policy: DropPolicy) -> Self {
        let (frames_tx, frames_rx) = crossbeam_channel::bounded(capacity.frames as usize);
        let (room_tx, room_rx) = crossbeam_channel::bounded(1);
        let (closed_tx, closed_rx) = crossbeam_channel::bounded(0);
        Self {
            shared: Arc::new(Shared {
                capacity,
                policy,
                frames_tx,
                frames_rx,
                room_tx,
                room_rx,
                closed_tx: Mutex::new(Some(closed_tx)),
                closed_rx,
                closed: AtomicBool::new(false),
                counters: Counters {
                    bytes: AtomicU64::new(0),
                    pushed: AtomicU64::new(0),
                    popped: AtomicU64::new(0),
                    dropped_newest: AtomicU64::new(0),
                    dropped_oldest: AtomicU64::new(0),
                    peak_frames: AtomicU64::new(0),
                    peak_bytes: AtomicU64::new(0),
                    blocked_nanos: AtomicU64::new(0),
                    waits: WaitRecorder::default(),
                    depth: DepthRecorder::new(),
                },
                producers: AtomicUsize::new(0),
                consumers: AtomicUsize::new(0),
            }),
        }
    }

    /// A queue with the bounds and drop policy configured in `[queue]`.
    pub fn from_config(config: &QueueConfig) -> Result<Self, InvalidCapacity> {
        Ok(Self::new(
            QueueCapacity::from_config(config)?,
            config.drop_policy,
        ))
    }

    /// A new producer handle.
    pub fn producer(&self) -> FrameProducer {
        self.shared.producers.fetch_add(1, Ordering::SeqCst);
        FrameProducer {
            shared: Arc::clone(&self.shared),
        }
    }

    /// A new consumer handle.
    pub fn consumer(&self) -> FrameConsumer {
        self.shared.consumers.fetch_add(1, Ordering::SeqCst);
        FrameConsumer {
            shared: Arc::clone(&self.shared),
        }
    }

    pub fn capacity(&self) -> QueueCapacity {
        self.shared.capacity
    }

    pub fn policy(&self) -> DropPolicy {
        self.shared.policy
    }

    /// Closes the queue and wakes every waiter.
    pub fn close(&self) {
        self.shared.close();
    }

    pub fn is_closed(&self) -> bool {
        self.shared.is_closed()
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> QueueStats {
        self.shared.stats()
    }
}

impl FrameProducer {
    /// Offers `frame`. Under `Block` this waits, without a deadline, until
    /// there is room or the queue closes; the other policies never wait.
    pub fn push(&self, frame: OverlayFrame) -> Result<PushOutcome, QueueClosed> {
        self.shared.push(frame, None).map_err(|_| QueueClosed)
    }

    /// Like [`FrameProducer::push`], but waits at most `timeout` for room and
    /// hands the frame back when it could not be queued.
    pub fn push_timeout(
        &self,
        frame: OverlayFrame,
        timeout: Duration,
    ) -> Result<PushOutcome, PushTimeoutError> {
        self.shared.push(frame, Some(Instant::now() + timeout))
    }

    /// Closes the queue and wakes every waiter.
    pub fn close(&self) {
        self.shared.close();
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> QueueStats {
        self.shared.stats()
    }
}

impl FrameConsumer {
    /// The oldest queued frame, waiting until one arrives; `None` once the
    /// queue is closed and drained.
    pub fn pop(&self) -> Option<OverlayFrame> {
        self.shared.pop(None).ok()
    }

    /// Like [`FrameConsumer::pop`], waiting at most `timeout`.
    pub fn pop_timeout(&self, timeout: Duration) -> Result<OverlayFrame, PopTimeoutError> {
        self.shared.pop(Some(Instant::now() + timeout))
    }

    /// The frames in queue order, until the queue is closed and drained.
    pub fn frames(&self) -> impl Iterator<Item = OverlayFrame> + '_ {
        std::iter::from_fn(|| self.pop())
    }

    /// Closes the queue and wakes every waiter.
    pub fn close(&self) {
        self.shared.close();
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> QueueStats {
        self.shared.stats()
    }
}

impl Clone for FrameProducer {
    fn clone(&self) -> Self {
        self.shared.producers.fetch_add(1, Ordering::SeqCst);
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl Clone for FrameConsumer {
    fn clone(&self) -> Self {
        self.shared.consumers.fetch_add(1, Ordering::SeqCst);
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl Drop for FrameProducer {
    fn drop(&mut self) {
        if self.shared.producers.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.shared.close();
        }
    }
}

impl Drop for FrameConsumer {
    fn drop(&mut self) {
        if self.shared.consumers.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.shared.close();
        }
    }
}

impl Shared {
    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.closed_tx.lock().take();
    }

    /// Reserves `size` bytes of the budget. An empty queue takes any frame,
    /// even one larger than the whole budget.
    fn reserve(&self, size: u64) -> bool {
        let bytes = &self.counters.bytes;
        let mut current = bytes.load(Ordering::SeqCst);
        loop {
            let fits = current.saturating_add(size) <= self.capacity.bytes;
            let alone = current == 0 && self.frames_rx.is_empty();
            if !fits && !alone {
                return false;
            }
            match bytes.compare_exchange_weak(current, current + size, Ordering::SeqCst, Ordering::SeqCst) {
                Ok(_) => {
                    self.counters.peak_bytes.fetch_max(current + size, Ordering::SeqCst);
                    return true;
                }
                Err(actual) => current = actual,
            }
        }
    }

    fn release(&self, size: u64) {
        self.counters.bytes.fetch_sub(size, Ordering::SeqCst);
    }

    /// Evicts the oldest queued frame (`drop_oldest`); false when the
    /// consumer took it first.
    fn evict_oldest(&self) -> bool {
        match self.frames_rx.try_recv() {
            Ok(oldest) => {
                self.release(oldest.frame.bytes());
                self.counters.dropped_oldest.fetch_add(1, Ordering::SeqCst);
                self.counters.depth.record(self.frames_rx.len());
                true
            }
            Err(_) => false,
        }
    }

    fn queued(&self) {
        self.counters.pushed.fetch_add(1, Ordering::SeqCst);
        let depth = self.frames_rx.len();
        self.counters.peak_frames.fetch_max(depth as u64, Ordering::SeqCst);
        self.counters.depth.record(depth);
    }

    fn dropped_newest(&self) -> PushOutcome {
        self.counters.pushed.fetch_add(1, Ordering::SeqCst);
        self.counters.dropped_newest.fetch_add(1, Ordering::SeqCst);
        PushOutcome::Dropped(DropReason::QueueFullNewest)
    }

    fn push(&self, frame: OverlayFrame, deadline: Option<Instant>) -> Result<PushOutcome, PushTimeoutError> {
        if self.is_closed() {
            return Err(PushTimeoutError::Closed(frame));
        }
        match self.policy {
            DropPolicy::Block => self.push_blocking(frame, deadline),
            DropPolicy::DropNewest => Ok(self.push_dropping_newest(frame)),
            DropPolicy::DropOldest => Ok(self.push_evicting_oldest(frame)),
        }
    }

    /// `block`: waits for byte room, then for a slot in the channel.
    fn push_blocking(&self, frame: OverlayFrame, deadline: Option<Instant>) -> Result<PushOutcome, PushTimeoutError> {
        let size = frame.bytes();
        let mut waiting_since = None;
        let outcome = 'push: {
            while !self.reserve(size) {
                waiting_since.get_or_insert_with(Instant::now);
                match self.wait_for_room(deadline) {
                    Waited::Room => {}
                    Waited::Closed => break 'push Err(PushTimeoutError::Closed(frame)),
                    Waited::Timeout => break 'push Err(PushTimeoutError::Timeout(frame)),
                }
            }
            let frame = match self.frames_tx.try_send(Queued::now(frame)) {
                Ok(()) => break 'push Ok(PushOutcome::Queued),
                Err(TrySendError::Full(back) | TrySendError::Disconnected(back)) => back.frame,
            };
            waiting_since.get_or_insert_with(Instant::now);
            let result = self.send_waiting(frame, deadline);
            if result.is_err() {
                self.release(size);
            }
            result
        };
        if let Some(since) = waiting_since {
            let waited = u64::try_from(since.elapsed().as_nanos()).unwrap_or(u64::MAX);
            self.counters.blocked_nanos.fetch_add(waited, Ordering::SeqCst);
        }
        if outcome.is_ok() {
            self.queued();
        }
        outcome
    }

    /// Waits for a pop (a room token), the close signal or the deadline.
    fn wait_for_room(&self, deadline: Option<Instant>) -> Waited {
        let mut select = Select::new();
        let room = select.recv(&self.room_rx);
        let closed = select.recv(&self.closed_rx);
        let Some(operation) = Self::select(&mut select, deadline) else {
            return Waited::Timeout;
        };
        match operation.index() {
            i if i == room => {
                let _token = operation.recv(&self.room_rx);
                Waited::Room
            }
            i if i == closed => {
                let _signal = operation.recv(&self.closed_rx);
                Waited::Closed
            }
            _ => Waited::Timeout,
        }
    }

    /// Sends `frame` once the channel has a slot, unless the queue closes or
    /// the deadline passes first; the frame is handed back then.
    fn send_waiting(&self, frame: OverlayFrame, deadline: Option<Instant>) -> Result<PushOutcome, PushTimeoutError> {
        let mut select = Select::new();
        let slot = select.send(&self.frames_tx);
        let closed = select.recv(&self.closed_rx);
        let Some(operation) = Self::select(&mut select, deadline) else {
            return Err(PushTimeoutError::Timeout(frame));
        };
        if operation.index() == slot {
            return match operation.send(&self.frames_tx, Queued::now(frame)) {
                Ok(()) => Ok(PushOutcome::Queued),
                Err(error) => Err(PushTimeoutError::Closed(error.into_inner().frame)),
            };
        }
        if operation.index() == closed {
            let _signal = operation.recv(&self.closed_rx);
        }
        Err(PushTimeoutError::Closed(frame))
    }

    /// The ready operation, or `None` once `deadline` has passed.
    fn select<'a>(select: &mut Select<'a>, deadline: Option<Instant>) -> Option<SelectedOperation<'a>> {
        match deadline {
            None => Some(select.select()),
            Some(deadline) => select.select_deadline(deadline).ok(),
        }
    }

    /// `drop_newest`: a frame that does not fit is discarded on arrival.
    fn push_dropping_newest(&self, frame: OverlayFrame) -> PushOutcome {
        let size = frame.bytes();
        if !self.reserve(size) {
            return self.dropped_newest();
        }
        match self.frames_tx.try_send(Queued::now(frame)) {
            Ok(()) => {
                self.queued();
                PushOutcome::Queued
            }
            Err(_) => {
                self.release(size);
                self.dropped_newest()
            }
        }
    }

    /// `drop_oldest`: the oldest queued frames are evicted until the new one
    /// fits in bytes and in frames.
    fn push_evicting_oldest(&self, mut frame: OverlayFrame) -> PushOutcome {
        let size = frame.bytes();
        let mut evicted: u32 = 0;
        while !self.reserve(size) {
            if self.evict_oldest() {
                evicted = evicted.saturating_add(1);
            } else {
                std::thread::yield_now();
            }
        }
        loop {
            match self.frames_tx.try_send(Queued::now(frame)) {
                Ok(()) => break,
                Err(TrySendError::Full(back) | TrySendError::Disconnected(back)) => {
                    frame = back.frame;
                    if self.evict_oldest() {
                        evicted = evicted.saturating_add(1);
                    }
                }
            }
        }
        self.queued();
        if evicted == 0 {
            PushOutcome::Queued
        } else {
            PushOutcome::QueuedEvicting { evicted }
        }
    }

    fn popped(&self, queued: Queued) -> OverlayFrame {
        self.counters.waits.record(queued.at.elapsed());
        self.release(queued.frame.bytes());
        self.counters.popped.fetch_add(1, Ordering::SeqCst);
        self.counters.depth.record(self.frames_rx.len());
        // A full token channel already wakes the next waiter.
        let _ = self.room_tx.try_send(());
        queued.frame
    }

    fn pop(&self, deadline: Option<Instant>) -> Result<OverlayFrame, PopTimeoutError> {
        loop {
            match self.frames_rx.try_recv() {
                Ok(queued) => return Ok(self.popped(queued)),
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => {}
            }
            if self.is_closed() {
                return Err(PopTimeoutError::Closed);
            }
            let mut select = Select::new();
            let frames = select.recv(&self.frames_rx);
            let closed = select.recv(&self.closed_rx);
            let Some(operation) = Self::select(&mut select, deadline) else {
                return Err(PopTimeoutError::Timeout);
            };
            if operation.index() == frames {
                if let Ok(queued) = operation.recv(&self.frames_rx) {
                    return Ok(self.popped(queued));
                }
            } else if operation.index() == closed {
                // Closed: drain what is left before reporting it.
                let _signal = operation.recv(&self.closed_rx);
            }
        }
    }

    fn stats(&self) -> QueueStats {
        let c = &self.counters;
        let load = |counter: &AtomicU64| counter.load(Ordering::SeqCst);
        let mut dropped_by_reason = std::collections::BTreeMap::new();
        let newest = load(&c.dropped_newest);
        if newest > 0 {
            dropped_by_reason.insert(DropReason::QueueFullNewest, newest);
        }
        let oldest = load(&c.dropped_oldest);
        if oldest > 0 {
            dropped_by_reason.insert(DropReason::QueueFullOldest, oldest);
        }
        QueueStats {
            pushed: load(&c.pushed),
            popped: load(&c.popped),
            dropped_by_reason,
            bytes_in_queue: load(&c.bytes),
            peak_frames: load(&c.peak_frames),
            peak_bytes: load(&c.peak_bytes),
            blocked_nanos: load(&c.blocked_nanos),
            wait: c.waits.snapshot(),
            depth: c.depth.snapshot(),
            capacity_frames: self.capacity.frames,
            capacity_bytes: self.capacity.bytes,
        }
    }
}
