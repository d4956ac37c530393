//! A slow or oversized origin fails its own job, with the limit named, and
//! never holds the run slot the jobs behind it wait for.

use std::time::{Duration, Instant};

use serde_json::json;

use super::super::service_support::{scenario, Server};
use super::Origin;

#[test]
fn stalled_trickling_and_oversized_origins_fail_their_jobs_and_the_job_behind_them_completes() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start();
    let server = Server::start(
        dir.path(),
        &[
            "url_policy.allow_private_video=true",
            "server.max_running_jobs=1",
            "url_policy.download_idle_secs=2",
            "url_policy.download_timeout_secs=5",
            "url_policy.max_video_bytes=1000000",
        ],
    );
    let clip = server.input_clip("clip.mp4", 2.0, 320, 180);
    // One slot: every job waits for the ones before it.
    let jobs = [
        ("stalled", origin.url("stall.mp4"), "url_policy.download_idle_secs"),
        ("trickling", origin.url("trickle.mp4"), "url_policy.download_timeout_secs"),
        ("announced-big", origin.url("big.mp4"), "url_policy.max_video_bytes"),
        ("endless", origin.url("endless.mp4"), "url_policy.max_video_bytes"),
    ];
    for (id, url, _) in &jobs {
        let answer = server.submit(&json!({ "jobId": id, "videoUrl": url, "scenario": scenario("caption_box.json") }));
        assert_eq!(answer.status, 202, "{id}: {}", String::from_utf8_lossy(&answer.body));
    }
    let behind = json!({ "jobId": "behind", "videoUrl": clip, "scenario": scenario("caption_box.json") });
    assert_eq!(server.submit(&behind).status, 202);

    for (id, _, limit) in &jobs {
        let status = server.wait_for(id, Duration::from_secs(120), |s| s["status"] != "queued" && s["status"] != "processing");
        assert_eq!(status["status"], "failed", "{id}: {status}");
        assert_eq!(status["error_code"], "INVALID_VIDEO_URL", "{id}: {status}");
        let message = status["error_message"].as_str().unwrap();
        assert!(message.starts_with("videoUrl") && message.contains(limit), "{id}: the error does not name {limit}: {message}");
        assert!(!message.contains("127.0.0.1"), "{id}: the URL is shown: {message}");
    }
    let done = server.wait_for("behind", Duration::from_secs(180), |s| s["status"] != "queued" && s["status"] != "processing");
    assert_eq!(done["status"], "completed", "the job behind the slow origins: {done}");
    // Nothing of the downloads is left in the work folder (a job's folder
    // goes once its outcome is recorded).
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left: Vec<_> = std::fs::read_dir(dir.path().join("work/jobs")).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
        if left.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "left in work/jobs: {left:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}
