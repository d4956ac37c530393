//! Protocol details: server-sent events carry their `event_id`, the bearer
//! scheme is matched in any case, and a web page in the operator's browser
//! cannot drive a server on loopback (Host, Origin and Content-Type checks).

use std::collections::HashSet;
use std::time::Duration;

use serde_json::json;

use super::super::service_support::{request_exact, scenario, Server};
use super::{assert_error_body, read_events};

const TOKEN: &str = "t0ken-for-tests";

#[test]
fn the_bearer_scheme_matches_in_any_case_and_every_event_carries_its_event_id() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[&format!("server.token={TOKEN}")]);
    let clip = server.input_clip("clip.mp4", 3.0, 320, 180);
    let body = json!({ "jobId": "sse-1", "videoUrl": clip, "scenario": scenario("caption_box.json") }).to_string();
    let host = server.base[7..].to_owned();
    let lower = format!("bearer {TOKEN}");
    let submitted = request_exact("POST", &server.url("/render"), &[("Host", &host), ("Content-Type", "application/json"), ("Authorization", &lower)], Some(body.as_bytes()));
    assert_eq!(submitted.status, 202, "{}", String::from_utf8_lossy(&submitted.body));
    let wrong = request_exact("GET", &server.url("/api/jobs"), &[("Host", &host), ("Authorization", "Basic dXNlcjpwYXNz")], None);
    assert_eq!(wrong.status, 401);
    assert_error_body(&wrong.json(), "UNAUTHORIZED");

    let upper = format!("BEARER {TOKEN}");
    let events = read_events(&server.url("/api/render/sse-1/events"), &[("Authorization", &upper)], |event| event["status"] == "completed" || event["status"] == "failed");
    let statuses: Vec<&str> = events.iter().filter_map(|(_, data)| data["status"].as_str()).collect();
    assert_eq!(statuses.last(), Some(&"completed"), "{statuses:?}");
    assert!(events.len() >= 3, "too few events: {statuses:?}");
    let mut ids = HashSet::new();
    for (id, data) in &events {
        assert!(!id.is_empty(), "an event without an id: field: {data}");
        assert_eq!(data["event_id"], id.as_str(), "the JSON's event_id is not the SSE id");
        assert!(id.starts_with("sse-1:"), "{id}");
        assert!(ids.insert(id.clone()), "two events share the id {id}");
    }
}

#[test]
fn a_browser_page_cannot_drive_a_server_on_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let clip = server.input_clip("clip.mp4", 2.0, 320, 180);
    let body = json!({ "jobId": "from-a-page", "videoUrl": clip, "scenario": scenario("caption_box.json") }).to_string();
    let own = server.base[7..].to_owned();
    let port = own.rsplit(':').next().unwrap().to_owned();
    let rebound = format!("attacker.example:{port}");
    let post = |headers: &[(&str, &str)]| request_exact("POST", &server.url("/render"), headers, Some(body.as_bytes()));

    // A "simple" cross-site request a page may send without asking.
    let plain = post(&[("Host", &own), ("Content-Type", "text/plain;charset=UTF-8"), ("Origin", "https://attacker.example")]);
    assert_eq!(plain.status, 403, "{}", String::from_utf8_lossy(&plain.body));
    assert_error_body(&plain.json(), "FORBIDDEN_ORIGIN");
    let plain_no_origin = post(&[("Host", &own), ("Content-Type", "text/plain")]);
    assert_eq!(plain_no_origin.status, 415, "{}", String::from_utf8_lossy(&plain_no_origin.body));
    assert_error_body(&plain_no_origin.json(), "UNSUPPORTED_MEDIA_TYPE");
    let form = post(&[("Host", &own), ("Content-Type", "application/x-www-form-urlencoded")]);
    assert_eq!(form.status, 415);
    let foreign_json = post(&[("Host", &own), ("Content-Type", "application/json"), ("Origin", "http://attacker.example")]);
    assert_eq!(foreign_json.status, 403);
    assert_error_body(&foreign_json.json(), "FORBIDDEN_ORIGIN");
    // DNS rebinding: the attacker's name resolves to 127.0.0.1, the page is then same-origin.
    let rebinding = post(&[("Host", &rebound), ("Content-Type", "application/json"), ("Origin", &format!("http://{rebound}"))]);
    assert_eq!(rebinding.status, 403);
    assert_error_body(&rebinding.json(), "FORBIDDEN_HOST");
    let read = request_exact("GET", &server.url("/api/jobs"), &[("Host", &rebound)], None);
    assert_eq!(read.status, 403, "a rebound page must not read the jobs either");
    let cancel = request_exact("POST", &server.url("/api/render/any/cancel"), &[("Host", &own), ("Origin", "https://attacker.example")], Some(b""));
    assert_eq!(cancel.status, 403);

    let jobs = request_exact("GET", &server.url("/api/jobs"), &[("Host", &format!("localhost:{port}"))], None);
    assert_eq!(jobs.status, 200);
    assert_eq!(jobs.json().as_array().unwrap().len(), 0, "a refused request was queued");
    // The server's own pages, and clients that are not browsers, are served.
    let same_origin = post(&[("Host", &own), ("Content-Type", "application/json; charset=utf-8"), ("Origin", &format!("http://{own}"))]);
    assert_eq!(same_origin.status, 202, "{}", String::from_utf8_lossy(&same_origin.body));
    server.wait_for("from-a-page", Duration::from_secs(120), |s| s["status"] == "completed");
}
