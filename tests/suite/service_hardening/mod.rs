//! Issue #9, "nothing wedged, every bad input a clean 4xx", against the real
//! `motionrender serve`: slow and oversized origins, request limits, error
//! bodies, event ids, the bearer scheme, cross-site requests, rotated and
//! damaged sources, and streamed ranged downloads.

mod downloads;
mod leftovers;
mod media;
mod origins;
mod output_keys;
mod protocol;
mod requests;
mod retention;
mod s3_sources;
mod soak;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use serde_json::Value;

/// The five keys of the API's error body, `job_id` possibly null.
pub fn assert_error_body(body: &Value, code: &str) {
    assert_eq!(body["error_code"], code, "{body}");
    assert!(body["error_message"].as_str().is_some_and(|m| !m.is_empty()), "no error_message: {body}");
    assert!(body["details"].is_object(), "no details object: {body}");
    assert!(body["suggestions"].is_array(), "no suggestions list: {body}");
    assert!(body.as_object().is_some_and(|b| b.contains_key("job_id")), "no job_id: {body}");
}

/// An http origin on a loopback port that misbehaves by path:
/// `/stall.mp4` accepts and never answers, `/trickle.mp4` sends a byte now
/// and then, `/big.mp4` announces 50 MB, `/endless.mp4` sends chunks for
/// ever. Each connection holds a thread until the client hangs up.
pub struct Origin {
    pub port: u16,
}

impl Origin {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                std::thread::spawn(move || misbehave(stream));
            }
        });
        Self { port }
    }

    pub fn url(&self, name: &str) -> String {
        format!("http://127.0.0.1:{}/{name}", self.port)
    }
}

fn misbehave(stream: TcpStream) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    let _ = reader.read_line(&mut line);
    let path = line.split_whitespace().nth(1).unwrap_or_default().to_owned();
    loop {
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
            break;
        }
    }
    let mut stream = stream;
    let _ = stream.set_write_timeout(Some(Duration::from_secs(60)));
    match path.as_str() {
        "/trickle.mp4" => {
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n");
            while stream.write_all(b"x").is_ok() {
                std::thread::sleep(Duration::from_millis(300));
            }
        }
        "/big.mp4" => {
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 50000000\r\n\r\n");
            let zeros = vec![0u8; 65536];
            while stream.write_all(&zeros).is_ok() {}
        }
        "/endless.mp4" => {
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
            let chunk = [format!("{:x}\r\n", 65536).into_bytes(), vec![b'e'; 65536], b"\r\n".to_vec()].concat();
            while stream.write_all(&chunk).is_ok() {}
        }
        _ => {
            // Stall: hold the connection, answer nothing, until the client gives up.
            let mut sink = [0u8; 1024];
            while reader.read(&mut sink).is_ok_and(|n| n > 0) {}
        }
    }
}

/// Server-sent events of `url` as `(id, data)`, read until `done` holds for
/// an event's data (or the stream ends); panics after `limit`.
pub fn read_events(url: &str, headers: &[(&str, &str)], limit: Duration, done: impl Fn(&Value) -> bool) -> Vec<(String, Value)> {
    let deadline = std::time::Instant::now() + limit;
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap());
    let mut stream = TcpStream::connect(host).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut head = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    stream.write_all(format!("{head}\r\n").as_bytes()).unwrap();
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert!(line.contains(" 200 "), "the event stream answered {line}");
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        if line.trim().is_empty() {
            break;
        }
    }
    // The body is chunked; events end with a blank line.
    let (mut text, mut events) = (String::new(), Vec::new());
    loop {
        let seen: Vec<&Value> = events.iter().map(|(_, data)| data).collect();
        assert!(std::time::Instant::now() < deadline, "the event stream did not get there within {limit:?}; events {seen:?}");
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return events;
        }
        let size = usize::from_str_radix(line.trim(), 16).unwrap_or(0);
        if size == 0 {
            return events;
        }
        let mut chunk = vec![0; size + 2];
        reader.read_exact(&mut chunk).unwrap();
        text.push_str(&String::from_utf8_lossy(&chunk[..size]));
        while let Some(end) = text.find("\n\n") {
            let event: String = text.drain(..end + 2).collect();
            let id = event.lines().find_map(|l| l.strip_prefix("id: ")).map(str::to_owned);
            let data = event.lines().find_map(|l| l.strip_prefix("data: ")).map(|d| serde_json::from_str::<Value>(d).unwrap());
            if let Some(data) = data {
                let finished = done(&data);
                events.push((id.unwrap_or_default(), data));
                if finished {
                    return events;
                }
            }
        }
    }
}
