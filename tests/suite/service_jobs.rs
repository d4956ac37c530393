//! The service keeps its promises across faults: a `kill -9` mid-render
//! loses nothing and re-renders no finished segment; callbacks reach a
//! receiver that was down, in order and signed; a cancel is prompt and
//! leaves nothing behind.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use serde_json::{json, Value};

use motionrender_tests::frame_hashes;

use super::service_support::{free_port, processes_mentioning, request, scenario, Receiver, Received, Server};

const SECRET: &str = "s3cret-for-tests";

fn settings() -> Vec<&'static str> {
    vec![
        "callbacks.secret=s3cret-for-tests",
        "callbacks.initial_backoff_ms=100",
        "callbacks.max_backoff_ms=400",
        "segments.seconds=2",
        "browser.pool_size=1",
    ]
}

/// The events after de-duplication by `event_id`, in sequence order;
/// checks that no event_id came with two different bodies.
fn deduplicated(received: &[Received]) -> Vec<Value> {
    let mut by_seq: BTreeMap<u64, Value> = BTreeMap::new();
    for request in received {
        let mut event = request.json();
        let id = event["event_id"].as_str().unwrap().to_owned();
        let seq: u64 = id.rsplit(':').next().unwrap().parse().unwrap();
        event.as_object_mut().unwrap().remove("event_id");
        if let Some(earlier) = by_seq.get(&seq) {
            // A re-delivery carries the same event (its timestamp included).
            assert_eq!(earlier, &event, "event {id} came twice with different bodies");
        }
        by_seq.insert(seq, event);
    }
    let seqs: Vec<u64> = by_seq.keys().copied().collect();
    assert_eq!(seqs, (0..seqs.len() as u64).collect::<Vec<_>>(), "events are missing from the sequence");
    by_seq.into_values().collect()
}

/// Progress never goes backwards and the story ends with one `completed`.
fn assert_a_complete_story(events: &[Value], job_id: &str) {
    assert!(events.iter().all(|e| e["job_id"] == job_id));
    let statuses: Vec<&str> = events.iter().map(|e| e["status"].as_str().unwrap()).collect();
    assert_eq!(statuses.last(), Some(&"completed"), "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == "completed").count(), 1);
    assert!(statuses[..statuses.len() - 1].iter().all(|s| *s == "processing"), "{statuses:?}");
    let progress: Vec<f64> = events.iter().filter_map(|e| e["progress"].as_f64()).collect();
    assert!(progress.windows(2).all(|w| w[0] <= w[1]), "progress went backwards: {progress:?}");
    assert!(progress.len() >= 3, "too few progress events: {progress:?}");
}

fn verify(request: &Received) -> bool {
    let timestamp = &request.headers["x-motionrender-timestamp"];
    let signature = request.headers["x-motionrender-signature"].strip_prefix("sha256=").unwrap();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(&request.body);
    mac.verify_slice(&hex::decode(signature).unwrap()).is_ok()
}

#[test]
fn a_kill_9_mid_render_then_a_restart_completes_the_job_reusing_finished_segments() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start(free_port());
    let mut server = Server::start(dir.path(), &settings());
    let clip = server.input_clip("clip.mp4", 12.0, 640, 360);
    let body = json!({ "jobId": "crash-1", "videoUrl": clip, "scenario": scenario("busy_captions.json"), "callbackUrl": receiver.url() });
    assert_eq!(server.submit(&body).status, 202);
    server.wait_for("crash-1", Duration::from_secs(120), |s| s["progress"].as_f64().unwrap_or(0.0) >= 40.0);
    server.kill9();
    server.restart();
    let done = server.wait_for("crash-1", Duration::from_secs(180), |s| s["status"] != "processing" && s["status"] != "queued");
    assert_eq!(done["status"], "completed", "{done}");
    assert!(done["metrics"]["segments_reused"].as_u64().unwrap() >= 2, "finished segments were rendered again: {done}");
    assert_eq!(done["metrics"]["frames_processed"], 300);

    let deadline = Instant::now() + Duration::from_secs(30);
    while !receiver.all().iter().any(|r| r.json()["status"] == "completed") {
        assert!(Instant::now() < deadline, "no completed callback arrived");
        std::thread::sleep(Duration::from_millis(100));
    }
    let events = deduplicated(&receiver.all());
    assert_a_complete_story(&events, "crash-1");
    let mp4 = request("GET", &server.url("/api/render/crash-1/download"), &[], None);
    assert_eq!(mp4.status, 200);
    assert_eq!(&mp4.body[4..8], b"ftyp", "the download is not an MP4");
}

#[test]
fn callbacks_reach_a_receiver_that_was_down_at_first_in_order_and_signed() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = Server::start(dir.path(), &settings());
    let clip = server.input_clip("clip.mp4", 6.0, 640, 360);
    let url = format!("http://127.0.0.1:{port}/callback");
    let body = json!({ "jobId": "late-receiver", "videoUrl": clip, "scenario": scenario("busy_captions.json"), "callbackUrl": url });
    assert_eq!(server.submit(&body).status, 202);
    // The receiver comes up only once the job is well under way.
    server.wait_for("late-receiver", Duration::from_secs(120), |s| s["progress"].as_f64().unwrap_or(0.0) >= 30.0);
    let receiver = Receiver::start(port);
    server.wait_for("late-receiver", Duration::from_secs(120), |s| s["status"] == "completed");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !receiver.all().iter().any(|r| r.json()["status"] == "completed") {
        assert!(Instant::now() < deadline, "the completed callback never arrived");
        std::thread::sleep(Duration::from_millis(100));
    }
    let received = receiver.all();
    assert!(received.iter().all(verify), "a signature does not verify with the shared secret");
    let seqs: Vec<u64> = received.iter().map(|r| r.json()["event_id"].as_str().unwrap().rsplit(':').next().unwrap().parse().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "callbacks arrived out of order: {seqs:?}");
    let events = deduplicated(&received);
    assert_a_complete_story(&events, "late-receiver");
    assert!(events.last().unwrap()["download_url"].as_str().unwrap().ends_with("/api/render/late-receiver/download"));
}

#[test]
fn a_cancel_mid_render_is_reported_within_2_s_and_leaves_no_output_and_no_child() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &settings());
    let clip = server.input_clip("clip.mp4", 20.0, 640, 360);
    let body = json!({ "jobId": "to-cancel", "videoUrl": clip, "scenario": scenario("busy_captions.json") });
    assert_eq!(server.submit(&body).status, 202);
    server.wait_for("to-cancel", Duration::from_secs(120), |s| s["progress"].as_f64().unwrap_or(0.0) >= 5.0);
    let asked = Instant::now();
    let answer = request("POST", &server.url("/api/render/to-cancel/cancel"), &[], Some(b""));
    assert_eq!(answer.json()["success"], true);
    server.wait_for("to-cancel", Duration::from_secs(2), |s| s["status"] == "cancelled");
    assert!(asked.elapsed() <= Duration::from_secs(2));

    // Cleaning up follows the answer within seconds: no child, no output, no
    // work files. (The warm pool's browsers, under work/browsers, stay for the next job.)
    let marker = dir.path().to_string_lossy().into_owned();
    let listing = |sub: &str| -> Vec<std::path::PathBuf> {
        std::fs::read_dir(dir.path().join(sub)).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default()
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left: Vec<_> = processes_mentioning(&marker).into_iter().filter(|(pid, cmdline)| *pid != server.pid() && !cmdline.contains("/work/browsers/")).collect();
        let (outputs, work) = (listing("output"), listing("work/jobs"));
        if left.is_empty() && outputs.is_empty() && work.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "left behind by the cancelled job: processes {left:?}, outputs {outputs:?}, work files {work:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let again = request("POST", &server.url("/api/render/to-cancel/cancel"), &[], Some(b""));
    assert_eq!(again.json()["success"], false, "a finished job cannot be cancelled again");
}

#[test]
fn sigterm_stops_the_server_promptly_and_the_job_resumes_on_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    // Two pages: the resumed run has fewer segments left than pages, and
    // must still encode them as the first run would have.
    let mut settings = settings();
    settings.push("browser.pool_size=2");
    let mut server = Server::start(dir.path(), &settings);
    let clip = server.input_clip("clip.mp4", 12.0, 640, 360);
    let body = json!({ "jobId": "drained", "videoUrl": clip, "scenario": scenario("busy_captions.json") });
    assert_eq!(server.submit(&body).status, 202);
    server.wait_for("drained", Duration::from_secs(120), |s| s["progress"].as_f64().unwrap_or(0.0) >= 60.0);
    let status = server.terminate(Duration::from_secs(15));
    assert!(status.success(), "SIGTERM is a clean exit: {status}");
    server.restart();
    let done = server.wait_for("drained", Duration::from_secs(180), |s| s["status"] != "processing" && s["status"] != "queued");
    assert_eq!(done["status"], "completed", "a stopped job is resumed, not failed: {done}");
    assert!(done["metrics"]["segments_reused"].as_u64().unwrap() >= 2, "{done}");

    let body = json!({ "jobId": "undisturbed", "videoUrl": clip, "scenario": scenario("busy_captions.json") });
    assert_eq!(server.submit(&body).status, 202);
    let undisturbed = server.wait_for("undisturbed", Duration::from_secs(180), |s| s["status"] != "processing" && s["status"] != "queued");
    assert_eq!(undisturbed["status"], "completed", "{undisturbed}");
    let output = |id: &str| dir.path().join("output").join(format!("{id}.mp4"));
    assert_eq!(frame_hashes(&output("drained")), frame_hashes(&output("undisturbed")), "the resumed job's frames differ from an undisturbed run's");
}
