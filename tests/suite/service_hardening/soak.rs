//! The bounded soak of issue #9: 300 mixed requests — good renders, bad and
//! hostile input, huge bodies, slow origins, cancels — from four clients at
//! once against one server, while a fifth polls `/livez`. Bad input never
//! gets a 5xx, every good job completes, the server's resident memory ends
//! within 150 MB of where it started, and nothing is left: no child
//! process, no work folder.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use motionrender_tests::descendants;
use serde_json::{json, Value};

use super::super::service_support::{get, processes_mentioning, request, request_exact, scenario, Response, Server};
use super::Origin;

const REQUESTS: usize = 300;
const GOOD: usize = 24;
const CANCELLED: usize = 12;
const SLOW: usize = 12;
const HUGE: usize = 12;
const CLIENTS: usize = 4;
/// How far the server's resident memory may grow over the soak.
const RSS_GROWTH_MB: u64 = 150;

/// What one request of the soak is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    /// A small render that must complete.
    Good,
    /// A render cancelled soon after it is submitted.
    Cancelled,
    /// A source from an origin that stalls (n even) or announces too many bytes.
    Slow,
    /// A body of megabytes, each over one of the limits.
    Huge,
    /// Malformed or hostile input, wrong routes and methods.
    Bad,
}

/// The soak's requests in a shuffled but fixed order.
fn plan() -> Vec<Kind> {
    let mut kinds: Vec<Kind> = [(Kind::Good, GOOD), (Kind::Cancelled, CANCELLED), (Kind::Slow, SLOW), (Kind::Huge, HUGE)]
        .into_iter()
        .flat_map(|(kind, count)| std::iter::repeat_n(kind, count))
        .collect();
    kinds.resize(REQUESTS, Kind::Bad);
    // Fisher–Yates with a fixed linear congruential generator.
    let mut state: u64 = 0x5eed;
    for i in (1..kinds.len()).rev() {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        kinds.swap(i, (state >> 33) as usize % (i + 1));
    }
    kinds
}

/// What a request got.
#[derive(Debug)]
struct Outcome {
    kind: Kind,
    what: String,
    status: u16,
    error_code: Option<String>,
    job_id: Option<String>,
}

fn resident_mb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: u64 = status.lines().find_map(|l| l.strip_prefix("VmRSS:")).unwrap().split_whitespace().next().unwrap().parse().unwrap();
    kib / 1024
}

struct Soak {
    server: Server,
    origin: Origin,
    good_clip: String,
    long_clip: String,
}

impl Soak {
    fn body(&self, id: &str, video: &str) -> Value {
        json!({ "jobId": id, "videoUrl": video, "scenario": scenario("caption_box.json") })
    }

    /// Sends request `n` of kind `kind` (the `seen`-th of its kind).
    fn send(&self, n: usize, kind: Kind, seen: usize) -> Outcome {
        let host = self.server.base[7..].to_owned();
        let submit = |body: &Value| self.server.submit(body);
        let (what, answer, job_id) = match kind {
            Kind::Good => {
                let id = format!("good-{seen:02}");
                ("good render".to_owned(), submit(&self.body(&id, &self.good_clip)), Some(id))
            }
            Kind::Cancelled => {
                let id = format!("cancelled-{seen:02}");
                let answer = submit(&self.body(&id, &self.long_clip));
                std::thread::sleep(Duration::from_millis(200 * (seen % 5) as u64));
                let cancel = request("POST", &self.server.url(&format!("/api/render/{id}/cancel")), &[], Some(b""));
                assert_eq!(cancel.status, 200, "cancel of {id}: {}", String::from_utf8_lossy(&cancel.body));
                ("cancelled render".to_owned(), answer, Some(id))
            }
            Kind::Slow => {
                let id = format!("slow-{seen:02}");
                let url = self.origin.url(if seen % 3 == 2 { "big.mp4" } else { "stall.mp4" });
                ("slow origin".to_owned(), submit(&self.body(&id, &url)), Some(id))
            }
            Kind::Huge => (format!("huge #{}", seen % 4), self.huge(seen, &host), None),
            Kind::Bad => {
                let (what, answer) = self.bad(n, &host);
                (what, answer, None)
            }
        };
        let error_code = serde_json::from_slice::<Value>(&answer.body).ok().and_then(|body| body["error_code"].as_str().map(str::to_owned));
        Outcome { kind, what, status: answer.status, error_code, job_id }
    }

    fn huge(&self, seen: usize, host: &str) -> Response {
        let mut body = self.body(&format!("huge-{seen:02}"), &self.good_clip);
        match seen % 4 {
            // A 3 MB scenario (limits.max_scenario_bytes is 2 MiB).
            0 => body["scenario"]["meta"] = json!({ "padding": "p".repeat(3_000_000) }),
            // An 8 MB callbackUrl (limits.max_url_bytes).
            1 => body["callbackUrl"] = json!(format!("http://127.0.0.1:9/{}", "c".repeat(8_000_000))),
            // 20000 cues (limits.max_cues).
            2 => body["scenario"]["cues"] = Value::Array((0..20_000).map(|n| json!({ "id": format!("c{n}"), "track": "sub", "root": { "eType": "text" } })).collect()),
            // A body declared over server.max_body_bytes, refused before it is sent.
            _ => {
                let headers = [("Host", host), ("Content-Type", "application/json"), ("Content-Length", "50000000")];
                return request_exact("POST", &self.server.url("/render"), &headers, None);
            }
        }
        self.server.submit(&body)
    }

    /// One of the bad requests, by `n`.
    fn bad(&self, n: usize, host: &str) -> (String, Response) {
        let url = |path: &str| self.server.url(path);
        let json_post = |body: &[u8]| request("POST", &url("/render"), &[], Some(body));
        let with = |edit: &dyn Fn(&mut Value)| {
            let mut body = self.body(&format!("bad-{n}"), &self.good_clip);
            edit(&mut body);
            self.server.submit(&body)
        };
        let (what, answer) = match n % 22 {
            0 => ("malformed JSON", json_post(b"{\"videoUrl\": ")),
            1 => ("a list for a body", json_post(b"[1, 2, 3]")),
            2 => ("no videoUrl", with(&|b| drop(b.as_object_mut().unwrap().remove("videoUrl")))),
            3 => ("no scenario", with(&|b| drop(b.as_object_mut().unwrap().remove("scenario")))),
            4 => ("an unknown field", with(&|b| b["priority"] = json!(9))),
            5 => ("a quality that is a word", with(&|b| b["options"] = json!({ "quality": "high" }))),
            6 => ("an unknown encoder", with(&|b| b["options"] = json!({ "encoder": "gpu9000" }))),
            7 => ("a path out of the input roots", with(&|b| b["videoUrl"] = json!("../../../../etc/passwd"))),
            8 => ("the cloud metadata address", with(&|b| b["videoUrl"] = json!("http://169.254.169.254/latest/meta-data/x.mp4"))),
            9 => ("an ftp URL", with(&|b| b["videoUrl"] = json!("ftp://example.com/x.mp4"))),
            10 => ("a jobId with spaces", with(&|b| b["jobId"] = json!("not an id!"))),
            11 => ("an outputKey that escapes", with(&|b| b["options"] = json!({ "outputKey": "../../escape.mp4" }))),
            12 => ("a scenario of an unknown version", with(&|b| b["scenario"] = json!({ "version": "9.9" }))),
            13 => ("a callbackUrl that is no URL", with(&|b| b["callbackUrl"] = json!("call me maybe"))),
            14 => ("text/plain", request_exact("POST", &url("/render"), &[("Host", host), ("Content-Type", "text/plain")], Some(b"{}"))),
            15 => ("a foreign Origin", request_exact("POST", &url("/render"), &[("Host", host), ("Content-Type", "application/json"), ("Origin", "https://attacker.example")], Some(b"{}"))),
            16 => ("a rebound Host", request_exact("GET", &url("/api/jobs"), &[("Host", "attacker.example")], None)),
            17 => ("an unknown route", get(&url("/admin/../etc/passwd"))),
            18 => ("DELETE /render", request_exact("DELETE", &url("/render"), &[("Host", host)], None)),
            19 => ("the status of an unknown job", get(&url("/api/render/no-such-job/status"))),
            20 => ("the download of an unknown job", get(&url("/api/render/no-such-job/download"))),
            _ => ("the cancel of an unknown job", request("POST", &url("/api/render/no-such-job/cancel"), &[], Some(b""))),
        };
        (what.to_owned(), answer)
    }
}

fn terminal(status: &Value) -> bool {
    status["status"] != "queued" && status["status"] != "processing"
}

fn left_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir).map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect()).unwrap_or_default()
}

#[test]
fn three_hundred_mixed_requests_leave_the_server_as_they_found_it() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        dir.path(),
        &[
            "server.max_running_jobs=2",
            "server.max_queued_jobs=100",
            "browser.min_idle=0",
            "browser.idle_timeout_secs=2",
            "url_policy.allow_private_video=true",
            "url_policy.download_idle_secs=2",
            "url_policy.download_timeout_secs=10",
            "url_policy.max_video_bytes=5000000",
        ],
    );
    let soak = Arc::new(Soak {
        good_clip: server.input_clip("good.mp4", 1.0, 160, 90).to_string_lossy().into_owned(),
        long_clip: server.input_clip("long.mp4", 4.0, 160, 90).to_string_lossy().into_owned(),
        origin: Origin::start(),
        server,
    });
    let pid = soak.server.pid();
    let rss_start = resident_mb(pid);

    // /livez, polled throughout.
    let stop = Arc::new(AtomicBool::new(false));
    let livez = {
        let (url, stop) = (soak.server.url("/livez"), Arc::clone(&stop));
        std::thread::spawn(move || {
            let (mut polls, mut failures, mut slowest) = (0usize, Vec::new(), Duration::ZERO);
            while !stop.load(Ordering::Relaxed) {
                let asked = Instant::now();
                let answer = get(&url);
                slowest = slowest.max(asked.elapsed());
                polls += 1;
                if answer.status != 200 {
                    failures.push(answer.status);
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            (polls, failures, slowest)
        })
    };

    // Four clients work through the plan, each request in turn.
    let kinds = plan();
    let next = Arc::new(AtomicUsize::new(0));
    let seen: Arc<Mutex<BTreeMap<Kind, usize>>> = Arc::default();
    let outcomes: Arc<Mutex<Vec<Outcome>>> = Arc::default();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (soak, kinds, next, seen, outcomes) = (Arc::clone(&soak), kinds.clone(), Arc::clone(&next), Arc::clone(&seen), Arc::clone(&outcomes));
            std::thread::spawn(move || loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let Some(&kind) = kinds.get(n) else { return };
                let count = {
                    let mut seen = seen.lock().unwrap();
                    let count = seen.entry(kind).or_default();
                    *count += 1;
                    *count - 1
                };
                let outcome = soak.send(n, kind, count);
                outcomes.lock().unwrap().push(outcome);
                // Spread over about a minute and a half.
                std::thread::sleep(Duration::from_millis(600 + (n % 5) as u64 * 200));
            })
        })
        .collect();
    for client in clients {
        client.join().unwrap();
    }
    let sent_in = started.elapsed();
    let outcomes = std::mem::take(&mut *outcomes.lock().unwrap());
    assert_eq!(outcomes.len(), REQUESTS);

    // No 5xx for anything, and every refusal is a 4xx JSON error body.
    let mut by_status: BTreeMap<u16, usize> = BTreeMap::new();
    for outcome in &outcomes {
        *by_status.entry(outcome.status).or_default() += 1;
        assert!((200..500).contains(&outcome.status), "{} answered {}: {outcome:?}", outcome.what, outcome.status);
        match outcome.kind {
            Kind::Good | Kind::Cancelled | Kind::Slow => assert_eq!(outcome.status, 202, "{outcome:?}"),
            Kind::Huge | Kind::Bad => {
                assert!((400..500).contains(&outcome.status), "{outcome:?}");
                assert!(outcome.error_code.is_some(), "a refusal without the JSON error body: {outcome:?}");
            }
        }
    }

    // Every job reaches its end: good ones complete, slow ones fail naming
    // the origin, cancelled ones are cancelled (or had completed first).
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut ends: BTreeMap<(Kind, String), usize> = BTreeMap::new();
    for outcome in outcomes.iter().filter(|o| o.job_id.is_some()) {
        let id = outcome.job_id.as_deref().unwrap();
        let status = soak.server.wait_for(id, deadline.saturating_duration_since(Instant::now()), terminal);
        let end = status["status"].as_str().unwrap().to_owned();
        match outcome.kind {
            Kind::Good => {
                assert_eq!(end, "completed", "good job {id}: {status}");
                assert_eq!(status["metrics"]["frames_processed"], 25, "{status}");
            }
            Kind::Cancelled => assert!(end == "cancelled" || end == "completed", "{id}: {status}"),
            _ => {
                assert_eq!((end.as_str(), status["error_code"].as_str()), ("failed", Some("INVALID_VIDEO_URL")), "slow job {id}: {status}");
            }
        }
        *ends.entry((outcome.kind, end)).or_default() += 1;
    }
    let jobs_done_in = started.elapsed();

    // Nothing left: no child process (the idle browsers close after 2 s),
    // no other process on the data folder, no work folder, no browser profile.
    let marker = dir.path().to_string_lossy().into_owned();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let children = descendants(pid);
        let strays: Vec<_> = processes_mentioning(&marker).into_iter().filter(|(other, _)| *other != pid).collect();
        let folders = left_in(&dir.path().join("work/jobs"));
        let profiles = left_in(&dir.path().join("work/browsers"));
        if children.is_empty() && strays.is_empty() && folders.is_empty() && profiles.is_empty() {
            break;
        }
        if Instant::now() >= deadline {
            let log = soak.server.log();
            let tail: Vec<&str> = log.lines().filter(|l| l.contains("WARN") || l.contains("ERROR")).rev().take(20).collect();
            panic!("left after the soak: children {children:?}, processes {strays:?}, work folders {folders:?}, profiles {profiles:?}; the server's last warnings: {tail:#?}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let rss_end = resident_mb(pid);
    stop.store(true, Ordering::Relaxed);
    let (polls, livez_failures, livez_slowest) = livez.join().unwrap();

    eprintln!(
        "soak: {REQUESTS} requests sent in {:.1} s, jobs ended by {:.1} s, clean by {:.1} s; server RSS {rss_start} MB -> {rss_end} MB; \
         statuses {by_status:?}; job ends {ends:?}; /livez {polls} polls, slowest {:?}",
        sent_in.as_secs_f64(),
        jobs_done_in.as_secs_f64(),
        started.elapsed().as_secs_f64(),
        livez_slowest,
    );
    assert!(livez_failures.is_empty(), "/livez failed {} of {polls} polls: {livez_failures:?}", livez_failures.len());
    assert!(polls > 10, "/livez was polled only {polls} times");
    assert!(rss_end <= rss_start + RSS_GROWTH_MB, "the server went from {rss_start} MB to {rss_end} MB over the soak");
    let good_completed = ends.get(&(Kind::Good, "completed".to_owned())).copied().unwrap_or(0);
    assert_eq!(good_completed, GOOD);
}
