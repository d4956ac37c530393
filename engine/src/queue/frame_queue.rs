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

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use motionrender_config::{DropPolicy, QueueConfig};

use super::error::{InvalidCapacity, PopTimeoutError, PushTimeoutError, QueueClosed};
use super::frame::OverlayFrame;
use super::stats::{DropReason, QueueStats};

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

#[derive(Debug)]
struct Shared {
    capacity: QueueCapacity,
    policy: DropPolicy,
    state: Mutex<State>,
    /// Signalled when a frame is queued or the queue closes.
    not_empty: Condvar,
    /// Signalled when room is made or the queue closes.
    not_full: Condvar,
    producers: AtomicUsize,
    consumers: AtomicUsize,
}

#[derive(Debug, Default)]
struct State {
    frames: VecDeque<OverlayFrame>,
    bytes: u64,
    closed: bool,
    pushed: u64,
    popped: u64,
    dropped_newest: u64,
    dropped_oldest: u64,
    peak_frames: u64,
    peak_bytes: u64,
    blocked_nanos: u64,
}

impl FrameQueue {
    /// An open, empty queue.
    pub fn new(capacity: QueueCapacity, policy: DropPolicy) -> Self {
        Self {
            shared: Arc::new(Shared {
                capacity,
                policy,
                state: Mutex::new(State::default()),
                not_empty: Condvar::new(),
                not_full: Condvar::new(),
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
        self.shared.lock().closed
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
    /// The state, even if a thread panicked while holding the lock: no code
    /// that can panic runs under it between two consistent states.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn close(&self) {
        self.lock().closed = true;
        self.not_empty.notify_all();
        self.not_full.notify_all();
    }

    /// Whether a frame of `size` bytes may be queued now. An empty queue
    /// takes any frame, even one larger than the byte budget.
    fn has_room(&self, state: &State, size: u64) -> bool {
        state.frames.is_empty()
            || (state.frames.len() < self.capacity.frames as usize
                && state.bytes.saturating_add(size) <= self.capacity.bytes)
    }

    fn push(
        &self,
        frame: OverlayFrame,
        deadline: Option<Instant>,
    ) -> Result<PushOutcome, PushTimeoutError> {
        let size = frame.bytes();
        let mut state = self.lock();
        if state.closed {
            return Err(PushTimeoutError::Closed(frame));
        }
        let outcome = match self.policy {
            DropPolicy::Block => {
                let mut waiting_since = None;
                let mut timed_out = false;
                while !state.closed && !self.has_room(&state, size) {
                    waiting_since.get_or_insert_with(Instant::now);
                    match deadline {
                        None => {
                            state = self
                                .not_full
                                .wait(state)
                                .unwrap_or_else(PoisonError::into_inner);
                        }
                        Some(deadline) => {
                            let now = Instant::now();
                            if now >= deadline {
                                timed_out = true;
                                break;
                            }
                            state = self
                                .not_full
                                .wait_timeout(state, deadline - now)
                                .unwrap_or_else(PoisonError::into_inner)
                                .0;
                        }
                    }
                }
                if let Some(since) = waiting_since {
                    let waited = u64::try_from(since.elapsed().as_nanos()).unwrap_or(u64::MAX);
                    state.blocked_nanos = state.blocked_nanos.saturating_add(waited);
                }
                if state.closed {
                    return Err(PushTimeoutError::Closed(frame));
                }
                if timed_out {
                    return Err(PushTimeoutError::Timeout(frame));
                }
                PushOutcome::Queued
            }
            DropPolicy::DropNewest => {
                if !self.has_room(&state, size) {
                    state.pushed += 1;
                    state.dropped_newest += 1;
                    return Ok(PushOutcome::Dropped(DropReason::QueueFullNewest));
                }
                PushOutcome::Queued
            }
            DropPolicy::DropOldest => {
                let mut evicted: u32 = 0;
                while !self.has_room(&state, size) {
                    let Some(oldest) = state.frames.pop_front() else {
                        break;
                    };
                    state.bytes -= oldest.bytes();
                    state.dropped_oldest += 1;
                    evicted = evicted.saturating_add(1);
                }
                if evicted == 0 {
                    PushOutcome::Queued
                } else {
                    PushOutcome::QueuedEvicting { evicted }
                }
            }
        };
        state.pushed += 1;
        state.bytes += size;
        state.frames.push_back(frame);
        state.peak_frames = state.peak_frames.max(state.frames.len() as u64);
        state.peak_bytes = state.peak_bytes.max(state.bytes);
        drop(state);
        self.not_empty.notify_one();
        Ok(outcome)
    }

    fn pop(&self, deadline: Option<Instant>) -> Result<OverlayFrame, PopTimeoutError> {
        let mut state = self.lock();
        loop {
            if let Some(frame) = state.frames.pop_front() {
                state.bytes -= frame.bytes();
                state.popped += 1;
                drop(state);
                // Sizes differ, so one pop may make room for several producers.
                self.not_full.notify_all();
                return Ok(frame);
            }
            if state.closed {
                return Err(PopTimeoutError::Closed);
            }
            state = match deadline {
                None => self
                    .not_empty
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return Err(PopTimeoutError::Timeout);
                    }
                    self.not_empty
                        .wait_timeout(state, deadline - now)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
            };
        }
    }

    fn stats(&self) -> QueueStats {
        let state = self.lock();
        let mut dropped_by_reason = std::collections::BTreeMap::new();
        if state.dropped_newest > 0 {
            dropped_by_reason.insert(DropReason::QueueFullNewest, state.dropped_newest);
        }
        if state.dropped_oldest > 0 {
            dropped_by_reason.insert(DropReason::QueueFullOldest, state.dropped_oldest);
        }
        QueueStats {
            pushed: state.pushed,
            popped: state.popped,
            dropped_by_reason,
            bytes_in_queue: state.bytes,
            peak_frames: state.peak_frames,
            peak_bytes: state.peak_bytes,
            blocked_nanos: state.blocked_nanos,
            capacity_frames: self.capacity.frames,
            capacity_bytes: self.capacity.bytes,
        }
    }
}
