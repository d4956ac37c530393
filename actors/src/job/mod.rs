//! A render job: the request, its stored record, and its status.

mod record;
mod request;

pub use record::{timestamp, JobRecord, JobStatus};
pub use request::{RenderJobRequest, RenderOptions};
