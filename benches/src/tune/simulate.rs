//! A synthetic run: seeded producers and consumers around the engine's own
//! [`FrameQueue`], [`OverlaySequencer`] and [`MemoryGate`], on a virtual clock.
//!
//! Like a render, the video is cut into segments and each page takes one
//! segment at a time; a segment has its own queue, producer and consumer.
//! Events (a frame produced, a frame encoded, a pause over) happen in time
//! order on one thread, so the queue's calls never wait: a push that would
//! wait is `push_timeout(frame, 0)` handed back, retried when the consumer
//! makes room, and the time in between is the producer's blocked time. The
//! sequencer is only asked for a frame when the queue holds one (or a frame
//! pulled ahead is pending, or the queue is closed), exactly the moment the
//! engine's compositor would stop waiting.

use std::cell::Cell;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, VecDeque};
use std::rc::Rc;
use std::time::Duration;

use bytes::Bytes;
use motionrender_engine::queue::{
    FrameConsumer, FrameProducer, FrameQueue, MemoryGate, OverlayFrame, OverlaySequencer, PopTimeoutError, PushTimeoutError, QueueStats, SequencedOverlay, SequencerStats,
};
use motionrender_engine::render::RenderSettings;

use super::error::TuneError;
use super::metrics::{add_queue_stats, add_sequencer_stats, PeakMemoryMb, RunMetrics, RunRecorder, RunTotals};
use super::spec::{Deadline, Point};
use super::synthetic::{preset_factor, SyntheticModel};

const MIB: f64 = 1024.0 * 1024.0;

/// Runs one synthetic run of `point` (whose queue and memory settings are
/// `settings`, built by the engine from the configuration) with `seed`.
pub fn run_synthetic(point: &Point, settings: &RenderSettings, model: &SyntheticModel, deadline: Deadline, seed: u64) -> Result<RunMetrics, TuneError> {
    Simulation::new(point, settings, model, deadline, seed).run()
}

/// The frames `0..end` of one segment, read from its queue.
struct Drain {
    consumer: FrameConsumer,
    last_popped: Rc<Cell<Option<u64>>>,
    /// The queue was empty but open when a frame was asked for: the
    /// simulation asked too early (a bug, reported as an error).
    starved: Rc<Cell<bool>>,
}

impl Iterator for Drain {
    type Item = OverlayFrame;

    fn next(&mut self) -> Option<OverlayFrame> {
        match self.consumer.pop_timeout(Duration::ZERO) {
            Ok(frame) => {
                self.last_popped.set(Some(frame.index));
                Some(frame)
            }
            Err(PopTimeoutError::Closed) => None,
            Err(PopTimeoutError::Timeout) => {
                self.starved.set(true);
                None
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Producing {
    /// Making frame `next`; an event fires when it is done.
    Busy,
    /// Holding a frame the full queue would not take.
    Blocked { since: u64 },
    /// Holding a frame while the memory gate is closed; an event fires at the next check.
    Paused,
    Done,
}

/// One segment in progress on a page.
struct SegmentRun {
    number: u32,
    end: u64,
    queue: FrameQueue,
    producer: Option<FrameProducer>,
    sequencer: OverlaySequencer<Drain>,
    last_popped: Rc<Cell<Option<u64>>>,
    starved: Rc<Cell<bool>>,
    /// The frame the producer makes or holds.
    next: u64,
    held: Option<OverlayFrame>,
    producing: Producing,
    /// The output frame the consumer encodes next, and the one it encodes now.
    slot: u64,
    encoding: Option<SequencedOverlay>,
    pace_pending: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Produced,
    PauseOver,
    Encoded,
    Paced,
}

struct Simulation<'a> {
    model: &'a SyntheticModel,
    deadline: Deadline,
    seed: u64,
    fps: f64,
    frames: u64,
    gate: MemoryGate,
    settings: &'a RenderSettings,
    overlay: Bytes,
    service_scale: f64,
    pending: VecDeque<(u32, u64, u64)>,
    pages: Vec<Option<SegmentRun>>,
    events: BinaryHeap<Reverse<(u64, u64, usize, Kind)>>,
    sequence: u64,
    recorder: RunRecorder,
    queue_total: QueueStats,
    sequencer_total: SequencerStats,
    produced: u64,
    blocked: u64,
    memory_paused: u64,
    produce_nanos: u64,
    encode_nanos: u64,
    peak_in_memory: u64,
    last_depth: Option<u64>,
    finished_at: u64,
}

impl<'a> Simulation<'a> {
    fn new(point: &Point, settings: &'a RenderSettings, model: &'a SyntheticModel, deadline: Deadline, seed: u64) -> Self {
        let fps = f64::from(point.fps);
        let frames = (model.seconds * fps).round().max(1.0) as u64;
        let per_segment = (model.segment_seconds * fps).round().max(1.0) as u64;
        let mut pending = VecDeque::new();
        let mut first = 0;
        while first < frames {
            let end = (first + per_segment).min(frames);
            pending.push_back((pending.len() as u32, first, end));
            first = end;
        }
        let pages = (point.pages as usize).min(pending.len()).max(1);
        let pixels = f64::from(point.width) * f64::from(point.height) / (1920.0 * 1080.0);
        let contention = (pages as f64 * model.consumer.cores / model.cores).max(1.0);
        let overlay_len = usize::try_from(model.overlay_bytes(point.width, point.height)).unwrap_or(usize::MAX);
        Self {
            model,
            deadline,
            seed,
            fps,
            frames,
            gate: MemoryGate::new(settings.memory_high_water_bytes),
            settings,
            overlay: Bytes::from(vec![0u8; overlay_len]),
            service_scale: pixels * preset_factor(&point.preset) * contention,
            pending,
            pages: (0..pages).map(|_| None).collect(),
            events: BinaryHeap::new(),
            sequence: 0,
            recorder: RunRecorder::new(match deadline {
                Deadline::None => None,
                Deadline::Deadline { latency_budget_ms } => Some((latency_budget_ms * 1e6).round() as u64),
            }),
            queue_total: QueueStats::default(),
            sequencer_total: SequencerStats::default(),
            produced: 0,
            blocked: 0,
            memory_paused: 0,
            produce_nanos: 0,
            encode_nanos: 0,
            peak_in_memory: 0,
            last_depth: None,
            finished_at: 0,
        }
    }

    fn run(mut self) -> Result<RunMetrics, TuneError> {
        for page in 0..self.pages.len() {
            self.start_segment(page, 0)?;
        }
        while let Some(Reverse((at, _, page, kind))) = self.events.pop() {
            match kind {
                Kind::Produced => {
                    let Some(segment) = self.pages[page].as_mut() else { continue };
                    let frame = OverlayFrame { index: segment.next, image: Some(self.overlay.clone()), bbox: None, reused: false };
                    segment.held = Some(frame);
                    self.produced += 1;
                    self.offer(page, at)?;
                }
                Kind::PauseOver => self.offer(page, at)?,
                Kind::Encoded => self.encoded(page, at)?,
                Kind::Paced => {
                    if let Some(segment) = self.pages[page].as_mut() {
                        segment.pace_pending = false;
                    }
                }
            }
            self.settle(page, at)?;
        }
        if self.pages.iter().any(Option::is_some) || !self.pending.is_empty() {
            return Err(TuneError::Simulation("the simulation stopped with segments unfinished".to_owned()));
        }
        Ok(self.finish())
    }

    fn schedule(&mut self, at: u64, page: usize, kind: Kind) {
        self.sequence += 1;
        self.events.push(Reverse((at, self.sequence, page, kind)));
    }

    /// When frame `index` is due: its place on the output clock.
    fn due(&self, index: u64) -> u64 {
        (index as f64 * 1e9 / self.fps).round() as u64
    }

    fn start_segment(&mut self, page: usize, at: u64) -> Result<(), TuneError> {
        let Some((number, first, end)) = self.pending.pop_front() else {
            self.pages[page] = None;
            return Ok(());
        };
        let queue = FrameQueue::new(self.settings.queue, self.settings.drop_policy);
        let last_popped = Rc::new(Cell::new(None));
        let starved = Rc::new(Cell::new(false));
        let drain = Drain { consumer: queue.consumer(), last_popped: Rc::clone(&last_popped), starved: Rc::clone(&starved) };
        self.pages[page] = Some(SegmentRun {
            number,
            end,
            producer: Some(queue.producer()),
            sequencer: OverlaySequencer::new(drain, first..end),
            queue,
            last_popped,
            starved,
            next: first,
            held: None,
            producing: Producing::Busy,
            slot: first,
            encoding: None,
            pace_pending: false,
        });
        self.produce(page, first, at);
        Ok(())
    }

    /// Starts making frame `index` on `page` at `at` (not before it is due, under a deadline).
    fn produce(&mut self, page: usize, index: u64, at: u64) {
        let start = match self.deadline {
            Deadline::None => at,
            Deadline::Deadline { .. } => at.max(self.due(index)),
        };
        let scheduled = match self.deadline {
            Deadline::None => start,
            Deadline::Deadline { .. } => self.due(index),
        };
        self.recorder.scheduled(index, scheduled);
        let took = self.model.production_nanos(self.seed, index);
        self.produce_nanos += took;
        if let Some(segment) = self.pages[page].as_mut() {
            segment.next = index;
            segment.producing = Producing::Busy;
        }
        self.schedule(start + took, page, Kind::Produced);
    }

    /// Overlay bytes held now: queued, held by producers, being encoded.
    fn bytes_in_memory(&self) -> u64 {
        self.pages
            .iter()
            .flatten()
            .map(|s| s.queue.stats().bytes_in_queue + s.held.as_ref().map_or(0, OverlayFrame::bytes) + s.encoding.as_ref().and_then(|o| o.image.as_ref()).map_or(0, |i| i.len() as u64))
            .sum()
    }

    fn resident_bytes(&self) -> u64 {
        (self.model.memory.engine_base_mb * MIB) as u64 + self.bytes_in_memory()
    }

    /// The producer of `page` offers the frame it holds, unless the memory gate is closed.
    fn offer(&mut self, page: usize, at: u64) -> Result<(), TuneError> {
        let resident = self.resident_bytes();
        let gate = self.gate;
        let pushed = {
            let Some(segment) = self.pages[page].as_mut() else { return Ok(()) };
            let Some(producer) = segment.producer.as_ref() else { return Ok(()) };
            if gate.must_pause(resident, &producer.stats()) {
                segment.producing = Producing::Paused;
                None
            } else {
                let Some(frame) = segment.held.take() else { return Ok(()) };
                match producer.push_timeout(frame, Duration::ZERO) {
                    Ok(_) => Some(true),
                    Err(PushTimeoutError::Timeout(frame)) => {
                        segment.held = Some(frame);
                        segment.producing = Producing::Blocked { since: at };
                        Some(false)
                    }
                    Err(PushTimeoutError::Closed(frame)) => return Err(closed(frame.index)),
                }
            }
        };
        match pushed {
            None => {
                let pause = MemoryGate::PAUSE.as_nanos() as u64;
                self.blocked += pause;
                self.memory_paused += pause;
                self.schedule(at + pause, page, Kind::PauseOver);
            }
            Some(true) => self.pushed(page, at),
            Some(false) => {}
        }
        Ok(())
    }

    /// The frame was taken by the queue (queued or dropped): on to the next one.
    fn pushed(&mut self, page: usize, at: u64) {
        let Some(segment) = self.pages[page].as_mut() else { return };
        let next = segment.next + 1;
        if next < segment.end {
            self.produce(page, next, at);
        } else {
            segment.producing = Producing::Done;
            segment.producer = None; // the last producer: the queue closes
        }
    }

    /// Whatever can happen on `page` at `at` without time passing: a blocked
    /// producer retries after a pop, an idle consumer starts its next frame.
    fn settle(&mut self, page: usize, at: u64) -> Result<(), TuneError> {
        loop {
            let mut changed = false;
            let unblocked = match self.pages[page].as_mut() {
                Some(segment) => match (segment.producing, segment.producer.as_ref(), segment.held.take()) {
                    (Producing::Blocked { since }, Some(producer), Some(frame)) => match producer.push_timeout(frame, Duration::ZERO) {
                        Ok(_) => Some(since),
                        Err(PushTimeoutError::Timeout(frame)) => {
                            segment.held = Some(frame);
                            None
                        }
                        Err(PushTimeoutError::Closed(frame)) => return Err(closed(frame.index)),
                    },
                    (_, _, held) => {
                        segment.held = held;
                        None
                    }
                },
                None => None,
            };
            if let Some(since) = unblocked {
                self.blocked += at - since;
                self.pushed(page, at);
                changed = true;
            }
            changed |= self.consume(page, at)?;
            self.track(at);
            if !changed {
                return Ok(());
            }
        }
    }

    /// Starts encoding the next output frame when the consumer is free, the
    /// frame is due (deadline) and the queue can answer without waiting.
    fn consume(&mut self, page: usize, at: u64) -> Result<bool, TuneError> {
        let paced = matches!(self.deadline, Deadline::Deadline { .. });
        let Some(slot) = self.pages[page].as_ref().map(|s| s.slot) else { return Ok(false) };
        let due = self.due(slot);
        let (seed, scale) = (self.seed, self.service_scale);
        let started = {
            let Some(segment) = self.pages[page].as_mut() else { return Ok(false) };
            if segment.encoding.is_some() || segment.slot >= segment.end {
                return Ok(false);
            }
            if paced && at < due {
                if segment.pace_pending {
                    return Ok(false);
                }
                segment.pace_pending = true;
                None
            } else {
                let pulled_ahead = segment.last_popped.get().is_some_and(|last| last >= segment.slot);
                if !(pulled_ahead || segment.queue.stats().depth() > 0 || segment.producer.is_none()) {
                    return Ok(false);
                }
                let overlay = segment.sequencer.next();
                if segment.starved.get() {
                    return Err(TuneError::Simulation(format!("segment {}: the sequencer was asked for frame {} before the queue had it", segment.number, segment.slot)));
                }
                let Some(overlay) = overlay else {
                    return Err(TuneError::Simulation(format!("segment {}: the sequencer ended before frame {}", segment.number, segment.slot)));
                };
                let took = if overlay.is_substituted() {
                    self.model.substitute_nanos(scale)
                } else {
                    self.model.service_nanos(seed, overlay.index, scale)
                };
                segment.encoding = Some(overlay);
                Some(took)
            }
        };
        match started {
            None => {
                self.schedule(due, page, Kind::Paced);
                Ok(false)
            }
            Some(took) => {
                self.encode_nanos += took;
                self.schedule(at + took, page, Kind::Encoded);
                Ok(true)
            }
        }
    }

    fn encoded(&mut self, page: usize, at: u64) -> Result<(), TuneError> {
        let Some(segment) = self.pages[page].as_mut() else { return Ok(()) };
        let Some(overlay) = segment.encoding.take() else { return Ok(()) };
        self.recorder.encoded(segment.number, &overlay, at);
        segment.slot += 1;
        self.finished_at = self.finished_at.max(at);
        if segment.slot < segment.end {
            return Ok(());
        }
        if segment.producing != Producing::Done {
            return Err(TuneError::Simulation(format!("segment {} was encoded before its producer finished", segment.number)));
        }
        add_queue_stats(&mut self.queue_total, &segment.queue.stats());
        add_sequencer_stats(&mut self.sequencer_total, &segment.sequencer.stats());
        self.start_segment(page, at)
    }

    /// Records the queues' depth when it changed, and the peak of overlay memory.
    fn track(&mut self, at: u64) {
        let depth: u64 = self.pages.iter().flatten().map(|s| s.queue.stats().depth()).sum();
        if self.last_depth != Some(depth) {
            self.last_depth = Some(depth);
            self.recorder.depth(at, depth);
        }
        self.peak_in_memory = self.peak_in_memory.max(self.bytes_in_memory());
    }

    fn finish(self) -> RunMetrics {
        let pages = self.pages.len() as f64;
        let seconds = |nanos: u64| nanos as f64 / 1e9;
        let stages = BTreeMap::from([
            ("produce".to_owned(), seconds(self.produce_nanos)),
            ("compose_encode".to_owned(), seconds(self.encode_nanos)),
            ("backpressure".to_owned(), seconds(self.blocked)),
        ]);
        let peak_memory_mb = PeakMemoryMb {
            engine: self.model.memory.engine_base_mb + self.peak_in_memory as f64 / MIB,
            chromium: pages * self.model.memory.chromium_page_mb,
            source: "model".to_owned(),
        };
        let mut metrics = self.recorder.finish(RunTotals {
            frames_in: self.frames,
            produced: self.produced,
            queue: self.queue_total,
            sequencer: self.sequencer_total,
            render_nanos: self.finished_at,
            video_seconds: self.frames as f64 / self.fps,
            fps: self.fps,
            blocked_nanos: self.blocked,
            memory_paused_nanos: self.memory_paused,
            peak_memory_mb,
            stages,
        });
        metrics.not_measured.push("peak memory is modelled (synthetic.memory plus the overlay bytes held), not measured".to_owned());
        metrics
    }
}

fn closed(index: u64) -> TuneError {
    TuneError::Simulation(format!("the queue closed before frame {index} was pushed"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use motionrender_config::{Config, DropPolicy};

    use super::*;

    fn point(drop_policy: DropPolicy, capacity_frames: u32) -> Point {
        Point { drop_policy, capacity_frames, capacity_bytes: 1 << 30, budget_mb: 4096, pages: 2, preset: "veryfast".to_owned(), width: 640, height: 360, fps: 30 }
    }

    fn run(point: &Point, model: &SyntheticModel, deadline: Deadline, seed: u64) -> RunMetrics {
        let mut config = Config::default();
        config.queue.drop_policy = point.drop_policy;
        config.queue.capacity_frames = point.capacity_frames;
        config.queue.capacity_bytes = point.capacity_bytes;
        let settings = RenderSettings::from_config(&config).unwrap();
        run_synthetic(point, &settings, model, deadline, seed).unwrap()
    }

    fn slow_consumer() -> SyntheticModel {
        let mut model = SyntheticModel { seconds: 6.0, segment_seconds: 3.0, ..SyntheticModel::default() };
        // 640x360 is 1/9 of 1080p: 9 × 4.5 ms = 40 ms a frame, slower than 30 fps.
        model.consumer.service_ms = 9.0 * 45.0;
        model
    }

    #[test]
    fn every_frame_is_accounted_for_under_each_policy() {
        for policy in [DropPolicy::Block, DropPolicy::DropNewest, DropPolicy::DropOldest] {
            let m = run(&point(policy, 4), &slow_consumer(), Deadline::Deadline { latency_budget_ms: 100.0 }, 3);
            assert_eq!(m.pushed, m.popped + m.dropped_total, "{policy:?}");
            assert_eq!((m.frames_out, m.produced, m.pushed), (m.frames_in, m.frames_in, m.frames_in), "{policy:?}");
            assert_eq!(m.substituted, m.dropped_total, "{policy:?}");
            if policy == DropPolicy::Block {
                assert_eq!(m.dropped_total, 0);
                assert!(m.blocked_seconds > 0.0);
            } else {
                assert!(m.dropped_total > 0, "{policy:?} dropped nothing");
            }
        }
    }

    #[test]
    fn dropping_keeps_latency_bounded_where_blocking_lets_it_grow() {
        let deadline = Deadline::Deadline { latency_budget_ms: 200.0 };
        let block = run(&point(DropPolicy::Block, 4), &slow_consumer(), deadline, 5);
        let drop = run(&point(DropPolicy::DropOldest, 4), &slow_consumer(), deadline, 5);
        let p99 = |m: &RunMetrics| m.latency.as_ref().unwrap().p99_ms;
        assert!(p99(&block) > 2.0 * p99(&drop), "block {} vs drop_oldest {}", p99(&block), p99(&drop));
    }

    #[test]
    fn the_same_seed_gives_the_same_run() {
        let model = slow_consumer();
        let a = run(&point(DropPolicy::DropNewest, 8), &model, Deadline::None, 11);
        let b = run(&point(DropPolicy::DropNewest, 8), &model, Deadline::None, 11);
        let c = run(&point(DropPolicy::DropNewest, 8), &model, Deadline::None, 12);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
