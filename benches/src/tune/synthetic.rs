//! `[synthetic]`: the seeded model of producers (rasterizers) and consumers
//! (compositor + encoder) that a synthetic run puts around the engine's queue.
//!
//! Every draw is a pure function of the run's seed and the frame's index, so
//! a run is the same for the same seed whatever order events happen in, and
//! a producer's draws stay the same when only the consumer changes.

use serde::{Deserialize, Serialize};

/// The model's parameters, with defaults that resemble a 1080p word-level
/// scenario on a 2-core machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SyntheticModel {
    /// Length of the modelled video, in seconds.
    pub seconds: f64,
    /// Segment length: each page renders one segment at a time, like the engine.
    pub segment_seconds: f64,
    /// Cores the consumers share.
    pub cores: f64,
    pub producer: ProducerModel,
    pub consumer: ConsumerModel,
    pub memory: MemoryModel,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProducerModel {
    /// Overlays one page makes per second when it never stalls.
    pub rate_fps: f64,
    /// Relative jitter of each frame's production time: uniform in ±jitter.
    pub jitter: f64,
    /// Share of the output frame the overlay covers (its bytes: 4 per pixel).
    pub overlay_area: f64,
    pub stalls: StallModel,
}

/// Stalls of a producer (a slow capture, a garbage collection, a font load).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StallModel {
    /// Mean seconds of production between stalls; 0 disables stalls.
    pub every_s: f64,
    /// Mean stall length.
    pub mean_ms: f64,
    pub distribution: StallDistribution,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StallDistribution {
    /// Every stall lasts `mean_ms`.
    Fixed,
    /// Uniform in 0..2×`mean_ms`.
    Uniform,
    /// Exponential with mean `mean_ms` (a long tail).
    Exponential,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConsumerModel {
    /// Milliseconds to composite and encode one 1920x1080 frame with
    /// `veryfast`; scaled by pixel count and by the preset's factor.
    pub service_ms: f64,
    /// Relative jitter of each service time: uniform in ±jitter.
    pub jitter: f64,
    /// Milliseconds (at 1080p `veryfast`, scaled the same way) a frame whose
    /// overlay was dropped costs: the consumer repeats the overlay shown
    /// last. 0 (the default) models a consumer whose service time is the
    /// work an overlay of its own brings; raise it to charge the encode of
    /// every output frame.
    pub substitute_ms: f64,
    /// Cores one consumer keeps busy; consumers slow down when together they need more than `cores`.
    pub cores: f64,
}

/// The memory the model reports (the queue's bytes are counted exactly).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MemoryModel {
    /// The engine's resident memory besides queued and in-flight overlays.
    pub engine_base_mb: f64,
    /// Resident memory of one page's Chromium.
    pub chromium_page_mb: f64,
}

impl Default for SyntheticModel {
    fn default() -> Self {
        Self {
            seconds: 20.0,
            segment_seconds: 10.0,
            cores: 2.0,
            producer: ProducerModel::default(),
            consumer: ConsumerModel::default(),
            memory: MemoryModel::default(),
        }
    }
}

impl Default for ProducerModel {
    fn default() -> Self {
        Self { rate_fps: 60.0, jitter: 0.2, overlay_area: 0.08, stalls: StallModel::default() }
    }
}

impl Default for StallModel {
    fn default() -> Self {
        Self { every_s: 2.0, mean_ms: 150.0, distribution: StallDistribution::Exponential }
    }
}

impl Default for ConsumerModel {
    fn default() -> Self {
        Self { service_ms: 25.0, jitter: 0.1, substitute_ms: 0.0, cores: 1.0 }
    }
}

impl Default for MemoryModel {
    fn default() -> Self {
        Self { engine_base_mb: 220.0, chromium_page_mb: 350.0 }
    }
}

impl SyntheticModel {
    /// Refuses values the model cannot run, naming the key.
    pub fn validate(&self) -> Result<(), String> {
        let positive = [
            ("synthetic.seconds", self.seconds),
            ("synthetic.segment_seconds", self.segment_seconds),
            ("synthetic.cores", self.cores),
            ("synthetic.producer.rate_fps", self.producer.rate_fps),
            ("synthetic.consumer.service_ms", self.consumer.service_ms),
            ("synthetic.consumer.cores", self.consumer.cores),
        ];
        for (name, value) in positive {
            if !(value.is_finite() && value > 0.0) {
                return Err(format!("{name} must be positive, got {value}"));
            }
        }
        let at_least_zero = [
            ("synthetic.producer.stalls.every_s", self.producer.stalls.every_s),
            ("synthetic.producer.stalls.mean_ms", self.producer.stalls.mean_ms),
            ("synthetic.memory.engine_base_mb", self.memory.engine_base_mb),
            ("synthetic.consumer.substitute_ms", self.consumer.substitute_ms),
            ("synthetic.memory.chromium_page_mb", self.memory.chromium_page_mb),
        ];
        for (name, value) in at_least_zero {
            if !(value.is_finite() && value >= 0.0) {
                return Err(format!("{name} must be >= 0, got {value}"));
            }
        }
        for (name, value) in [("synthetic.producer.jitter", self.producer.jitter), ("synthetic.consumer.jitter", self.consumer.jitter)] {
            if !(0.0..1.0).contains(&value) {
                return Err(format!("{name} must be within 0..1, got {value}"));
            }
        }
        if !(self.producer.overlay_area > 0.0 && self.producer.overlay_area <= 1.0) {
            return Err(format!("synthetic.producer.overlay_area must be within (0, 1], got {}", self.producer.overlay_area));
        }
        Ok(())
    }

    /// Nanoseconds page producers spend making frame `index`, stalls included.
    pub fn production_nanos(&self, seed: u64, index: u64) -> u64 {
        let mut draw = Draws::new(seed, PRODUCER, index);
        let p = &self.producer;
        let frame = 1.0 / p.rate_fps;
        let mut seconds = frame * (1.0 + p.jitter * (2.0 * draw.unit() - 1.0));
        let stall = draw.unit();
        if p.stalls.every_s > 0.0 && stall < frame / p.stalls.every_s {
            let mean = p.stalls.mean_ms / 1000.0;
            seconds += match p.stalls.distribution {
                StallDistribution::Fixed => mean,
                StallDistribution::Uniform => 2.0 * mean * draw.unit(),
                StallDistribution::Exponential => -mean * (1.0 - draw.unit()).ln(),
            };
        }
        to_nanos(seconds)
    }

    /// Nanoseconds a consumer spends compositing and encoding frame `index`
    /// at `scale` (pixels, preset and contention factors multiplied).
    pub fn service_nanos(&self, seed: u64, index: u64, scale: f64) -> u64 {
        let mut draw = Draws::new(seed, CONSUMER, index);
        let c = &self.consumer;
        to_nanos(c.service_ms / 1000.0 * scale * (1.0 + c.jitter * (2.0 * draw.unit() - 1.0)))
    }

    /// Nanoseconds a consumer spends on a frame whose overlay was substituted.
    pub fn substitute_nanos(&self, scale: f64) -> u64 {
        to_nanos(self.consumer.substitute_ms / 1000.0 * scale)
    }

    /// Bytes of one overlay at `width`x`height`.
    pub fn overlay_bytes(&self, width: u32, height: u32) -> u64 {
        (f64::from(width) * f64::from(height) * self.producer.overlay_area).round() as u64 * 4
    }
}

/// How much slower than `veryfast` a preset encodes (a model, not a measurement).
pub fn preset_factor(preset: &str) -> f64 {
    match preset {
        "ultrafast" => 0.45,
        "superfast" => 0.65,
        "veryfast" => 1.0,
        "faster" => 1.35,
        "fast" => 1.7,
        "medium" => 2.1,
        "slow" => 3.2,
        "slower" => 5.0,
        "veryslow" => 9.0,
        _ => 15.0,
    }
}

fn to_nanos(seconds: f64) -> u64 {
    (seconds.max(0.0) * 1e9).round() as u64
}

const PRODUCER: u64 = 0x7072_6f64_7563_6572;
const CONSUMER: u64 = 0x636f_6e73_756d_6572;

/// A SplitMix64 stream for one (seed, stream, index): independent numbers
/// for every frame, reproducible on every platform.
struct Draws(u64);

impl Draws {
    fn new(seed: u64, stream: u64, index: u64) -> Self {
        let mut draws = Draws(seed ^ stream.rotate_left(17) ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        draws.next();
        draws
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The seed of run `run` of the point named `key` in a sweep seeded `seed`:
/// the same point gets the same seeds in every sweep with that seed.
pub fn run_seed(seed: u64, key: &str, run: i64) -> u64 {
    // FNV-1a of the key, mixed with the run number.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in key.bytes() {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    let mut draws = Draws::new(seed, hash, run as u64);
    draws.next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_repeat_for_a_seed_and_differ_between_seeds() {
        let model = SyntheticModel::default();
        let a: Vec<u64> = (0..50).map(|i| model.production_nanos(7, i)).collect();
        let b: Vec<u64> = (0..50).map(|i| model.production_nanos(7, i)).collect();
        let c: Vec<u64> = (0..50).map(|i| model.production_nanos(8, i)).collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(run_seed(1, "a", 0), run_seed(1, "a", 1));
    }

    #[test]
    fn stalls_come_at_about_their_frequency() {
        let mut model = SyntheticModel::default();
        model.producer.jitter = 0.0;
        model.producer.stalls = StallModel { every_s: 1.0, mean_ms: 100.0, distribution: StallDistribution::Fixed };
        let frame = (1e9 / model.producer.rate_fps).round() as u64;
        let stalls = (0..60_000).filter(|&i| model.production_nanos(3, i) > frame).count();
        // 60 000 frames at 60 fps are 1000 s: about 1000 stalls.
        assert!((900..1100).contains(&stalls), "{stalls} stalls");
    }
}
