//! Checks of a request before it is queued, and the source video of a job
//! made a local file for the renderer.

use std::path::{Path, PathBuf};

use motionrender_config::Config;
use motionrender_engine::scenario::{self, Scenario, ScenarioError};

use super::error::ApiError;
use super::options::render_settings;
use crate::job::RenderJobRequest;
use crate::url_policy::{PolicyError, UrlPolicy, VideoSource};
use motionrender_engine::storage::Storage;

/// Refuses a request whose scenario, options or URLs are not acceptable.
pub async fn check_request(config: &Config, policy: &UrlPolicy, request: &RenderJobRequest) -> Result<(), ApiError> {
    crate::job::check_limits(&config.limits, request)?;
    load_scenario(&request.scenario)?;
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

/// Makes the job's video a local file: a local one as it is, an http(s) one
/// downloaded into `dir` (no redirects, so the policy's check holds).
pub async fn fetch_video(policy: &UrlPolicy, storage: &Storage, url: &str, dir: &Path) -> Result<PathBuf, ApiError> {
    let target = dir.join("input.video");
    match policy.check_video_url(url).await.map_err(refused)? {
        VideoSource::Local(path) => Ok(path),
        VideoSource::Http(url) => download(&url, &target).await,
        VideoSource::S3 { bucket, key } => {
            storage.fetch_s3_input(&bucket, &key, &target).await.map_err(|e| ApiError::field("INVALID_VIDEO_URL", "videoUrl", e))?;
            Ok(target)
        }
    }
}

async fn download(url: &url::Url, to: &Path) -> Result<PathBuf, ApiError> {
    use tokio::io::AsyncWriteExt as _;
    let failed = |why: String| ApiError::field("INVALID_VIDEO_URL", "videoUrl", why);
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().map_err(|e| failed(e.to_string()))?;
    let mut answer = client.get(url.clone()).send().await.map_err(|e| failed(format!("cannot fetch: {}", e.without_url())))?;
    if !answer.status().is_success() {
        return Err(failed(format!("fetching it answered HTTP {}", answer.status().as_u16())));
    }
    let mut file = tokio::fs::File::create(to).await.map_err(|e| ApiError::new(500, "STORAGE_ACCESS_ERROR", e.to_string()))?;
    while let Some(chunk) = answer.chunk().await.map_err(|e| failed(format!("download broke off: {}", e.without_url())))? {
        file.write_all(&chunk).await.map_err(|e| ApiError::new(500, "STORAGE_ACCESS_ERROR", e.to_string()))?;
    }
    file.flush().await.map_err(|e| ApiError::new(500, "STORAGE_ACCESS_ERROR", e.to_string()))?;
    Ok(to.to_path_buf())
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
