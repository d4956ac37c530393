//! What can go wrong at the frame queue's boundary.

use super::frame::OverlayFrame;

/// The queue was closed: the consumer is gone or the job was cancelled, so
/// the frame was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the frame queue is closed")]
pub struct QueueClosed;

/// A bounded push gave up; the frame comes back so nothing is lost silently.
#[derive(Debug, thiserror::Error)]
pub enum PushTimeoutError {
    /// No room was made before the deadline; the frame is returned unqueued.
    #[error("no room in the frame queue for frame {} before the deadline", .0.index)]
    Timeout(OverlayFrame),
    /// The queue was closed while waiting; the frame is returned unqueued.
    #[error("the frame queue closed before frame {} could be queued", .0.index)]
    Closed(OverlayFrame),
}

/// A queue bound of zero, which could never hold a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid frame queue capacity: {frames} frames, {bytes} bytes (both must be at least 1)")]
pub struct InvalidCapacity {
    pub frames: u32,
    pub bytes: u64,
}

/// A bounded pop gave up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PopTimeoutError {
    /// No frame arrived before the deadline; the queue is still open.
    #[error("no frame arrived before the deadline")]
    Timeout,
    /// The queue is closed and drained: no frame will ever arrive.
    #[error("the frame queue is closed and drained")]
    Closed,
}
