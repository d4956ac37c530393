//! A `kill -9` between a job's end and its clean-up leaves its work folder
//! (input, segments) and the warm browsers' profiles behind; the next start
//! removes every folder of a job that will not run again, and the stale
//! profiles.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;

use super::super::service_support::{processes_mentioning, request, scenario, Server};

fn names_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir).map(|entries| entries.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect()).unwrap_or_default()
}

#[test]
fn a_job_cancelled_just_before_a_kill_leaves_no_work_folder_after_the_restart() {
    let dir = tempfile::tempdir().unwrap();
    // The fault holds the cancelled job's clean-up for a minute: the window
    // a kill -9 lands in, made wide enough to hit every time.
    let id = "cancelled-then-killed";
    let mut server = Server::start_with_env(dir.path(), &["segments.seconds=1"], &[("MR_TEST_FAULT", &format!("slow_cleanup:{id}"))]);
    let clip = server.input_clip("long.mp4", 12.0, 320, 180);
    assert_eq!(server.submit(&json!({ "jobId": id, "videoUrl": clip, "scenario": scenario("caption_box.json") })).status, 202);
    let folder = dir.path().join("work/jobs").join(id);
    let deadline = Instant::now() + Duration::from_secs(120);
    while names_in(&folder.join("segments")).is_empty() {
        assert!(Instant::now() < deadline, "no segment was written: {}", server.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(request("POST", &server.url(&format!("/api/render/{id}/cancel")), &[], Some(b"")).json()["success"], true);
    assert_eq!(server.status(id)["status"], "cancelled");
    let profiles = dir.path().join("work/browsers");
    let stale = names_in(&profiles);
    assert!(folder.join("segments").is_dir(), "the job's folder must still be there when the kill lands");
    assert!(!stale.is_empty(), "a warm browser's profile must be there when the kill lands");

    server.restart();
    assert!(!folder.exists(), "the cancelled job's work folder survived the restart: {:?}", names_in(&folder));
    let now = names_in(&profiles);
    for name in &stale {
        assert!(!now.contains(name), "the stale browser profile {name} survived the restart");
        assert!(processes_mentioning(&profiles.join(name).to_string_lossy()).is_empty(), "a browser of the killed run still runs on {name}");
    }
    assert_eq!(server.status(id)["status"], "cancelled", "the job itself is kept");
}
