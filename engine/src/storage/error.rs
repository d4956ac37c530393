//! `StorageError`: every way storing, presigning, deleting or fetching can fail.

use std::io;
use std::path::PathBuf;

/// A failure of the result storage or of an `s3://` input fetch, with the
/// bucket, key or path it concerns.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The storage key is not a safe relative key.
    #[error("invalid storage key {key:?}: {reason}")]
    InvalidKey { key: String, reason: &'static str },
    /// The `[s3]` settings cannot make an S3 client.
    #[error("invalid S3 configuration: {detail}")]
    Config { detail: String },
    /// A local file or directory could not be read or written.
    #[error("could not {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// An S3 upload step failed for good (after `attempts` attempts).
    #[error(
        "S3 upload of s3://{bucket}/{key} failed at {step} after {attempts} attempt(s): {detail}"
    )]
    Upload {
        bucket: String,
        key: String,
        step: String,
        attempts: u32,
        detail: String,
    },
    /// A presigned download URL could not be made.
    #[error("could not presign s3://{bucket}/{key}: {detail}")]
    Presign {
        bucket: String,
        key: String,
        detail: String,
    },
    /// A stored object could not be deleted.
    #[error("could not delete s3://{bucket}/{key} after {attempts} attempt(s): {detail}")]
    Delete {
        bucket: String,
        key: String,
        attempts: u32,
        detail: String,
    },
    /// An `s3://` input could not be downloaded.
    #[error("could not fetch s3://{bucket}/{key} after {attempts} attempt(s): {detail}")]
    Fetch {
        bucket: String,
        key: String,
        attempts: u32,
        detail: String,
    },
    /// An `s3://` input is larger than the limit it was fetched with
    /// (`size`: what it announced, when it did).
    #[error("s3://{bucket}/{key} is larger than {limit} bytes{}", size.map(|size| format!(": it is {size} bytes")).unwrap_or_default())]
    InputTooLarge {
        bucket: String,
        key: String,
        limit: u64,
        size: Option<u64>,
    },
    /// The bucket did not answer a `HeadBucket` (missing, no access, unreachable).
    #[error("the bucket {bucket} cannot be reached: {detail}")]
    Unreachable { bucket: String, detail: String },
    /// The operation was cancelled; any multipart upload was aborted.
    #[error("storing {key} was cancelled")]
    Cancelled { key: String },
}

impl StorageError {
    /// The API error code: `S3_UPLOAD_ERROR`, `STORAGE_ACCESS_ERROR` or
    /// `JOB_CANCELLED` (the service reports an input too large as the
    /// request's fault, naming its limit).
    pub fn code(&self) -> &'static str {
        match self {
            StorageError::Upload { .. } => "S3_UPLOAD_ERROR",
            StorageError::InvalidKey { .. }
            | StorageError::Config { .. }
            | StorageError::Io { .. }
            | StorageError::Presign { .. }
            | StorageError::Delete { .. }
            | StorageError::Fetch { .. }
            | StorageError::InputTooLarge { .. }
            | StorageError::Unreachable { .. } => "STORAGE_ACCESS_ERROR",
            StorageError::Cancelled { .. } => "JOB_CANCELLED",
        }
    }

    pub(super) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        StorageError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
