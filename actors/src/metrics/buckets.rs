//! Histogram bucket bounds, in seconds, for each kind of duration: wide
//! enough that a p99 can be read at the scale the thing happens.

/// A whole job (fetch, render, store): seconds to an hour.
pub const JOB: &[f64] = &[0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0];
/// A job waiting for a run slot: instant to an hour.
pub const QUEUE_WAIT: &[f64] = &[0.005, 0.05, 0.25, 1.0, 5.0, 15.0, 30.0, 60.0, 300.0, 900.0, 3600.0];
/// One segment's render, or its decode + composite + encode.
pub const SEGMENT: &[f64] = &[0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0];
/// One overlay capture (screenshot or beginFrame, and its PNG decode).
pub const CAPTURE: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];
/// A callback from its event to a 2xx (outbox wait and retries included).
pub const CALLBACK: &[f64] = &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 3600.0];
