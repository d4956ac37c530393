//! Server-sent events: a job's events, or every job's (the dashboard). Each
//! event carries an `event_id`, as its SSE `id:` field and in its JSON.

use std::time::Duration;

use actix_web::{web, HttpResponse};
use bytes::Bytes;
use motionrender_actors::{Engine, JobEvent};
use tokio::sync::broadcast::error::RecvError;

use super::error_response;

/// A comment line sent when nothing happened for this long, so proxies keep the stream open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

pub async fn job_events(engine: web::Data<Engine>, job_id: web::Path<String>) -> HttpResponse {
    let job = match engine.job(&job_id) {
        Ok(job) => job,
        Err(error) => return error_response(&engine, &error),
    };
    // The current state first, then what happens next.
    let first = serde_json::to_value(super::bodies::JobStatusView::of(&job)).ok();
    stream(&engine, Some(job_id.into_inner()), first)
}

pub async fn all_events(engine: web::Data<Engine>) -> HttpResponse {
    stream(&engine, None, None)
}

fn stream(engine: &Engine, only: Option<String>, first: Option<serde_json::Value>) -> HttpResponse {
    let receiver = engine.subscribe();
    let state = (receiver, only, first);
    let events = futures::stream::unfold(state, |(mut receiver, only, first)| async move {
        if let Some(first) = first {
            return Some((Ok::<_, actix_web::Error>(frame(&first)), (receiver, only, None)));
        }
        loop {
            match tokio::time::timeout(KEEP_ALIVE, receiver.recv()).await {
                Err(_) => return Some((Ok(Bytes::from_static(b": keep-alive\n\n")), (receiver, only, None))),
                Ok(Ok(JobEvent { job_id, payload })) => {
                    if only.as_deref().is_none_or(|id| id == job_id) {
                        return Some((Ok(frame(&payload)), (receiver, only, None)));
                    }
                }
                Ok(Err(RecvError::Lagged(_))) => continue,
                Ok(Err(RecvError::Closed)) => return None,
            }
        }
    });
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache"))
        .streaming(events)
}

/// One event: its `event_id` as the `id:` field and in the JSON.
fn frame(payload: &serde_json::Value) -> Bytes {
    let id = event_id_of(payload);
    let mut payload = payload.clone();
    if let Some(members) = payload.as_object_mut() {
        members.insert("event_id".to_owned(), serde_json::Value::String(id.clone()));
    }
    Bytes::from(format!("id: {id}\ndata: {payload}\n\n"))
}

/// The payload's own `event_id` (a callback event's id, `job:seq`) when it
/// has one; else `job:live-<hash>`, derived from the payload alone (its
/// timestamp included), so every watcher sees the same id for the same
/// event and different events get different ids.
fn event_id_of(payload: &serde_json::Value) -> String {
    use sha2::Digest as _;
    let id = match payload.get("event_id").and_then(serde_json::Value::as_str) {
        Some(id) => id.to_owned(),
        None => {
            let job = payload.get("job_id").and_then(serde_json::Value::as_str).unwrap_or("engine");
            let digest = sha2::Sha256::digest(payload.to_string().as_bytes());
            format!("{job}:live-{}", hex::encode(&digest[..8]))
        }
    };
    // An SSE field ends at a line break.
    id.chars().filter(|c| !matches!(c, '\n' | '\r' | '\0')).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;

    fn parsed(frame: &Bytes) -> (String, serde_json::Value) {
        let text = std::str::from_utf8(frame).unwrap();
        let id = text.lines().find_map(|line| line.strip_prefix("id: ")).unwrap().to_owned();
        let data = text.lines().find_map(|line| line.strip_prefix("data: ")).unwrap();
        (id, serde_json::from_str(data).unwrap())
    }

    #[test]
    fn an_event_carries_its_id_as_the_sse_id_and_in_the_json() {
        let (id, data) = parsed(&frame(&json!({ "job_id": "j", "status": "processing", "event_id": "j:4" })));
        assert_eq!(id, "j:4");
        assert_eq!(data["event_id"], "j:4");
    }

    #[test]
    fn a_payload_without_an_id_gets_a_stable_one_of_its_own() {
        let event = json!({ "job_id": "j", "status": "processing", "progress": 10, "timestamp": "2026-01-01T00:00:00.000Z" });
        let later = json!({ "job_id": "j", "status": "processing", "progress": 20, "timestamp": "2026-01-01T00:00:00.500Z" });
        let (id, data) = parsed(&frame(&event));
        assert!(id.starts_with("j:live-"), "{id}");
        assert_eq!(data["event_id"], id.as_str());
        assert_eq!(parsed(&frame(&event)).0, id, "the same event, the same id");
        assert_ne!(parsed(&frame(&later)).0, id);
    }
}
