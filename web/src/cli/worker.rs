//! `motionrender worker --queue redis://…`: a render worker. It claims
//! segment tasks from the work queue, renders them on its own browsers and
//! uploads them to the `[s3]` bucket until SIGTERM or Ctrl-C, after which
//! it finishes the task in hand (or leaves it to be reclaimed past
//! `work_queue.drain_secs`) and exits 0.

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::Context as _;
use clap::Args;
use motionrender_actors::engine::{high_water, pool_settings};
use motionrender_actors::farm::Worker;
use motionrender_actors::{Metrics, RenderActors};
use motionrender_config::Config;
use motionrender_engine::storage::Storage;

#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// The work queue's Redis, `redis://HOST:PORT/DB`; default `work_queue.url`.
    #[arg(long, value_name = "URL")]
    pub queue: Option<String>,
}

impl WorkerArgs {
    /// Configuration overrides the flags stand for.
    pub fn overrides(&self) -> Vec<(String, String)> {
        self.queue.iter().map(|url| ("work_queue.url".to_owned(), url.clone())).collect()
    }
}

/// Runs the worker until a signal stops it.
pub fn run(config: Config) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(config.work_queue.url().is_some(), "a worker needs --queue redis://HOST:PORT/DB (or work_queue.url)");
    std::fs::create_dir_all(&config.paths.work_dir).with_context(|| format!("cannot create {}", config.paths.work_dir))?;
    actix_web::rt::System::new().block_on(async move {
        let storage = Storage::from_config(&config).await.context("cannot set up S3")?;
        let metrics = Arc::new(Metrics::new().context("cannot set up the metrics")?);
        let pool = pool_settings(&config, 1).context("cannot set up the browser pool")?;
        let actors = RenderActors::start(pool, high_water(&config), metrics);
        let stop = Arc::new(AtomicBool::new(false));
        watch_signals(Arc::clone(&stop));
        let worker = Worker::new(config, actors.clone(), storage, stop).context("cannot start the worker")?;
        eprintln!("motionrender: worker {} waiting for tasks", worker.name());
        let summary = worker.run().await;
        let _ = actors.pool.send(motionrender_actors::browser_pool::Close).await;
        eprintln!("motionrender: worker {} stopped after {} segments ({} failed, {} reclaimed)", worker.name(), summary.rendered, summary.failed, summary.reclaimed);
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Sets `stop` on SIGTERM or SIGINT.
fn watch_signals(stop: Arc<AtomicBool>) {
    actix_web::rt::spawn(async move {
        if let Err(error) = super::signals::stop_requested().await {
            tracing::warn!(%error, "cannot watch for SIGTERM; stop the worker with SIGKILL");
            return;
        }
        tracing::info!("stopping: finishing the task in hand");
        stop.store(true, Ordering::Relaxed);
    });
}
