//! A producer and a consumer of your own around the engine's frame queue,
//! measured with the tuning harness's `RunRecorder`: a rasterizer thread
//! making an overlay every 10 ms (with a 150 ms stall every 50 frames) and a
//! compositor taking 15 ms a frame, through an 8-frame `drop_oldest` queue.
//! Prints the run's metrics as one `results.jsonl` line would hold them:
//!   cargo run -p motionrender-benches --example own_producer

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use bytes::Bytes;
use motionrender_benches::tune::{PeakMemoryMb, RunRecorder, RunTotals};
use motionrender_config::DropPolicy;
use motionrender_engine::queue::{FrameQueue, MemoryGate, OverlayFrame, OverlaySequencer, QueueCapacity};

const FRAMES: u64 = 300;
const FPS: f64 = 30.0;

fn main() -> anyhow::Result<()> {
    let queue = FrameQueue::new(QueueCapacity::new(8, 64 << 20)?, DropPolicy::DropOldest);
    let gate = MemoryGate::from_budget(4096, 0.9);
    let start = Instant::now();
    let nanos = move |at: Instant| u64::try_from(at.duration_since(start).as_nanos()).unwrap_or(u64::MAX);
    // Both threads report to the recorder; a mutex is enough at this rate.
    let recorder = Arc::new(Mutex::new(RunRecorder::new(Some(250_000_000))));

    let producer = queue.producer();
    let rasterizer = {
        let recorder = Arc::clone(&recorder);
        thread::spawn(move || -> anyhow::Result<()> {
            let overlay = Bytes::from(vec![0u8; 200 * 50 * 4]);
            for index in 0..FRAMES {
                recorder.lock().map_err(|_| anyhow::anyhow!("recorder poisoned"))?.scheduled(index, nanos(Instant::now()));
                thread::sleep(Duration::from_millis(if index % 50 == 49 { 160 } else { 10 }));
                // The engine's rule: pause while memory is high and frames are queued.
                while gate.must_pause(0, &producer.stats()) {
                    thread::sleep(MemoryGate::PAUSE);
                }
                producer.push(OverlayFrame { index, image: Some(overlay.clone()), bbox: None, reused: false })?;
            }
            Ok(()) // dropping the producer closes the queue
        })
    };

    let consumer = queue.consumer();
    let mut overlays = OverlaySequencer::new(consumer.frames(), 0..FRAMES);
    for overlay in overlays.by_ref() {
        thread::sleep(Duration::from_millis(15)); // composite and encode
        recorder.lock().map_err(|_| anyhow::anyhow!("recorder poisoned"))?.encoded(0, &overlay, nanos(Instant::now()));
    }
    rasterizer.join().map_err(|_| anyhow::anyhow!("the rasterizer panicked"))??;

    let render_nanos = nanos(Instant::now());
    let recorder = Arc::try_unwrap(recorder).map_err(|_| anyhow::anyhow!("recorder still shared"))?.into_inner().map_err(|_| anyhow::anyhow!("recorder poisoned"))?;
    let stats = queue.stats();
    let metrics = recorder.finish(RunTotals {
        frames_in: FRAMES,
        produced: FRAMES,
        blocked_nanos: stats.blocked_nanos,
        queue: stats,
        sequencer: overlays.stats(),
        render_nanos,
        video_seconds: FRAMES as f64 / FPS,
        fps: FPS,
        memory_paused_nanos: 0,
        peak_memory_mb: PeakMemoryMb { engine: 0.0, chromium: 0.0, source: "not measured".to_owned() },
        stages: BTreeMap::new(),
    });
    println!("{}", serde_json::to_string_pretty(&metrics)?);
    Ok(())
}
