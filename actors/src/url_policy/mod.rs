//! Checks of caller-supplied locations before any work starts: `videoUrl`
//! (local file under an input root, http(s) or s3), `callbackUrl` and
//! `options.outputKey`. Guards against server-side request forgery (private,
//! loopback, link-local and cloud-metadata targets) and path traversal.

mod address;
mod error;
mod host_list;
mod input_roots;
mod output_key;
mod policy;
mod video_source;

pub use address::AddressClass;
pub use error::{PolicyError, PolicyField, Refusal};
pub use policy::UrlPolicy;
pub use video_source::VideoSource;
