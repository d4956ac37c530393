//! Bearer-token check: required when a token is configured (and a token is
//! required whenever the server listens beyond loopback).

use actix_web::HttpRequest;
use motionrender_actors::{ApiError, Engine};

/// Refuses a request without the configured bearer token.
pub fn authorize(engine: &Engine, request: &HttpRequest) -> Result<(), ApiError> {
    let Some(token) = engine.config().server.token.get() else { return Ok(()) };
    let given = request
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    match given {
        Some(given) if constant_time_eq(given.as_bytes(), token.as_bytes()) => Ok(()),
        Some(_) => Err(ApiError::new(401, "UNAUTHORIZED", "the bearer token is not valid")),
        None => Err(ApiError::new(401, "UNAUTHORIZED", "an Authorization: Bearer <token> header is required")),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
