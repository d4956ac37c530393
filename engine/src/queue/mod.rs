//! The bounded frame queue between rasterizers and the compositor, and its drop policies.

mod depth;
mod error;
mod frame;
mod frame_queue;
mod memory_gate;
mod sequencer;
mod stats;
mod wait;

pub use depth::{QueueDepth, DEPTH_BIN};
pub use error::{InvalidCapacity, PopTimeoutError, PushTimeoutError, QueueClosed};
pub use frame::{BoundingBox, OverlayFrame};
pub use frame_queue::{FrameConsumer, FrameProducer, FrameQueue, PushOutcome, QueueCapacity};
pub use memory_gate::MemoryGate;
pub use sequencer::{OverlayOrigin, OverlaySequencer, SequencedOverlay, SequencerStats};
pub use stats::{DropReason, QueueStats};
pub use wait::QueueWait;
