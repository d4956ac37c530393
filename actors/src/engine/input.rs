//! Checks of a request before it is queued, and the source video of a job
//! made a local file for the renderer.

use std::path::{Component, Path, PathBuf};

use motionrender_config::Config;
use motionrender_engine::scenario::{self, Scenario, ScenarioError};

use super::error::ApiError;
use super::options::render_settings;
use crate::job::RenderJobRequest;

/// Refuses a request whose scenario, options or URLs are not acceptable.
pub async fn check_request(config: &Config, request: &RenderJobRequest) -> Result<(), ApiError> {
    load_scenario(&request.scenario)?;
    render_settings(config, &request.options)?;
    local_video(config, &request.video_url)?;
    if let Some(url) = &request.callback_url {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(ApiError::field("VALIDATION_ERROR", "callbackUrl", "must be an http(s) URL"));
        }
    }
    Ok(())
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

/// A `videoUrl` naming a local file: it must exist inside an allowed root
/// (after resolving links), or the request is refused.
pub fn local_video(config: &Config, url: &str) -> Result<PathBuf, ApiError> {
    let refuse = |why: &str| ApiError::field("INVALID_VIDEO_URL", "videoUrl", why).suggest("place the video under an allowed input root");
    let path = url.strip_prefix("file://").unwrap_or(url);
    if path.contains("://") {
        return Err(refuse("only local files under an allowed root are accepted by this engine"));
    }
    let file = Path::new(path).canonicalize().map_err(|_| refuse("no such file"))?;
    let inside = config.paths.input_roots.iter().filter_map(|root| Path::new(root).canonicalize().ok()).any(|root| file.starts_with(root));
    if !inside {
        return Err(refuse("is outside every allowed input root"));
    }
    if !file.is_file() {
        return Err(refuse("is not a file"));
    }
    Ok(file)
}

/// An `outputKey`: a relative path of plain names, no `..`, at most 512 bytes.
pub fn checked_output_key(key: &str) -> Result<String, ApiError> {
    let refuse = |why: &str| ApiError::field("INVALID_RENDER_OPTIONS", "options.outputKey", why);
    if key.is_empty() || key.len() > 512 || key.contains('\\') || key.contains('\0') {
        return Err(refuse("must be 1–512 bytes without backslashes or NUL"));
    }
    let path = Path::new(key);
    if !path.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err(refuse("must be a relative path without `..` or `.`"));
    }
    Ok(key.to_owned())
}
