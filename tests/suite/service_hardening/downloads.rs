//! Downloads are streamed from disk and answer byte ranges: a slow client
//! costs the server a chunk, not the file.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::json;

use super::super::service_support::{request_exact, scenario, Server};
use super::assert_error_body;

fn resident_mb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: u64 = status.lines().find_map(|l| l.strip_prefix("VmRSS:")).unwrap().split_whitespace().next().unwrap().parse().unwrap();
    kib / 1024
}

#[test]
fn downloads_answer_byte_ranges_and_parallel_slow_clients_do_not_hold_the_file_in_memory() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let clip = server.input_clip("clip.mp4", 2.0, 320, 180);
    assert_eq!(server.submit(&json!({ "jobId": "ranged", "videoUrl": clip, "scenario": scenario("caption_box.json") })).status, 202);
    server.wait_for("ranged", Duration::from_secs(120), |s| s["status"] == "completed");
    let output = dir.path().join("output/ranged.mp4");
    let file = std::fs::read(&output).unwrap();
    let size = file.len();
    let host = server.base[7..].to_owned();
    let url = server.url("/api/render/ranged/download");
    let get = |range: Option<&str>, if_range: Option<&str>| {
        let mut headers = vec![("Host", host.as_str())];
        headers.extend(range.map(|r| ("Range", r)));
        headers.extend(if_range.map(|v| ("If-Range", v)));
        request_exact("GET", &url, &headers, None)
    };

    let whole = get(None, None);
    assert_eq!(whole.status, 200);
    assert_eq!(whole.body, file);
    assert_eq!(whole.header("accept-ranges"), Some("bytes"));
    assert_eq!(whole.header("content-length"), Some(size.to_string().as_str()));
    let etag = whole.header("etag").expect("an ETag").to_owned();

    let head = get(Some("bytes=0-99"), None);
    assert_eq!(head.status, 206);
    assert_eq!(head.header("content-range"), Some(format!("bytes 0-99/{size}").as_str()));
    assert_eq!(head.body, file[..100]);
    let tail = get(Some("bytes=-50"), None);
    assert_eq!((tail.status, tail.body.as_slice()), (206, &file[size - 50..]));
    let middle = get(Some(&format!("bytes=1000-{}", size * 2)), Some(&etag));
    assert_eq!((middle.status, middle.body.as_slice()), (206, &file[1000..]), "If-Range with the current ETag");
    let stale = get(Some("bytes=0-99"), Some("\"stale\""));
    assert_eq!((stale.status, stale.body.len()), (200, size), "If-Range with another ETag: the whole file");
    // HEAD: the same status and headers as GET, and no body.
    let head = |range: Option<&str>| {
        let mut headers = vec![("Host", host.as_str())];
        headers.extend(range.map(|r| ("Range", r)));
        request_exact("HEAD", &url, &headers, None)
    };
    let whole_head = head(None);
    assert_eq!(whole_head.status, 200, "HEAD of a download");
    assert!(whole_head.body.is_empty(), "HEAD sent {} bytes of body", whole_head.body.len());
    for name in ["content-length", "etag", "accept-ranges", "content-type"] {
        assert_eq!(whole_head.header(name), whole.header(name), "{name} of HEAD and GET");
    }
    let part_head = head(Some("bytes=0-99"));
    assert_eq!((part_head.status, part_head.header("content-range"), part_head.header("content-length")), (206, Some(format!("bytes 0-99/{size}").as_str()), Some("100")));
    assert!(part_head.body.is_empty());
    let qc_head = request_exact("HEAD", &server.url("/api/render/ranged/qc"), &[("Host", host.as_str())], None);
    assert_eq!((qc_head.status, qc_head.header("content-type")), (200, Some("application/json")));
    let qc_size = std::fs::metadata(dir.path().join("output/ranged.mp4.qc.json")).unwrap().len();
    assert_eq!(qc_head.header("content-length"), Some(qc_size.to_string().as_str()));
    assert!(qc_head.body.is_empty());
    let unknown_head = request_exact("HEAD", &server.url("/api/render/never-submitted/download"), &[("Host", host.as_str())], None);
    assert_eq!((unknown_head.status, unknown_head.body.len()), (404, 0));

    let beyond = get(Some(&format!("bytes={size}-")), None);
    assert_eq!(beyond.status, 416);
    assert_eq!(beyond.header("content-range"), Some(format!("bytes */{size}").as_str()));
    assert_error_body(&beyond.json(), "RANGE_NOT_SATISFIABLE");

    // Twelve clients that read a little of a 24 MB output and stall: the
    // whole file read into memory for each would be ~290 MB.
    std::fs::write(&output, vec![7u8; 24 * 1024 * 1024]).unwrap();
    let before = resident_mb(server.pid());
    let mut clients = Vec::new();
    for _ in 0..12 {
        let mut stream = TcpStream::connect(&host).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        stream.write_all(format!("GET /api/render/ranged/download HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes()).unwrap();
        // The head and the first body bytes: the server has begun answering.
        let mut seen = Vec::new();
        let mut buffer = [0u8; 4096];
        while !seen.windows(4).any(|w| w == b"\r\n\r\n") || seen.len() < 8192 {
            let n = stream.read(&mut buffer).unwrap();
            assert!(n > 0, "the download closed early");
            seen.extend_from_slice(&buffer[..n]);
        }
        assert!(seen.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&seen[..40]));
        clients.push(stream);
    }
    let during = resident_mb(server.pid());
    assert!(during < before + 100, "twelve stalled downloads of a 24 MB file took the server from {before} MB to {during} MB");
    drop(clients);
}
