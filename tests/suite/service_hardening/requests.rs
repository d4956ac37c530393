//! What a request may carry is bounded and the bound named; the same request
//! with its keys in another order is the same job; every error the server
//! answers is the API's JSON error body.

use std::time::Duration;

use motionrender_tests::motionrender_binary;
use serde_json::{json, Map, Value};

use super::super::service_support::{get, request, request_exact, scenario, Server};
use super::{assert_error_body, Origin};

fn valid(server: &Server) -> Value {
    let clip = server.input_clip("clip.mp4", 2.0, 320, 180);
    json!({ "videoUrl": clip, "scenario": scenario("caption_box.json") })
}

fn jobs_known(server: &Server) -> usize {
    get(&server.url("/api/jobs")).json().as_array().unwrap().len()
}

#[test]
fn oversized_fields_are_refused_naming_the_field_and_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["limits.max_cues=50", "limits.max_nodes=120"]);
    let base = valid(&server);
    let cue = |n: usize, children: usize| {
        json!({ "id": format!("c{n}"), "track": "sub", "domLifetime": [0.0, 1.0],
                "root": { "id": format!("r{n}"), "eType": "group", "children": (0..children).map(|k| json!({ "id": format!("t{n}-{k}"), "eType": "text", "text": "x" })).collect::<Vec<_>>() } })
    };
    let with_cues = |cues: Vec<Value>| {
        let mut body = base.clone();
        body["scenario"]["cues"] = Value::Array(cues);
        body
    };
    let mut long_callback = base.clone();
    long_callback["callbackUrl"] = json!(format!("http://127.0.0.1:9/{}", "c".repeat(8 * 1024 * 1024)));
    let mut long_id = base.clone();
    long_id["jobId"] = json!("j".repeat(129));
    let mut long_preset = base.clone();
    long_preset["options"] = json!({ "preset": "p".repeat(5000) });
    let cases = [
        ("an 8 MB callbackUrl", long_callback, "callbackUrl", "limits.max_url_bytes", "VALIDATION_ERROR"),
        ("a 7.5 MB scenario of 100k cues", with_cues((0..100_000).map(|n| json!({ "id": format!("cue{n:06}"), "track": "sub", "root": { "eType": "text" } })).collect()), "scenario", "limits.max_scenario_bytes", "VALIDATION_ERROR"),
        ("51 cues", with_cues((0..51).map(|n| cue(n, 0)).collect()), "scenario.cues", "limits.max_cues", "VALIDATION_ERROR"),
        ("130 nodes in 10 cues", with_cues((0..10).map(|n| cue(n, 12)).collect()), "scenario.cues", "limits.max_nodes", "VALIDATION_ERROR"),
        ("a 129-byte jobId", long_id, "jobId", "limits.max_job_id_bytes", "VALIDATION_ERROR"),
        ("a 5000-byte preset", long_preset, "options.preset", "limits.max_option_bytes", "INVALID_RENDER_OPTIONS"),
    ];
    for (name, body, field, key, code) in cases {
        let answer = server.submit(&body);
        assert_eq!(answer.status, 422, "{name}: {}", String::from_utf8_lossy(&answer.body[..answer.body.len().min(500)]));
        let error = answer.json();
        assert_error_body(&error, code);
        assert_eq!(error["details"]["field"], field, "{name}: {error}");
        assert_eq!(error["details"]["limit_key"], key, "{name}: {error}");
        assert!(error["details"]["actual"].as_u64() > error["details"]["limit"].as_u64(), "{name}: {error}");
        let message = error["error_message"].as_str().unwrap();
        assert!(message.contains(field) && message.contains(key) && message.len() < 1000, "{name}: {message}");
    }
    assert_eq!(jobs_known(&server), 0, "a refused request was queued");
    // Within the limits, the same scenario shape is accepted.
    assert_eq!(server.submit(&with_cues((0..10).map(|n| cue(n, 2)).collect())).status, 202);

    // The limits are configuration keys with documented defaults.
    let output = std::process::Command::new(motionrender_binary()).args(["config", "--print"]).output().unwrap();
    let printed: toml::Table = String::from_utf8_lossy(&output.stdout).parse().unwrap();
    for (key, default) in [("max_scenario_bytes", 2_097_152), ("max_cues", 10_000), ("max_nodes", 50_000), ("max_url_bytes", 4096), ("max_job_id_bytes", 128)] {
        assert_eq!(printed["limits"][key].as_integer(), Some(default), "limits.{key}");
    }
    assert!(printed["url_policy"]["max_video_bytes"].is_integer() && printed["server"]["allowed_hosts"].is_array());
}

/// `value` with the keys of every object in reverse order.
fn reversed_keys(value: &Value) -> Value {
    match value {
        Value::Object(members) => Value::Object(members.iter().rev().map(|(k, v)| (k.clone(), reversed_keys(v))).collect::<Map<_, _>>()),
        Value::Array(items) => Value::Array(items.iter().map(reversed_keys).collect()),
        other => other.clone(),
    }
}

#[test]
fn the_same_request_with_its_keys_in_another_order_is_the_same_job() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let mut body = valid(&server);
    body["jobId"] = json!("same-job");
    body["options"] = json!({ "quality": 80, "preset": "veryfast" });
    let reordered = reversed_keys(&body);
    assert_ne!(body.to_string(), reordered.to_string(), "the test must change the key order");
    assert_eq!(server.submit(&body).status, 202);
    let again = server.submit(&reordered);
    assert_eq!(again.status, 200, "a reordered repeat is the same job: {}", String::from_utf8_lossy(&again.body));
    assert_eq!(again.json()["job_id"], "same-job");
    let mut different = reordered.clone();
    different["options"]["quality"] = json!(81);
    assert_eq!(server.submit(&different).status, 409, "a different body under the id is still a conflict");
}

#[test]
fn every_error_is_the_json_error_body_with_the_right_status() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start();
    let server = Server::start(dir.path(), &["url_policy.allow_private_video=true"]);
    let base = valid(&server);

    let unknown = get(&server.url("/no/such/route"));
    assert_eq!(unknown.status, 404);
    assert_error_body(&unknown.json(), "ROUTE_NOT_FOUND");
    let bad_path = get(&server.url("/api/render/%FF%FE/status"));
    assert_eq!(bad_path.status, 404, "{}", String::from_utf8_lossy(&bad_path.body));
    assert!(bad_path.json()["error_code"].is_string());

    for (method, path, allow) in [("GET", "/render", "POST"), ("DELETE", "/render", "POST"), ("POST", "/health", "GET"), ("PUT", "/api/render/x/status", "GET")] {
        let answer = request_exact(method, &server.url(path), &[("Host", &server.base[7..])], Some(b""));
        assert_eq!(answer.status, 405, "{method} {path}: {}", String::from_utf8_lossy(&answer.body));
        assert_eq!(answer.header("allow"), Some(allow), "{method} {path}");
        assert_error_body(&answer.json(), "METHOD_NOT_ALLOWED");
    }

    let mut missing = base.clone();
    missing.as_object_mut().unwrap().remove("videoUrl");
    let mut unknown_field = base.clone();
    unknown_field["priority"] = json!(1);
    for (body, field) in [(missing, "videoUrl"), (unknown_field, "priority")] {
        let error = server.submit(&body).json();
        assert_error_body(&error, "VALIDATION_ERROR");
        assert_eq!(error["details"]["field"], field, "{error}");
    }

    // A job that exists but has not completed has nothing to download yet.
    let mut waiting = base.clone();
    waiting["jobId"] = json!("still-downloading");
    waiting["videoUrl"] = json!(origin.url("stall.mp4"));
    assert_eq!(server.submit(&waiting).status, 202);
    server.wait_for("still-downloading", Duration::from_secs(30), |s| s["status"] == "processing");
    for what in ["download", "qc"] {
        let answer = get(&server.url(&format!("/api/render/still-downloading/{what}")));
        assert_eq!(answer.status, 409, "{what}: {}", String::from_utf8_lossy(&answer.body));
        let error = answer.json();
        assert_error_body(&error, "JOB_NOT_COMPLETED");
        assert_eq!((error["job_id"].as_str(), error["details"]["status"].as_str()), (Some("still-downloading"), Some("processing")), "{error}");
        assert!(!error["suggestions"].as_array().unwrap().is_empty(), "{error}");
    }
    let head = request_exact("HEAD", &server.url("/api/render/still-downloading/download"), &[("Host", &server.base[7..])], None);
    assert_eq!((head.status, head.body.len(), head.header("content-type")), (409, 0, Some("application/json")), "HEAD of an unfinished job's download");
    let never = get(&server.url("/api/render/never-submitted/download"));
    assert_eq!(never.status, 404);
    assert_error_body(&never.json(), "JOB_NOT_FOUND");
    let cancel = request("POST", &server.url("/api/render/still-downloading/cancel"), &[], Some(b""));
    assert_eq!(cancel.json()["success"], true);
}

/// Sends `raw` as it is over a new connection and reads the answer's status
/// and JSON body (up to its closing brace); panics when none comes.
fn send_raw(host: &str, raw: &[u8]) -> (u16, Value) {
    use std::io::{Read, Write};

    let mut stream = std::net::TcpStream::connect(host).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    stream.write_all(raw).unwrap();
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    while !answer.ends_with(b"}") {
        let n = stream.read(&mut buffer).unwrap_or_else(|e| panic!("no answer ({e}) to {}", String::from_utf8_lossy(&raw[..raw.len().min(200)])));
        assert!(n > 0, "closed without an answer: {}", String::from_utf8_lossy(&answer));
        answer.extend_from_slice(&buffer[..n]);
    }
    let text = String::from_utf8_lossy(&answer).into_owned();
    // An interim `100 Continue` (actix answers `Expect` so) comes before the answer.
    let text = text.strip_prefix("HTTP/1.1 100 Continue\r\n\r\n").unwrap_or(&text).to_owned();
    let status = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text.find("\r\n\r\n").map(|at| &text[at + 4..]).unwrap_or_default();
    (status, serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {text}")))
}

#[test]
fn body_errors_are_json_error_bodies_and_a_declared_oversized_body_is_refused_before_it_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["server.max_body_bytes=100000"]);
    let host = server.base[7..].to_owned();
    let head = format!("POST /render HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n");

    // Declared 50 MB, and not a byte of it sent: the refusal comes at once.
    let (status, error) = send_raw(&host, format!("{head}Content-Length: 50000000\r\n\r\n").as_bytes());
    assert_eq!(status, 413, "{error}");
    assert_error_body(&error, "VALIDATION_ERROR");
    assert_eq!((error["details"]["limit_key"].as_str(), error["details"]["actual"].as_u64()), (Some("server.max_body_bytes"), Some(50_000_000)), "{error}");
    // The same with `Expect: 100-continue`: the 413 comes without the body being sent.
    let (status, _) = send_raw(&host, format!("{head}Content-Length: 50000000\r\nExpect: 100-continue\r\n\r\n").as_bytes());
    assert_eq!(status, 413);

    // A chunked body that breaks off, and a body that is not UTF-8: the JSON error body, naming the body.
    let (status, cut) = send_raw(&host, format!("{head}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n{{}}\r\n0\r\n\r\n").as_bytes());
    assert_eq!(status, 400, "{cut}");
    assert_error_body(&cut, "VALIDATION_ERROR");
    assert_eq!(cut["details"]["field"], "body", "{cut}");
    assert!(!cut["suggestions"].as_array().unwrap().is_empty(), "{cut}");
    let binary = request_exact("POST", &server.url("/render"), &[("Host", &host), ("Content-Type", "application/json")], Some(&[0xff, 0xfe, 0x7b, 0x7d]));
    assert_eq!(binary.status, 400);
    assert_error_body(&binary.json(), "VALIDATION_ERROR");
    // HEAD on a route that only takes POST is refused like any other method.
    let head = request_exact("HEAD", &server.url("/render"), &[("Host", &host)], None);
    assert_eq!((head.status, head.header("allow")), (405, Some("POST")));
    assert_eq!(jobs_known(&server), 0);
}
