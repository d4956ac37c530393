//! The one error shape, also for the errors actix makes itself: an
//! extractor that cannot read a request, or any other error a handler or
//! middleware answers as plain text (or as an `Err`), becomes the API's JSON
//! error body, with its status kept. (A request actix cannot even parse —
//! a malformed request line, a head over its buffer, a head sent too
//! slowly — is answered by actix-http before any route, with an empty body.)

use actix_web::body::{self, BoxBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use motionrender_actors::ApiError;
use serde_json::json;

use super::error_body;

/// Most bytes of a plain-text error kept as the JSON error's message.
const MESSAGE_BYTES: usize = 1024;

/// The extractor settings of the API's routes: a path that cannot be read
/// is a `404` with the JSON error body.
pub fn register(config: &mut web::ServiceConfig) {
    config.app_data(web::PathConfig::default().error_handler(|error, _| {
        let refusal = ApiError::new(404, "ROUTE_NOT_FOUND", format!("the path is not valid: {error}"));
        actix_web::error::InternalError::from_response(error, error_body(&refusal)).into()
    }));
}

/// `answer` as the API's answer: an error turned into its JSON error body,
/// an error response that is not JSON rewritten as one (its text becomes
/// the message), anything else as it is.
pub async fn json_errors(request: HttpRequest, answer: Result<ServiceResponse<BoxBody>, actix_web::Error>) -> ServiceResponse<BoxBody> {
    let response = match answer {
        Ok(response) => response,
        Err(error) => {
            let response = error.error_response();
            return ServiceResponse::new(request, reshaped(response.status(), &error.to_string()));
        }
    };
    let status = response.status();
    let is_json = response.headers().get(CONTENT_TYPE).and_then(|value| value.to_str().ok()).is_some_and(|value| value.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (request, plain) = response.into_parts();
    let text = match body::to_bytes_limited(plain.into_body(), MESSAGE_BYTES).await {
        Ok(Ok(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
        _ => String::new(),
    };
    ServiceResponse::new(request, reshaped(status, &text))
}

/// The JSON error body for an error actix answered with `status` and `text`.
fn reshaped(status: StatusCode, text: &str) -> HttpResponse {
    let reason = status.canonical_reason().unwrap_or("error");
    let message = if text.trim().is_empty() { reason.to_owned() } else { text.trim().to_owned() };
    let mut error = ApiError::new(status.as_u16(), code_for(status), message);
    error.details = json!({ "status": status.as_u16(), "reason": reason });
    error_body(&error.suggest(suggestion_for(status)))
}

/// The API's error code for an error known only by its status.
fn code_for(status: StatusCode) -> &'static str {
    match status.as_u16() {
        401 => "UNAUTHORIZED",
        404 => "ROUTE_NOT_FOUND",
        405 => "METHOD_NOT_ALLOWED",
        415 => "UNSUPPORTED_MEDIA_TYPE",
        400..=499 => "VALIDATION_ERROR",
        _ => "UNEXPECTED_ERROR",
    }
}

fn suggestion_for(status: StatusCode) -> &'static str {
    if status.is_client_error() {
        "check the request against GET /openapi.json"
    } else {
        "retry later; the server's log has the details"
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    async fn body_of(response: HttpResponse) -> serde_json::Value {
        serde_json::from_slice(&body::to_bytes(response.into_body()).await.unwrap()).unwrap()
    }

    #[actix_web::test]
    async fn plain_text_errors_become_the_json_error_body() {
        let request = actix_web::test::TestRequest::default().to_http_request();
        let plain = ServiceResponse::new(request.clone(), HttpResponse::PayloadTooLarge().content_type("text/plain").body("payload is too large"));
        let answer = json_errors(request.clone(), Ok(plain)).await;
        assert_eq!(answer.status(), 413);
        let error = body_of(answer.into_parts().1).await;
        assert_eq!((error["error_code"].as_str(), error["error_message"].as_str()), (Some("VALIDATION_ERROR"), Some("payload is too large")));
        assert!(error["suggestions"].as_array().is_some_and(|s| !s.is_empty()) && error["details"]["status"] == 413);

        let failed = json_errors(request.clone(), Err(actix_web::error::ErrorInternalServerError("boom"))).await;
        assert_eq!(failed.status(), 500);
        assert_eq!(body_of(failed.into_parts().1).await["error_code"], "UNEXPECTED_ERROR");

        let fine = ServiceResponse::new(request.clone(), HttpResponse::Ok().content_type("text/plain").body("ok"));
        let fine = json_errors(request, Ok(fine)).await;
        assert_eq!(body::to_bytes(fine.into_parts().1.into_body()).await.unwrap(), "ok", "a success is left as it is");
    }
}
