//! Errors of callback delivery.

use std::fmt;

use thiserror::Error;

/// Why one delivery attempt did not count as delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptFailure {
    /// The receiver answered with this non-2xx status.
    Status(u16),
    /// No answer: connection refused or reset, DNS failure, TLS error or the
    /// per-request timeout (`callbacks.timeout_ms`). The text names the cause
    /// but never the URL, which may carry credentials.
    Transport(String),
}

impl fmt::Display for AttemptFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Status(status) => write!(f, "HTTP status {status}"),
            Self::Transport(cause) => write!(f, "{cause}"),
        }
    }
}

/// Shown for the last failure when no attempt was made.
struct LastFailure<'a>(&'a Option<AttemptFailure>);

impl fmt::Display for LastFailure<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(failure) => write!(f, "last attempt: {failure}"),
            None => write!(f, "no attempt made"),
        }
    }
}

/// A callback event that was not delivered.
#[derive(Debug, Error)]
pub enum DeliveryError {
    /// The deadline passed without a 2xx reply.
    #[error("callback not delivered before its deadline after {attempts} attempt(s); {}", LastFailure(.last))]
    DeadlineExceeded {
        /// Attempts made.
        attempts: u32,
        /// Failure of the last attempt; `None` if the deadline had already
        /// passed before the first one.
        last: Option<AttemptFailure>,
    },
    /// Delivery was cancelled (shutdown) before a 2xx reply; the event stays
    /// undelivered and may be sent again later.
    #[error("callback delivery cancelled after {attempts} attempt(s); {}", LastFailure(.last))]
    Cancelled {
        /// Attempts made.
        attempts: u32,
        /// Failure of the last attempt, if any was made.
        last: Option<AttemptFailure>,
    },
    /// The event's JSON could not be serialized.
    #[error("callback body could not be serialized: {0}")]
    Body(#[from] serde_json::Error),
}

impl DeliveryError {
    /// Attempts made before giving up.
    pub fn attempts(&self) -> u32 {
        match self {
            Self::DeadlineExceeded { attempts, .. } | Self::Cancelled { attempts, .. } => *attempts,
            Self::Body(_) => 0,
        }
    }

    /// Failure of the last attempt, if one was made.
    pub fn last_failure(&self) -> Option<&AttemptFailure> {
        match self {
            Self::DeadlineExceeded { last, .. } | Self::Cancelled { last, .. } => last.as_ref(),
            Self::Body(_) => None,
        }
    }
}

/// The callback client could not be set up from its configuration.
#[derive(Debug, Error)]
pub enum ClientBuildError {
    /// `callbacks.secret` could not be used as an HMAC key.
    #[error("callbacks.secret cannot be used as an HMAC-SHA256 key")]
    SigningKey,
    /// The HTTP client could not be built (e.g. TLS roots unavailable).
    #[error("callback HTTP client could not be built: {0}")]
    Http(#[from] reqwest::Error),
}
