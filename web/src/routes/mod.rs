//! Every route of the API. Each is registered through [`Api::route`], which
//! also records it for `/openapi.json`, so the document lists exactly the
//! routes that exist. Routes of one path share a resource: a request passes
//! the Host/Origin check and, on a protected route, the token check before
//! its handler runs; a method the path does not serve is a `405` with
//! `Allow`, a path that does not exist a `404`. Every error is the API's
//! JSON error body, also those actix makes itself (`json_errors`).

mod bodies;
mod dashboard;
mod events;
mod jobs;
mod json_errors;
mod openapi;
mod ranged_file;
mod service;

use actix_web::body::BoxBody;
use actix_web::dev::ServiceRequest;
use actix_web::http::header::ALLOW;
use actix_web::http::Method;
use actix_web::middleware::{from_fn, Next};
use actix_web::{web, FromRequest, Handler, HttpRequest, HttpResponse, Responder, Route};
use motionrender_actors::{ApiError, Engine};
use serde_json::json;

use self::openapi::{Answer, Body};
use crate::auth;
use crate::origin::AllowedHosts;

/// One documented route.
struct RouteDoc {
    method: Method,
    path: &'static str,
    summary: &'static str,
    /// Whether the bearer token is checked (when one is configured).
    protected: bool,
    /// The request body's schema, when it takes one.
    request: Option<&'static str>,
    /// Its answers besides errors.
    answers: &'static [Answer],
}

/// What a route is: its summary, whether it needs the token, its request
/// body and its answers (for `/openapi.json`).
struct Doc {
    summary: &'static str,
    protected: bool,
    request: Option<&'static str>,
    answers: &'static [Answer],
}

const fn json_answer(status: &'static str, description: &'static str, body: Body) -> Answer {
    Answer { status, description, media: "application/json", body }
}

const SUBMIT: &[Answer] = &[
    json_answer("202", "Queued (Location: the job's status)", Body::Schema("Accepted")),
    json_answer("200", "The same job submitted again: its status", Body::Schema("JobStatusView")),
];
const STATUS: &[Answer] = &[json_answer("200", "The job's status", Body::Schema("JobStatusView"))];
const CANCEL: &[Answer] = &[json_answer("200", "Whether the job was cancelled", Body::Schema("CancelAnswer"))];
const JOB_EVENTS: &[Answer] = &[Answer {
    status: "200",
    description: "Server-sent events: the job's status first, then each event's payload (the callback's)",
    media: "text/event-stream",
    body: Body::Events(&["JobStatusView", "JobEventPayload"]),
}];
const ALL_EVENTS: &[Answer] =
    &[Answer { status: "200", description: "Server-sent events of every job", media: "text/event-stream", body: Body::Events(&["JobEventPayload"]) }];
const DOWNLOAD: &[Answer] = &[
    Answer { status: "200", description: "The MP4", media: "video/mp4", body: Body::Binary },
    Answer { status: "206", description: "A byte range of the MP4", media: "video/mp4", body: Body::Binary },
];
const QC: &[Answer] = &[json_answer("200", "The QC report", Body::Schema("QcReport"))];
const JOBS: &[Answer] = &[json_answer("200", "Every job, oldest first", Body::ListOf("JobStatusView"))];
const HEALTH: &[Answer] = &[json_answer("200", "Health", Body::Schema("Health"))];
const LIVEZ: &[Answer] = &[json_answer("200", "Up", Body::Schema("Liveness"))];
const READYZ: &[Answer] = &[json_answer("200", "Ready", Body::Schema("Readiness")), json_answer("503", "Not ready, or draining", Body::Schema("Readiness"))];
const QUEUE: &[Answer] = &[json_answer("200", "Jobs waiting and running", Body::Schema("QueueStatus"))];
const METRICS: &[Answer] = &[Answer { status: "200", description: "Prometheus text format 0.0.4", media: "text/plain", body: Body::Text }];
const DASHBOARD: &[Answer] = &[Answer { status: "200", description: "The dashboard page", media: "text/html", body: Body::Text }];
const OPENAPI: &[Answer] = &[json_answer("200", "This document (OpenAPI 3.1)", Body::AnyJson)];

struct Api<'a> {
    config: &'a mut web::ServiceConfig,
    docs: Vec<RouteDoc>,
    routes: Vec<(&'static str, Route)>,
}

impl Api<'_> {
    fn route<F, Args>(&mut self, method: Method, path: &'static str, doc: Doc, handler: F)
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.routes.push((path, web::method(method.clone()).to(handler)));
        let Doc { summary, protected, request, answers } = doc;
        self.docs.push(RouteDoc { method, path, summary, protected, request, answers });
    }

    /// Registers one resource per path with its routes, the checks that
    /// run before them, and the `405` for other methods.
    fn finish(&mut self) {
        let mut paths: Vec<&'static str> = self.docs.iter().map(|doc| doc.path).collect();
        paths.dedup();
        let mut routes = std::mem::take(&mut self.routes);
        for path in paths {
            let docs: Vec<&RouteDoc> = self.docs.iter().filter(|doc| doc.path == path).collect();
            let allow = docs.iter().map(|doc| doc.method.as_str()).collect::<Vec<_>>().join(", ");
            let protected: Vec<Method> = docs.iter().filter(|doc| doc.protected).map(|doc| doc.method.clone()).collect();
            let mut resource = web::resource(path);
            let (own, others): (Vec<_>, Vec<_>) = routes.into_iter().partition(|(route_path, _)| *route_path == path);
            routes = others;
            for (_, route) in own {
                resource = resource.route(route);
            }
            let resource = resource
                .default_service(web::to(move |request: HttpRequest| method_not_allowed(request, allow.clone())))
                .wrap(from_fn(move |request: ServiceRequest, next: Next<BoxBody>| admit(request, next, protected.clone())));
            self.config.service(resource);
        }
    }
}

/// The checks before a handler: the request must name an allowed host and
/// come from no foreign page; a protected route needs the token.
async fn admit(request: ServiceRequest, next: Next<BoxBody>, protected: Vec<Method>) -> Result<actix_web::dev::ServiceResponse<BoxBody>, actix_web::Error> {
    let refusal = {
        let hosts = request.app_data::<web::Data<AllowedHosts>>();
        let engine = request.app_data::<web::Data<Engine>>();
        let (headers, uri) = (request.headers(), request.uri());
        let host_check = hosts.map_or(Ok(()), |hosts| hosts.check(headers, uri));
        host_check.and_then(|()| match engine {
            Some(engine) if protected.contains(request.method()) => auth::authorize(engine, headers),
            _ => Ok(()),
        })
    };
    match refusal {
        Ok(()) => {
            let http_request = request.request().clone();
            Ok(json_errors::json_errors(http_request, next.call(request).await).await)
        }
        Err(error) => Ok(request.into_response(error_body(&error))),
    }
}

/// A method the path does not serve.
async fn method_not_allowed(request: HttpRequest, allow: String) -> HttpResponse {
    let mut error = ApiError::new(405, "METHOD_NOT_ALLOWED", format!("{} {} is not served; this path takes {allow}", request.method(), request.path()));
    error.details = json!({ "method": request.method().as_str(), "allowed": allow.split(", ").collect::<Vec<_>>() });
    let error = error.suggest(&format!("use {allow}"));
    let mut response = error_body(&error);
    if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&allow) {
        response.headers_mut().insert(ALLOW, value);
    }
    response
}

/// A path that does not exist.
async fn not_found(request: HttpRequest) -> HttpResponse {
    let mut error = ApiError::new(404, "ROUTE_NOT_FOUND", format!("no route {}", request.path()));
    error.details = json!({ "method": request.method().as_str(), "path": request.path() });
    error_body(&error.suggest("GET /openapi.json lists every route"))
}

/// The OpenAPI document, built from the registered routes.
struct OpenApi(serde_json::Value);

/// A protected route's doc.
const fn protected(summary: &'static str, answers: &'static [Answer]) -> Doc {
    Doc { summary, protected: true, request: None, answers }
}

/// An open route's doc (no token asked).
const fn open(summary: &'static str, answers: &'static [Answer]) -> Doc {
    Doc { summary, protected: false, request: None, answers }
}

pub fn register(config: &mut web::ServiceConfig, engine: Engine) {
    config.app_data(web::Data::new(AllowedHosts::from_config(&engine.config().server)));
    config.app_data(web::Data::new(engine));
    json_errors::register(config);
    config.default_service(web::to(not_found));
    let mut api = Api { config, docs: Vec::new(), routes: Vec::new() };
    let submit = Doc { request: Some("RenderJobRequest"), ..protected("Submit a render job (camelCase body; 202 with Location)", SUBMIT) };
    api.route(Method::POST, "/render", submit, jobs::submit);
    api.route(Method::GET, "/api/render/{job_id}/status", protected("A job's status, progress and metrics", STATUS), jobs::status);
    api.route(Method::POST, "/api/render/{job_id}/cancel", protected("Cancel a queued or running job", CANCEL), jobs::cancel);
    api.route(Method::GET, "/api/render/{job_id}/events", protected("Server-sent events of a job (callback payloads)", JOB_EVENTS), events::job_events);
    api.route(Method::GET, "/api/render/{job_id}/download", protected("The finished MP4 (local storage)", DOWNLOAD), jobs::download);
    api.route(Method::HEAD, "/api/render/{job_id}/download", protected("The finished MP4's headers (size, ETag), without the file", DOWNLOAD), jobs::download);
    api.route(Method::GET, "/api/render/{job_id}/qc", protected("The QC report of a finished job", QC), jobs::qc_report);
    api.route(Method::HEAD, "/api/render/{job_id}/qc", protected("The QC report's headers, without the report", QC), jobs::qc_report);
    api.route(Method::GET, "/api/jobs", protected("Every job, oldest first (the dashboard's list)", JOBS), jobs::list);
    api.route(Method::GET, "/api/events", protected("Server-sent events of every job (the dashboard's feed)", ALL_EVENTS), events::all_events);
    api.route(Method::GET, "/health", protected("Health: queue, browsers, encoders (NVENC availability and reason)", HEALTH), service::health);
    api.route(Method::GET, "/livez", open("The process is up (no dependency checks)", LIVEZ), service::livez);
    api.route(Method::GET, "/readyz", open("Ready to take jobs (503 while starting, missing a part, or draining)", READYZ), service::readyz);
    api.route(Method::GET, "/queue/status", protected("Jobs waiting and running", QUEUE), service::queue_status);
    api.route(Method::GET, "/metrics", protected("Prometheus metrics", METRICS), service::metrics);
    api.route(Method::GET, "/", open("The dashboard", DASHBOARD), dashboard::page);
    api.route(Method::GET, "/openapi.json", open("This document", OPENAPI), openapi);
    api.finish();
    let document = openapi::document(&api.docs);
    api.config.app_data(web::Data::new(OpenApi(document)));
}

async fn openapi(document: web::Data<OpenApi>) -> HttpResponse {
    HttpResponse::Ok().json(&document.0)
}

/// The JSON error answer, with `Retry-After` on 429.
pub(crate) fn error_response(engine: &Engine, error: &ApiError) -> HttpResponse {
    let mut response = error_body(error);
    if error.http_status == 429 {
        if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&engine.retry_after_seconds().to_string()) {
            response.headers_mut().insert(actix_web::http::header::RETRY_AFTER, value);
        }
    }
    response
}

/// The API's JSON error body `{error_code, error_message, details,
/// suggestions, job_id}` with the error's status: every error answer of
/// the server is made here.
pub(crate) fn error_body(error: &ApiError) -> HttpResponse {
    let status = actix_web::http::StatusCode::from_u16(error.http_status).unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
    HttpResponse::build(status).json(error)
}
