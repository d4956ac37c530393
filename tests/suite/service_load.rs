//! Fifty jobs at once with two running at a time: all complete, no more
//! than two run together, the status endpoints keep answering promptly, and
//! the server's memory stays within its budget.

use std::time::{Duration, Instant};

use serde_json::json;

use super::service_support::{get, scenario, Server};

const JOBS: usize = 50;
const BUDGET_MB: u64 = 1024;

fn peak_rss_mb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: u64 = status.lines().find_map(|l| l.strip_prefix("VmHWM:")).unwrap().split_whitespace().next().unwrap().parse().unwrap();
    kib / 1024
}

#[test]
fn fifty_jobs_with_two_running_all_complete_while_status_answers_promptly() {
    let dir = tempfile::tempdir().unwrap();
    // No spare warm browser (min_idle 0): the budget counts the browsers the
    // two running jobs need, and they are reused from job to job.
    let server = Server::start(
        dir.path(),
        &["server.max_running_jobs=2", "server.max_queued_jobs=100", "browser.min_idle=0", &format!("memory.budget_mb={BUDGET_MB}")],
    );
    let clip = server.input_clip("clip.mp4", 2.0, 320, 180);
    for n in 0..JOBS {
        let body = json!({ "jobId": format!("load-{n:02}"), "videoUrl": clip, "scenario": scenario("caption_box.json") });
        let answer = server.submit(&body);
        assert_eq!(answer.status, 202, "job {n}: {}", String::from_utf8_lossy(&answer.body));
    }

    let deadline = Instant::now() + Duration::from_secs(900);
    let mut slowest = Duration::ZERO;
    let mut most_running = 0;
    loop {
        let asked = Instant::now();
        let queue = get(&server.url("/queue/status")).json();
        let status = server.status(&format!("load-{:02}", (asked.elapsed().as_nanos() % JOBS as u128) as usize));
        slowest = slowest.max(asked.elapsed());
        assert!(status["status"].is_string());
        let running = queue["processing_jobs"].as_u64().unwrap();
        most_running = most_running.max(running);
        assert!(running <= 2, "more than two jobs ran at once: {queue}");
        if queue["detailed_status"]["completed"].as_u64().unwrap() as usize == JOBS {
            break;
        }
        let failed = queue["detailed_status"]["failed"].as_u64().unwrap();
        assert_eq!(failed, 0, "a job failed: {queue}; log: {}", server.log());
        assert!(Instant::now() < deadline, "not all jobs completed: {queue}");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(most_running, 2, "two jobs should have run side by side");
    assert!(slowest < Duration::from_secs(1), "a status request took {slowest:?} while rendering");
    for n in 0..JOBS {
        let job = server.status(&format!("load-{n:02}"));
        assert_eq!(job["metrics"]["frames_processed"], 50, "{job}");
        assert!(job["metrics"]["memory_peak_mb"].as_u64().unwrap() < BUDGET_MB, "{job}");
    }
    let metrics = String::from_utf8(get(&server.url("/metrics")).body).unwrap();
    let value = |name: &str| -> f64 {
        metrics.lines().find_map(|line| line.strip_prefix(name).map(|rest| rest.trim().parse().unwrap())).unwrap_or_else(|| panic!("{name} missing from /metrics:\n{metrics}"))
    };
    assert_eq!(value("motionrender_jobs_total{outcome=\"completed\"} "), JOBS as f64);
    assert!(value("motionrender_frames_total{kind=\"captured\"} ") >= JOBS as f64, "every job captured its caption");
    assert_eq!(value("motionrender_queue_frames_total{op=\"push\"} "), value("motionrender_queue_frames_total{op=\"pop\"} "), "block loses nothing");
    assert!(value("motionrender_stage_seconds_total{stage=\"capture\"} ") > 0.0);
    let peak = peak_rss_mb(server.pid());
    assert!(peak < BUDGET_MB, "the server peaked at {peak} MB, over its {BUDGET_MB} MB budget");
}
