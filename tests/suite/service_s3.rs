//! The service against a real S3-compatible server (moto): a backend-style
//! client gets rising progress and a `completed` callback whose presigned
//! `download_url` returns the MP4; an S3 that becomes unreachable fails the
//! job with S3_UPLOAD_ERROR after retries, leaving no upload behind.

use std::time::{Duration, Instant};

use serde_json::json;

use super::service_support::{free_port, request, scenario, CutProxy, Moto, Receiver, Server};

#[test]
fn a_job_stored_in_s3_completes_with_a_presigned_download_url_and_rising_progress() {
    let moto = Moto::start();
    moto.create_bucket("renders");
    let dir = tempfile::tempdir().unwrap();
    let settings = moto.settings(&moto.endpoint(), "renders");
    let settings: Vec<&str> = settings.iter().map(String::as_str).collect();
    let server = Server::start(dir.path(), &settings);
    let receiver = Receiver::start(free_port());
    let clip = server.input_clip("clip.mp4", 6.0, 640, 360);
    let body = json!({
        "jobId": "to-s3",
        "videoUrl": clip,
        "scenario": scenario("busy_captions.json"),
        "options": { "outputKey": "renders/2026/to-s3.mp4" },
        "callbackUrl": receiver.url(),
    });
    let accepted = server.submit(&body);
    assert_eq!(accepted.status, 202, "{}", String::from_utf8_lossy(&accepted.body));
    assert_eq!(accepted.header("location"), Some("/api/render/to-s3/status"));
    let done = server.wait_for("to-s3", Duration::from_secs(180), |s| s["status"] == "completed" || s["status"] == "failed");
    assert_eq!(done["status"], "completed", "{done}");

    let deadline = Instant::now() + Duration::from_secs(30);
    let completed = loop {
        if let Some(event) = receiver.all().iter().map(|r| r.json()).find(|e| e["status"] == "completed") {
            break event;
        }
        assert!(Instant::now() < deadline, "no completed callback");
        std::thread::sleep(Duration::from_millis(100));
    };
    let progress: Vec<f64> = receiver.all().iter().map(|r| r.json()).filter(|e| e["status"] == "processing").filter_map(|e| e["progress"].as_f64()).collect();
    assert!(progress.len() >= 3 && progress.windows(2).all(|w| w[0] <= w[1]), "progress did not rise steadily: {progress:?}");
    assert!(progress.windows(2).any(|w| w[0] < w[1]), "progress never rose: {progress:?}");

    let url = completed["download_url"].as_str().unwrap();
    assert_eq!(Some(url), done["download_url"].as_str(), "the status endpoint and the callback disagree");
    assert!(url.contains("X-Amz-Signature="), "not a presigned URL: {url}");
    let mp4 = request("GET", url, &[], None);
    assert_eq!(mp4.status, 200, "{}", String::from_utf8_lossy(&mp4.body[..mp4.body.len().min(300)]));
    assert_eq!(&mp4.body[4..8], b"ftyp", "the download is not an MP4");
    assert_eq!(completed["file_size"].as_u64(), Some(mp4.body.len() as u64));
    let keys = moto.object_keys("renders");
    assert!(keys.contains(&"renders/2026/to-s3.mp4".to_owned()) && keys.contains(&"renders/2026/to-s3.mp4.qc.json".to_owned()), "{keys:?}");
    assert_eq!(moto.uploads_in_progress("renders"), 0);
}

#[test]
fn an_unreachable_s3_at_upload_time_fails_the_job_with_s3_upload_error_and_leaves_nothing() {
    let moto = Moto::start();
    moto.create_bucket("renders");
    let proxy = CutProxy::start(moto.port);
    let dir = tempfile::tempdir().unwrap();
    let mut settings = moto.settings(&proxy.endpoint(), "renders");
    settings.extend(["retries.max_attempts=3".to_owned(), "retries.initial_backoff_ms=100".to_owned(), "retries.max_backoff_ms=400".to_owned()]);
    let settings: Vec<&str> = settings.iter().map(String::as_str).collect();
    let server = Server::start(dir.path(), &settings);
    let clip = server.input_clip("clip.mp4", 6.0, 640, 360);
    let body = json!({ "jobId": "s3-down", "videoUrl": clip, "scenario": scenario("busy_captions.json") });
    assert_eq!(server.submit(&body).status, 202);
    server.wait_for("s3-down", Duration::from_secs(120), |s| s["progress"].as_f64().unwrap_or(0.0) >= 20.0);
    proxy.cut();
    let done = server.wait_for("s3-down", Duration::from_secs(180), |s| s["status"] == "completed" || s["status"] == "failed");
    assert_eq!(done["status"], "failed", "{done}");
    assert_eq!(done["error_code"], "S3_UPLOAD_ERROR", "{done}");
    assert!(done["error_message"].as_str().unwrap().contains('3'), "the error should say how many attempts were made: {done}");
    assert_eq!(moto.uploads_in_progress("renders"), 0, "an incomplete multipart upload was left");
    assert!(moto.object_keys("renders").is_empty(), "objects were left: {:?}", moto.object_keys("renders"));
    let outputs: Vec<_> = std::fs::read_dir(dir.path().join("work/jobs")).map(|d| d.flatten().collect()).unwrap_or_default();
    assert!(outputs.is_empty(), "work files left: {outputs:?}");
}
