//! The pipeline pieces of motionrender, with no actix in them: the MotionText
//! scenario model, segment planning, the bounded frame queue and its drop
//! policies, and media I/O through FFmpeg.

pub mod browser;
pub mod media;
pub mod plan;
pub mod queue;
pub mod render;
pub mod scenario;
pub mod storage;
