//! Where finished renders are kept: a local directory or an S3 bucket, and how
//! `s3://` inputs are fetched.
//!
//! [`Storage::from_config`] picks the back end: S3 when `s3.bucket` is set,
//! otherwise the directory `paths.output_dir`.
//!
//! - **Local** — [`Storage::put_file`] copies the file into a temporary file
//!   beside its destination `output_dir/key` (creating parent directories),
//!   then renames it into place, so a reader never sees a half-written result.
//!   The source file is left where it was. [`Storage::download_url`] is `None`:
//!   the server serves [`Storage::local_path`] itself.
//! - **S3** — a file no larger than one part (`s3.part_size_bytes`) goes up in
//!   one `PutObject`; a larger one by multipart upload in parts of
//!   `s3.part_size_bytes` (raised when the file would need more than S3's 10000
//!   parts), streamed from the file, never held whole in memory. Every request
//!   (create, each part, complete) is attempted up to `retries.max_attempts`
//!   times, waiting `retries.initial_backoff_ms` doubling up to
//!   `retries.max_backoff_ms` between attempts, when it failed transiently
//!   (no connection, timeout, unreadable response, HTTP 5xx, 408 or 429); other
//!   errors fail at once. When the upload fails for good or is cancelled, the
//!   multipart upload is aborted (retried the same way, failures only logged),
//!   so the bucket keeps no incomplete upload. [`Storage::download_url`] is a
//!   presigned `GET` valid `s3.presign_expiry_secs`.
//!
//! Requests use path-style addressing when `s3.force_path_style` is set, the
//! endpoint `s3.endpoint` when set, and the static credentials
//! `s3.access_key_id`/`s3.secret_access_key` when set (otherwise the AWS default
//! chain: environment, profile, instance role). Checksums are only computed
//! where S3 requires them, which S3-compatible servers all accept.
//!
//! Cancellation is a `tokio::sync::watch::Receiver<bool>` whose value turns
//! `true`: an upload in flight is dropped, aborted, and reported as
//! [`StorageError::Cancelled`].
//!
//! Keys are checked again here: an empty key, an absolute one, or one with an
//! empty, `.` or `..` segment is refused.
//!
//! Error codes ([`StorageError::code`]): `S3_UPLOAD_ERROR` for a failed S3
//! upload, `STORAGE_ACCESS_ERROR` for local I/O, configuration, presigning,
//! deletion and `s3://` fetch failures, `JOB_CANCELLED` for a cancelled upload.

mod cancel;
mod error;
mod key;
mod local;
mod multipart;
mod object;
mod retry;
mod s3;
mod s3_client;
mod store;

pub use error::StorageError;
pub use object::StoredObject;
pub use store::Storage;
