//! A render job: the request, its stored record, and its status.

mod limits;
mod record;
mod request;

pub use limits::{check_limits, LimitExceeded};
pub use record::{timestamp, JobRecord, JobStatus};
pub use request::{RenderJobRequest, RenderOptions};
