//! Downloading a source video to a local file within the configured bounds,
//! stopping as soon as the job is cancelled. A download that fails leaves no
//! partial file.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use motionrender_config::UrlPolicyConfig;
use tokio::io::AsyncWriteExt as _;
use tokio::time::Instant;

use super::client::{describe, OutboundClient};
use super::error::FetchError;

/// How often a download looks at the job's cancel flag.
const CANCEL_POLL: Duration = Duration::from_millis(50);

/// The bounds of one download (`url_policy.*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DownloadLimits {
    /// The whole download, from the request to the last byte.
    pub total: Duration,
    /// The longest wait for the answer or for the next bytes.
    pub idle: Duration,
    pub max_bytes: u64,
}

impl DownloadLimits {
    pub fn from_config(config: &UrlPolicyConfig) -> Self {
        Self {
            total: Duration::from_secs(config.download_timeout_secs),
            idle: Duration::from_secs(config.download_idle_secs),
            max_bytes: config.max_video_bytes,
        }
    }
}

impl OutboundClient {
    /// Downloads `url` into the file `to` (created or truncated); the bytes
    /// written. Fails past `limits` or once `cancel` is set, and then
    /// removes what it wrote.
    pub async fn download(&self, url: &url::Url, to: &Path, limits: &DownloadLimits, cancel: &AtomicBool) -> Result<u64, FetchError> {
        let deadline = Instant::now() + limits.total;
        let outcome = tokio::select! {
            biased;
            () = cancelled(cancel) => Err(FetchError::Cancelled),
            outcome = tokio::time::timeout_at(deadline, self.fetch_into(url, to, limits)) => {
                outcome.unwrap_or(Err(FetchError::TimedOut(limits.total.as_secs())))
            }
        };
        if outcome.is_err() {
            let _ = tokio::fs::remove_file(to).await;
        }
        outcome
    }

    async fn fetch_into(&self, url: &url::Url, to: &Path, limits: &DownloadLimits) -> Result<u64, FetchError> {
        let stalled = || FetchError::Stalled(limits.idle.as_secs());
        let answer = tokio::time::timeout(limits.idle, self.http.get(url.clone()).send()).await.map_err(|_| stalled())?;
        let mut answer = answer.map_err(|error| {
            if error.is_connect() && error.is_timeout() {
                FetchError::ConnectTimedOut(self.connect_timeout.as_millis() as u64)
            } else {
                FetchError::Transport(describe(error))
            }
        })?;
        if !answer.status().is_success() {
            return Err(FetchError::Status(answer.status().as_u16()));
        }
        let too_large = |announced| FetchError::TooLarge { limit: limits.max_bytes, announced };
        if let Some(length) = answer.content_length().filter(|length| *length > limits.max_bytes) {
            return Err(too_large(Some(length)));
        }
        let write_failed = |source| FetchError::Write { path: to.to_owned(), source };
        let mut file = tokio::fs::File::create(to).await.map_err(write_failed)?;
        let mut written = 0_u64;
        loop {
            let chunk = tokio::time::timeout(limits.idle, answer.chunk()).await.map_err(|_| stalled())?;
            let Some(chunk) = chunk.map_err(|error| FetchError::Transport(format!("the download broke off: {}", describe(error))))? else {
                break;
            };
            written += chunk.len() as u64;
            if written > limits.max_bytes {
                return Err(too_large(answer.content_length()));
            }
            file.write_all(&chunk).await.map_err(write_failed)?;
        }
        file.flush().await.map_err(write_failed)?;
        Ok(written)
    }
}

/// Resolves once `cancel` is set.
pub(crate) async fn cancelled(cancel: &AtomicBool) {
    while !cancel.load(Ordering::Relaxed) {
        tokio::time::sleep(CANCEL_POLL).await;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::sync::Arc;

    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::net::TcpListener;

    use super::*;

    fn limits(total_ms: u64, idle_ms: u64, max_bytes: u64) -> DownloadLimits {
        DownloadLimits { total: Duration::from_millis(total_ms), idle: Duration::from_millis(idle_ms), max_bytes }
    }

    fn client() -> OutboundClient {
        OutboundClient::new(Duration::from_secs(2), "motionrender-test").unwrap()
    }

    /// An origin on a loopback port that reads the request, then sends `head`
    /// and `body_chunks` with `pause` between chunks; it holds the socket open
    /// for a while after (a stalling origin).
    async fn origin(head: &'static str, body_chunks: Vec<Vec<u8>>, pause: Duration) -> url::Url {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let (head, chunks) = (head, body_chunks.clone());
                tokio::spawn(async move {
                    let mut request = [0u8; 4096];
                    let _ = socket.read(&mut request).await;
                    if socket.write_all(head.as_bytes()).await.is_err() {
                        return;
                    }
                    for chunk in chunks {
                        tokio::time::sleep(pause).await;
                        if socket.write_all(&chunk).await.is_err() {
                            return;
                        }
                    }
                    tokio::time::sleep(Duration::from_secs(30)).await;
                });
            }
        });
        url::Url::parse(&format!("http://127.0.0.1:{port}/clip.mp4")).unwrap()
    }

    #[tokio::test]
    async fn a_whole_file_is_written() {
        let url = origin("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", vec![b"0123456789".to_vec()], Duration::ZERO).await;
        let dir = tempfile::tempdir().unwrap();
        let to = dir.path().join("clip.mp4");
        let written = client().download(&url, &to, &limits(5000, 2000, 100), &AtomicBool::new(false)).await.unwrap();
        assert_eq!(written, 10);
        assert_eq!(std::fs::read(&to).unwrap(), b"0123456789");
    }

    #[tokio::test]
    async fn an_origin_that_never_answers_is_stalled_after_the_idle_limit() {
        let url = origin("", Vec::new(), Duration::ZERO).await;
        let dir = tempfile::tempdir().unwrap();
        let error = client().download(&url, &dir.path().join("v"), &limits(60_000, 300, 100), &AtomicBool::new(false)).await.unwrap_err();
        assert!(matches!(error, FetchError::Stalled(_)), "{error}");
        assert!(error.to_string().contains("url_policy.download_idle_secs"), "{error}");
    }

    #[tokio::test]
    async fn a_trickling_origin_hits_the_total_limit_and_leaves_no_file() {
        let chunks = vec![b"x".to_vec(); 100];
        let url = origin("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", chunks, Duration::from_millis(100)).await;
        let dir = tempfile::tempdir().unwrap();
        let to = dir.path().join("v");
        let error = client().download(&url, &to, &limits(800, 5000, 1000), &AtomicBool::new(false)).await.unwrap_err();
        assert!(matches!(error, FetchError::TimedOut(_)), "{error}");
        assert!(error.to_string().contains("url_policy.download_timeout_secs"), "{error}");
        assert!(!to.exists(), "a partial download was left behind");
    }

    #[tokio::test]
    async fn a_file_over_the_size_limit_is_refused_whether_announced_or_not() {
        let dir = tempfile::tempdir().unwrap();
        let announced = origin("HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n", vec![vec![b'a'; 5000]], Duration::ZERO).await;
        let error = client().download(&announced, &dir.path().join("a"), &limits(5000, 2000, 1000), &AtomicBool::new(false)).await.unwrap_err();
        assert!(matches!(error, FetchError::TooLarge { announced: Some(5000), .. }), "{error}");
        // Chunked, no length: it stops once the limit is passed, and deletes the partial file.
        let chunk = |n: usize| format!("{n:x}\r\n{}\r\n", "b".repeat(n)).into_bytes();
        let unannounced = origin("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", vec![chunk(600), chunk(600), chunk(600)], Duration::ZERO).await;
        let to = dir.path().join("b");
        let error = client().download(&unannounced, &to, &limits(5000, 2000, 1000), &AtomicBool::new(false)).await.unwrap_err();
        assert!(matches!(error, FetchError::TooLarge { announced: None, .. }), "{error}");
        assert!(error.to_string().contains("url_policy.max_video_bytes"), "{error}");
        assert!(!to.exists());
    }

    #[tokio::test]
    async fn a_cancel_stops_a_stalled_download_at_once() {
        let url = origin("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", Vec::new(), Duration::ZERO).await;
        let dir = tempfile::tempdir().unwrap();
        let cancel = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&cancel);
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            flag.store(true, Ordering::Relaxed);
        });
        // Both limits are far off: only the cancel can end this download.
        let (client, to, limits) = (client(), dir.path().join("v"), limits(600_000, 600_000, 1000));
        let download = client.download(&url, &to, &limits, &cancel);
        let error = tokio::time::timeout(Duration::from_secs(30), download).await.expect("the cancel was not noticed").unwrap_err();
        assert!(matches!(error, FetchError::Cancelled), "{error}");
    }

    #[tokio::test]
    async fn a_redirect_is_not_followed() {
        let url = origin("HTTP/1.1 302 Found\r\nLocation: http://169.254.169.254/\r\nContent-Length: 0\r\n\r\n", Vec::new(), Duration::ZERO).await;
        let dir = tempfile::tempdir().unwrap();
        let error = client().download(&url, &dir.path().join("v"), &limits(5000, 2000, 100), &AtomicBool::new(false)).await.unwrap_err();
        assert!(matches!(error, FetchError::Status(302)), "{error}");
    }
}
