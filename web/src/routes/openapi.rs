//! `/openapi.json`: the paths of the registered routes, each with its
//! request and answers, and the schemas of every body, generated from the
//! Rust types the routes serialize (utoipa).

use motionrender_actors::job::{RenderJobRequest, RenderOptions};
use motionrender_actors::{ApiError, JobEventPayload};
use motionrender_engine::render::RenderReport;
use serde_json::{json, Map, Value};
use utoipa::OpenApi as _;

use super::bodies::{Accepted, CancelAnswer, Health, JobStatusView, Liveness, QueueStatus, Readiness};
use super::RouteDoc;

/// Every body schema; the types they contain come along.
#[derive(utoipa::OpenApi)]
#[openapi(components(schemas(
    RenderJobRequest,
    RenderOptions,
    ApiError,
    Accepted,
    JobStatusView,
    CancelAnswer,
    QueueStatus,
    Health,
    Liveness,
    Readiness,
    JobEventPayload,
    RenderReport
)))]
struct Schemas;

/// One documented answer of a route.
#[derive(Debug)]
pub(super) struct Answer {
    /// `200`, `202`, … or `default` (every other status: an error body).
    pub status: &'static str,
    pub description: &'static str,
    pub media: &'static str,
    /// What the body is, by [`Body`].
    pub body: Body,
}

/// The body of an answer.
#[derive(Debug, Clone, Copy)]
pub(super) enum Body {
    /// A schema of the components, by name.
    Schema(&'static str),
    /// A list of them.
    ListOf(&'static str),
    /// Server-sent events whose `data:` is this schema (or the first of the two).
    Events(&'static [&'static str]),
    /// Bytes (a video).
    Binary,
    /// Text (HTML, Prometheus).
    Text,
    /// Any JSON (this document).
    AnyJson,
}

impl Body {
    fn schema(self) -> Value {
        let reference = |name: &str| json!({ "$ref": format!("#/components/schemas/{name}") });
        match self {
            Self::Schema(name) => reference(name),
            Self::ListOf(name) => json!({ "type": "array", "items": reference(name) }),
            Self::Events(names) => json!({ "oneOf": names.iter().map(|name| reference(name)).collect::<Vec<_>>() }),
            Self::Binary => json!({ "type": "string", "format": "binary" }),
            Self::Text => json!({ "type": "string" }),
            Self::AnyJson => json!({ "type": "object" }),
        }
    }
}

/// Every error answer: the API's error body.
pub(super) const ERROR: Answer = Answer { status: "default", description: "An error", media: "application/json", body: Body::Schema("ApiError") };

/// The OpenAPI 3.1 document of `docs`.
pub(super) fn document(docs: &[RouteDoc]) -> Value {
    let mut paths = Map::new();
    for doc in docs {
        let entry = paths.entry(doc.path.to_owned()).or_insert_with(|| json!({}));
        let mut responses = Map::new();
        for answer in doc.answers.iter().chain(std::iter::once(&ERROR)) {
            responses.insert(
                answer.status.to_owned(),
                json!({ "description": answer.description, "content": { answer.media: { "schema": answer.body.schema() } } }),
            );
        }
        let mut operation = json!({ "summary": doc.summary, "responses": responses });
        if let Some(request) = doc.request {
            operation["requestBody"] = json!({ "required": true, "content": { "application/json": { "schema": Body::Schema(request).schema() } } });
        }
        if doc.path.contains("{job_id}") {
            operation["parameters"] = json!([{ "name": "job_id", "in": "path", "required": true, "schema": { "type": "string" } }]);
        }
        if doc.protected {
            operation["security"] = json!([{ "bearer": [] }]);
        }
        entry[doc.method.as_str().to_lowercase()] = operation;
    }
    let schemas = Schemas::openapi().components.map(|components| serde_json::to_value(components.schemas).unwrap_or_default()).unwrap_or_default();
    json!({
        "openapi": "3.1.0",
        "info": { "title": "motionrender", "version": env!("CARGO_PKG_VERSION") },
        "paths": paths,
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "schemas": schemas,
        },
    })
}
