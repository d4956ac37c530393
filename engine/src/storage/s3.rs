//! Results kept in an S3 bucket, and `s3://` inputs fetched from any bucket.

use std::path::Path;
use std::time::Duration;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::operation::get_object::GetObjectError;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::Client;
use tokio::io::AsyncWriteExt;
use tokio::sync::watch;

use super::key::check_key;
use super::multipart::{part_size_for, FileUpload};
use super::retry::{retry, RetryError, RetryPolicy};
use super::s3_client::{describe, is_transient};
use super::{StorageError, StoredObject};

/// The results bucket with its upload and presigning settings.
#[derive(Debug, Clone)]
pub(super) struct S3Storage {
    pub client: Client,
    pub retry: RetryPolicy,
    pub bucket: String,
    pub part_size: u64,
    pub presign_expiry: Duration,
}

impl S3Storage {
    /// Uploads `file` to `s3://bucket/key`: one `PutObject` when it fits in one
    /// part, a multipart upload otherwise.
    pub(super) async fn put_file(
        &self,
        key: &str,
        file: &Path,
        cancel: &watch::Receiver<bool>,
    ) -> Result<StoredObject, StorageError> {
        check_key(key)?;
        let size = tokio::fs::metadata(file)
            .await
            .map_err(|error| StorageError::io("read the size of", file, error))?
            .len();
        let upload = FileUpload {
            client: &self.client,
            retry: &self.retry,
            bucket: &self.bucket,
            key,
            file,
            size,
            cancel,
        };
        let part_size = part_size_for(size, self.part_size);
        if size <= part_size {
            upload.put_single().await?;
        } else {
            upload.put_multipart(part_size).await?;
        }
        tracing::info!(bucket = %self.bucket, key, size_bytes = size, "result uploaded to S3");
        Ok(StoredObject {
            key: key.to_owned(),
            size_bytes: size,
            location: format!("s3://{}/{key}", self.bucket),
        })
    }

    /// A presigned `GET` URL of `key`, valid for `s3.presign_expiry_secs`.
    pub(super) async fn download_url(&self, key: &str) -> Result<String, StorageError> {
        check_key(key)?;
        let presign_error = |detail: String| StorageError::Presign {
            bucket: self.bucket.clone(),
            key: key.to_owned(),
            detail,
        };
        let config = PresigningConfig::expires_in(self.presign_expiry)
            .map_err(|error| presign_error(describe(&error)))?;
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .presigned(config)
            .await
            .map_err(|error| presign_error(describe(&error)))?;
        Ok(request.uri().to_owned())
    }

    /// Deletes `key` from the bucket (retried); a missing key is not an error.
    pub(super) async fn delete(&self, key: &str) -> Result<(), StorageError> {
        check_key(key)?;
        retry(&self.retry, None, "DeleteObject", is_transient, || {
            self.client
                .delete_object()
                .bucket(&self.bucket)
                .key(key)
                .send()
        })
        .await
        .map(|_| ())
        .map_err(|error| {
            let (attempts, detail) = match error {
                RetryError::Failed { error, attempts } => (attempts, describe(&error)),
                RetryError::Cancelled => (0, "cancelled".to_owned()),
            };
            StorageError::Delete {
                bucket: self.bucket.clone(),
                key: key.to_owned(),
                attempts,
                detail,
            }
        })
    }
}

/// Why one attempt at fetching an `s3://` input failed.
#[derive(Debug, thiserror::Error)]
enum FetchFailure {
    #[error("GetObject failed")]
    Request(#[source] Box<SdkError<GetObjectError, HttpResponse>>),
    #[error("reading the object's body failed")]
    Body(#[source] aws_sdk_s3::primitives::ByteStreamError),
    #[error("writing the local copy failed")]
    Write(#[source] std::io::Error),
    #[error("the object is larger than {limit} bytes")]
    TooLarge { limit: u64, size: Option<u64> },
}

impl FetchFailure {
    fn is_transient(&self) -> bool {
        match self {
            FetchFailure::Request(error) => is_transient(error),
            FetchFailure::Body(_) => true,
            FetchFailure::Write(_) | FetchFailure::TooLarge { .. } => false,
        }
    }
}

/// The size of `s3://bucket/key` as `HeadObject` announces it, in one
/// attempt; `None` when the object cannot be asked for its size (no such
/// permission, no answer, no length), so the caller learns why from the
/// download itself.
pub(super) async fn object_size(client: &Client, bucket: &str, key: &str) -> Option<u64> {
    match client.head_object().bucket(bucket).key(key).send().await {
        Ok(head) => head.content_length().and_then(|length| u64::try_from(length).ok()),
        Err(error) => {
            tracing::debug!(bucket, key, error = %describe(&error), "HeadObject of an input failed; its size is checked while it downloads");
            None
        }
    }
}

/// Downloads `s3://bucket/key` into `dest`, streaming, retried as a whole on
/// transient failures; returns its size. An object larger than `max_bytes`
/// is refused before its body is read when `HeadObject` announces its size,
/// else as soon as the download passes the limit. A partial `dest` is removed.
pub(super) async fn fetch_object(
    client: &Client,
    policy: &RetryPolicy,
    bucket: &str,
    key: &str,
    dest: &Path,
    max_bytes: u64,
) -> Result<u64, StorageError> {
    let too_large = |size: Option<u64>| StorageError::InputTooLarge {
        bucket: bucket.to_owned(),
        key: key.to_owned(),
        limit: max_bytes,
        size,
    };
    if let Some(size) = object_size(client, bucket, key).await.filter(|size| *size > max_bytes) {
        return Err(too_large(Some(size)));
    }
    let fetched = retry(
        policy,
        None,
        "GetObject",
        FetchFailure::is_transient,
        || fetch_once(client, bucket, key, dest, max_bytes),
    )
    .await;
    fetched.map_err(|error| {
        let (attempts, detail) = match error {
            RetryError::Failed { error: FetchFailure::TooLarge { size, .. }, .. } => return too_large(size),
            RetryError::Failed { error, attempts } => (attempts, describe(&error)),
            RetryError::Cancelled => (0, "cancelled".to_owned()),
        };
        StorageError::Fetch {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            attempts,
            detail,
        }
    })
}

async fn fetch_once(
    client: &Client,
    bucket: &str,
    key: &str,
    dest: &Path,
    max_bytes: u64,
) -> Result<u64, FetchFailure> {
    let response = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|error| FetchFailure::Request(Box::new(error)))?;
    let announced = response.content_length().and_then(|length| u64::try_from(length).ok());
    if let Some(size) = announced.filter(|size| *size > max_bytes) {
        return Err(FetchFailure::TooLarge { limit: max_bytes, size: Some(size) });
    }
    let written = write_body(response.body, dest, max_bytes).await;
    if written.is_err() {
        // Best effort: the next attempt truncates it anyway.
        let _ = tokio::fs::remove_file(dest).await;
    }
    written
}

async fn write_body(
    mut body: aws_sdk_s3::primitives::ByteStream,
    dest: &Path,
    max_bytes: u64,
) -> Result<u64, FetchFailure> {
    let mut file = tokio::fs::File::create(dest)
        .await
        .map_err(FetchFailure::Write)?;
    let mut size = 0u64;
    while let Some(chunk) = body.try_next().await.map_err(FetchFailure::Body)? {
        size += chunk.len() as u64;
        if size > max_bytes {
            return Err(FetchFailure::TooLarge { limit: max_bytes, size: None });
        }
        file.write_all(&chunk).await.map_err(FetchFailure::Write)?;
    }
    file.flush().await.map_err(FetchFailure::Write)?;
    file.sync_all().await.map_err(FetchFailure::Write)?;
    Ok(size)
}
