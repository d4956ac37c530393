//! The actor tree under `motionrender serve`: warm browsers serve the next
//! job and are replaced when they die between jobs; a panic in a job's work
//! fails that job only; cancels racing progress and completion leave every
//! job in one terminal state its callers were told of; JSON logs carry the
//! job's id.

use std::collections::{BTreeMap, HashMap};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use motionrender_tests::{descendants, frame_hashes, processes_mentioning, x264_settings};
use serde_json::{json, Value};

use super::service_support::{free_port, get, request, scenario, Receiver, Server};

fn wait_finished(server: &Server, job_id: &str) -> Value {
    server.wait_for(job_id, Duration::from_secs(180), |s| ["completed", "failed", "cancelled"].contains(&s["status"].as_str().unwrap_or_default()))
}

fn metrics(server: &Server) -> String {
    String::from_utf8_lossy(&get(&server.url("/metrics")).body).into_owned()
}

#[test]
fn a_warm_pool_serves_the_next_job_and_replaces_browsers_killed_between_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["segments.seconds=2", "browser.pool_size=1", "browser.min_idle=1"]);
    let clip = server.input_clip("clip.mp4", 4.0, 320, 180);
    let run = |id: &str| {
        assert_eq!(server.submit(&json!({ "jobId": id, "videoUrl": clip, "scenario": scenario("busy_captions.json") })).status, 202);
        let done = wait_finished(&server, id);
        assert_eq!(done["status"], "completed", "{done}");
        get(&server.url(&format!("/api/render/{id}/qc"))).json()
    };
    run("first");
    let second = run("second");
    assert_eq!(second["browsers_launched"], 0, "the second job started a browser: {second}");
    assert!(second["browsers_reused"].as_u64().unwrap() >= 1, "{second}");

    // Kill every browser of the pool between two jobs.
    let pool = format!("{}/work/browsers/", dir.path().display());
    let browsers = processes_mentioning(&pool);
    assert!(!browsers.is_empty(), "no warm browser between jobs");
    for (pid, _) in &browsers {
        let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
    }
    run("third");
    let output = |id: &str| dir.path().join("output").join(format!("{id}.mp4"));
    let (first, third) = (frame_hashes(&output("first")), frame_hashes(&output("third")));
    let differing: Vec<usize> = (0..first.len().max(third.len())).filter(|&i| first.get(i) != third.get(i)).collect();
    assert!(
        differing.is_empty(),
        "frames {differing:?} differ after the pool's browsers were killed; encoder settings: first {:?}, third {:?}",
        x264_settings(&output("first")),
        x264_settings(&output("third"))
    );
    let text = metrics(&server);
    let replaced = text.lines().find_map(|line| line.strip_prefix("motionrender_browsers_replaced_total ")).and_then(|n| n.trim().parse::<u64>().ok());
    assert!(replaced.is_some_and(|n| n >= 1), "no replaced browser counted:\n{text}");
}

#[test]
fn a_panic_in_a_jobs_work_fails_that_job_frees_its_slot_and_the_next_job_completes() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with_env(dir.path(), &["segments.seconds=2", "server.max_running_jobs=1"], &[("MR_TEST_FAULT", "job_panic:boom")]);
    let clip = server.input_clip("clip.mp4", 6.0, 320, 180);
    assert_eq!(server.submit(&json!({ "jobId": "boom", "videoUrl": clip, "scenario": scenario("busy_captions.json") })).status, 202);
    let failed = wait_finished(&server, "boom");
    assert_eq!(failed["status"], "failed", "{failed}");
    assert_eq!(failed["error_code"], "INTERNAL_ERROR", "{failed}");
    assert!(failed["error_message"].as_str().unwrap_or_default().contains("panicked"), "{failed}");

    // No encoder or decoder of the failed job is left.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left: Vec<_> = descendants(server.pid()).into_iter().filter(|(_, cmdline)| cmdline.contains("ffmpeg")).collect();
        if left.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "children outlived the panicked job: {left:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    // The slot is free: the next job runs and completes.
    assert_eq!(server.submit(&json!({ "jobId": "after", "videoUrl": clip, "scenario": scenario("busy_captions.json") })).status, 202);
    assert_eq!(wait_finished(&server, "after")["status"], "completed");
    let text = metrics(&server);
    assert!(text.lines().any(|line| line == "motionrender_job_panics_total 1"), "{text}");
    assert!(text.lines().any(|line| line == "motionrender_job_failures_total{error_code=\"INTERNAL_ERROR\"} 1"), "{text}");
}

#[test]
fn cancels_racing_progress_and_completion_end_each_job_in_one_state_its_callers_were_told() {
    const JOBS: usize = 20;
    const CANCELS_PER_JOB: usize = 10;
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start(free_port());
    let server = Server::start(dir.path(), &["segments.seconds=1", "server.max_running_jobs=2", "browser.pool_size=1"]);
    let clip = server.input_clip("short.mp4", 2.0, 160, 90);
    let ids: Vec<String> = (0..JOBS).map(|n| format!("race-{n:02}")).collect();
    for id in &ids {
        let body = json!({ "jobId": id, "videoUrl": clip, "scenario": scenario("busy_captions.json"), "callbackUrl": receiver.url() });
        assert_eq!(server.submit(&body).status, 202);
    }
    // 200 cancels spread over the jobs' lives, from several threads.
    let told: Arc<Mutex<HashMap<String, Vec<bool>>>> = Arc::default();
    let threads: Vec<_> = (0..CANCELS_PER_JOB)
        .map(|round| {
            let (ids, told, base) = (ids.clone(), Arc::clone(&told), server.base.clone());
            std::thread::spawn(move || {
                for (n, id) in ids.iter().enumerate() {
                    // Later jobs and later rounds cancel later: some before the start, some mid-render, some after.
                    std::thread::sleep(Duration::from_millis(((round * 7 + n * 13) % 40) as u64 * 25));
                    let answer = request("POST", &format!("{base}/api/render/{id}/cancel"), &[], Some(b""));
                    assert_eq!(answer.status, 200, "cancel of {id}: {}", String::from_utf8_lossy(&answer.body));
                    let success = answer.json()["success"].as_bool().unwrap();
                    told.lock().unwrap().entry(id.clone()).or_default().push(success);
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let told = told.lock().unwrap().clone();
    let mut outcomes = BTreeMap::new();
    for id in &ids {
        let end = wait_finished(&server, id);
        let successes = told[id].iter().filter(|s| **s).count();
        assert!(successes <= 1, "{id}: {successes} cancels were told they cancelled it");
        let status = end["status"].as_str().unwrap().to_owned();
        assert_eq!(status == "cancelled", successes == 1, "{id} ended {status} but cancels were told {:?}", told[id]);
        outcomes.insert(id.clone(), status);
    }
    // Every job's callbacks: unique event ids, exactly one terminal event, the same as its status.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut by_job: HashMap<String, BTreeMap<String, Value>> = HashMap::new();
        for received in receiver.all() {
            let event = received.json();
            let id = event["event_id"].as_str().unwrap().to_owned();
            let job = event["job_id"].as_str().unwrap().to_owned();
            let previous = by_job.entry(job).or_default().insert(id.clone(), event.clone());
            if let Some(previous) = previous {
                assert_eq!(previous, event, "event id {id} was used for two different events");
            }
        }
        let complete = ids.iter().all(|id| {
            let events = by_job.get(id).map(|events| events.values().collect::<Vec<_>>()).unwrap_or_default();
            let terminal: Vec<&&Value> = events.iter().filter(|e| ["completed", "failed", "cancelled"].contains(&e["status"].as_str().unwrap_or_default())).collect();
            if terminal.len() > 1 {
                panic!("{id} announced {} terminal states: {terminal:?}", terminal.len());
            }
            terminal.first().is_some_and(|event| event["status"] == outcomes[id].as_str())
        });
        if complete {
            break;
        }
        assert!(Instant::now() < deadline, "callbacks did not announce every outcome {outcomes:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
    eprintln!("service_tree: outcomes {outcomes:?}");
}

#[test]
fn json_logs_are_one_object_per_line_and_a_jobs_lines_carry_its_id() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), &["log.format=json", "segments.seconds=2"]);
    let clip = server.input_clip("clip.mp4", 2.0, 160, 90);
    assert_eq!(server.submit(&json!({ "jobId": "logged", "videoUrl": clip, "scenario": scenario("busy_captions.json") })).status, 202);
    assert_eq!(wait_finished(&server, "logged")["status"], "completed");
    server.terminate(Duration::from_secs(20));
    let log = server.log();
    let lines: Vec<&str> = log.lines().filter(|line| !line.trim().is_empty()).collect();
    assert!(lines.len() >= 3, "too few log lines: {log}");
    let mut of_job = 0;
    for line in &lines {
        let event: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON object ({e}): {line}"));
        assert!(event["level"].is_string() && event["timestamp"].is_string(), "{line}");
        let id = event["fields"]["job_id"].as_str().or_else(|| event["span"]["job_id"].as_str());
        if id == Some("logged") {
            of_job += 1;
        }
        if line.contains("\"logged\"") {
            assert_eq!(id, Some("logged"), "a line about the job lacks its job_id: {line}");
        }
    }
    assert!(of_job >= 2, "the job's lines do not carry its job_id:\n{log}");
}
