//! One job's output is never another's: a storage key held by a job — its
//! `options.outputKey`, or its default `<jobId>.mp4` — is refused to every
//! other job with `409 OUTPUT_KEY_TAKEN`, also when the submits race.

use std::sync::{Arc, Barrier};
use std::time::Duration;

use serde_json::{json, Value};

use super::super::service_support::{get, scenario, Server};
use super::assert_error_body;

fn job(server: &Server, id: &str, key: Option<&str>) -> Value {
    let clip = server.input_clip("clip.mp4", 1.0, 160, 90);
    let mut body = json!({ "jobId": id, "videoUrl": clip, "scenario": scenario("caption_box.json") });
    if let Some(key) = key {
        body["options"] = json!({ "outputKey": key });
    }
    body
}

fn assert_taken(server: &Server, body: &Value, owner: &str) -> Value {
    let answer = server.submit(body);
    assert_eq!(answer.status, 409, "{body}: {}", String::from_utf8_lossy(&answer.body));
    let error = answer.json();
    assert_error_body(&error, "OUTPUT_KEY_TAKEN");
    assert_eq!(error["details"]["field"], "options.outputKey", "{error}");
    assert_eq!(error["details"]["owner_job_id"], owner, "{error}");
    assert_eq!(error["job_id"], body["jobId"], "{error}");
    assert!(!error["suggestions"].as_array().unwrap().is_empty(), "{error}");
    error
}

#[test]
fn an_output_key_belongs_to_one_job_even_when_submits_race() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);

    let first = job(&server, "first", Some("renders/shared.mp4"));
    assert_eq!(server.submit(&first).status, 202);
    assert_taken(&server, &job(&server, "second", Some("renders/shared.mp4")), "first");
    // The key is compared normalized, and the QC report beside it is the job's too.
    assert_taken(&server, &job(&server, "second", Some("renders//./shared.mp4")), "first");
    assert_taken(&server, &job(&server, "second", Some("renders/shared.mp4.qc.json")), "first");
    assert_eq!(server.submit(&first).status, 200, "the same request again is the same job");

    // A job's default key is its own: no other job may name it…
    assert_eq!(server.submit(&job(&server, "plain", None)).status, 202);
    assert_taken(&server, &job(&server, "copycat", Some("plain.mp4")), "plain");
    // …and a key named first is not given to a later job as its default.
    assert_eq!(server.submit(&job(&server, "named", Some("later.mp4"))).status, 202);
    let defaulted = assert_taken(&server, &job(&server, "later", None), "named");
    assert!(defaulted["error_message"].as_str().unwrap().contains("default"), "{defaulted}");

    // Submits that race for one new key: exactly one gets it.
    const RACERS: usize = 8;
    let start = Arc::new(Barrier::new(RACERS));
    let racers: Vec<_> = (0..RACERS)
        .map(|n| {
            let (url, body, start) = (server.url("/render"), job(&server, &format!("racer-{n}"), Some("race.mp4")), Arc::clone(&start));
            std::thread::spawn(move || {
                start.wait();
                super::super::service_support::request("POST", &url, &[], Some(body.to_string().as_bytes())).status
            })
        })
        .collect();
    let mut statuses: Vec<u16> = racers.into_iter().map(|racer| racer.join().unwrap()).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [vec![202], vec![409; RACERS - 1]].concat(), "racing submits for one key");

    // Only the jobs that got their keys exist, and each output is its own job's.
    let jobs = get(&server.url("/api/jobs")).json();
    let mut ids: Vec<&str> = jobs.as_array().unwrap().iter().map(|job| job["job_id"].as_str().unwrap()).collect();
    ids.sort_unstable();
    assert_eq!(ids.len(), 4, "{ids:?}");
    assert_eq!(&ids[..3], ["first", "named", "plain"]);
    assert!(ids[3].starts_with("racer-"), "{ids:?}");
    assert_eq!(get(&server.url("/api/render/second/status")).status, 404);
    for id in ["first", "plain"] {
        server.wait_for(id, Duration::from_secs(120), |s| s["status"] == "completed");
    }
    let downloaded = get(&server.url("/api/render/first/download"));
    assert_eq!(downloaded.status, 200);
    assert_eq!(downloaded.body, std::fs::read(dir.path().join("output/renders/shared.mp4")).unwrap());
    assert!(dir.path().join("output/plain.mp4").is_file());
}
