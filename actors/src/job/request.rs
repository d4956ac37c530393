//! The body of `POST /render` (camelCase, as the existing backend sends it).

use serde::{Deserialize, Serialize};

/// A render job as submitted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RenderJobRequest {
    /// Caller-chosen id; generated when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    /// A file under an allowed root, an http(s) URL or `s3://bucket/key`.
    pub video_url: String,
    /// The MotionText scenario (v2.0, or v1.3 migrated).
    pub scenario: serde_json::Value,
    #[serde(default)]
    pub options: RenderOptions,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_url: Option<String>,
}

/// `options` of a render request; unset fields take the source's or the
/// configuration's values.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RenderOptions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fps: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoder: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drop_policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_key: Option<String>,
}

impl RenderJobRequest {
    /// A stable digest of what the job asks for (its id aside), to tell a
    /// repeated submit from a different body under the same id.
    pub fn digest(&self) -> String {
        use sha2::Digest as _;
        let mut body = self.clone();
        body.job_id = None;
        let text = serde_json::to_string(&body).unwrap_or_default();
        hex::encode(sha2::Sha256::digest(text.as_bytes()))
    }
}
