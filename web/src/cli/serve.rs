//! `motionrender serve`: the HTTP API on one address, all state under one
//! data folder. SIGTERM or Ctrl-C stops taking requests, stops running
//! renders without failing them (they resume on the next start, reusing
//! their finished segments) and exits.

use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;
use motionrender_actors::{Engine, EngineOptions};
use motionrender_config::Config;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on; default `server.bind` (127.0.0.1:8090). Beyond
    /// loopback a bearer token (`server.token`) is required.
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<String>,
    /// Folder for all state: the job store, work files, outputs, and the
    /// default input root `<DIR>/inputs`; default `paths.data_dir`.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<String>,
    /// Render on workers through this Redis (`redis://HOST:PORT/DB`) instead
    /// of in this process; needs `s3.bucket`. Default `work_queue.url`.
    #[arg(long, value_name = "URL")]
    pub queue: Option<String>,
}

impl ServeArgs {
    /// Configuration overrides the flags stand for; `--set` flags given
    /// after them still win.
    pub fn overrides(&self) -> Vec<(String, String)> {
        let mut overrides = Vec::new();
        if let Some(queue) = &self.queue {
            overrides.push(("work_queue.url".to_owned(), queue.clone()));
        }
        if let Some(bind) = &self.bind {
            overrides.push(("server.bind".to_owned(), bind.clone()));
        }
        if let Some(dir) = &self.data_dir {
            let dir = dir.trim_end_matches('/');
            overrides.push(("paths.data_dir".to_owned(), dir.to_owned()));
            overrides.push(("paths.work_dir".to_owned(), format!("{dir}/work")));
            overrides.push(("paths.output_dir".to_owned(), format!("{dir}/output")));
            overrides.push(("paths.input_roots".to_owned(), format!("{dir}/inputs")));
        }
        overrides
    }
}

/// Runs the server until a signal stops it.
pub fn run(config: Config) -> anyhow::Result<ExitCode> {
    let bind = config.server.bind.clone();
    for dir in [&config.paths.data_dir, &config.paths.work_dir, &config.paths.output_dir] {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {dir}"))?;
    }
    for root in &config.paths.input_roots {
        std::fs::create_dir_all(root).with_context(|| format!("cannot create the input root {root}"))?;
    }
    let max_body = config.server.max_body_bytes;
    let log_format = config.log.format;
    // One actix System runs the HTTP server and the engine's actor tree.
    actix_web::rt::System::new().block_on(async move {
        let engine = Engine::start(EngineOptions { public_base_url: format!("http://{bind}"), config }).await.context("cannot start the engine")?;
        let served = {
            let app_engine = engine.clone();
            let server = actix_web::HttpServer::new(move || {
                actix_web::App::new()
                    .app_data(actix_web::web::PayloadConfig::new(max_body as usize))
                    .configure(motionrender_web::configure(app_engine.clone()))
            })
            .workers(2)
            .shutdown_timeout(5)
            .disable_signals()
            .bind(&bind)
            .with_context(|| format!("cannot listen on {bind}"))?
            .run();
            tracing::info!(%bind, "serving");
            if log_format == motionrender_config::LogFormat::Text {
                eprintln!("motionrender: serving on http://{bind}");
            }
            stop_on_signal(engine.clone(), server.handle());
            server.await.context("the HTTP server failed")
        };
        // Already stopped on a signal; this covers the server failing.
        engine.shutdown().await;
        served
    })?;
    Ok(ExitCode::SUCCESS)
}

/// On SIGTERM or SIGINT: checkpoints the running renders at once (they must
/// not run on through the HTTP server's graceful stop and finish, or fail,
/// half-stopped), then stops the HTTP server, letting requests in flight end.
fn stop_on_signal(engine: Engine, http: actix_web::dev::ServerHandle) {
    actix_web::rt::spawn(async move {
        if let Err(error) = super::signals::stop_requested().await {
            tracing::warn!(%error, "cannot watch for SIGTERM; stop the server with SIGKILL");
            return;
        }
        tracing::info!("stopping: checkpointing running renders");
        engine.shutdown().await;
        http.stop(true).await;
    });
}
