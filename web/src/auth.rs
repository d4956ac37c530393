//! Bearer-token check: required when a token is configured (and a token is
//! required whenever the server listens beyond loopback). The scheme name is
//! matched without regard to case, as RFC 7235 says.

use actix_web::http::header::{HeaderMap, AUTHORIZATION};
use motionrender_actors::{ApiError, Engine};

/// Refuses a request without the configured bearer token.
pub fn authorize(engine: &Engine, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(token) = engine.config().server.token.get() else { return Ok(()) };
    let given = headers.get(AUTHORIZATION).and_then(|value| value.to_str().ok()).and_then(bearer_token);
    match given {
        Some(given) if constant_time_eq(given.as_bytes(), token.as_bytes()) => Ok(()),
        Some(_) => Err(ApiError::new(401, "UNAUTHORIZED", "the bearer token is not valid")),
        None => Err(ApiError::new(401, "UNAUTHORIZED", "an Authorization: Bearer <token> header is required")
            .suggest("send Authorization: Bearer <server.token>")),
    }
}

/// The token of an `Authorization` value whose scheme is `Bearer` in any
/// case, after one or more spaces.
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim_start_matches(' ');
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::bearer_token;

    #[test]
    fn the_scheme_matches_in_any_case() {
        for value in ["Bearer abc", "bearer abc", "BEARER abc", "bEaReR   abc"] {
            assert_eq!(bearer_token(value), Some("abc"), "{value}");
        }
    }

    #[test]
    fn other_schemes_and_empty_tokens_are_no_bearer_token() {
        for value in ["Basic abc", "Bearerabc", "Bearer", "Bearer ", "Token abc"] {
            assert_eq!(bearer_token(value), None, "{value}");
        }
    }
}
