//! Reading a request body within the configured size limit, and turning
//! JSON into a render request with errors that name the field.

use actix_web::web;
use futures::StreamExt as _;
use motionrender_actors::job::RenderJobRequest;
use motionrender_actors::ApiError;

/// The whole body, refused with 413 past `limit` bytes.
pub async fn read_limited(mut payload: web::Payload, limit: u64) -> Result<bytes::Bytes, ApiError> {
    let mut body = bytes::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::new(400, "VALIDATION_ERROR", format!("cannot read the body: {e}")))?;
        if (body.len() + chunk.len()) as u64 > limit {
            return Err(ApiError::new(413, "VALIDATION_ERROR", format!("the body is larger than {limit} bytes")));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Parses a render request; a malformed body is 400, a wrong field 422
/// naming it (`options.*` fields are `INVALID_RENDER_OPTIONS`).
pub fn render_request(body: &[u8]) -> Result<RenderJobRequest, ApiError> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| ApiError::new(400, "VALIDATION_ERROR", format!("the body is not JSON: {e}")))?;
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        let message = error.inner().to_string();
        let field = match message.split_once("unknown field `") {
            Some((_, rest)) => {
                let name = rest.split('`').next().unwrap_or_default();
                if path == "." { name.to_owned() } else { format!("{path}.{name}") }
            }
            None => path,
        };
        let code = if field.starts_with("options") { "INVALID_RENDER_OPTIONS" } else { "VALIDATION_ERROR" };
        ApiError::field(code, &field, message)
    })
}
