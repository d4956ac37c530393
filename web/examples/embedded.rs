//! An existing actix-web service that embeds motionrender: it keeps its own
//! routes (`/api/hello`, `/api/items/{id}`), mounts the engine's HTTP API
//! under `/render-engine`, and uses the engine handle from Rust as well —
//! `/api/jobs/{id}/summary` reads a job without HTTP, and a task subscribed
//! to the engine's events logs them and counts them for `/api/hello`.
//!
//! ```text
//! cargo run -p motionrender-web --example embedded -- --bind 127.0.0.1:8080 --data-dir /tmp/embedded
//! curl http://127.0.0.1:8080/api/hello
//! curl -X POST http://127.0.0.1:8080/render-engine/render -d @request.json
//! open http://127.0.0.1:8080/render-engine/          # the dashboard
//! ```
//!
//! SIGTERM or Ctrl-C stops the server, then the engine (its running renders
//! resume on the next start).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use actix_web::{web, App, HttpResponse, HttpServer};
use anyhow::Context as _;
use clap::Parser;
use motionrender_actors::{Engine, EngineOptions};
use motionrender_config::{parse_override, Config, Sources};
use serde::Serialize;
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;

/// Where the engine's routes are mounted in this service.
const ENGINE_SCOPE: &str = "/render-engine";

/// The host service's command line.
#[derive(Debug, Parser)]
#[command(name = "embedded", about = "An actix-web service with motionrender mounted under /render-engine")]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    bind: String,
    /// Folder for the engine's state: job store, work files, outputs and the
    /// input root `<DIR>/inputs`; default the configuration's `paths.data_dir`.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// motionrender configuration file (TOML); defaults to $MOTIONRENDER_CONFIG.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Override one engine configuration key (repeatable), e.g. `--set server.max_running_jobs=2`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    overrides: Vec<String>,
}

/// One thing the host's own API serves.
#[derive(Debug, Clone, Serialize)]
struct Item {
    id: u32,
    name: &'static str,
    price_cents: u32,
}

/// The host's application state: its own data, and what it saw of the engine.
#[derive(Debug)]
struct HostState {
    items: Vec<Item>,
    /// Engine events received through `Engine::subscribe`.
    render_events: AtomicU64,
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("embedded: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// The engine's configuration: defaults < file < `MOTIONRENDER_*` < the
/// flags of this program < `--set`.
fn engine_config(args: &Args) -> anyhow::Result<Config> {
    let mut overrides = vec![("server.bind".to_owned(), args.bind.clone())];
    if let Some(dir) = &args.data_dir {
        let dir = dir.display().to_string().trim_end_matches('/').to_owned();
        overrides.push(("paths.data_dir".to_owned(), dir.clone()));
        overrides.push(("paths.work_dir".to_owned(), format!("{dir}/work")));
        overrides.push(("paths.output_dir".to_owned(), format!("{dir}/output")));
        overrides.push(("paths.input_roots".to_owned(), format!("{dir}/inputs")));
    }
    for flag in &args.overrides {
        overrides.push(parse_override(flag)?);
    }
    let config = Config::load(&Sources::from_process_env(args.config.clone(), overrides))?;
    let folders = [&config.paths.data_dir, &config.paths.work_dir, &config.paths.output_dir].into_iter().chain(&config.paths.input_roots);
    for dir in folders {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {dir}"))?;
    }
    Ok(config)
}

fn run(args: Args) -> anyhow::Result<()> {
    let config = engine_config(&args)?;
    let max_body = config.server.max_body_bytes;
    // Download links the engine hands out point into this service's scope.
    let public_base_url = format!("http://{}{ENGINE_SCOPE}", args.bind);
    let state = web::Data::new(HostState {
        items: vec![
            Item { id: 1, name: "intro clip", price_cents: 0 },
            Item { id: 2, name: "subtitle pack", price_cents: 499 },
            Item { id: 3, name: "karaoke theme", price_cents: 999 },
        ],
        render_events: AtomicU64::new(0),
    });

    // The host's one actix System runs its server and the engine's actors.
    actix_web::rt::System::new().block_on(async move {
        let engine = Engine::start(EngineOptions { config, public_base_url }).await.context("cannot start the render engine")?;
        // The host shares the engine handle with its own handlers.
        let shared = web::Data::new(engine.clone());
        let bind = args.bind.clone();
        actix_web::rt::spawn(watch_renders(engine.clone(), state.clone().into_inner()));
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(shared.clone())
                .route("/api/hello", web::get().to(hello))
                .route("/api/items/{id}", web::get().to(item))
                .route("/api/jobs/{job_id}/summary", web::get().to(job_summary))
                .route("/api/runtime", web::get().to(runtime))
                .route("/api/host-jobs", web::post().to(submit_through_handle))
                .service(
                    web::scope(ENGINE_SCOPE)
                        .app_data(web::PayloadConfig::new(max_body as usize))
                        .configure(motionrender_web::configure(shared.get_ref().clone())),
                )
        })
        .workers(2)
        .shutdown_timeout(5)
        .bind(&bind)
        .with_context(|| format!("cannot listen on {bind}"))?;
        eprintln!("embedded: serving on http://{bind} (render engine under {ENGINE_SCOPE})");
        let served = server.run().await.context("the HTTP server failed");
        engine.shutdown().await;
        served
    })
}

/// The host's own way to start a render: the body is a render request,
/// handed to the engine through its Rust handle (no HTTP between them).
async fn submit_through_handle(engine: web::Data<Engine>, body: web::Json<motionrender_actors::job::RenderJobRequest>) -> HttpResponse {
    match engine.submit(body.into_inner()).await {
        Ok(submitted) => HttpResponse::Accepted().json(json!({ "job_id": submitted.job.job_id, "created": submitted.created })),
        Err(error) => HttpResponse::build(actix_web::http::StatusCode::from_u16(error.http_status).unwrap_or(actix_web::http::StatusCode::BAD_REQUEST))
            .json(json!({ "error": error.error_message, "error_code": error.error_code })),
    }
}

/// Which actix System this handler and the engine run in, and the
/// process's threads (the engine starts no runtime of its own).
async fn runtime(engine: web::Data<Engine>) -> HttpResponse {
    let threads: Vec<String> = std::fs::read_dir("/proc/self/task")
        .map(|tasks| tasks.flatten().filter_map(|task| std::fs::read_to_string(task.path().join("comm")).ok()).map(|name| name.trim().to_owned()).collect())
        .unwrap_or_default();
    HttpResponse::Ok().json(json!({
        "host_system": actix_web::rt::System::current().id(),
        "engine_system": engine.system_id(),
        "threads": threads,
    }))
}

/// Follows every job through the engine handle (no HTTP): logs each event
/// and counts it.
async fn watch_renders(engine: Engine, state: Arc<HostState>) {
    let mut events = engine.subscribe();
    loop {
        match events.recv().await {
            Ok(event) => {
                state.render_events.fetch_add(1, Ordering::Relaxed);
                let status = event.payload.get("status").and_then(|s| s.as_str()).unwrap_or("?");
                let progress = event.payload.get("progress").and_then(|p| p.as_f64()).unwrap_or(0.0);
                eprintln!("embedded: job {} {status} {progress:.0}%", event.job_id);
            }
            Err(RecvError::Lagged(missed)) => eprintln!("embedded: {missed} render events missed"),
            Err(RecvError::Closed) => return,
        }
    }
}

async fn hello(state: web::Data<HostState>) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "message": "hello from the host service",
        "items": state.items.len(),
        "render_events_seen": state.render_events.load(Ordering::Relaxed),
    }))
}

async fn item(state: web::Data<HostState>, id: web::Path<u32>) -> HttpResponse {
    match state.items.iter().find(|item| item.id == *id) {
        Some(item) => HttpResponse::Ok().json(item),
        None => HttpResponse::NotFound().json(json!({ "error": format!("no item {id}") })),
    }
}

/// A job as this service tells its own clients, read from the engine handle.
async fn job_summary(engine: web::Data<Engine>, job_id: web::Path<String>) -> HttpResponse {
    match engine.job(&job_id) {
        Ok(job) => HttpResponse::Ok().json(json!({
            "job_id": job.job_id,
            "status": job.status.as_str(),
            "progress": job.progress,
            "finished": job.status.is_finished(),
            "download_url": job.download_url,
        })),
        Err(error) => HttpResponse::build(actix_web::http::StatusCode::from_u16(error.http_status).unwrap_or(actix_web::http::StatusCode::NOT_FOUND))
            .json(json!({ "error": error.error_message, "error_code": error.error_code })),
    }
}
