//! Bounded retries with exponential backoff for S3 requests, interrupted by cancellation.

use std::future::Future;
use std::time::Duration;

use aws_sdk_s3::error::DisplayErrorContext;
use motionrender_config::RetriesConfig;
use tokio::sync::watch;

use super::cancel::cancelled;

/// How often, and how patiently, a failed request is tried again (`[retries]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct RetryPolicy {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
}

impl RetryPolicy {
    pub(super) fn from_config(retries: &RetriesConfig) -> Self {
        let initial_backoff = Duration::from_millis(retries.initial_backoff_ms);
        Self {
            max_attempts: retries.max_attempts.max(1),
            initial_backoff,
            max_backoff: Duration::from_millis(retries.max_backoff_ms).max(initial_backoff),
        }
    }

    /// The wait after the `failures`-th failed attempt (1-based).
    fn backoff(&self, failures: u32) -> Duration {
        let factor = 2u32.saturating_pow(failures.saturating_sub(1));
        self.initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }
}

/// Why a retried request gave up.
#[derive(Debug)]
pub(super) enum RetryError<E> {
    /// Cancellation was asked for before or during an attempt or a wait.
    Cancelled,
    /// The last attempt failed, and either it was not transient or it was the last allowed.
    Failed { error: E, attempts: u32 },
}

/// Runs `attempt` until it succeeds, fails with an error `is_transient` calls
/// permanent, or `policy`'s attempts are used up; waits between attempts.
/// With `cancel`, an attempt in flight or a wait is dropped as soon as
/// cancellation is asked for.
pub(super) async fn retry<T, E, F, Fut>(
    policy: &RetryPolicy,
    cancel: Option<&watch::Receiver<bool>>,
    what: &str,
    is_transient: impl Fn(&E) -> bool,
    mut attempt: F,
) -> Result<T, RetryError<E>>
where
    E: std::error::Error + 'static,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut attempts = 0;
    loop {
        attempts += 1;
        let error = match until_cancelled(cancel, attempt()).await {
            None => return Err(RetryError::Cancelled),
            Some(Ok(value)) => return Ok(value),
            Some(Err(error)) => error,
        };
        if attempts >= policy.max_attempts || !is_transient(&error) {
            return Err(RetryError::Failed { error, attempts });
        }
        let wait = policy.backoff(attempts);
        tracing::warn!(
            request = what,
            attempt = attempts,
            max_attempts = policy.max_attempts,
            wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
            error = %DisplayErrorContext(&error),
            "S3 request failed; retrying"
        );
        if until_cancelled(cancel, tokio::time::sleep(wait))
            .await
            .is_none()
        {
            return Err(RetryError::Cancelled);
        }
    }
}

/// `work`'s output, or `None` when `cancel` fires first.
async fn until_cancelled<T>(
    cancel: Option<&watch::Receiver<bool>>,
    work: impl Future<Output = T>,
) -> Option<T> {
    match cancel {
        None => Some(work.await),
        Some(cancel) => tokio::select! {
            biased;
            () = cancelled(cancel) => None,
            output = work => Some(output),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::RetryPolicy;
    use motionrender_config::RetriesConfig;
    use std::time::Duration;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let policy = RetryPolicy::from_config(&RetriesConfig {
            max_attempts: 10,
            initial_backoff_ms: 100,
            max_backoff_ms: 500,
        });
        let waits: Vec<_> = (1..=5).map(|failures| policy.backoff(failures)).collect();
        let expected = [100, 200, 400, 500, 500].map(Duration::from_millis);
        assert_eq!(waits, expected);
    }
}
