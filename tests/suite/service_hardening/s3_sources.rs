//! An `s3://` source over `url_policy.max_video_bytes` is refused by the size
//! the bucket announces (`HeadObject`), before a byte of it is downloaded,
//! with the limit named; a source within the limit is fetched and rendered.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;

use super::super::service_support::{request, scenario, Moto, Server};

/// A TCP proxy in front of a server that keeps every byte its clients sent
/// (so a test can see which requests reached the server).
struct RecordingProxy {
    port: u16,
    sent: Arc<Mutex<Vec<u8>>>,
}

impl RecordingProxy {
    fn start(target: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let sent = Arc::new(Mutex::new(Vec::new()));
        let record = Arc::clone(&sent);
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(upstream) = TcpStream::connect(("127.0.0.1", target)) else { continue };
                let (mut from_client, mut to_upstream) = (client.try_clone().unwrap(), upstream.try_clone().unwrap());
                let record = Arc::clone(&record);
                std::thread::spawn(move || {
                    let mut buffer = [0u8; 16384];
                    while let Ok(n @ 1..) = from_client.read(&mut buffer) {
                        record.lock().unwrap().extend_from_slice(&buffer[..n]);
                        if to_upstream.write_all(&buffer[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = to_upstream.shutdown(std::net::Shutdown::Write);
                });
                let (mut from_upstream, mut to_client) = (upstream, client);
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut from_upstream, &mut to_client);
                    let _ = to_client.shutdown(std::net::Shutdown::Both);
                });
            }
        });
        Self { port, sent }
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn sent(&self) -> String {
        String::from_utf8_lossy(&self.sent.lock().unwrap()).into_owned()
    }
}

#[test]
fn an_s3_source_over_the_limit_is_refused_by_its_announced_size_before_it_is_downloaded() {
    let moto = Moto::start();
    moto.create_bucket("sources");
    let dir = tempfile::tempdir().unwrap();
    let proxy = RecordingProxy::start(moto.port);
    let mut settings = moto.settings(&proxy.endpoint(), "sources");
    settings.push("url_policy.max_video_bytes=1000000".to_owned());
    let settings: Vec<&str> = settings.iter().map(String::as_str).collect();
    let server = Server::start(dir.path(), &settings);
    let big = vec![0u8; 3_000_000];
    assert_eq!(request("PUT", &format!("{}/sources/big.mp4", moto.endpoint()), &[], Some(&big)).status, 200);
    let clip = std::fs::read(server.input_clip("small.mp4", 1.0, 160, 90)).unwrap();
    assert!(clip.len() < 1_000_000);
    assert_eq!(request("PUT", &format!("{}/sources/small.mp4", moto.endpoint()), &[], Some(&clip)).status, 200);

    assert_eq!(server.submit(&json!({ "jobId": "too-big", "videoUrl": "s3://sources/big.mp4", "scenario": scenario("caption_box.json") })).status, 202);
    let failed = server.wait_for("too-big", Duration::from_secs(60), |s| s["status"] != "queued" && s["status"] != "processing");
    assert_eq!((failed["status"].as_str(), failed["error_code"].as_str()), (Some("failed"), Some("INVALID_VIDEO_URL")), "{failed}");
    let message = failed["error_message"].as_str().unwrap();
    assert!(message.starts_with("videoUrl") && message.contains("url_policy.max_video_bytes") && message.contains("3000000"), "{message}");
    let sent = proxy.sent();
    assert!(sent.contains("HEAD /sources/big.mp4"), "the size was not asked for: {sent}");
    assert!(!sent.contains("GET /sources/big.mp4"), "the object was downloaded although its size was known to be over the limit");

    // Within the limit, the same path fetches and renders it.
    assert_eq!(server.submit(&json!({ "jobId": "fits", "videoUrl": "s3://sources/small.mp4", "scenario": scenario("caption_box.json") })).status, 202);
    let done = server.wait_for("fits", Duration::from_secs(120), |s| s["status"] != "queued" && s["status"] != "processing");
    assert_eq!(done["status"], "completed", "{done}");
    assert!(proxy.sent().contains("GET /sources/small.mp4"));
}
