//! The running engine around the pipeline: jobs, their durable store, the
//! job runner with admission control, callbacks and the handle a host uses.

pub mod job;
pub mod store;
pub mod engine;

pub use engine::{ApiError, Engine, EngineError, EngineOptions, JobEvent, Submitted};
