//! The error every API answer and failure callback carries:
//! `{error_code, error_message, details, suggestions, job_id}`.

use serde::Serialize;

/// A refused request or a failed job, with the API's code and HTTP status.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error, utoipa::ToSchema)]
#[error("{error_code}: {error_message}")]
pub struct ApiError {
    #[serde(skip)]
    pub http_status: u16,
    pub error_code: String,
    pub error_message: String,
    /// What the error concerns, e.g. `field` (the request field at fault).
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    pub suggestions: Vec<String>,
    pub job_id: Option<String>,
}

impl ApiError {
    pub fn new(http_status: u16, code: &str, message: impl Into<String>) -> Self {
        Self {
            http_status,
            error_code: code.to_owned(),
            error_message: message.into(),
            details: serde_json::json!({}),
            suggestions: Vec::new(),
            job_id: None,
        }
    }

    /// A 422 naming the request field at fault.
    pub fn field(code: &str, field: &str, message: impl std::fmt::Display) -> Self {
        let mut error = Self::new(422, code, format!("{field}: {message}"));
        error.details = serde_json::json!({ "field": field });
        error
    }

    pub fn with_job(mut self, job_id: &str) -> Self {
        self.job_id = Some(job_id.to_owned());
        self
    }

    pub fn suggest(mut self, suggestion: &str) -> Self {
        self.suggestions.push(suggestion.to_owned());
        self
    }

    pub fn not_found(job_id: &str) -> Self {
        Self::new(404, "JOB_NOT_FOUND", format!("no job {job_id}")).with_job(job_id)
    }

    /// A 409 `OUTPUT_KEY_TAKEN`: a storage key the job would write (`taken`:
    /// its output key, or its QC report's beside it) is another job's.
    /// `defaulted` when the request set no `options.outputKey` (the key came
    /// from its id).
    pub fn output_key_taken(job_id: &str, output_key: &str, taken: &str, owner: &str, defaulted: bool) -> Self {
        let what = if taken == output_key { String::new() } else { format!(" (its QC report would be {taken})") };
        let whose = if defaulted { " (the default key of this jobId)" } else { "" };
        let mut error = Self::new(409, "OUTPUT_KEY_TAKEN", format!("options.outputKey: {output_key}{whose}{what} belongs to job {owner}; one job's output never overwrites another's"));
        error.details = serde_json::json!({ "field": "options.outputKey", "output_key": output_key, "taken_key": taken, "owner_job_id": owner });
        let error = error.with_job(job_id);
        if defaulted {
            error.suggest("set options.outputKey to a key of its own, or use another jobId")
        } else {
            error.suggest("choose another options.outputKey (a key is free again when its job is deleted by jobs.retention)")
        }
    }

    pub fn internal(message: impl std::fmt::Display) -> Self {
        Self::new(500, "UNEXPECTED_ERROR", message.to_string())
    }
}

impl From<crate::limits::LimitExceeded> for ApiError {
    /// A 422 naming the field and the limit's configuration key.
    fn from(error: crate::limits::LimitExceeded) -> Self {
        let code = match error.field.as_str() {
            "videoUrl" => "INVALID_VIDEO_URL",
            field if field.starts_with("options.") => "INVALID_RENDER_OPTIONS",
            _ => "VALIDATION_ERROR",
        };
        let mut refused = Self::new(422, code, error.to_string());
        refused.details = serde_json::json!({
            "field": error.field,
            "limit": error.limit,
            "limit_key": error.key,
            "actual": error.actual,
            "unit": error.unit,
        });
        refused.suggest(&format!("keep {} within {} {}, or raise {} in the configuration", error.field, error.limit, error.unit, error.key))
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(error: crate::store::StoreError) -> Self {
        Self::new(500, "STORAGE_ACCESS_ERROR", error.to_string())
    }
}
