//! Every route of the API. Each is registered through [`Api::route`], which
//! also records it for `/openapi.json`, so the document lists exactly the
//! routes that exist.

mod dashboard;
mod events;
mod jobs;
mod service;

use actix_web::http::Method;
use actix_web::{web, Handler, HttpResponse, FromRequest, Responder};
use motionrender_actors::{ApiError, Engine};
use serde_json::json;

/// One documented route.
struct RouteDoc {
    method: Method,
    path: &'static str,
    summary: &'static str,
    /// Whether the bearer token is checked (when one is configured).
    protected: bool,
}

struct Api<'a> {
    config: &'a mut web::ServiceConfig,
    docs: Vec<RouteDoc>,
}

impl Api<'_> {
    fn route<F, Args>(&mut self, method: Method, path: &'static str, summary: &'static str, protected: bool, handler: F)
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.config.route(path, web::method(method.clone()).to(handler));
        self.docs.push(RouteDoc { method, path, summary, protected });
    }
}

/// The OpenAPI document, built from the registered routes.
struct OpenApi(serde_json::Value);

pub fn register(config: &mut web::ServiceConfig, engine: Engine) {
    config.app_data(web::Data::new(engine));
    let mut api = Api { config, docs: Vec::new() };
    api.route(Method::POST, "/render", "Submit a render job (camelCase body; 202 with Location)", true, jobs::submit);
    api.route(Method::GET, "/api/render/{job_id}/status", "A job's status, progress and metrics", true, jobs::status);
    api.route(Method::POST, "/api/render/{job_id}/cancel", "Cancel a queued or running job", true, jobs::cancel);
    api.route(Method::GET, "/api/render/{job_id}/events", "Server-sent events of a job (callback payloads)", true, events::job_events);
    api.route(Method::GET, "/api/render/{job_id}/download", "The finished MP4 (local storage)", true, jobs::download);
    api.route(Method::GET, "/api/render/{job_id}/qc", "The QC report of a finished job", true, jobs::qc_report);
    api.route(Method::GET, "/api/jobs", "Every job, oldest first (the dashboard's list)", true, jobs::list);
    api.route(Method::GET, "/api/events", "Server-sent events of every job (the dashboard's feed)", true, events::all_events);
    api.route(Method::GET, "/health", "Health: queue, browsers, encoders (NVENC availability and reason)", true, service::health);
    api.route(Method::GET, "/livez", "The process is up (no dependency checks)", false, service::livez);
    api.route(Method::GET, "/readyz", "Ready to take jobs (503 while starting or draining)", false, service::readyz);
    api.route(Method::GET, "/queue/status", "Jobs waiting and running", true, service::queue_status);
    api.route(Method::GET, "/metrics", "Prometheus metrics", true, service::metrics);
    api.route(Method::GET, "/", "The dashboard", false, dashboard::page);
    api.route(Method::GET, "/openapi.json", "This document", false, openapi);
    let document = openapi_document(&api.docs);
    api.config.app_data(web::Data::new(OpenApi(document)));
}

fn openapi_document(docs: &[RouteDoc]) -> serde_json::Value {
    let mut paths = serde_json::Map::new();
    for doc in docs {
        let entry = paths.entry(doc.path.to_owned()).or_insert_with(|| json!({}));
        let mut operation = json!({
            "summary": doc.summary,
            "responses": { "200": { "description": "OK" }, "default": { "description": "Error", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } } },
        });
        if doc.path.contains("{job_id}") {
            operation["parameters"] = json!([{ "name": "job_id", "in": "path", "required": true, "schema": { "type": "string" } }]);
        }
        if doc.protected {
            operation["security"] = json!([{ "bearer": [] }]);
        }
        entry[doc.method.as_str().to_lowercase()] = operation;
    }
    json!({
        "openapi": "3.0.3",
        "info": { "title": "motionrender", "version": env!("CARGO_PKG_VERSION") },
        "paths": paths,
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "schemas": { "Error": { "type": "object", "required": ["error_code", "error_message"], "properties": {
                "error_code": { "type": "string" }, "error_message": { "type": "string" }, "details": { "type": "object" },
                "suggestions": { "type": "array", "items": { "type": "string" } }, "job_id": { "type": "string", "nullable": true } } } },
        },
    })
}

async fn openapi(document: web::Data<OpenApi>) -> HttpResponse {
    HttpResponse::Ok().json(&document.0)
}

/// The JSON error answer, with `Retry-After` on 429.
pub(crate) fn error_response(engine: &Engine, error: &ApiError) -> HttpResponse {
    let status = actix_web::http::StatusCode::from_u16(error.http_status).unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = HttpResponse::build(status);
    if error.http_status == 429 {
        response.insert_header(("Retry-After", engine.retry_after_seconds().to_string()));
    }
    response.json(error)
}
