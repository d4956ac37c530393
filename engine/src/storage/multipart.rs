//! Uploading one file to S3: a single `PutObject`, or a multipart upload that
//! is aborted whenever it does not complete.

use std::path::Path;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::primitives::{ByteStream, Length};
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use aws_sdk_s3::Client;
use tokio::sync::watch;

use super::cancel::is_cancelled;
use super::retry::{retry, RetryError, RetryPolicy};
use super::s3_client::{describe, is_transient};
use super::StorageError;

/// S3's largest number of parts in one multipart upload.
const MAX_PARTS: u64 = 10_000;

/// One file on its way to `s3://bucket/key`.
#[derive(Debug)]
pub(super) struct FileUpload<'a> {
    pub client: &'a Client,
    pub retry: &'a RetryPolicy,
    pub bucket: &'a str,
    pub key: &'a str,
    pub file: &'a Path,
    pub size: u64,
    pub cancel: &'a watch::Receiver<bool>,
}

/// The part size used for a file of `size` bytes: `configured`, raised when
/// the file would otherwise need more than [`MAX_PARTS`] parts.
pub(super) fn part_size_for(size: u64, configured: u64) -> u64 {
    configured.max(size.div_ceil(MAX_PARTS)).max(1)
}

impl FileUpload<'_> {
    /// Uploads the whole file in one `PutObject` request (retried).
    pub(super) async fn put_single(&self) -> Result<(), StorageError> {
        let result = retry(
            self.retry,
            Some(self.cancel),
            "PutObject",
            is_transient,
            || async {
                let body = self.body(0, self.size).await?;
                self.client
                    .put_object()
                    .bucket(self.bucket)
                    .key(self.key)
                    .content_length(content_length(self.size))
                    .body(body)
                    .send()
                    .await
            },
        )
        .await;
        result
            .map(|_| ())
            .map_err(|error| self.failure("PutObject".to_owned(), error))
    }

    /// Uploads the file in parts of `part_size` bytes; on any failure or on
    /// cancellation the multipart upload is aborted before returning.
    pub(super) async fn put_multipart(&self, part_size: u64) -> Result<(), StorageError> {
        // Not interrupted by cancellation: an upload created on the server
        // whose id we never saw could not be aborted.
        let created = retry(
            self.retry,
            None,
            "CreateMultipartUpload",
            is_transient,
            || {
                self.client
                    .create_multipart_upload()
                    .bucket(self.bucket)
                    .key(self.key)
                    .send()
            },
        )
        .await
        .map_err(|error| self.failure("CreateMultipartUpload".to_owned(), error))?;
        let Some(upload_id) = created.upload_id() else {
            return Err(self.upload_error(
                "CreateMultipartUpload",
                1,
                "no upload id in the response",
            ));
        };
        tracing::debug!(
            bucket = self.bucket,
            key = self.key,
            upload_id,
            "multipart upload created"
        );

        let outcome = self.parts_and_complete(upload_id, part_size).await;
        if outcome.is_err() {
            self.abort(upload_id).await;
        }
        outcome
    }

    async fn parts_and_complete(
        &self,
        upload_id: &str,
        part_size: u64,
    ) -> Result<(), StorageError> {
        let part_count = self.size.div_ceil(part_size);
        let mut parts = Vec::new();
        for index in 0..part_count {
            let number = i32::try_from(index + 1)
                .map_err(|_| self.upload_error("UploadPart", 0, "more parts than S3 allows"))?;
            let offset = index * part_size;
            let length = part_size.min(self.size - offset);
            let step = format!("UploadPart {number} of {part_count}");
            let uploaded = retry(
                self.retry,
                Some(self.cancel),
                &step,
                is_transient,
                || async {
                    let body = self.body(offset, length).await?;
                    self.client
                        .upload_part()
                        .bucket(self.bucket)
                        .key(self.key)
                        .upload_id(upload_id)
                        .part_number(number)
                        .content_length(content_length(length))
                        .body(body)
                        .send()
                        .await
                },
            )
            .await
            .map_err(|error| self.failure(step.clone(), error))?;
            let Some(e_tag) = uploaded.e_tag() else {
                return Err(self.upload_error(&step, 1, "no ETag in the response"));
            };
            parts.push(
                CompletedPart::builder()
                    .part_number(number)
                    .e_tag(e_tag)
                    .build(),
            );
        }

        // A cancel that comes while completing is the caller's to handle
        // (by deleting the object); before that, it aborts the upload.
        if is_cancelled(self.cancel) {
            return Err(StorageError::Cancelled {
                key: self.key.to_owned(),
            });
        }
        let completed = CompletedMultipartUpload::builder()
            .set_parts(Some(parts))
            .build();
        retry(
            self.retry,
            None,
            "CompleteMultipartUpload",
            is_transient,
            || {
                self.client
                    .complete_multipart_upload()
                    .bucket(self.bucket)
                    .key(self.key)
                    .upload_id(upload_id)
                    .multipart_upload(completed.clone())
                    .send()
            },
        )
        .await
        .map(|_| ())
        .map_err(|error| self.failure("CompleteMultipartUpload".to_owned(), error))
    }

    /// Aborts the multipart upload, retried but never cancelled; a failure is
    /// only logged.
    async fn abort(&self, upload_id: &str) {
        let aborted = retry(
            self.retry,
            None,
            "AbortMultipartUpload",
            is_transient,
            || {
                self.client
                    .abort_multipart_upload()
                    .bucket(self.bucket)
                    .key(self.key)
                    .upload_id(upload_id)
                    .send()
            },
        )
        .await;
        match aborted {
            Ok(_) => tracing::info!(
                bucket = self.bucket,
                key = self.key,
                upload_id,
                "multipart upload aborted"
            ),
            Err(RetryError::Failed { error, attempts }) => tracing::error!(
                bucket = self.bucket,
                key = self.key,
                upload_id,
                attempts,
                error = %describe(&error),
                "could not abort multipart upload; it stays incomplete in the bucket"
            ),
            Err(RetryError::Cancelled) => {}
        }
    }

    /// `length` bytes of the file from `offset`, streamed from disk.
    async fn body<E>(
        &self,
        offset: u64,
        length: u64,
    ) -> Result<ByteStream, SdkError<E, HttpResponse>> {
        ByteStream::read_from()
            .path(self.file)
            .offset(offset)
            .length(Length::Exact(length))
            .build()
            .await
            .map_err(SdkError::construction_failure)
    }

    fn failure<E>(&self, step: String, error: RetryError<SdkError<E, HttpResponse>>) -> StorageError
    where
        E: std::error::Error + 'static,
    {
        match error {
            RetryError::Cancelled => StorageError::Cancelled {
                key: self.key.to_owned(),
            },
            RetryError::Failed { error, attempts } => StorageError::Upload {
                bucket: self.bucket.to_owned(),
                key: self.key.to_owned(),
                step,
                attempts,
                detail: describe(&error),
            },
        }
    }

    fn upload_error(&self, step: &str, attempts: u32, detail: &str) -> StorageError {
        StorageError::Upload {
            bucket: self.bucket.to_owned(),
            key: self.key.to_owned(),
            step: step.to_owned(),
            attempts,
            detail: detail.to_owned(),
        }
    }
}

/// A byte count as S3's `Content-Length` (an `i64`).
fn content_length(bytes: u64) -> i64 {
    i64::try_from(bytes).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::part_size_for;

    #[test]
    fn part_size_is_the_configured_one_unless_too_many_parts() {
        let mib = 1024 * 1024;
        assert_eq!(part_size_for(12 * mib, 5 * mib), 5 * mib);
        assert_eq!(part_size_for(100_000 * mib, 5 * mib), 10 * mib);
        assert_eq!(part_size_for(100_000 * mib + 1, 5 * mib), 10 * mib + 1);
    }
}
