//! Catching a panic at an actor's boundary: the work of a job, a rasterizer
//! or an encoder thread that panics becomes a typed failure with the panic's
//! message, never a silent stop (actix does not catch panics itself).

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures::FutureExt as _;

/// The message a panic carried.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

/// Runs `work`, turning a panic into `Err(message)`.
pub async fn catching<T>(work: impl Future<Output = T>) -> Result<T, String> {
    AssertUnwindSafe(work).catch_unwind().await.map_err(|payload| panic_message(payload.as_ref()))
}

/// As [`catching`], for blocking work on the current thread.
pub fn catching_blocking<T>(work: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(AssertUnwindSafe(work)).map_err(|payload| panic_message(payload.as_ref()))
}

/// The test-only fault switch: with the `fault-injection` feature, the
/// environment variable `MR_TEST_FAULT` names points where the engine
/// misbehaves on purpose (`job_panic:ID`, `encoder_panic`, `slow_cleanup:ID`).
/// Without the feature this is always false.
pub fn fault_at(point: &str) -> bool {
    #[cfg(feature = "fault-injection")]
    {
        std::env::var("MR_TEST_FAULT").is_ok_and(|wanted| wanted.split(',').any(|p| p.trim() == point))
    }
    #[cfg(not(feature = "fault-injection"))]
    {
        let _ = point;
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_its_message() {
        assert_eq!(catching_blocking(|| panic!("boom {}", 7)), Err::<(), _>("boom 7".to_owned()));
        assert_eq!(catching_blocking(|| 3), Ok(3));
    }
}
