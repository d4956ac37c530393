//! What the service tests share: a `motionrender serve` child on a free
//! port with its own data folder, a tiny HTTP client, and a callback
//! receiver that records what it is sent.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use motionrender_engine::media::{testclip::generate_clip, FrameRate};
pub use motionrender_tests::{free_port, processes_mentioning};
use motionrender_tests::{fixtures_dir, motionrender_binary, read_json, ServerProcess};
use serde_json::Value;

/// A running `motionrender serve`.
pub struct Server {
    process: Option<ServerProcess>,
    pub base: String,
    pub data_dir: PathBuf,
    port: u16,
    sets: Vec<String>,
    env: Vec<(String, String)>,
}

impl Server {
    /// Starts a server on a free port with `data_dir`, `--set`s applied.
    pub fn start(data_dir: &Path, sets: &[&str]) -> Self {
        Self::start_with_env(data_dir, sets, &[])
    }

    /// As [`Server::start`], with environment variables for the server.
    pub fn start_with_env(data_dir: &Path, sets: &[&str], env: &[(&str, &str)]) -> Self {
        let port = free_port();
        let mut server = Self {
            process: None,
            base: format!("http://127.0.0.1:{port}"),
            data_dir: data_dir.to_path_buf(),
            port,
            sets: sets.iter().map(|s| (*s).to_owned()).collect(),
            env: env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        };
        server.spawn();
        server
    }

    fn spawn(&mut self) {
        let (bind, dir) = (format!("127.0.0.1:{}", self.port), self.data_dir.to_string_lossy().into_owned());
        let mut args: Vec<&str> = Vec::new();
        for set in &self.sets {
            args.extend(["--set", set]);
        }
        args.extend(["serve", "--bind", &bind, "--data-dir", &dir]);
        let env: Vec<(&str, &str)> = self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        self.process = Some(ServerProcess::start_with_env(&motionrender_binary(), &args, &env, &self.data_dir.join("server.log")));
        let deadline = Instant::now() + Duration::from_secs(30);
        while get(&format!("{}/livez", self.base)).status != 200 {
            assert!(Instant::now() < deadline, "the server did not come up: {}", self.log());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn pid(&self) -> u32 {
        self.process.as_ref().map_or(0, ServerProcess::pid)
    }

    /// `kill -9`, as a crash would (dropping the process kills it so).
    pub fn kill9(&mut self) {
        self.process = None;
    }

    /// SIGTERM, as a service manager stops it; returns how it exited.
    pub fn terminate(&mut self, patience: Duration) -> std::process::ExitStatus {
        let mut process = self.process.take().expect("the server runs");
        process.stop(patience).unwrap_or_else(|| panic!("the server did not exit within {patience:?} of SIGTERM: {}", process.output()))
    }

    /// Starts the server again on the same port and data folder.
    pub fn restart(&mut self) {
        self.kill9();
        self.spawn();
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.data_dir.join("server.log")).unwrap_or_default()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A clip in the server's input root.
    pub fn input_clip(&self, name: &str, seconds: f64, width: u32, height: u32) -> PathBuf {
        let inputs = self.data_dir.join("inputs");
        std::fs::create_dir_all(&inputs).unwrap();
        let clip = inputs.join(name);
        if !clip.exists() {
            generate_clip(&clip, seconds, width, height, FrameRate::new(25, 1).unwrap(), true).unwrap();
        }
        clip
    }

    /// Submits a job: `POST /render` with `body`.
    pub fn submit(&self, body: &Value) -> Response {
        request("POST", &self.url("/render"), &[], Some(body.to_string().as_bytes()))
    }

    pub fn status(&self, job_id: &str) -> Value {
        get(&self.url(&format!("/api/render/{job_id}/status"))).json()
    }

    /// Polls a job's status until `done` says so, or panics after `limit`.
    pub fn wait_for(&self, job_id: &str, limit: Duration, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + limit;
        loop {
            let status = self.status(job_id);
            if done(&status) {
                return status;
            }
            assert!(Instant::now() < deadline, "job {job_id} never got there; last status {status}; log: {}", self.log());
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
        // Browsers whose profile is under this data folder die with the test.
        let marker = self.data_dir.to_string_lossy().into_owned();
        for (pid, _) in processes_mentioning(&marker) {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
    }
}

/// A scenario fixture as JSON.
pub fn scenario(name: &str) -> Value {
    read_json(&fixtures_dir().join("render").join(name))
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(&name.to_ascii_lowercase()).map(String::as_str)
    }
}

pub fn get(url: &str) -> Response {
    request("GET", url, &[], None)
}

/// One HTTP/1.1 request over a fresh connection; status 0 when the server
/// cannot be reached.
pub fn request(method: &str, url: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> Response {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let Ok(mut stream) = TcpStream::connect(host) else {
        return Response { status: 0, headers: HashMap::new(), body: Vec::new() };
    };
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    let body = body.unwrap_or_default();
    if method != "GET" {
        head.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    let _ = stream.write_all(body);
    read_response(stream)
}

/// One HTTP/1.1 request with exactly `headers` (plus `Connection: close`
/// and, with a body, `Content-Length`), for tests of the checks on `Host`,
/// `Origin` and `Content-Type` that [`request`] fills in.
pub fn request_exact(method: &str, url: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> Response {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let mut stream = TcpStream::connect(host).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some(body) = body {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    let _ = stream.write_all(body.unwrap_or_default());
    read_response(stream)
}

fn read_response(stream: TcpStream) -> Response {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let status = line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let mut headers = HashMap::new();
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            break;
        }
        if let Some((name, value)) = trimmed.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
        }
    }
    let mut body = Vec::new();
    if headers.get("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        loop {
            line.clear();
            reader.read_line(&mut line).unwrap();
            let size = usize::from_str_radix(line.trim(), 16).unwrap_or(0);
            if size == 0 {
                break;
            }
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).unwrap();
            body.extend_from_slice(&chunk[..size]);
        }
    } else {
        let _ = reader.read_to_end(&mut body);
    }
    Response { status, headers, body }
}

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// A callback receiver on a port; answers 200 to every POST.
pub struct Receiver {
    pub received: Arc<Mutex<Vec<Received>>>,
    stop: Arc<AtomicBool>,
    port: u16,
}

impl Receiver {
    pub fn start(port: u16) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        listener.set_nonblocking(true).unwrap();
        let (received, stop) = (Arc::new(Mutex::new(Vec::new())), Arc::new(AtomicBool::new(false)));
        let (log, stopped) = (Arc::clone(&received), Arc::clone(&stop));
        std::thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let _ = stream.set_nonblocking(false);
                        if let Some(request) = serve_one(stream) {
                            log.lock().unwrap().push(request);
                        }
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Self { received, stop, port }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/callback", self.port)
    }

    pub fn all(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn serve_one(mut stream: TcpStream) -> Option<Received> {
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut headers = HashMap::new();
    loop {
        line.clear();
        reader.read_line(&mut line).ok()?;
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            break;
        }
        if let Some((name, value)) = trimmed.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
        }
    }
    let length = headers.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").ok()?;
    Some(Received { headers, body })
}

/// moto's S3-compatible server (installed by scripts/setup into .venv-test).
pub struct Moto {
    child: Child,
    pub port: u16,
}

impl Moto {
    pub fn start() -> Self {
        let binary = std::env::var_os("MOTO_SERVER")
            .map(PathBuf::from)
            .unwrap_or_else(|| motionrender_tests::crate_dir().join("../.venv-test/bin/moto_server"));
        assert!(binary.is_file(), "{} is missing: run scripts/setup (it installs moto's S3 server)", binary.display());
        let port = free_port();
        let child = Command::new(&binary)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let moto = Self { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while get(&moto.endpoint()).status == 0 {
            assert!(Instant::now() < deadline, "moto did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn create_bucket(&self, bucket: &str) {
        let answer = request("PUT", &format!("{}/{bucket}", self.endpoint()), &[], Some(b""));
        assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
    }

    /// Multipart uploads started and neither completed nor aborted.
    pub fn uploads_in_progress(&self, bucket: &str) -> usize {
        let answer = get(&format!("{}/{bucket}?uploads", self.endpoint()));
        String::from_utf8_lossy(&answer.body).matches("<Upload>").count()
    }

    pub fn object_keys(&self, bucket: &str) -> Vec<String> {
        let answer = get(&format!("{}/{bucket}?list-type=2", self.endpoint()));
        let text = String::from_utf8_lossy(&answer.body).into_owned();
        text.split("<Key>").skip(1).filter_map(|rest| rest.split("</Key>").next()).map(str::to_owned).collect()
    }

    /// The `--set`s that point a server at this moto and `bucket`.
    pub fn settings(&self, endpoint: &str, bucket: &str) -> Vec<String> {
        vec![
            format!("s3.bucket={bucket}"),
            format!("s3.endpoint={endpoint}"),
            "s3.region=us-east-1".to_owned(),
            "s3.access_key_id=test".to_owned(),
            "s3.secret_access_key=test".to_owned(),
            "s3.force_path_style=true".to_owned(),
        ]
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A TCP proxy that can be cut: while cut, it drops every connection (new
/// and open ones), so the target looks unreachable.
pub struct CutProxy {
    pub port: u16,
    cut: Arc<AtomicBool>,
}

impl CutProxy {
    pub fn start(target: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let cut = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&cut);
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                if flag.load(Ordering::Relaxed) {
                    drop(client);
                    continue;
                }
                let Ok(upstream) = TcpStream::connect(("127.0.0.1", target)) else { continue };
                for (mut from, mut to) in [(client.try_clone().unwrap(), upstream.try_clone().unwrap()), (upstream, client)] {
                    let flag = Arc::clone(&flag);
                    std::thread::spawn(move || {
                        let mut buffer = [0u8; 16384];
                        while !flag.load(Ordering::Relaxed) {
                            match from.read(&mut buffer) {
                                Ok(0) | Err(_) => break,
                                Ok(n) => {
                                    if to.write_all(&buffer[..n]).is_err() {
                                        break;
                                    }
                                }
                            }
                        }
                        let _ = to.shutdown(std::net::Shutdown::Both);
                        let _ = from.shutdown(std::net::Shutdown::Both);
                    });
                }
            }
        });
        Self { port, cut }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn cut(&self) {
        self.cut.store(true, Ordering::Relaxed);
    }
}
