//! Server-sent events: a job's events, or every job's (the dashboard).

use std::time::Duration;

use actix_web::{web, HttpRequest, HttpResponse};
use bytes::Bytes;
use motionrender_actors::{Engine, JobEvent};
use tokio::sync::broadcast::error::RecvError;

use super::error_response;
use crate::auth;

/// A comment line sent when nothing happened for this long, so proxies keep the stream open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

pub async fn job_events(engine: web::Data<Engine>, request: HttpRequest, job_id: web::Path<String>) -> HttpResponse {
    if let Err(error) = auth::authorize(&engine, &request) {
        return error_response(&engine, &error);
    }
    let job = match engine.job(&job_id) {
        Ok(job) => job,
        Err(error) => return error_response(&engine, &error),
    };
    // The current state first, then what happens next.
    let first = super::jobs::status_view(&job);
    stream(&engine, Some(job_id.into_inner()), Some(first))
}

pub async fn all_events(engine: web::Data<Engine>, request: HttpRequest) -> HttpResponse {
    if let Err(error) = auth::authorize(&engine, &request) {
        return error_response(&engine, &error);
    }
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

fn frame(payload: &serde_json::Value) -> Bytes {
    Bytes::from(format!("data: {payload}\n\n"))
}
