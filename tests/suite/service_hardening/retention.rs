//! `jobs.retention`: a finished job (completed, failed or cancelled) is
//! deleted once it finished longer ago than the retention — its status is
//! then a 404, its output, QC report and work folder are gone, and its
//! output key is free — when the server starts and by the periodic sweep;
//! queued and running jobs are never touched.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::super::service_support::{get, request, scenario, Server};
use super::Origin;

/// Settings every server of the test shares: one job at a time, and a
/// stalled origin holds its job until it is cancelled.
const SHARED: [&str; 3] = ["server.max_running_jobs=1", "url_policy.allow_private_video=true", "url_policy.download_idle_secs=3600"];

fn settings<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    SHARED.iter().copied().chain(extra.iter().copied()).collect()
}

fn body(id: &str, video: &Value) -> Value {
    json!({ "jobId": id, "videoUrl": video, "scenario": scenario("caption_box.json") })
}

fn finished(status: &Value) -> bool {
    status["status"] != "queued" && status["status"] != "processing"
}

/// Waits until `job_id` is unknown to the server.
fn wait_gone(server: &Server, job_id: &str, limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        let answer = get(&server.url(&format!("/api/render/{job_id}/status")));
        if answer.status == 404 {
            assert_eq!(answer.json()["error_code"], "JOB_NOT_FOUND");
            return;
        }
        assert!(Instant::now() < deadline, "{job_id} was not deleted: {}; log: {}", String::from_utf8_lossy(&answer.body), server.log());
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn files_of(data: &Path, job_id: &str, key: &str) -> Vec<std::path::PathBuf> {
    vec![data.join("output").join(key), data.join("output").join(format!("{key}.qc.json")), data.join("work/jobs").join(job_id)]
}

#[test]
fn finished_jobs_past_the_retention_go_with_their_files_at_start_and_periodically_and_unfinished_ones_stay() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let origin = Origin::start();
    let stall = json!(origin.url("stall.mp4"));

    // With the default retention (7 days) finished jobs stay.
    let server = Server::start(data, &settings(&[]));
    let clip = json!(server.input_clip("clip.mp4", 1.0, 160, 90));
    let bad = data.join("inputs/not-a-video.mp4");
    std::fs::write(&bad, b"this is not a video").unwrap();
    let mut completed = body("old-completed", &clip);
    completed["options"] = json!({ "outputKey": "kept/old.mp4" });
    assert_eq!(server.submit(&completed).status, 202);
    assert_eq!(server.submit(&body("old-failed", &json!(bad))).status, 202);
    assert_eq!(server.submit(&body("old-cancelled", &stall)).status, 202);
    server.wait_for("old-cancelled", Duration::from_secs(120), |s| s["status"] == "processing");
    assert_eq!(request("POST", &server.url("/api/render/old-cancelled/cancel"), &[], Some(b"")).json()["success"], true);
    for (id, status) in [("old-completed", "completed"), ("old-failed", "failed"), ("old-cancelled", "cancelled")] {
        assert_eq!(server.wait_for(id, Duration::from_secs(120), finished)["status"], status, "{id}");
    }
    let old_files = files_of(data, "old-completed", "kept/old.mp4");
    assert!(old_files[0].is_file() && old_files[1].is_file(), "the completed job's output and QC report are stored");
    drop(server);

    // Started with a short retention (and no sweep for an hour), the server
    // deletes them as it starts.
    std::thread::sleep(Duration::from_millis(1500));
    let server = Server::start(data, &settings(&["jobs.retention=1s", "jobs.retention_sweep=1h"]));
    for id in ["old-completed", "old-failed", "old-cancelled"] {
        wait_gone(&server, id, Duration::from_secs(30));
    }
    for file in &old_files {
        assert!(!file.exists(), "{} is left", file.display());
    }
    assert_eq!(get(&server.url("/api/jobs")).json(), json!([]));
    let mut reuse = body("reuses-the-key", &clip);
    reuse["options"] = json!({ "outputKey": "kept/old.mp4" });
    assert_eq!(server.submit(&reuse).status, 202, "a deleted job's output key is free again");
    server.wait_for("reuses-the-key", Duration::from_secs(120), |s| s["status"] == "completed");
    drop(server);

    // The periodic sweep: a job that completes under it is deleted once it
    // is older than the retention; a running and a queued job stay.
    std::thread::sleep(Duration::from_millis(1500));
    let server = Server::start(data, &settings(&["jobs.retention=3s", "jobs.retention_sweep=1s"]));
    wait_gone(&server, "reuses-the-key", Duration::from_secs(30));
    assert_eq!(server.submit(&body("recent", &clip)).status, 202);
    server.wait_for("recent", Duration::from_secs(120), |s| s["status"] == "completed");
    assert!(data.join("output/recent.mp4").is_file());
    assert_eq!(server.submit(&body("running", &stall)).status, 202);
    assert_eq!(server.submit(&body("waiting", &clip)).status, 202);
    server.wait_for("running", Duration::from_secs(60), |s| s["status"] == "processing");
    wait_gone(&server, "recent", Duration::from_secs(60));
    for file in files_of(data, "recent", "recent.mp4") {
        assert!(!file.exists(), "{} is left", file.display());
    }
    // Two sweeps later the unfinished jobs are still there, untouched.
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(server.status("running")["status"], "processing");
    assert_eq!(server.status("waiting")["status"], "queued");
    assert!(data.join("work/jobs/running").is_dir(), "a running job keeps its work folder");

    // What was deleted is gone from the store, not only from the index.
    let mut server = server;
    server.restart();
    for id in ["old-completed", "reuses-the-key", "recent"] {
        assert_eq!(get(&server.url(&format!("/api/render/{id}/status"))).status, 404, "{id} came back after a restart");
    }
    let resumed = server.status("running");
    assert!(resumed["status"] == "processing" || resumed["status"] == "queued", "{resumed}");
    assert_eq!(request("POST", &server.url("/api/render/running/cancel"), &[], Some(b"")).json()["success"], true);
}
