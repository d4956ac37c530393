//! The signals that stop a long-running command (`serve`, `worker`).

/// Resolves on the first SIGTERM or SIGINT; an error when they cannot be
/// watched.
pub(crate) async fn stop_requested() -> std::io::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    tokio::select! {
        _ = term.recv() => {}
        _ = interrupt.recv() => {}
    }
    Ok(())
}
