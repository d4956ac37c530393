//! Result storage against a real S3-compatible server (moto's `moto_server`,
//! started by each test on a free port, with a fresh bucket) and against a
//! local directory: multipart upload read back through a presigned URL,
//! retries then `S3_UPLOAD_ERROR` when S3 is unreachable, abort of the
//! multipart upload when a part keeps failing or the upload is cancelled,
//! `s3://` input fetching, local put/local_path/delete.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "storage/faults.rs"]
mod faults;
#[path = "storage/moto.rs"]
mod moto;

use std::path::Path;
use std::time::{Duration, Instant};

use faults::{Fault, FaultProxy};
use motionrender_config::Config;
use motionrender_engine::storage::{Storage, StorageError};
use moto::{free_port, Moto, ACCESS_KEY, SECRET_KEY};
use tokio::net::TcpListener;
use tokio::sync::watch;

const MIB: u64 = 1024 * 1024;
const ATTEMPTS: u32 = 3;

/// A configuration storing in `bucket` at `endpoint`, with 5 MiB parts and
/// [`ATTEMPTS`] quick attempts per request.
fn s3_config(endpoint: &str, bucket: &str) -> Config {
    let mut config = Config::default();
    config.s3.bucket = bucket.to_owned();
    config.s3.endpoint = endpoint.to_owned();
    config.s3.access_key_id = ACCESS_KEY.into();
    config.s3.secret_access_key = SECRET_KEY.into();
    config.s3.force_path_style = true;
    config.s3.part_size_bytes = 5 * MIB;
    config.s3.presign_expiry_secs = 600;
    config.retries.max_attempts = ATTEMPTS;
    config.retries.initial_backoff_ms = 20;
    config.retries.max_backoff_ms = 100;
    config
}

/// `size` bytes that differ from part to part (xorshift), written to `path`.
fn write_file(path: &Path, size: u64, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    let bytes: Vec<u8> = (0..size)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    std::fs::write(path, &bytes).unwrap();
    bytes
}

/// A cancel signal that is never raised (the sender lives as long as the receiver's user).
fn never_cancelled() -> (watch::Sender<bool>, watch::Receiver<bool>) {
    watch::channel(false)
}

async fn incomplete_uploads(moto: &Moto, bucket: &str) -> usize {
    let listed = moto
        .client()
        .list_multipart_uploads()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    listed.uploads().len()
}

async fn object_exists(moto: &Moto, bucket: &str, key: &str) -> bool {
    match moto
        .client()
        .head_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
    {
        Ok(_) => true,
        Err(error) => {
            let not_found = error
                .as_service_error()
                .is_some_and(|service| service.is_not_found());
            assert!(not_found, "HeadObject failed unexpectedly: {error:?}");
            false
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multipart_upload_is_read_back_through_the_presigned_url() {
    let moto = Moto::start().await;
    let bucket = moto.bucket().await;
    let storage = Storage::from_config(&s3_config(&moto.endpoint, &bucket))
        .await
        .unwrap();
    assert!(storage.is_s3());
    assert_eq!(storage.local_path("jobs/a/out.mp4"), None);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out.mp4");
    let written = write_file(&file, 12 * MIB, 7);
    let (_keep, cancel) = never_cancelled();

    let stored = storage
        .put_file("jobs/a/out.mp4", &file, &cancel)
        .await
        .unwrap();

    assert_eq!(stored.key, "jobs/a/out.mp4");
    assert_eq!(stored.size_bytes, 12 * MIB);
    assert_eq!(stored.location, format!("s3://{bucket}/jobs/a/out.mp4"));
    // A multipart object's ETag ends in "-<number of parts>": 5 + 5 + 2 MiB.
    let head = moto
        .client()
        .head_object()
        .bucket(&bucket)
        .key("jobs/a/out.mp4")
        .send()
        .await
        .unwrap();
    let e_tag = head.e_tag().unwrap().trim_matches('"').to_owned();
    assert!(
        e_tag.ends_with("-3"),
        "not a 3-part multipart upload: ETag {e_tag}"
    );
    assert_eq!(incomplete_uploads(&moto, &bucket).await, 0);

    let url = storage
        .download_url("jobs/a/out.mp4")
        .await
        .unwrap()
        .unwrap();
    assert!(url.contains("X-Amz-Signature="), "not presigned: {url}");
    assert!(url.contains("X-Amz-Expires=600"), "wrong lifetime: {url}");
    let response = reqwest::get(&url).await.unwrap();
    assert!(
        response.status().is_success(),
        "GET {url}: {}",
        response.status()
    );
    let downloaded = response.bytes().await.unwrap();
    assert_eq!(downloaded.len(), written.len());
    assert!(
        downloaded.as_ref() == written.as_slice(),
        "downloaded bytes differ from the upload"
    );

    storage.delete("jobs/a/out.mp4").await.unwrap();
    assert!(!object_exists(&moto, &bucket, "jobs/a/out.mp4").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_file_goes_up_in_one_request_and_reads_back() {
    let moto = Moto::start().await;
    let bucket = moto.bucket().await;
    let storage = Storage::from_config(&s3_config(&moto.endpoint, &bucket))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("small.mp4");
    let written = write_file(&file, 70_000, 11);
    let (_keep, cancel) = never_cancelled();

    let stored = storage.put_file("small.mp4", &file, &cancel).await.unwrap();

    assert_eq!(stored.size_bytes, 70_000);
    let head = moto
        .client()
        .head_object()
        .bucket(&bucket)
        .key("small.mp4")
        .send()
        .await
        .unwrap();
    assert!(
        !head.e_tag().unwrap().contains('-'),
        "a small file should not be multipart"
    );
    let url = storage.download_url("small.mp4").await.unwrap().unwrap();
    let downloaded = reqwest::get(&url).await.unwrap().bytes().await.unwrap();
    assert!(downloaded.as_ref() == written.as_slice());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_s3_fails_with_s3_upload_error_after_bounded_retries() {
    // A closed port: every connection is refused.
    let endpoint = format!("http://127.0.0.1:{}", free_port());
    let storage = Storage::from_config(&s3_config(&endpoint, "no-such-server"))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out.mp4");
    write_file(&file, 6 * MIB, 3);
    let (_keep, cancel) = never_cancelled();

    let started = Instant::now();
    let error = storage
        .put_file("out.mp4", &file, &cancel)
        .await
        .unwrap_err();

    assert_eq!(error.code(), "S3_UPLOAD_ERROR", "{error}");
    match &error {
        StorageError::Upload { step, attempts, .. } => {
            assert_eq!(step, "CreateMultipartUpload");
            assert_eq!(*attempts, ATTEMPTS);
        }
        other => panic!("expected an upload error, got {other:?}"),
    }
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_attempt_reaches_the_network_before_giving_up() {
    // A server that accepts connections and closes them at once, counting them.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = accepted.clone();
    let server = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            drop(stream);
        }
    });
    let storage = Storage::from_config(&s3_config(&endpoint, "bucket"))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("small.mp4");
    write_file(&file, 1000, 5);
    let (_keep, cancel) = never_cancelled();

    let error = storage
        .put_file("small.mp4", &file, &cancel)
        .await
        .unwrap_err();

    assert_eq!(error.code(), "S3_UPLOAD_ERROR", "{error}");
    assert!(
        matches!(
            error,
            StorageError::Upload {
                attempts: ATTEMPTS,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(
        accepted.load(std::sync::atomic::Ordering::SeqCst),
        ATTEMPTS as usize
    );
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_part_that_keeps_failing_aborts_the_multipart_upload() {
    let moto = Moto::start().await;
    let bucket = moto.bucket().await;
    let proxy = FaultProxy::start(&moto.endpoint, "partNumber=2", Fault::Unavailable).await;
    let storage = Storage::from_config(&s3_config(&proxy.endpoint, &bucket))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out.mp4");
    write_file(&file, 12 * MIB, 9);
    let (_keep, cancel) = never_cancelled();

    let error = storage
        .put_file("out.mp4", &file, &cancel)
        .await
        .unwrap_err();

    assert_eq!(error.code(), "S3_UPLOAD_ERROR", "{error}");
    match &error {
        StorageError::Upload { step, attempts, .. } => {
            assert_eq!(step, "UploadPart 2 of 3");
            assert_eq!(*attempts, ATTEMPTS);
        }
        other => panic!("expected an upload error, got {other:?}"),
    }
    assert_eq!(
        proxy.injected(),
        ATTEMPTS as usize,
        "part 2 was not retried as configured"
    );
    assert_eq!(
        incomplete_uploads(&moto, &bucket).await,
        0,
        "the multipart upload was left behind"
    );
    assert!(!object_exists(&moto, &bucket, "out.mp4").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_mid_upload_aborts_it_and_leaves_nothing() {
    let moto = Moto::start().await;
    let bucket = moto.bucket().await;
    let proxy = FaultProxy::start(&moto.endpoint, "partNumber=2", Fault::Hang).await;
    let storage = Storage::from_config(&s3_config(&proxy.endpoint, &bucket))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out.mp4");
    write_file(&file, 12 * MIB, 13);
    let (cancel_tx, cancel) = watch::channel(false);

    let upload = tokio::spawn({
        let storage = storage.clone();
        let file = file.clone();
        async move { storage.put_file("out.mp4", &file, &cancel).await }
    });
    // Part 1 is stored and part 2 is in flight (held by the proxy).
    tokio::time::timeout(Duration::from_secs(30), proxy.hit.notified())
        .await
        .unwrap();
    assert_eq!(incomplete_uploads(&moto, &bucket).await, 1);
    cancel_tx.send(true).unwrap();
    let error = tokio::time::timeout(Duration::from_secs(10), upload)
        .await
        .expect("put_file did not return after cancel")
        .unwrap()
        .unwrap_err();

    assert!(matches!(error, StorageError::Cancelled { .. }), "{error:?}");
    assert_eq!(error.code(), "JOB_CANCELLED");
    assert_eq!(
        incomplete_uploads(&moto, &bucket).await,
        0,
        "the multipart upload was left behind"
    );
    assert!(!object_exists(&moto, &bucket, "out.mp4").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_input_is_fetched_to_a_local_file() {
    let moto = Moto::start().await;
    let bucket = moto.bucket().await;
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("input.mp4");
    let written = write_file(&source, 3 * MIB + 17, 21);
    moto.client()
        .put_object()
        .bucket(&bucket)
        .key("inputs/input.mp4")
        .body(written.clone().into())
        .send()
        .await
        .unwrap();
    // Results stay local; s3:// inputs still use the [s3] endpoint and keys.
    let mut config = s3_config(&moto.endpoint, "");
    config.paths.output_dir = dir.path().join("output").display().to_string();
    let storage = Storage::from_config(&config).await.unwrap();
    assert!(!storage.is_s3());
    let dest = dir.path().join("fetched.mp4");

    let size = storage
        .fetch_s3_input(&bucket, "inputs/input.mp4", &dest, u64::MAX)
        .await
        .unwrap();

    assert_eq!(size, written.len() as u64);
    assert!(
        std::fs::read(&dest).unwrap() == written,
        "fetched bytes differ"
    );

    let missing = dir.path().join("missing.mp4");
    let error = storage
        .fetch_s3_input(&bucket, "inputs/none.mp4", &missing, u64::MAX)
        .await
        .unwrap_err();
    assert_eq!(error.code(), "STORAGE_ACCESS_ERROR", "{error}");
    assert!(!missing.exists());

    let limited = dir.path().join("limited.mp4");
    let error = storage
        .fetch_s3_input(&bucket, "inputs/input.mp4", &limited, MIB)
        .await
        .unwrap_err();
    assert!(
        matches!(error, StorageError::InputTooLarge { limit, size: Some(size), .. } if limit == MIB && size == written.len() as u64),
        "{error:?}"
    );
    assert!(!limited.exists(), "nothing is written of an object over the limit");
}

#[tokio::test]
async fn local_storage_copies_into_the_output_directory() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("output");
    let mut config = Config::default();
    config.paths.output_dir = output.display().to_string();
    let storage = Storage::from_config(&config).await.unwrap();
    assert!(!storage.is_s3());
    let file = dir.path().join("render.mp4");
    let written = write_file(&file, 100_000, 17);
    let (_keep, cancel) = never_cancelled();

    let stored = storage
        .put_file("jobs/j1/out.mp4", &file, &cancel)
        .await
        .unwrap();

    let expected = output.join("jobs/j1/out.mp4");
    assert_eq!(stored.size_bytes, 100_000);
    assert_eq!(stored.location, expected.display().to_string());
    assert_eq!(
        storage.local_path("jobs/j1/out.mp4"),
        Some(expected.clone())
    );
    assert!(std::fs::read(&expected).unwrap() == written);
    assert!(file.exists(), "the source file should stay");
    assert_eq!(storage.download_url("jobs/j1/out.mp4").await.unwrap(), None);
    let leftovers: Vec<_> = std::fs::read_dir(output.join("jobs/j1")).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "temporary files left: {leftovers:?}");

    storage.delete("jobs/j1/out.mp4").await.unwrap();
    assert!(!expected.exists());
    storage.delete("jobs/j1/out.mp4").await.unwrap();
}

#[tokio::test]
async fn local_storage_refuses_escaping_keys_and_honours_cancel() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("output");
    let mut config = Config::default();
    config.paths.output_dir = output.display().to_string();
    let storage = Storage::from_config(&config).await.unwrap();
    let file = dir.path().join("render.mp4");
    write_file(&file, 1000, 19);
    let (cancel_tx, cancel) = watch::channel(false);

    for key in ["../escape.mp4", "/abs.mp4", "a/../../b.mp4", ""] {
        let error = storage.put_file(key, &file, &cancel).await.unwrap_err();
        assert_eq!(error.code(), "STORAGE_ACCESS_ERROR", "{key:?}: {error}");
        assert_eq!(storage.local_path(key), None);
    }
    assert!(!dir.path().join("escape.mp4").exists());

    cancel_tx.send(true).unwrap();
    let error = storage
        .put_file("out.mp4", &file, &cancel)
        .await
        .unwrap_err();
    assert_eq!(error.code(), "JOB_CANCELLED");
    assert!(!output.join("out.mp4").exists());
}
