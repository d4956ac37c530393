//! Reading a request body: it must be declared JSON and fit the configured
//! size limit, and it becomes a render request with errors that name the
//! field.

use actix_web::http::header::{HeaderMap, CONTENT_LENGTH, CONTENT_TYPE};
use actix_web::web;
use futures::StreamExt as _;
use motionrender_actors::job::RenderJobRequest;
use motionrender_actors::ApiError;

/// Refuses a body not declared `Content-Type: application/json` (415): a
/// browser page can send `text/plain` or a form across sites without asking,
/// never JSON.
pub fn require_json(headers: &HeaderMap) -> Result<(), ApiError> {
    let declared = headers.get(CONTENT_TYPE).and_then(|value| value.to_str().ok()).unwrap_or_default();
    let essence = declared.split(';').next().unwrap_or_default().trim();
    if essence.eq_ignore_ascii_case("application/json") {
        Ok(())
    } else {
        let shown = if declared.is_empty() { "none".to_owned() } else { format!("{declared:?}") };
        let mut error = ApiError::new(415, "UNSUPPORTED_MEDIA_TYPE", format!("the body must be sent as Content-Type: application/json (it was {shown})"));
        error.details = serde_json::json!({ "field": "Content-Type", "expected": "application/json" });
        Err(error.suggest("send the JSON body with Content-Type: application/json"))
    }
}

/// Refuses (413) a body whose `Content-Length` is over `limit` bytes at
/// once, before a byte of it is read.
pub fn require_declared_within(headers: &HeaderMap, limit: u64) -> Result<(), ApiError> {
    let declared = headers.get(CONTENT_LENGTH).and_then(|value| value.to_str().ok()).and_then(|value| value.trim().parse::<u64>().ok());
    match declared {
        Some(length) if length > limit => Err(too_large(limit, Some(length))),
        _ => Ok(()),
    }
}

/// The whole body, refused with 413 past `limit` bytes.
pub async fn read_limited(mut payload: web::Payload, limit: u64) -> Result<bytes::Bytes, ApiError> {
    let mut body = bytes::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            let mut error = ApiError::new(400, "VALIDATION_ERROR", format!("cannot read the body: {e}"));
            error.details = serde_json::json!({ "field": "body" });
            error.suggest("send the whole body, as its Content-Length or chunked encoding says")
        })?;
        if (body.len() + chunk.len()) as u64 > limit {
            return Err(too_large(limit, None));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// The 413 for a body over `limit` (`declared`: its announced length).
fn too_large(limit: u64, declared: Option<u64>) -> ApiError {
    let announced = declared.map(|length| format!(" (it declares {length})")).unwrap_or_default();
    let mut error = ApiError::new(413, "VALIDATION_ERROR", format!("the body is larger than {limit} bytes, server.max_body_bytes{announced}"));
    error.details = serde_json::json!({ "field": "body", "limit": limit, "limit_key": "server.max_body_bytes", "actual": declared });
    error.suggest(&format!("keep the body within {limit} bytes (a smaller scenario), or raise server.max_body_bytes"))
}

/// Parses a render request; a malformed body is 400, a wrong field 422
/// naming it (`options.*` fields are `INVALID_RENDER_OPTIONS`).
pub fn render_request(body: &[u8]) -> Result<RenderJobRequest, ApiError> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| ApiError::new(400, "VALIDATION_ERROR", format!("the body is not JSON: {e}")))?;
    if !value.is_object() {
        return Err(ApiError::field("VALIDATION_ERROR", "body", "must be a JSON object with videoUrl and scenario"));
    }
    serde_path_to_error::deserialize(value).map_err(|error| {
        let field = field_of(&error.path().to_string(), &error.inner().to_string());
        let code = if field.starts_with("options") { "INVALID_RENDER_OPTIONS" } else { "VALIDATION_ERROR" };
        ApiError::field(code, &field, error.inner())
    })
}

/// The field a deserialization error is about: its path, completed by the
/// name a "missing field" error gives (the path then stops at the object
/// that lacks it); `body` for the body as a whole.
fn field_of(path: &str, message: &str) -> String {
    let missing = message.strip_prefix("missing field `").and_then(|rest| rest.split('`').next());
    match (path, missing) {
        (".", Some(name)) => name.to_owned(),
        (".", None) => "body".to_owned(),
        (path, Some(name)) => format!("{path}.{name}"),
        (path, None) => path.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use actix_web::http::header::HeaderValue;

    use super::*;

    fn refused_field(body: &str) -> String {
        let error = render_request(body.as_bytes()).unwrap_err();
        let field = error.details["field"].as_str().unwrap().to_owned();
        assert!(error.error_message.starts_with(&field), "{}", error.error_message);
        field
    }

    #[test]
    fn each_error_names_the_field_once() {
        assert_eq!(refused_field(r#"{"scenario":{}}"#), "videoUrl");
        assert_eq!(refused_field(r#"{"videoUrl":"a"}"#), "scenario");
        assert_eq!(refused_field(r#"{"videoUrl":"a","scenario":{},"priority":1}"#), "priority");
        assert_eq!(refused_field(r#"{"videoUrl":"a","scenario":{},"options":{"turbo":true}}"#), "options.turbo");
        assert_eq!(refused_field(r#"{"videoUrl":"a","scenario":{},"options":{"quality":"high"}}"#), "options.quality");
        assert_eq!(refused_field(r#"{"videoUrl":7,"scenario":{}}"#), "videoUrl");
        assert_eq!(refused_field("[1,2]"), "body");
    }

    #[test]
    fn only_a_json_content_type_is_accepted() {
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(CONTENT_TYPE, HeaderValue::from_str(value).unwrap());
            require_json(&headers).map_err(|e| (e.http_status, e.error_code))
        };
        assert_eq!(with("application/json"), Ok(()));
        assert_eq!(with("Application/JSON; charset=utf-8"), Ok(()));
        for value in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonp"] {
            assert_eq!(with(value), Err((415, "UNSUPPORTED_MEDIA_TYPE".to_owned())), "{value}");
        }
        assert_eq!(require_json(&HeaderMap::new()).unwrap_err().http_status, 415);
    }
}
