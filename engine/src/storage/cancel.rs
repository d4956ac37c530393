//! The cancel signal: a `watch::Receiver<bool>` that turns `true`.

use tokio::sync::watch;

/// Whether cancellation was already asked for.
pub(super) fn is_cancelled(cancel: &watch::Receiver<bool>) -> bool {
    *cancel.borrow()
}

/// Completes when cancellation is asked for; never, when the sender is gone
/// without having asked.
pub(super) async fn cancelled(cancel: &watch::Receiver<bool>) {
    let mut cancel = cancel.clone();
    if cancel.wait_for(|cancelled| *cancelled).await.is_err() {
        std::future::pending::<()>().await;
    }
}
