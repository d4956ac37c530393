//! `/metrics` after real renders through `serve`: the latency histograms
//! (job, queue wait, segment, encode, capture, callback delivery) with
//! buckets, sum and count, their counts equal to what ran; and every metric
//! the Grafana dashboard and the Prometheus alert rules of `scripts/deploy/`
//! name is one `/metrics` exports.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::service_support::{free_port, get, scenario, Receiver, Server};

/// The `/metrics` text of `server`.
pub fn scrape(server: &Server) -> String {
    let answer = get(&server.url("/metrics"));
    assert_eq!(answer.status, 200);
    String::from_utf8(answer.body).unwrap()
}

/// The value of one series (`name` or `name{labels}` as Prometheus writes
/// it); panics naming the series when it is absent.
pub fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')).map(|value| value.trim().parse::<f64>().unwrap()))
        .unwrap_or_else(|| panic!("{series} is not in /metrics:\n{text}"))
}

/// Every metric name (series name, before `{`) in a `/metrics` text.
fn exported_names(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .filter_map(|line| line.split(['{', ' ']).next())
        .map(str::to_owned)
        .collect()
}

/// Every `motionrender_…` name in a file.
fn names_in(file: &str) -> BTreeSet<String> {
    let path = motionrender_tests::crate_dir().join("../scripts/deploy").join(file);
    let text = motionrender_tests::read_text(&path);
    let mut names = BTreeSet::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("motionrender_") {
        let tail = &rest[at..];
        let end = tail.find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')).unwrap_or(tail.len());
        names.insert(tail[..end].to_owned());
        rest = &tail[end..];
    }
    names
}

/// Renders `jobs` jobs with callbacks to `receiver` and waits until they
/// completed and every callback left the outbox; their QC reports.
fn render_jobs(server: &Server, receiver: &Receiver, jobs: &[&str]) -> Vec<Value> {
    let clip = server.input_clip("clip.mp4", 4.0, 320, 180);
    for id in jobs {
        let body = json!({ "jobId": id, "videoUrl": clip, "scenario": scenario("busy_captions.json"), "callbackUrl": receiver.url() });
        assert_eq!(server.submit(&body).status, 202);
    }
    for id in jobs {
        let done = server.wait_for(id, Duration::from_secs(180), |s| s["status"] != "queued" && s["status"] != "processing");
        assert_eq!(done["status"], "completed", "{done}");
    }
    // Callbacks are delivered after the outcome is recorded: wait for the outbox to empty.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let text = scrape(server);
        let delivered = sample(&text, "motionrender_callbacks_total{outcome=\"delivered\"}") as usize;
        if sample(&text, "motionrender_callbacks_pending") == 0.0 && delivered == receiver.all().len() && delivered > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "callbacks still pending:\n{text}");
        std::thread::sleep(Duration::from_millis(100));
    }
    jobs.iter().map(|id| get(&server.url(&format!("/api/render/{id}/qc"))).json()).collect()
}

#[test]
fn after_renders_the_latency_histograms_count_exactly_the_jobs_segments_captures_and_callbacks_that_ran() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start(free_port());
    let server = Server::start(dir.path(), &["segments.seconds=2", "server.max_running_jobs=1"]);
    let reports = render_jobs(&server, &receiver, &["m-1", "m-2"]);
    let text = scrape(&server);

    // Each histogram has buckets, a sum and a count; +Inf holds every observation.
    let histograms = [
        ("motionrender_job_duration_seconds", "{outcome=\"completed\"}"),
        ("motionrender_job_queue_wait_seconds", ""),
        ("motionrender_segment_render_seconds", ""),
        ("motionrender_segment_encode_seconds", ""),
        ("motionrender_capture_seconds", ""),
        ("motionrender_callback_delivery_seconds", "{outcome=\"delivered\"}"),
    ];
    for (name, labels) in histograms {
        assert!(text.contains(&format!("# TYPE {name} histogram")), "{name} is not a histogram:\n{text}");
        let count = sample(&text, &format!("{name}_count{labels}"));
        let inf = match labels {
            "" => format!("{name}_bucket{{le=\"+Inf\"}}"),
            labels => format!("{name}_bucket{{{},le=\"+Inf\"}}", &labels[1..labels.len() - 1]),
        };
        assert_eq!(sample(&text, &inf), count, "{name}: +Inf bucket and count differ");
        let sum = sample(&text, &format!("{name}_sum{labels}"));
        assert!(sum > 0.0 && sum.is_finite(), "{name}_sum is {sum}");
        let buckets = text.lines().filter(|line| line.starts_with(&format!("{name}_bucket"))).count();
        assert!(buckets >= 10, "{name} has {buckets} buckets");
    }

    // The counts are what ran: two jobs, their segments, their captures, every callback.
    let segments: f64 = reports.iter().map(|qc| qc["segments"].as_f64().unwrap() - qc["segments_reused"].as_f64().unwrap()).sum();
    let captured: f64 = reports.iter().map(|qc| qc["frames"]["captured"].as_f64().unwrap()).sum();
    assert!(segments >= 2.0 && captured >= 2.0, "{reports:?}");
    assert_eq!(sample(&text, "motionrender_job_duration_seconds_count{outcome=\"completed\"}"), 2.0);
    assert_eq!(sample(&text, "motionrender_jobs_total{outcome=\"completed\"}"), 2.0);
    assert_eq!(sample(&text, "motionrender_job_queue_wait_seconds_count"), 2.0);
    assert_eq!(sample(&text, "motionrender_segment_render_seconds_count"), segments);
    assert_eq!(sample(&text, "motionrender_segment_encode_seconds_count"), segments);
    assert_eq!(sample(&text, "motionrender_capture_seconds_count"), captured);
    assert_eq!(sample(&text, "motionrender_frames_total{kind=\"captured\"}"), captured);
    let output: f64 = reports.iter().map(|qc| qc["frames"]["output"].as_f64().unwrap()).sum();
    assert_eq!(sample(&text, "motionrender_frames_output_total"), output);
    assert_eq!(sample(&text, "motionrender_callback_delivery_seconds_count{outcome=\"delivered\"}"), receiver.all().len() as f64);
    // Levels are gauges; nothing runs or waits any more.
    assert!(text.contains("# TYPE motionrender_jobs_running gauge"), "{text}");
    assert_eq!(sample(&text, "motionrender_jobs_running"), 0.0);
    assert_eq!(sample(&text, "motionrender_jobs_queued"), 0.0);
}

#[test]
fn every_metric_the_dashboard_and_the_alert_rules_name_is_exported_after_a_render() {
    let dashboard = names_in("grafana-dashboard.json");
    let rules = names_in("prometheus-rules.yml");
    assert!(dashboard.len() >= 20, "the dashboard names only {dashboard:?}");
    assert!(rules.len() >= 6, "the rules name only {rules:?}");
    // The rules cover what the issue asks: queue depth, failure rate, drop rate, browsers, callback backlog.
    for wanted in ["motionrender_jobs_queued", "motionrender_jobs_total", "motionrender_frames_dropped_total", "motionrender_browsers_alive", "motionrender_callbacks_pending"] {
        assert!(rules.contains(wanted), "no alert rule on {wanted}: {rules:?}");
    }

    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start(free_port());
    let server = Server::start(dir.path(), &["segments.seconds=2"]);
    render_jobs(&server, &receiver, &["named"]);
    let exported = exported_names(&scrape(&server));
    let missing: Vec<&String> = dashboard.union(&rules).filter(|name| !exported.contains(*name)).collect();
    assert!(missing.is_empty(), "named by scripts/deploy but not exported: {missing:?}\nexported: {exported:?}");
}
