//! Checks of a request before it is queued, and the source video of a job
//! made a local file for the renderer.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use motionrender_config::Config;
use motionrender_engine::scenario::{self, Scenario, ScenarioError};

use super::error::ApiError;
use super::options::render_settings;
use crate::fetch::{FetchError, OutboundClient};
use crate::job::RenderJobRequest;
use crate::url_policy::{PolicyError, UrlPolicy, VideoSource};
use motionrender_engine::storage::{Storage, StorageError};

/// On a blocking thread: refuses a request beyond the limits, and gives
/// it back with its digest; the scenario and options checks follow in
/// [`check_request`].
pub async fn check_request_content(config: &Config, request: RenderJobRequest) -> Result<(RenderJobRequest, String), ApiError> {
    let limits = config.limits.clone();
    let checked = tokio::task::spawn_blocking(move || {
        crate::limits::check_limits(&limits, &request)?;
        let digest = request.digest();
        Ok::<_, ApiError>((request, digest))
    })
    .await;
    checked.map_err(|e| ApiError::internal(format!("the request's checks stopped: {e}")))?
}

/// Refuses a request (within the limits: [`check_request_content`] came
/// first) whose scenario, options or URLs are not acceptable; the scenario
/// is validated on a blocking thread.
pub async fn check_request(config: &Config, policy: &UrlPolicy, request: &RenderJobRequest) -> Result<(), ApiError> {
    let scenario = request.scenario.clone();
    tokio::task::spawn_blocking(move || load_scenario(&scenario).map(drop))
        .await
        .map_err(|e| ApiError::internal(format!("the scenario's check stopped: {e}")))??;
    render_settings(config, &request.options)?;
    policy.check_video_url(&request.video_url).await.map_err(refused)?;
    if let Some(url) = &request.callback_url {
        policy.check_callback_url(url).await.map_err(refused)?;
    }
    Ok(())
}

/// A policy refusal as the API's error, naming the field.
pub fn refused(error: PolicyError) -> ApiError {
    ApiError::field(error.code(), error.field().name(), error.refusal())
}

/// Makes the job's video a local file for the renderer: `dir/input/NAME`,
/// where NAME is the file name the client gave (the last part of its
/// `videoUrl`), so that an error about the video names it as the client did
/// and shows no server path. A local file is linked there (its checked,
/// symlink-free path); an http(s) or s3 one is downloaded there within the
/// URL policy's bounds (no redirects, so the policy's check holds).
///
/// Stops as soon as `cancel` (the job's cancel flag) is set.
pub async fn fetch_video(policy: &UrlPolicy, storage: &Storage, url: &str, dir: &Path, cancel: &AtomicBool) -> Result<PathBuf, ApiError> {
    let source = policy.check_video_url(url).await.map_err(refused)?;
    let folder = dir.join("input");
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).map_err(|e| ApiError::new(500, "STORAGE_ACCESS_ERROR", format!("cannot create the job's input folder: {e}")))?;
    let target = folder.join(source_name(url));
    match source {
        VideoSource::Local(path) => Ok(link(&path, &target)),
        VideoSource::Http(url) => {
            let limits = policy.download_limits();
            let client = OutboundClient::new(policy.connect_timeout(), DOWNLOAD_USER_AGENT).map_err(|e| ApiError::internal(format!("cannot build the download client: {e}")))?;
            client.download(&url, &target, limits, cancel).await.map_err(fetch_failure)?;
            Ok(target)
        }
        VideoSource::S3 { bucket, key } => {
            let limits = policy.download_limits();
            // The object's size is asked for first (HeadObject), and the
            // download stops at the limit when it could not be.
            let fetched = tokio::select! {
                biased;
                () = crate::fetch::cancelled(cancel) => Err(fetch_failure(FetchError::Cancelled)),
                fetched = tokio::time::timeout(limits.total, storage.fetch_s3_input(&bucket, &key, &target, limits.max_bytes)) => match fetched {
                    Ok(Ok(_)) => Ok(target.clone()),
                    Ok(Err(StorageError::InputTooLarge { limit, size, .. })) => Err(fetch_failure(FetchError::TooLarge { limit, announced: size })),
                    Ok(Err(error)) => Err(ApiError::field("INVALID_VIDEO_URL", "videoUrl", error)),
                    Err(_) => Err(fetch_failure(FetchError::TimedOut(limits.total.as_secs()))),
                },
            };
            if fetched.is_err() {
                let _ = std::fs::remove_file(&target);
            }
            fetched
        }
    }
}

/// `User-Agent` of source-video downloads.
const DOWNLOAD_USER_AGENT: &str = concat!("motionrender/", env!("CARGO_PKG_VERSION"), " (fetch)");

/// The file name a `videoUrl` ends in (query and fragment aside), made safe
/// for a file name; `input.video` when there is none.
pub fn source_name(video_url: &str) -> String {
    let path = video_url.split(['?', '#']).next().unwrap_or_default();
    let last = path.rsplit(['/', '\\']).next().unwrap_or_default();
    let safe: String = last.chars().take(100).map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '_' }).collect();
    let safe = safe.trim_start_matches('.');
    if safe.is_empty() {
        "input.video".to_owned()
    } else {
        safe.to_owned()
    }
}

/// `target` as a symbolic link to `path`, or `path` itself when the link
/// cannot be made.
fn link(path: &Path, target: &Path) -> PathBuf {
    match std::os::unix::fs::symlink(path, target) {
        Ok(()) => target.to_path_buf(),
        Err(error) => {
            tracing::warn!(%error, "cannot link the job's input; the renderer reads it where it is");
            path.to_path_buf()
        }
    }
}

/// A failed download as the job's error: the source's fault is a 422 on
/// `videoUrl`, the server's disk a 500, a cancel the job's cancellation.
fn fetch_failure(error: FetchError) -> ApiError {
    match error {
        FetchError::Cancelled => ApiError::new(409, "JOB_CANCELLED", error.to_string()),
        error if error.is_local() => ApiError::new(500, "STORAGE_ACCESS_ERROR", error.to_string()),
        error => ApiError::field("INVALID_VIDEO_URL", "videoUrl", error),
    }
}

/// The scenario of a request, validated (v1.3 migrated).
pub fn load_scenario(document: &serde_json::Value) -> Result<Scenario, ApiError> {
    scenario::load_value(document).map_err(|error: ScenarioError| {
        let pointer = error.issues().first().map(|issue| format!("scenario{}", issue.pointer.as_str()));
        let mut refused = ApiError::new(422, error.code(), error.to_string());
        refused.details = serde_json::json!({
            "field": pointer.unwrap_or_else(|| "scenario".to_owned()),
            "issues": error.issues().iter().map(ToString::to_string).collect::<Vec<_>>(),
        });
        refused
    })
}

/// An `outputKey`, normalized, or the refusal naming the field.
pub fn checked_output_key(key: &str) -> Result<String, ApiError> {
    UrlPolicy::check_output_key(key).map_err(refused)
}

#[cfg(test)]
mod tests {
    use super::source_name;

    #[test]
    fn the_source_is_named_by_the_last_part_of_its_url() {
        assert_eq!(source_name("https://cdn.example.com/v/clip.mp4?sig=abc#t=1"), "clip.mp4");
        assert_eq!(source_name("s3://bucket/videos/2024/talk one.mov"), "talk_one.mov");
        assert_eq!(source_name("/data/inputs/clip.mp4"), "clip.mp4");
        assert_eq!(source_name("https://example.com/"), "input.video");
        assert_eq!(source_name("https://example.com/..hidden"), "hidden");
        assert_eq!(source_name(&format!("https://example.com/{}", "a".repeat(300))).len(), 100);
    }
}
