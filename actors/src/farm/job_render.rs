//! One job rendered by the farm, on the server: the render is prepared as
//! for a local one (probe, plan; segments a previous run kept are set
//! aside), the source is uploaded to S3, the segments are published as
//! tasks — at most `work_queue.job_tasks_in_flight` at a time, so a long job
//! leaves room for others — and each reported segment is fetched from S3
//! into the job's segments folder. When the last one has landed the
//! segment merger runs as for a local render. A cancel marks the job for
//! the workers and drops its waiting tasks; the job's S3 objects are
//! removed however it ends.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use motionrender_engine::plan::SegmentPlan;
use motionrender_engine::render::{PreparedRender, RenderControl, RenderError, RenderReport, RenderRequest, SegmentsDone};
use serde_json::json;

use super::dispatcher::Dispatcher;
use super::task::{SegmentOutcome, SegmentReport, SegmentTask};
use crate::engine::{ApiError, Shared};
use crate::job::{render_failure, RenderJobRequest};
use crate::segment_merger::Merge;

/// How often a job waiting for its segments looks at its cancel flag.
const TICK: Duration = Duration::from_millis(100);

/// What the farm did for a job, for its metrics and QC.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct FarmUse {
    /// Per segment: the worker that rendered it, deliveries, whether it was reclaimed.
    pub segments: BTreeMap<u32, serde_json::Value>,
    pub reclaimed: u32,
    pub duplicates: u32,
}

/// Renders `render` (the job `job_id`, submitted as `request`) on the farm.
pub(crate) async fn render_on_farm(
    shared: &Shared,
    farm: &Arc<Dispatcher>,
    job_id: &str,
    request: &RenderJobRequest,
    render: &RenderRequest,
    control: RenderControl,
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<(RenderReport, FarmUse), ApiError> {
    let cancel = Arc::clone(&control.cancel);
    let prepared = PreparedRender::prepare(render, &control).await.map_err(render_failure)?;
    let names = farm.names().clone();
    let plans: Vec<SegmentPlan> = prepared.plans().to_vec();
    let outcome = run(shared, farm, job_id, request, render, prepared, &cancel, progress).await;
    // Whatever happened, the job's objects in S3 are not needed any more.
    let storage = &shared.storage;
    for plan in &plans {
        if let Err(error) = storage.delete(&names.segment_key(job_id, plan.index)).await {
            tracing::warn!(job_id, segment = plan.index, %error, "cannot remove a segment from S3");
        }
    }
    if let Err(error) = storage.delete(&names.source_key(job_id)).await {
        tracing::warn!(job_id, %error, "cannot remove the job's source from S3");
    }
    outcome
}

#[allow(clippy::too_many_arguments)]
async fn run(
    shared: &Shared,
    farm: &Arc<Dispatcher>,
    job_id: &str,
    request: &RenderJobRequest,
    render: &RenderRequest,
    prepared: PreparedRender,
    cancel: &Arc<AtomicBool>,
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<(RenderReport, FarmUse), ApiError> {
    let names = farm.names().clone();
    let job = Arc::clone(prepared.context());
    let total = prepared.frame_count();
    let mut todo: VecDeque<SegmentPlan> = prepared.todo().iter().copied().collect();
    let mut frames_done = total - todo.iter().map(|plan| plan.frame_count).sum::<u64>();
    let mut farm_use = FarmUse::default();
    let mut done = SegmentsDone::default();
    let mut reports = farm.watch(job_id);
    if !todo.is_empty() {
        if let Err(error) = upload_source(shared, &names.source_key(job_id), render, cancel).await {
            prepared.abandon().await;
            return Err(error);
        }
    }
    // Published and not reported: plan by index, with the task's entry id.
    let mut in_flight: BTreeMap<u32, (SegmentPlan, String)> = BTreeMap::new();
    let limit = farm.config().job_tasks_in_flight.max(1) as usize;
    let mut ticker = tokio::time::interval(TICK);
    progress(frames_done, total);
    loop {
        while in_flight.len() < limit && !cancel.load(Ordering::Relaxed) {
            let Some(plan) = todo.pop_front() else { break };
            let task = SegmentTask {
                job_id: job_id.to_owned(),
                plan,
                source_key: names.source_key(job_id),
                segment_key: names.segment_key(job_id, plan.index),
                request: request.clone(),
                segment_seconds: job.settings.segment_seconds,
            };
            match farm.publish(&task, cancel).await {
                Ok(id) => {
                    tracing::debug!(job_id, segment = plan.index, id = %id, "task published");
                    in_flight.insert(plan.index, (plan, id));
                }
                Err(super::FarmError::Stopped) => break,
                Err(error) => {
                    prepared.abandon().await;
                    return Err(ApiError::new(503, error.code(), error.to_string()));
                }
            }
        }
        if cancel.load(Ordering::Relaxed) {
            let ids: Vec<String> = in_flight.values().map(|(_, id)| id.clone()).collect();
            if let Err(error) = farm.cancel(job_id, &ids).await {
                tracing::warn!(job_id, %error, "cannot tell the workers of the cancel");
            }
            prepared.abandon().await;
            return Err(render_failure(RenderError::Cancelled));
        }
        if in_flight.is_empty() && todo.is_empty() {
            break;
        }
        let report = tokio::select! {
            report = reports.reports.recv() => report,
            _ = ticker.tick() => continue,
        };
        let Some(report) = report else { continue };
        let Some((plan, _)) = in_flight.get(&report.index).cloned() else {
            farm_use.duplicates += 1;
            continue;
        };
        match landed(shared, &prepared, job_id, &names.segment_key(job_id, plan.index), plan, report).await {
            Ok((segment, entry, reclaimed)) => {
                in_flight.remove(&plan.index);
                farm_use.reclaimed += u32::from(reclaimed);
                farm_use.segments.insert(plan.index, entry);
                job.segment_finished(plan.index, &segment);
                frames_done += plan.frame_count;
                progress(frames_done, total);
                done.segments.push((plan, segment));
            }
            Err(error) => {
                let ids: Vec<String> = in_flight.values().map(|(_, id)| id.clone()).collect();
                let _ = farm.cancel(job_id, &ids).await;
                prepared.abandon().await;
                return Err(error);
            }
        }
    }
    let report = shared
        .render
        .merger
        .send(Merge { render: prepared, done: vec![done], chromium_peak: 0 })
        .await
        .map_err(|e| ApiError::internal(format!("the segment merger stopped: {e}")))?
        .map_err(render_failure)?;
    progress(total, total);
    Ok((report, farm_use))
}

/// A worker's report on `plan`: the rendered segment fetched into the
/// job's segments folder, with what the farm did for it; or the job's failure.
async fn landed(
    shared: &Shared,
    prepared: &PreparedRender,
    job_id: &str,
    key: &str,
    plan: SegmentPlan,
    report: SegmentReport,
) -> Result<(motionrender_engine::render::FinishedSegment, serde_json::Value, bool), ApiError> {
    match report.outcome {
        SegmentOutcome::Failed { code, message } => {
            tracing::warn!(job_id, segment = plan.index, worker = %report.worker, %code, %message, "a worker failed the segment");
            Err(ApiError::new(500, &code, format!("segment {} (worker {}): {message}", plan.index, report.worker)))
        }
        SegmentOutcome::Rendered { segment, retries, render_seconds, upload_seconds, fetch_seconds } => {
            let path = prepared.segment_path(plan.index);
            let started = std::time::Instant::now();
            shared.storage.get_file(key, &path, u64::MAX).await.map_err(|e| ApiError::new(502, e.code(), format!("segment {}: {e}", plan.index)))?;
            let entry = json!({
                "worker": report.worker,
                "deliveries": report.deliveries,
                "reclaimed": report.reclaimed,
                "retries": retries,
                "fetch_seconds": fetch_seconds,
                "render_seconds": render_seconds,
                "upload_seconds": upload_seconds,
                "download_seconds": started.elapsed().as_secs_f64(),
            });
            tracing::info!(job_id, segment = plan.index, worker = %report.worker, deliveries = report.deliveries, "segment landed");
            Ok((segment, entry, report.reclaimed))
        }
    }
}

/// Uploads the job's source to S3 for the workers.
async fn upload_source(shared: &Shared, key: &str, render: &RenderRequest, cancel: &Arc<AtomicBool>) -> Result<(), ApiError> {
    let (cancelled, watching) = tokio::sync::watch::channel(false);
    let flag = Arc::clone(cancel);
    let watcher = actix::spawn(async move {
        while !flag.load(Ordering::Relaxed) {
            tokio::time::sleep(TICK).await;
        }
        let _ = cancelled.send(true);
    });
    let stored = shared.storage.put_file(key, &render.video, &watching).await;
    watcher.abort();
    stored.map(drop).map_err(|e| ApiError::new(502, e.code(), format!("cannot upload the source for the workers: {e}")))
}
