//! The frame queue and the overlay sequencer through their public API: the
//! drop policies lose only what they say, count every drop, and the
//! compositor still gets exactly one overlay per source frame.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::thread;
use std::time::Duration;

use bytes::Bytes;
use motionrender_config::{DropPolicy, QueueConfig};
use motionrender_engine::queue::{
    BoundingBox, DropReason, FrameQueue, OverlayFrame, OverlayOrigin, OverlaySequencer, PopTimeoutError,
    PushOutcome, PushTimeoutError, QueueCapacity, QueueClosed,
};
use proptest::prelude::*;

fn frame(index: u64, bytes: usize) -> OverlayFrame {
    OverlayFrame {
        index,
        image: (bytes > 0).then(|| Bytes::from(vec![(index % 251) as u8; bytes])),
        bbox: (bytes > 0).then_some(BoundingBox { x: 0, y: 0, width: 1, height: 1 }),
        reused: false,
    }
}

fn queue(frames: u32, bytes: u64, policy: DropPolicy) -> FrameQueue {
    FrameQueue::new(QueueCapacity::new(frames, bytes).unwrap(), policy)
}

#[test]
fn block_loses_nothing_with_a_slow_consumer() {
    const N: u64 = 300;
    let queue = queue(4, 1 << 20, DropPolicy::Block);
    let producer = queue.producer();
    let consumer = queue.consumer();
    let rasterizer = thread::spawn(move || {
        for i in 0..N {
            assert_eq!(producer.push(frame(i, 64)).unwrap(), PushOutcome::Queued);
        }
    });
    let mut seen = Vec::new();
    while let Some(f) = consumer.pop() {
        if f.index % 25 == 0 {
            thread::sleep(Duration::from_millis(2));
        }
        seen.push(f.index);
    }
    rasterizer.join().unwrap();
    assert_eq!(seen, (0..N).collect::<Vec<_>>());
    let stats = queue.stats();
    assert_eq!(stats.pushed, N);
    assert_eq!(stats.popped, N);
    assert_eq!(stats.dropped_total(), 0);
    assert_eq!(stats.depth(), 0);
    assert!(stats.peak_frames <= 4);
}

#[test]
fn drop_newest_discards_incoming_frames_and_counts_them() {
    const N: u64 = 10;
    let queue = queue(3, 1 << 20, DropPolicy::DropNewest);
    let producer = queue.producer();
    let consumer = queue.consumer();
    // The consumer is stalled while all frames are pushed.
    let outcomes: Vec<_> = (0..N)
        .map(|i| producer.push(frame(i, 16)).unwrap())
        .collect();
    assert_eq!(&outcomes[..3], &[PushOutcome::Queued; 3]);
    assert!(outcomes[3..]
        .iter()
        .all(|o| *o == PushOutcome::Dropped(DropReason::QueueFullNewest)));
    let stats = queue.stats();
    assert_eq!(stats.dropped(DropReason::QueueFullNewest), 7);
    assert_eq!(stats.dropped(DropReason::QueueFullOldest), 0);
    assert_eq!(stats.depth(), 3);
    drop(producer); // the last producer gone closes the queue

    let mut sequencer = OverlaySequencer::new(consumer.frames(), 0..N);
    let out: Vec<_> = sequencer.by_ref().collect();
    assert_eq!(out.len() as u64, N);
    assert_eq!(
        out.iter().map(|o| o.index).collect::<Vec<_>>(),
        (0..N).collect::<Vec<_>>()
    );
    assert_eq!(sequencer.stats().substituted, queue.stats().dropped_total());
    assert!(out[3..]
        .iter()
        .all(|o| o.origin == OverlayOrigin::Substituted { from: Some(2) }));
    assert_eq!(out[9].image, frame(2, 16).image);
    let stats = queue.stats();
    assert_eq!(stats.pushed, stats.popped + stats.dropped_total());
}

#[test]
fn drop_oldest_evicts_queued_frames_and_counts_them() {
    const N: u64 = 10;
    let queue = queue(3, 1 << 20, DropPolicy::DropOldest);
    let producer = queue.producer();
    let consumer = queue.consumer();
    let outcomes: Vec<_> = (0..N)
        .map(|i| producer.push(frame(i, 16)).unwrap())
        .collect();
    assert_eq!(&outcomes[..3], &[PushOutcome::Queued; 3]);
    assert!(outcomes[3..]
        .iter()
        .all(|o| *o == PushOutcome::QueuedEvicting { evicted: 1 }));
    let stats = queue.stats();
    assert_eq!(stats.dropped(DropReason::QueueFullOldest), 7);
    assert_eq!(stats.dropped(DropReason::QueueFullNewest), 0);
    assert_eq!(stats.depth(), 3);
    queue.close();

    let mut sequencer = OverlaySequencer::new(consumer.frames(), 0..N);
    let out: Vec<_> = sequencer.by_ref().collect();
    assert_eq!(out.len() as u64, N);
    // Frames 0..7 were evicted before anything was shown: empty substitutes.
    assert!(out[..7]
        .iter()
        .all(|o| o.origin == OverlayOrigin::Substituted { from: None }));
    assert!(out[..7].iter().all(|o| o.image.is_none()));
    assert!(out[7..]
        .iter()
        .all(|o| o.origin == OverlayOrigin::Delivered { reused: false }));
    assert_eq!(sequencer.stats().substituted, 7);
    assert_eq!(sequencer.stats().substituted_empty, 7);
}

#[test]
fn drop_oldest_evicts_as_many_frames_as_the_byte_budget_needs() {
    let queue = queue(10, 100, DropPolicy::DropOldest);
    let producer = queue.producer();
    for i in 0..4 {
        assert_eq!(producer.push(frame(i, 25)).unwrap(), PushOutcome::Queued);
    }
    assert_eq!(
        producer.push(frame(4, 60)).unwrap(),
        PushOutcome::QueuedEvicting { evicted: 3 }
    );
    let stats = queue.stats();
    assert_eq!(stats.bytes_in_queue, 85);
    assert_eq!(stats.depth(), 2);
    assert_eq!(stats.dropped(DropReason::QueueFullOldest), 3);
}

#[test]
fn byte_budget_bounds_the_queue() {
    let queue = queue(100, 1000, DropPolicy::DropNewest);
    let producer = queue.producer();
    let outcomes: Vec<_> = (0..10)
        .map(|i| producer.push(frame(i, 300)).unwrap())
        .collect();
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == PushOutcome::Queued)
            .count(),
        3
    );
    let stats = queue.stats();
    assert_eq!(stats.peak_bytes, 900);
    assert_eq!(stats.dropped(DropReason::QueueFullNewest), 7);
    // Empty overlays cost no bytes and are bounded by the frame count only.
    assert_eq!(producer.push(frame(10, 0)).unwrap(), PushOutcome::Queued);
}

#[test]
fn byte_budget_holds_under_block_with_concurrent_consumer() {
    let queue = queue(50, 1000, DropPolicy::Block);
    let producer = queue.producer();
    let consumer = queue.consumer();
    let rasterizer = thread::spawn(move || {
        for i in 0..200u64 {
            producer
                .push(frame(i, (i as usize * 37) % 400 + 1))
                .unwrap();
        }
    });
    let count = consumer.frames().count();
    rasterizer.join().unwrap();
    assert_eq!(count, 200);
    let stats = queue.stats();
    assert!(stats.peak_bytes <= 1000, "peak {} bytes", stats.peak_bytes);
    assert_eq!(stats.dropped_total(), 0);
}

#[test]
fn many_producers_keep_both_bounds_and_lose_nothing_unaccounted() {
    // Four rasterizers, one compositor, every policy: the channel bounds the
    // frames, the byte budget the bytes, and every frame is popped or counted
    // as dropped. A producer waiting on bytes (not on a slot) wakes on pops.
    for policy in [DropPolicy::Block, DropPolicy::DropNewest, DropPolicy::DropOldest] {
        let queue = queue(6, 1500, policy);
        let consumer = queue.consumer();
        // Every handle exists before any thread runs: the queue closes when
        // the last one is dropped.
        let producers: Vec<_> = (0..4u64).map(|p| (p, queue.producer())).collect();
        let rasterizers: Vec<_> = producers
            .into_iter()
            .map(|(p, producer)| {
                thread::spawn(move || {
                    for i in 0..250u64 {
                        producer.push(frame(p * 1000 + i, ((i * 53 + p) % 700 + 1) as usize)).unwrap();
                    }
                })
            })
            .collect();
        let mut seen = 0u64;
        let mut last_by_producer = [None::<u64>; 4];
        while let Some(f) = consumer.pop() {
            let p = (f.index / 1000) as usize;
            // Each producer's frames stay in its order, whatever was dropped.
            assert!(last_by_producer[p].is_none_or(|last| last < f.index), "{policy:?}: out of order");
            last_by_producer[p] = Some(f.index);
            seen += 1;
            if seen.is_multiple_of(64) {
                thread::sleep(Duration::from_millis(1));
            }
        }
        for r in rasterizers {
            r.join().unwrap();
        }
        let stats = queue.stats();
        assert_eq!(stats.pushed, 1000, "{policy:?}");
        assert_eq!(stats.pushed, stats.popped + stats.dropped_total(), "{policy:?}");
        assert_eq!(stats.popped, seen, "{policy:?}");
        assert!(stats.peak_frames <= 6, "{policy:?}: peak {} frames", stats.peak_frames);
        assert!(stats.peak_bytes <= 1500, "{policy:?}: peak {} bytes", stats.peak_bytes);
        assert_eq!(stats.bytes_in_queue, 0, "{policy:?}");
        if policy == DropPolicy::Block {
            assert_eq!(stats.dropped_total(), 0);
            assert!(stats.blocked_nanos > 0);
        }
    }
}

#[test]
fn an_oversize_frame_is_admitted_alone() {
    let queue = queue(4, 100, DropPolicy::Block);
    let producer = queue.producer();
    let consumer = queue.consumer();
    // Larger than the whole budget, into an empty queue: admitted, not a deadlock.
    let outcome = producer
        .push_timeout(frame(0, 5000), Duration::from_secs(5))
        .unwrap();
    assert_eq!(outcome, PushOutcome::Queued);
    assert_eq!(queue.stats().peak_bytes, 5000);
    // Nothing else fits beside it; the frame comes back on timeout.
    match producer.push_timeout(frame(1, 1), Duration::from_millis(10)) {
        Err(PushTimeoutError::Timeout(f)) => assert_eq!(f.index, 1),
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert_eq!(consumer.pop().unwrap().index, 0);
    assert_eq!(producer.push(frame(1, 1)).unwrap(), PushOutcome::Queued);
    let stats = queue.stats();
    assert_eq!(stats.pushed, 2);
    assert!(stats.blocked_nanos > 0);
}

#[test]
fn close_wakes_a_blocked_producer() {
    let queue = queue(1, 1 << 20, DropPolicy::Block);
    let producer = queue.producer();
    let consumer = queue.consumer();
    producer.push(frame(0, 8)).unwrap();
    let blocked = thread::spawn(move || producer.push(frame(1, 8)));
    thread::sleep(Duration::from_millis(30));
    queue.close();
    assert_eq!(blocked.join().unwrap(), Err(QueueClosed));
    // What was queued before the close is still delivered, then the end.
    assert_eq!(consumer.pop().unwrap().index, 0);
    assert_eq!(consumer.pop(), None);
    assert_eq!(
        consumer.pop_timeout(Duration::from_millis(1)),
        Err(PopTimeoutError::Closed)
    );
}

#[test]
fn close_wakes_a_blocked_consumer() {
    let queue = queue(4, 1 << 20, DropPolicy::Block);
    let _producer = queue.producer();
    let consumer = queue.consumer();
    let blocked = thread::spawn(move || consumer.pop());
    thread::sleep(Duration::from_millis(30));
    queue.close();
    assert_eq!(blocked.join().unwrap(), None);
}

#[test]
fn dropping_the_last_consumer_releases_producers() {
    let queue = queue(1, 1 << 20, DropPolicy::Block);
    let producer = queue.producer();
    let consumer = queue.consumer();
    let second = consumer.clone();
    producer.push(frame(0, 8)).unwrap();
    let blocked = thread::spawn(move || producer.push(frame(1, 8)));
    drop(consumer);
    thread::sleep(Duration::from_millis(30));
    assert!(!queue.is_closed());
    drop(second);
    assert_eq!(blocked.join().unwrap(), Err(QueueClosed));
}

#[test]
fn pop_timeout_times_out_on_an_open_empty_queue() {
    let queue = queue(4, 1 << 20, DropPolicy::Block);
    let _producer = queue.producer();
    let consumer = queue.consumer();
    assert_eq!(
        consumer.pop_timeout(Duration::from_millis(5)),
        Err(PopTimeoutError::Timeout)
    );
}

#[test]
fn capacity_comes_from_config_and_zero_is_refused() {
    let config = QueueConfig {
        capacity_frames: 2,
        capacity_bytes: 10,
        drop_policy: DropPolicy::DropOldest,
    };
    let queue = FrameQueue::from_config(&config).unwrap();
    assert_eq!(queue.capacity().frames(), 2);
    assert_eq!(queue.capacity().bytes(), 10);
    assert_eq!(queue.policy(), DropPolicy::DropOldest);
    assert!(QueueCapacity::new(0, 10).is_err());
    assert!(QueueCapacity::new(1, 0).is_err());
    assert_eq!(DropReason::QueueFullNewest.as_str(), "queue_full_newest");
    assert_eq!(DropReason::QueueFullOldest.as_str(), "queue_full_oldest");
}

#[derive(Debug, Clone)]
enum Op {
    Push(usize),
    Pop,
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(
        prop_oneof![3 => (0usize..600).prop_map(Op::Push), 2 => Just(Op::Pop)],
        0..200,
    )
}

fn policy() -> impl Strategy<Value = DropPolicy> {
    prop_oneof![
        Just(DropPolicy::Block),
        Just(DropPolicy::DropNewest),
        Just(DropPolicy::DropOldest)
    ]
}

proptest! {
    #[test]
    fn every_frame_is_popped_or_dropped_and_the_sequence_is_complete(
        frames_cap in 1u32..6,
        bytes_cap in 1u64..2000,
        policy in policy(),
        ops in ops(),
    ) {
        let queue = queue(frames_cap, bytes_cap, policy);
        let producer = queue.producer();
        let consumer = queue.consumer();
        let mut popped = Vec::new();
        let mut next_index = 0u64;
        for op in ops {
            match op {
                Op::Push(size) => {
                    let mut f = frame(next_index, size);
                    next_index += 1;
                    loop {
                        // Single-threaded: a Block push that finds no room
                        // would wait forever, so the consumer makes room.
                        match producer.push_timeout(f, Duration::ZERO) {
                            Ok(_) => break,
                            Err(PushTimeoutError::Timeout(back)) => {
                                prop_assert_eq!(policy, DropPolicy::Block);
                                f = back;
                                popped.push(consumer.pop_timeout(Duration::ZERO).unwrap());
                            }
                            Err(PushTimeoutError::Closed(_)) => return Err(TestCaseError::fail("closed")),
                        }
                    }
                }
                Op::Pop => {
                    if let Ok(f) = consumer.pop_timeout(Duration::ZERO) {
                        popped.push(f);
                    }
                }
            }
            let stats = queue.stats();
            prop_assert_eq!(stats.pushed, stats.popped + stats.dropped_total() + stats.depth());
            prop_assert!(stats.depth() <= u64::from(frames_cap));
            prop_assert!(stats.bytes_in_queue <= bytes_cap || stats.depth() == 1);
        }
        queue.close();
        popped.extend(consumer.frames());
        let n = next_index;
        let stats = queue.stats();
        prop_assert_eq!(stats.pushed, n);
        prop_assert_eq!(stats.pushed, stats.popped + stats.dropped_total());
        prop_assert_eq!(popped.len() as u64, stats.popped);
        prop_assert!(popped.windows(2).all(|w| w[0].index < w[1].index));
        if policy == DropPolicy::Block {
            prop_assert_eq!(stats.dropped_total(), 0);
        }
        let mut sequencer = OverlaySequencer::new(popped.into_iter(), 0..n);
        let out: Vec<_> = sequencer.by_ref().collect();
        prop_assert_eq!(out.len() as u64, n);
        prop_assert!(out.iter().enumerate().all(|(i, o)| o.index == i as u64));
        prop_assert_eq!(sequencer.stats().substituted, stats.dropped_total());
    }
}
