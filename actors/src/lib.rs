//! The running engine around the pipeline: jobs, their durable store, the
//! job runner with admission control, callbacks and the handle a host uses.

pub mod job;
pub mod store;
