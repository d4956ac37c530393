//! `/openapi.json` describes the answers the server really gives: every
//! response of a scripted session — submit (new, repeated, refused),
//! status, events, QC, cancel, errors and the service endpoints — is
//! validated against the schema the document gives for its route, status
//! and media type (`$ref`s resolved into its components).

use std::time::Duration;

use serde_json::{json, Value};

use super::service_hardening::read_events;
use super::service_support::{get, request, request_exact, scenario, Response, Server};

/// The server's OpenAPI document, and checks of answers against it.
struct Contract {
    document: Value,
}

impl Contract {
    fn fetch(server: &Server) -> Self {
        let answer = get(&server.url("/openapi.json"));
        assert_eq!(answer.status, 200);
        let document = answer.json();
        assert_eq!(document["openapi"], "3.1.0");
        Self { document }
    }

    /// Why `body` does not fit `schema` (resolved against the document's components).
    fn errors(&self, schema: &Value, body: &Value) -> Vec<String> {
        let root = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "components": self.document["components"],
            "allOf": [schema],
        });
        let validator = jsonschema::validator_for(&root).unwrap_or_else(|e| panic!("the schema does not compile: {e}\n{schema}"));
        validator.iter_errors(body).map(|error| format!("{error} (at {})", error.instance_path)).collect()
    }

    /// The schema of `method path`'s answer `status` as `media`: the
    /// status's own, else (for errors) the default one.
    fn answer_schema(&self, method: &str, path: &str, status: u16, media: &str) -> &Value {
        let operation = &self.document["paths"][path][method];
        assert!(operation.is_object(), "{method} {path} is not documented");
        let responses = &operation["responses"];
        let answer = match responses.get(status.to_string()) {
            Some(answer) => answer,
            None => {
                assert!(status >= 400, "{method} {path} answered {status}, which is not documented: {responses}");
                &responses["default"]
            }
        };
        let schema = &answer["content"][media]["schema"];
        assert!(schema.is_object(), "{method} {path} {status} has no {media} schema: {answer}");
        schema
    }

    /// Asserts that a JSON answer of `method path` fits its schema.
    fn check(&self, method: &str, path: &str, answer: &Response) -> Value {
        assert_eq!(answer.header("content-type").map(|t| t.starts_with("application/json")), Some(true), "{method} {path}: {:?}", answer.headers);
        let body = answer.json();
        let errors = self.errors(self.answer_schema(method, path, answer.status, "application/json"), &body);
        assert!(errors.is_empty(), "{method} {path} {} does not fit its schema: {errors:?}\n{body}", answer.status);
        body
    }

    /// Asserts that `body` fits the component schema `name`.
    fn check_component(&self, name: &str, body: &Value) {
        let errors = self.errors(&json!({ "$ref": format!("#/components/schemas/{name}") }), body);
        assert!(errors.is_empty(), "{body} is not a {name}: {errors:?}");
    }
}

#[test]
fn every_answer_of_a_scripted_session_fits_the_schemas_of_openapi_json() {
    let dir = tempfile::tempdir().unwrap();
    // One running slot and a longer job ahead of `api-1`, so `api-1` waits
    // in the queue while its event stream is opened: the stream then holds
    // the opening snapshot and the events that follow it.
    let server = Server::start(dir.path(), &["segments.seconds=2", "server.max_running_jobs=1"]);
    let contract = Contract::fetch(&server);
    let clip = server.input_clip("clip.mp4", 2.0, 320, 180);
    let long_clip = server.input_clip("long.mp4", 12.0, 320, 180);
    let ahead = server.submit(&json!({ "jobId": "api-0", "videoUrl": long_clip, "scenario": scenario("caption_box.json") }));
    assert_eq!(ahead.status, 202);

    // The checks can fail: a body of the wrong shape is refused.
    assert!(!contract.errors(contract.answer_schema("get", "/api/render/{job_id}/status", 200, "application/json"), &json!({ "job_id": 7 })).is_empty());

    // Submit: the request fits its schema, a new job is 202, the same again 200, refusals are errors.
    let body = json!({ "jobId": "api-1", "videoUrl": clip, "scenario": scenario("caption_box.json"), "options": { "quality": 80, "dropPolicy": "block" } });
    contract.check_component("RenderJobRequest", &body);
    let accepted = server.submit(&body);
    assert_eq!(accepted.status, 202);
    contract.check("post", "/render", &accepted);
    let events_url = server.url("/api/render/api-1/events");
    let watcher = std::thread::spawn(move || {
        read_events(&events_url, &[], Duration::from_secs(180), |e| e["status"] == "completed" || e["status"] == "failed")
    });
    let again = server.submit(&body);
    assert_eq!(again.status, 200);
    contract.check("post", "/render", &again);
    let mut other = body.clone();
    other["options"]["quality"] = json!(70);
    let conflict = server.submit(&other);
    assert_eq!(conflict.status, 409);
    assert_eq!(contract.check("post", "/render", &conflict)["error_code"], "JOB_ALREADY_EXISTS");
    let invalid = server.submit(&json!({ "videoUrl": clip, "scenario": scenario("caption_box.json"), "options": { "quality": 500 } }));
    assert_eq!(invalid.status, 422);
    contract.check("post", "/render", &invalid);
    let url = server.url("/render");
    let host = url.trim_start_matches("http://").split('/').next().unwrap().to_owned();
    let form = request_exact("POST", &url, &[("Host", &host), ("Content-Type", "text/plain")], Some(b"{}"));
    assert_eq!(form.status, 415);
    contract.check("post", "/render", &form);

    // Status, QC and events while it renders, then when it is done.
    contract.check("get", "/api/render/{job_id}/status", &get(&server.url("/api/render/api-1/status")));
    contract.check("get", "/api/render/{job_id}/qc", &get(&server.url("/api/render/api-1/qc")));
    let events = watcher.join().unwrap();
    assert_ne!(events[0].1["status"], "completed", "the stream opened after the job had finished: {events:?}");
    assert!(events.len() >= 2, "{events:?}");
    let stream = contract.answer_schema("get", "/api/render/{job_id}/events", 200, "text/event-stream");
    for (id, data) in &events {
        let errors = contract.errors(stream, data);
        assert!(errors.is_empty(), "event {id} does not fit its schema: {errors:?}\n{data}");
    }
    assert_eq!(events.last().unwrap().1["status"], "completed", "{events:?}");
    let done = contract.check("get", "/api/render/{job_id}/status", &get(&server.url("/api/render/api-1/status")));
    assert_eq!(done["status"], "completed");
    let qc = get(&server.url("/api/render/api-1/qc"));
    assert_eq!(qc.status, 200);
    contract.check("get", "/api/render/{job_id}/qc", &qc);
    contract.check("get", "/api/jobs", &get(&server.url("/api/jobs")));
    let cancel = request("POST", &server.url("/api/render/api-1/cancel"), &[], Some(b""));
    assert_eq!(contract.check("post", "/api/render/{job_id}/cancel", &cancel)["success"], false);

    // Errors of every kind are the error body.
    // (A method a path does not serve is checked against the error of the one it does.)
    for (method, path, documented, route, status) in [
        ("GET", "/api/render/nobody/status", "get", "/api/render/{job_id}/status", 404),
        ("GET", "/api/render/nobody/qc", "get", "/api/render/{job_id}/qc", 404),
        ("GET", "/api/render/nobody/events", "get", "/api/render/{job_id}/events", 404),
        ("POST", "/api/render/nobody/cancel", "post", "/api/render/{job_id}/cancel", 404),
        ("DELETE", "/render", "post", "/render", 405),
    ] {
        let answer = request(method, &server.url(path), &[], if method == "GET" { None } else { Some(b"") });
        assert_eq!(answer.status, status, "{method} {path}");
        contract.check(documented, route, &answer);
    }
    let unknown = get(&server.url("/no/such/route"));
    assert_eq!(unknown.status, 404);
    contract.check_component("ApiError", &unknown.json());

    // The service endpoints.
    for path in ["/health", "/livez", "/readyz", "/queue/status"] {
        contract.check("get", path, &get(&server.url(path)));
    }
}
