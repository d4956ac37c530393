//! `Storage`: the result store chosen by the configuration, and `s3://` input fetching.

use std::path::{Path, PathBuf};
use std::time::Duration;

use motionrender_config::Config;
use tokio::sync::watch;

use super::local::LocalStorage;
use super::retry::RetryPolicy;
use super::s3::{fetch_object, S3Storage};
use super::s3_client::build_client;
use super::{StorageError, StoredObject};

/// Where results go (a local directory or an S3 bucket), plus an S3 client
/// for `s3://` inputs. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Storage {
    results: Results,
    s3: aws_sdk_s3::Client,
    retry: RetryPolicy,
}

#[derive(Debug, Clone)]
enum Results {
    Local(LocalStorage),
    S3(S3Storage),
}

impl Storage {
    /// S3 storage in `s3.bucket` when it is set, otherwise local storage
    /// under `paths.output_dir`. Makes no request.
    pub async fn from_config(config: &Config) -> Result<Storage, StorageError> {
        let retry = RetryPolicy::from_config(&config.retries);
        let s3 = build_client(&config.s3).await?;
        let results = match config.s3.bucket() {
            Some(bucket) => Results::S3(S3Storage {
                client: s3.clone(),
                retry,
                bucket: bucket.to_owned(),
                part_size: config.s3.part_size_bytes,
                presign_expiry: Duration::from_secs(config.s3.presign_expiry_secs),
            }),
            None => Results::Local(LocalStorage::new(&config.paths.output_dir)),
        };
        Ok(Storage { results, s3, retry })
    }

    /// Whether results go to S3 (rather than the local output directory).
    pub fn is_s3(&self) -> bool {
        matches!(self.results, Results::S3(_))
    }

    /// Stores `file` under `key`: copied into the output directory, or
    /// uploaded to the bucket (retried, aborted on failure). When `cancel`
    /// turns `true` first, nothing is left behind and the result is
    /// [`StorageError::Cancelled`].
    pub async fn put_file(
        &self,
        key: &str,
        file: &Path,
        cancel: &watch::Receiver<bool>,
    ) -> Result<StoredObject, StorageError> {
        match &self.results {
            Results::Local(local) => local.put_file(key, file, cancel).await,
            Results::S3(s3) => s3.put_file(key, file, cancel).await,
        }
    }

    /// Asks the bucket whether it can be reached with the configured
    /// credentials (`HeadBucket`), once; local storage needs no check.
    pub async fn check_reachable(&self) -> Result<(), StorageError> {
        match &self.results {
            Results::Local(_) => Ok(()),
            Results::S3(s3) => s3
                .client
                .head_bucket()
                .bucket(&s3.bucket)
                .send()
                .await
                .map(drop)
                .map_err(|error| StorageError::Unreachable { bucket: s3.bucket.clone(), detail: super::s3_client::describe(&error) }),
        }
    }

    /// A URL the stored `key` can be downloaded from: a presigned `GET` for
    /// S3, `None` for local storage (the server serves [`Storage::local_path`]).
    pub async fn download_url(&self, key: &str) -> Result<Option<String>, StorageError> {
        match &self.results {
            Results::Local(_) => Ok(None),
            Results::S3(s3) => s3.download_url(key).await.map(Some),
        }
    }

    /// The file of `key` in local storage; `None` for S3 or an unsafe key.
    pub fn local_path(&self, key: &str) -> Option<PathBuf> {
        match &self.results {
            Results::Local(local) => local.path_of(key).ok(),
            Results::S3(_) => None,
        }
    }

    /// Deletes the stored `key`; deleting a missing key succeeds.
    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        match &self.results {
            Results::Local(local) => local.delete(key).await,
            Results::S3(s3) => s3.delete(key).await,
        }
    }

    /// The results bucket, or `None` for local storage.
    pub fn bucket(&self) -> Option<&str> {
        match &self.results {
            Results::Local(_) => None,
            Results::S3(s3) => Some(&s3.bucket),
        }
    }

    /// Downloads the stored `key` of the results bucket into `dest` (as
    /// [`Storage::fetch_s3_input`]); local storage has nothing to fetch and
    /// answers [`StorageError::Config`].
    pub async fn get_file(&self, key: &str, dest: &Path, max_bytes: u64) -> Result<u64, StorageError> {
        match &self.results {
            Results::Local(_) => Err(StorageError::Config { detail: format!("cannot fetch {key}: results are stored locally, not in S3") }),
            Results::S3(s3) => fetch_object(&self.s3, &self.retry, &s3.bucket, key, dest, max_bytes).await,
        }
    }

    /// Downloads the input `s3://bucket/key` into the file `dest` (created or
    /// truncated), streaming; returns its size in bytes. An object larger
    /// than `max_bytes` is [`StorageError::InputTooLarge`]: refused before a
    /// byte of it is read when `HeadObject` tells its size, else once the
    /// download passes the limit, and no file is left. Uses the `[s3]`
    /// endpoint and credentials whichever store results go to.
    pub async fn fetch_s3_input(
        &self,
        bucket: &str,
        key: &str,
        dest: &Path,
        max_bytes: u64,
    ) -> Result<u64, StorageError> {
        fetch_object(&self.s3, &self.retry, bucket, key, dest, max_bytes).await
    }
}
