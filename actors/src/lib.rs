//! The running engine around the pipeline: jobs, their durable store, the
//! job runner with admission control, the URL policy, callback delivery and
//! the handle a host uses.

// ApiError carries the whole error body the API answers with; it travels on
// the cold path only, so its size is not worth boxing.
#![allow(clippy::result_large_err)]

pub mod callbacks;
pub mod engine;
pub mod fetch;
pub mod job;
pub mod limits;
pub mod store;
pub mod url_policy;

pub use engine::{ApiError, Engine, EngineError, EngineOptions, JobEvent, Submitted};
