//! Every outbound HTTP request the engine makes — source-video downloads and
//! callbacks — goes through one [`OutboundClient`]: no redirects followed,
//! a connect timeout, and, for downloads, a total and an idle timeout, a
//! size limit and the job's cancel flag.

mod client;
mod download;
mod error;

pub use client::OutboundClient;
pub use download::DownloadLimits;
pub use error::FetchError;
pub(crate) use client::describe;
pub(crate) use download::cancelled;
