//! A minimal HTTP/1.1 callback receiver on a real socket: records each
//! request and answers with a status the test can change at any time.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// One received request.
#[derive(Debug, Clone)]
pub struct Received {
    /// Header names lowercased, values as sent.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// A running receiver; stops when dropped.
#[derive(Debug)]
pub struct Receiver {
    pub addr: SocketAddr,
    status: Arc<AtomicU16>,
    received: Arc<Mutex<Vec<Received>>>,
    task: JoinHandle<()>,
}

impl Receiver {
    /// Serves on a fresh loopback port.
    pub async fn start(status: u16) -> std::io::Result<Self> {
        Ok(Self::serve(TcpListener::bind("127.0.0.1:0").await?, status))
    }

    /// Serves on `listener`.
    pub fn serve(listener: TcpListener, status: u16) -> Self {
        let addr = listener
            .local_addr()
            .unwrap_or_else(|_| ([127, 0, 0, 1], 0).into());
        let status = Arc::new(AtomicU16::new(status));
        let received = Arc::new(Mutex::new(Vec::new()));
        let task = tokio::spawn(accept_loop(listener, status.clone(), received.clone()));
        Self {
            addr,
            status,
            received,
            task,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    pub fn set_status(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    pub fn received(&self) -> Vec<Received> {
        self.received
            .lock()
            .map(|list| list.clone())
            .unwrap_or_default()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn accept_loop(
    listener: TcpListener,
    status: Arc<AtomicU16>,
    received: Arc<Mutex<Vec<Received>>>,
) {
    while let Ok((stream, _)) = listener.accept().await {
        let status = status.clone();
        let received = received.clone();
        tokio::spawn(async move {
            let _ = respond(stream, &status, &received).await;
        });
    }
}

async fn respond(
    mut stream: TcpStream,
    status: &AtomicU16,
    received: &Mutex<Vec<Received>>,
) -> std::io::Result<()> {
    let mut buffer = Vec::new();
    let mut chunk = [0_u8; 4096];
    let head_end = loop {
        if let Some(end) = find(&buffer, b"\r\n\r\n") {
            break end;
        }
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Ok(());
        }
        buffer.extend_from_slice(&chunk[..read]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let headers: Vec<(String, String)> = head
        .lines()
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(name, _)| name == "content-length")
        .and_then(|(_, value)| value.parse().ok())
        .unwrap_or(0);
    let mut body = buffer[head_end + 4..].to_vec();
    while body.len() < length {
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..read]);
    }
    if let Ok(mut list) = received.lock() {
        list.push(Received { headers, body });
    }
    let code = status.load(Ordering::SeqCst);
    let reply = format!("HTTP/1.1 {code} Test\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    stream.write_all(reply.as_bytes()).await?;
    stream.shutdown().await
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}
