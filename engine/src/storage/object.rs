//! `StoredObject`: what [`super::Storage::put_file`] stored, and where.

/// A result file after it was stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    /// The storage key it was stored under.
    pub key: String,
    /// Its size in bytes.
    pub size_bytes: u64,
    /// Where it is: the file's path for local storage, `s3://bucket/key` for S3.
    pub location: String,
}
