//! The running engine as an actix actor tree (see the README's architecture
//! section): the supervisor and its store, notifier and browser pool; a job
//! actor per job; rasterizers, the backpressure controller, encoder sessions
//! and the segment merger that a render runs on. The [`Engine`] handle is the
//! Rust API over the tree; the URL policy and callback delivery are its
//! plain helpers.

// ApiError carries the whole error body the API answers with; it travels on
// the cold path only, so its size is not worth boxing.
#![allow(clippy::result_large_err)]

pub mod alerts;
pub mod backpressure;
pub mod browser_pool;
pub mod callbacks;
pub mod encoder;
pub mod engine;
pub mod farm;
pub mod fetch;
pub mod job;
pub mod limits;
pub mod metrics;
pub mod notifier;
mod panic_guard;
pub mod pipeline;
pub mod rasterizer;
pub mod retention;
pub mod segment_merger;
pub mod store;
pub mod supervisor;
pub mod url_policy;
pub mod work_folders;

pub use metrics::Metrics;
pub use engine::{ApiError, Engine, EngineError, EngineOptions, JobEvent, JobEventPayload, Submitted};
pub use pipeline::{render_blocking, RenderActors};
