//! A small HTTP/1.1 proxy in front of moto that plays a failing server for
//! the requests whose request line contains a given text: it answers them with
//! 503 Service Unavailable, or never. Everything else is passed through.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinSet;

/// What the proxy does with a matching request.
#[derive(Debug, Clone, Copy)]
pub enum Fault {
    /// Answer `503 Service Unavailable` (a transient S3 error) and close.
    Unavailable,
    /// Never answer.
    Hang,
}

/// The running proxy; stops, with every connection, when dropped.
pub struct FaultProxy {
    pub endpoint: String,
    injected: Arc<AtomicUsize>,
    /// Notified each time a matching request arrives.
    pub hit: Arc<Notify>,
    accept: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    /// Listens on a free loopback port, passing requests on to `upstream`
    /// (`http://host:port`) except those whose request line contains `matching`.
    pub async fn start(upstream: &str, matching: &'static str, fault: Fault) -> FaultProxy {
        let upstream = upstream.trim_start_matches("http://").to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let injected = Arc::new(AtomicUsize::new(0));
        let hit = Arc::new(Notify::new());
        let rule = Rule {
            upstream,
            matching,
            fault,
            injected: injected.clone(),
            hit: hit.clone(),
        };
        let accept = tokio::spawn(async move {
            let mut connections = JoinSet::new();
            while let Ok((client, _)) = listener.accept().await {
                let rule = rule.clone();
                connections.spawn(async move {
                    let _ = rule.serve(client).await;
                });
            }
        });
        FaultProxy {
            endpoint,
            injected,
            hit,
            accept,
        }
    }

    /// How many matching requests the proxy answered with its fault.
    pub fn injected(&self) -> usize {
        self.injected.load(Ordering::SeqCst)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

#[derive(Clone)]
struct Rule {
    upstream: String,
    matching: &'static str,
    fault: Fault,
    injected: Arc<AtomicUsize>,
    hit: Arc<Notify>,
}

impl Rule {
    async fn serve(&self, client: TcpStream) -> std::io::Result<()> {
        let mut client = BufReader::new(client);
        let mut upstream: Option<BufReader<TcpStream>> = None;
        loop {
            let Some(head) = read_head(&mut client).await? else {
                return Ok(());
            };
            let body = read_body(&mut client, content_length(&head)).await?;
            let request_line = head.lines().next().unwrap_or_default().to_owned();
            if request_line.contains(self.matching) {
                self.injected.fetch_add(1, Ordering::SeqCst);
                self.hit.notify_one();
                match self.fault {
                    Fault::Unavailable => {
                        let xml = "<Error><Code>ServiceUnavailable</Code>\
                                   <Message>injected by the test proxy</Message></Error>";
                        let response = format!(
                            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/xml\r\n\
                             Content-Length: {}\r\nConnection: close\r\n\r\n{xml}",
                            xml.len()
                        );
                        client.get_mut().write_all(response.as_bytes()).await?;
                        return client.get_mut().shutdown().await;
                    }
                    Fault::Hang => std::future::pending::<()>().await,
                }
            }
            if upstream.is_none() {
                upstream = Some(BufReader::new(TcpStream::connect(&self.upstream).await?));
            }
            let server = upstream.as_mut().expect("connected above");
            server.get_mut().write_all(head.as_bytes()).await?;
            server.get_mut().write_all(&body).await?;
            let Some(response_head) = read_head(server).await? else {
                return Ok(());
            };
            let status: u16 = response_head
                .split_whitespace()
                .nth(1)
                .and_then(|code| code.parse().ok())
                .unwrap_or(0);
            let has_body =
                !request_line.starts_with("HEAD ") && !matches!(status, 100..=199 | 204 | 304);
            assert!(
                !response_head
                    .to_ascii_lowercase()
                    .contains("transfer-encoding: chunked"),
                "the test proxy does not pass chunked responses on"
            );
            let response_body = if has_body {
                read_body(server, content_length(&response_head)).await?
            } else {
                Vec::new()
            };
            client.get_mut().write_all(response_head.as_bytes()).await?;
            client.get_mut().write_all(&response_body).await?;
        }
    }
}

/// The request or response head up to and with the blank line; `None` at a
/// clean end of stream.
async fn read_head(stream: &mut BufReader<TcpStream>) -> std::io::Result<Option<String>> {
    let mut head = String::new();
    loop {
        let read = stream.read_line(&mut head).await?;
        if read == 0 {
            return Ok(None);
        }
        if head.ends_with("\r\n\r\n") {
            return Ok(Some(head));
        }
    }
}

async fn read_body(stream: &mut BufReader<TcpStream>, length: usize) -> std::io::Result<Vec<u8>> {
    let mut body = vec![0; length];
    stream.read_exact(&mut body).await?;
    Ok(body)
}

fn content_length(head: &str) -> usize {
    head.lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse().ok())
        .unwrap_or(0)
}
