//! The HTTP client that POSTs one callback event and retries it until it is
//! delivered, its deadline passes or delivery is cancelled.
//!
//! Every failure is retried: a non-2xx status (4xx included) or no answer at
//! all. Delivery is at least once to a backend that may be restarting or
//! briefly misconfigured, so the only things that stop retries are a 2xx, the
//! deadline and cancellation. Redirects are not followed (a 3xx is a failed
//! attempt): the callback URL was checked against the URL policy, and a
//! redirect could point anywhere.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use motionrender_config::CallbacksConfig;
use tokio::sync::watch;

use super::backoff::Backoff;
use super::error::{AttemptFailure, ClientBuildError, DeliveryError};
use super::signature::{CallbackSigner, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use crate::fetch::OutboundClient;

/// `User-Agent` of callback requests.
pub const USER_AGENT: &str = concat!("motionrender/", env!("CARGO_PKG_VERSION"), " (callbacks)");

/// What a successful delivery took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Attempts made, the successful one included (>= 1).
    pub attempts: u32,
    /// The 2xx status that was received.
    pub status: u16,
}

/// Sends callback events; cheap to clone (the connection pool is shared).
#[derive(Debug, Clone)]
pub struct CallbackClient {
    http: OutboundClient,
    signer: Option<CallbackSigner>,
    request_timeout: Duration,
    backoff: Backoff,
}

impl CallbackClient {
    /// A client with `callbacks.connect_timeout_ms` to connect and
    /// `callbacks.timeout_ms` per request, the configured backoff, and
    /// signing when `callbacks.secret` is set.
    pub fn new(config: &CallbacksConfig) -> Result<Self, ClientBuildError> {
        let request_timeout = Duration::from_millis(config.timeout_ms);
        let http = OutboundClient::new(Duration::from_millis(config.connect_timeout_ms), USER_AGENT)?;
        Ok(Self {
            http,
            signer: CallbackSigner::from_secret(&config.secret)?,
            request_timeout,
            backoff: Backoff::from_config(config),
        })
    }

    /// POSTs `body` as JSON to `url` until a 2xx reply, retrying every failure
    /// after a jittered exponential backoff ([`Backoff`]).
    ///
    /// Gives up with [`DeliveryError::DeadlineExceeded`] once `deadline` has
    /// passed; no request runs past it (each request's timeout is cut to the
    /// time left). Returns [`DeliveryError::Cancelled`] as soon as `cancel`
    /// holds `true`; a dropped cancel sender means "never cancelled".
    ///
    /// `url` is expected to have passed the URL policy already.
    pub async fn deliver(
        &self,
        url: &str,
        body: &serde_json::Value,
        deadline: Instant,
        cancel: &watch::Receiver<bool>,
    ) -> Result<DeliveryReport, DeliveryError> {
        let body = serde_json::to_vec(body)?;
        let mut cancel = cancel.clone();
        let mut rng = fastrand::Rng::new();
        let mut attempts = 0_u32;
        let mut last = None;
        loop {
            let Some(left) = time_left(deadline) else {
                return Err(DeliveryError::DeadlineExceeded { attempts, last });
            };
            attempts = attempts.saturating_add(1);
            let attempt = self.attempt(url, &body, left.min(self.request_timeout));
            let outcome = tokio::select! {
                biased;
                () = cancelled(&mut cancel) => return Err(DeliveryError::Cancelled { attempts, last }),
                outcome = attempt => outcome,
            };
            match outcome {
                Ok(status) => return Ok(DeliveryReport { attempts, status }),
                Err(failure) => {
                    tracing::debug!(attempt = attempts, %failure, "callback attempt failed");
                    last = Some(failure);
                }
            }
            let Some(left) = time_left(deadline) else {
                return Err(DeliveryError::DeadlineExceeded { attempts, last });
            };
            let wait = self.backoff.delay(attempts, &mut rng).min(left);
            tokio::select! {
                biased;
                () = cancelled(&mut cancel) => return Err(DeliveryError::Cancelled { attempts, last }),
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// One POST; `Ok` with the status when it is 2xx.
    async fn attempt(
        &self,
        url: &str,
        body: &[u8],
        timeout: Duration,
    ) -> Result<u16, AttemptFailure> {
        let mut headers = Vec::new();
        if let Some(signer) = &self.signer {
            let signed = signer.sign(&unix_seconds().to_string(), body);
            headers = vec![(SIGNATURE_HEADER, signed.signature), (TIMESTAMP_HEADER, signed.timestamp)];
        }
        let status = self.http.post_json(url, body, &headers, timeout).await.map_err(transport_failure)?;
        if (200..300).contains(&status) {
            Ok(status)
        } else {
            Err(AttemptFailure::Status(status))
        }
    }
}

/// Time until `deadline`, or `None` when it has passed.
fn time_left(deadline: Instant) -> Option<Duration> {
    let left = deadline.saturating_duration_since(Instant::now());
    (!left.is_zero()).then_some(left)
}

/// Resolves once `cancel` holds `true`; never if its sender is gone.
async fn cancelled(cancel: &mut watch::Receiver<bool>) {
    if cancel.wait_for(|cancelled| *cancelled).await.is_err() {
        std::future::pending::<()>().await;
    }
}

fn unix_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

/// The error and its causes, without the URL.
fn transport_failure(error: reqwest::Error) -> AttemptFailure {
    AttemptFailure::Transport(crate::fetch::describe(error))
}
