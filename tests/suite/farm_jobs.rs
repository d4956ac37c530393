//! Scale-out end to end: `serve --queue` and `motionrender worker`
//! processes on a real redis-server, moto's S3, Chromium and FFmpeg.
//! Three workers share a 30 s job and its output's frames equal a
//! single-process render; a worker killed mid-segment has its task
//! reclaimed; a worker sent SIGTERM mid-segment finishes it, takes no new
//! task and exits 0, and one whose drain time runs out hands its task back
//! to be reclaimed; a late worker takes tasks; Redis restarted mid-job loses
//! nothing; a task that crashes every worker fails its job with a code
//! while other jobs complete; a cancel reaches the workers and leaves
//! nothing in S3.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use motionrender_tests::{descendants, frame_hashes, process_alive, processes_mentioning};

use super::farm_support::{long_captions, reference_hashes, Farm};

const LONG: Duration = Duration::from_secs(300);

#[test]
fn three_workers_share_a_30_second_job_and_its_frames_equal_a_single_process_render() {
    let farm = Farm::start(3, &["segments.seconds=3"], &[]);
    let clip = farm.clip("thirty.mp4", 30.0);
    let scenario = long_captions(30.0);
    let reference = reference_hashes(&clip, &scenario, &farm.dir.path().join("reference"), "3");
    farm.submit("thirty", &clip, &scenario);
    let done = farm.wait_ended("thirty", LONG);
    assert_eq!(done["status"], "completed", "{done}\n{}", farm.worker_logs());

    let segments = Farm::segment_workers(&done);
    assert_eq!(segments.len() as u64, done["metrics"]["segments"].as_u64().unwrap(), "{done}");
    assert!(done["metrics"]["frames_captured"].as_u64().unwrap_or(0) >= 10, "too few overlay changes to compare: {}", done["metrics"]);
    let workers: BTreeSet<&str> = segments.iter().map(|(_, worker, _, _)| worker.as_str()).collect();
    for worker in &farm.workers {
        assert!(workers.contains(worker.name.as_str()), "{} rendered no segment: {segments:?}", worker.name);
    }
    let output = farm.output(&done, &farm.dir.path().join("thirty.mp4"));
    let hashes = frame_hashes(&output);
    assert_eq!(hashes.len(), reference.len(), "frame count differs from the single-process render");
    let differing: Vec<usize> = (0..hashes.len()).filter(|&i| hashes[i] != reference[i]).collect();
    let reference_qc = std::fs::read_to_string(farm.dir.path().join("reference/reference.mp4.qc.json")).unwrap_or_default();
    assert!(differing.is_empty(), "frames {differing:?} differ from the single-process render\nfarm: {}\nreference QC: {reference_qc}", done["metrics"]);
    assert!(farm.job_objects("thirty").is_empty(), "farm objects left in S3: {:?}", farm.job_objects("thirty"));
}

/// The pending tasks of the workers' group: `(entry id, consumer, deliveries)`.
fn pending(farm: &Farm) -> Vec<(String, String, u64)> {
    let raw = farm.redis.cli(&["XPENDING", "motionrender:tasks", "workers", "-", "+", "100"]);
    let lines: Vec<&str> = raw.lines().collect();
    lines.chunks_exact(4).map(|row| (row[0].to_owned(), row[1].to_owned(), row[3].parse().unwrap_or(0))).collect()
}

/// Whether `consumer` holds task entry `id` (it is pending with it).
fn holds(farm: &Farm, consumer: &str, id: &str) -> bool {
    pending(farm).iter().any(|(pending_id, owner, _)| pending_id == id && owner == consumer)
}

/// Waits until worker `index` holds a task; its entry id and segment, and
/// the worker's descendants then. Polled far more often than a segment takes,
/// so it is the first task the worker took.
fn wait_holding(farm: &Farm, index: usize) -> (String, u32, Vec<(u32, String)>) {
    let worker = &farm.workers[index];
    let deadline = Instant::now() + LONG;
    loop {
        assert!(Instant::now() < deadline, "{} never took a task: {}", worker.name, farm.worker_logs());
        if let Some((id, _, _)) = pending(farm).into_iter().find(|(_, consumer, _)| *consumer == worker.name) {
            let segment = task_segment(farm, &id).unwrap_or_else(|| panic!("task {id} has no segment"));
            return (id, segment, descendants(worker.pid()));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Asserts that no process `worker` ran (`children`, seen while it held its
/// task) outlived it, nor any process working in its folder (an encoder).
fn assert_no_process_left(farm: &Farm, worker: &str, children: &[(u32, String)]) {
    assert!(children.iter().any(|(_, cmdline)| cmdline.contains("chrom")), "{worker} had no browser to leave behind: {children:?}");
    let alive: Vec<_> = children.iter().filter(|(pid, _)| process_alive(*pid)).collect();
    assert!(alive.is_empty(), "{worker}'s processes outlived it: {alive:?}");
    let left = processes_mentioning(&farm.worker_dir(worker).to_string_lossy());
    assert!(left.is_empty(), "processes left in {worker}'s folder: {left:?}");
}

/// Asserts that the output of the completed job `done` has `reference`'s frames.
fn assert_frames_equal(farm: &Farm, done: &serde_json::Value, reference: &[String]) {
    let hashes = frame_hashes(&farm.output(done, &farm.dir.path().join("output.mp4")));
    assert_eq!(hashes.len(), reference.len(), "frame count differs from the undisturbed render");
    let differing: Vec<usize> = (0..hashes.len()).filter(|&i| hashes[i] != reference[i]).collect();
    assert!(differing.is_empty(), "frames {differing:?} differ from the undisturbed render\nfarm: {}", done["metrics"]);
}

/// The segment index of task entry `id`.
fn task_segment(farm: &Farm, id: &str) -> Option<u32> {
    let raw = farm.redis.cli(&["XRANGE", "motionrender:tasks", id, id]);
    let lines: Vec<&str> = raw.lines().collect();
    lines.windows(2).find(|pair| pair[0] == "segment").and_then(|pair| pair[1].parse().ok())
}

/// Waits until the job's progress is above zero (a segment has landed).
fn wait_progress(farm: &Farm, job_id: &str) {
    farm.server.wait_for(job_id, LONG, |s| s["progress"].as_f64().unwrap_or(0.0) > 0.0 || s["status"] != "processing" && s["status"] != "queued");
}

#[test]
fn a_worker_killed_mid_segment_has_its_task_reclaimed_and_the_frames_do_not_change() {
    let mut farm = Farm::start(2, &["segments.seconds=4"], &[]);
    let clip = farm.clip("killed.mp4", 16.0);
    let scenario = long_captions(16.0);
    let reference = reference_hashes(&clip, &scenario, &farm.dir.path().join("reference"), "4");
    farm.submit("killed", &clip, &scenario);
    // Kill a worker while it holds a task; a task that was acknowledged
    // before the kill landed does not count, and another worker is tried.
    let deadline = Instant::now() + LONG;
    let (victim, segment) = 'kill: loop {
        assert!(Instant::now() < deadline, "no worker was ever caught holding a task: {}", farm.worker_logs());
        for (id, consumer, _) in pending(&farm) {
            let Some(index) = farm.workers.iter().position(|w| w.name == consumer && w.alive()) else { continue };
            let Some(segment) = task_segment(&farm, &id) else { continue };
            // Into the render (past claiming and fetching the source).
            std::thread::sleep(Duration::from_millis(300));
            farm.workers[index].kill9();
            if holds(&farm, &consumer, &id) {
                break 'kill (consumer, segment);
            }
            // It finished just before the kill: bring it back and try again.
            farm.restart_worker(index);
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let done = farm.wait_ended("killed", LONG);
    assert_eq!(done["status"], "completed", "{done}\n{}", farm.worker_logs());
    let segments = Farm::segment_workers(&done);
    let (_, worker, deliveries, reclaimed) = segments.iter().find(|(index, ..)| *index == segment).cloned().unwrap_or_else(|| panic!("segment {segment} missing: {done}"));
    assert_ne!(worker, victim, "segment {segment} was reported by the killed worker");
    assert!(reclaimed, "segment {segment} was not taken over with XAUTOCLAIM: {done}");
    assert!(deliveries >= 2, "segment {segment} was delivered {deliveries} times; the killed worker's delivery is not counted: {done}");
    assert_frames_equal(&farm, &done, &reference);
}

#[test]
fn a_worker_sent_sigterm_mid_segment_finishes_it_takes_no_new_task_and_exits_0() {
    let mut farm = Farm::start(2, &["segments.seconds=4"], &[]);
    let clip = farm.clip("drained.mp4", 16.0);
    let scenario = long_captions(16.0);
    let reference = reference_hashes(&clip, &scenario, &farm.dir.path().join("reference"), "4");
    farm.submit("drained", &clip, &scenario);
    let (id, segment, children) = wait_holding(&farm, 0);
    let (stopped, other) = (farm.workers[0].name.clone(), farm.workers[1].name.clone());
    farm.workers[0].send_sigterm();
    assert!(holds(&farm, &stopped, &id), "{stopped} finished segment {segment} before the SIGTERM; nothing was in hand");
    let status = farm.workers[0].wait_exit(Duration::from_secs(90));
    assert!(status.is_some_and(|s| s.success()), "{stopped} did not exit 0 within 90 s of SIGTERM: {status:?}\n{}", farm.worker_logs());
    assert_no_process_left(&farm, &stopped, &children);

    let done = farm.wait_ended("drained", LONG);
    assert_eq!(done["status"], "completed", "{done}\n{}", farm.worker_logs());
    let segments = Farm::segment_workers(&done);
    assert_eq!(segments.len() as u64, done["metrics"]["segments"].as_u64().unwrap(), "{done}");
    for (index, worker, deliveries, reclaimed) in &segments {
        if *index == segment {
            // Its report and acknowledgement landed: no other worker took it over.
            assert_eq!((worker, *deliveries, *reclaimed), (&stopped, 1, false), "segment {segment}, in hand at the SIGTERM: {done}");
        } else {
            // Segment `segment` was its first task, so every other one came after the SIGTERM.
            assert_eq!(worker, &other, "segment {index} was taken after the SIGTERM by {worker}: {done}");
        }
    }
    assert_frames_equal(&farm, &done, &reference);
}

#[test]
fn a_worker_whose_drain_time_runs_out_stops_its_render_and_its_task_is_reclaimed() {
    let mut farm = Farm::start(0, &["segments.seconds=20", "work_queue.claim_idle_ms=1000"], &[]);
    let index = farm.add_worker_with(&["work_queue.drain_secs=1"]);
    let other = farm.add_worker();
    let (stopped, other) = (farm.workers[index].name.clone(), farm.workers[other].name.clone());
    // Segments of 20 s at 640×360 take several times the drain to render.
    let clip = farm.server.input_clip("handed-back.mp4", 40.0, 640, 360);
    let scenario = long_captions(40.0);
    let reference = reference_hashes(&clip, &scenario, &farm.dir.path().join("reference"), "20");
    farm.submit("handed-back", &clip, &scenario);
    let (id, segment, children) = wait_holding(&farm, index);
    farm.workers[index].send_sigterm();
    assert!(holds(&farm, &stopped, &id), "{stopped} finished segment {segment} before the SIGTERM; nothing was in hand");
    let status = farm.workers[index].wait_exit(Duration::from_secs(15));
    assert!(status.is_some_and(|s| s.success()), "{stopped} did not exit 0 within 15 s of SIGTERM with a 1 s drain: {status:?}\n{}", farm.worker_logs());
    let log = farm.workers[index].log();
    assert!(log.contains("render stopped for shutdown"), "{stopped} did not stop its render at the end of the drain:\n{log}");
    assert_no_process_left(&farm, &stopped, &children);

    let done = farm.wait_ended("handed-back", LONG);
    assert_eq!(done["status"], "completed", "{done}\n{}", farm.worker_logs());
    let segments = Farm::segment_workers(&done);
    assert_eq!(segments.len() as u64, done["metrics"]["segments"].as_u64().unwrap(), "{done}");
    // Handed back, not finished: the stopped worker never reported it (its
    // report would have been taken first), and the other worker got it with
    // XAUTOCLAIM, as the task's second delivery at least.
    let (_, worker, deliveries, reclaimed) = segments.iter().find(|(index, ..)| *index == segment).cloned().unwrap_or_else(|| panic!("segment {segment} missing: {done}"));
    assert_ne!(worker, stopped, "segment {segment} was rendered within the 1 s drain; too short for this test: {done}");
    assert_eq!(worker, other, "segment {segment}, in hand at the SIGTERM: {done}");
    assert!(reclaimed && deliveries >= 2, "segment {segment} was not reclaimed after the drain (deliveries {deliveries}, reclaimed {reclaimed}): {done}");
    assert!(segments.iter().all(|(_, worker, ..)| *worker != stopped), "{stopped} reported a segment: {segments:?}");
    assert_frames_equal(&farm, &done, &reference);
}

#[test]
fn a_worker_that_joins_after_the_job_started_takes_tasks() {
    let mut farm = Farm::start(1, &["work_queue.job_tasks_in_flight=2"], &[]);
    let clip = farm.clip("late.mp4", 20.0);
    farm.submit("late", &clip, &long_captions(20.0));
    wait_progress(&farm, "late");
    let joined = farm.add_worker();
    let late = farm.workers[joined].name.clone();
    let done = farm.wait_ended("late", LONG);
    assert_eq!(done["status"], "completed", "{done}\n{}", farm.worker_logs());
    let segments = Farm::segment_workers(&done);
    let by_late = segments.iter().filter(|(_, worker, ..)| *worker == late).count();
    assert!(by_late >= 1, "the late worker {late} rendered no segment: {segments:?}\n{}", farm.worker_logs());
    assert!(segments.iter().any(|(_, worker, ..)| *worker == farm.workers[0].name), "the first worker rendered nothing: {segments:?}");
    // SIGTERM with nothing to do: a clean exit, and the worker leaves the heartbeats.
    for worker in &mut farm.workers {
        let status = worker.terminate(Duration::from_secs(30));
        assert!(status.is_some_and(|s| s.success()), "{} did not exit 0 on SIGTERM: {status:?}", worker.name);
    }
    assert_eq!(farm.redis.cli(&["HLEN", "motionrender:heartbeats"]).trim(), "0", "stopped workers still listed");
}

#[test]
fn queue_status_metrics_and_readiness_report_the_queue_and_fail_without_redis() {
    let mut farm = Farm::start(1, &[], &[]);
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        let status = super::service_support::get(&farm.server.url("/queue/status")).json();
        let beating = status["work_queue"]["workers"].as_array().into_iter().flatten().any(|w| w["name"] == "worker-0" && w["heartbeat_age_ms"].as_u64().is_some_and(|age| age < 5000));
        if beating {
            break status;
        }
        assert!(Instant::now() < deadline, "the worker never showed up with a heartbeat: {status}\n{}", farm.worker_logs());
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(status["work_queue"]["reachable"], true, "{status}");
    assert_eq!(status["work_queue"]["stream_length"], 0, "{status}");
    assert_eq!(status["work_queue"]["pending_tasks"], 0, "{status}");
    let metrics = String::from_utf8(super::service_support::get(&farm.server.url("/metrics")).body).unwrap();
    for family in ["motionrender_work_queue_up 1", "motionrender_work_queue_stream_length 0", "motionrender_work_queue_consumers 1", "motionrender_work_queue_last_heartbeat_age_seconds"] {
        assert!(metrics.contains(family), "/metrics lacks {family}");
    }
    assert_eq!(super::service_support::get(&farm.server.url("/readyz")).status, 200);
    farm.redis.kill();
    let ready = super::service_support::get(&farm.server.url("/readyz"));
    assert_eq!(ready.status, 503, "{}", String::from_utf8_lossy(&ready.body));
    assert!(ready.json()["reasons"].to_string().contains("work queue"), "{}", ready.json());
    let status = super::service_support::get(&farm.server.url("/queue/status")).json();
    assert_eq!(status["work_queue"]["reachable"], false, "{status}");
    let metrics = String::from_utf8(super::service_support::get(&farm.server.url("/metrics")).body).unwrap();
    assert!(metrics.contains("motionrender_work_queue_up 0"), "/metrics does not say the queue is down");
}

#[test]
fn redis_restarted_mid_job_loses_no_job() {
    let mut farm = Farm::start(2, &[], &[]);
    let clip = farm.clip("restart.mp4", 20.0);
    let scenario = long_captions(20.0);
    farm.submit("restart-a", &clip, &scenario);
    farm.submit("restart-b", &clip, &scenario);
    wait_progress(&farm, "restart-a");
    let before = farm.server.status("restart-a");
    assert_eq!(before["status"], "processing", "the job ended before Redis could be restarted: {before}");
    farm.redis.restart(Duration::from_secs(2));
    for job in ["restart-a", "restart-b"] {
        let done = farm.wait_ended(job, LONG);
        assert_eq!(done["status"], "completed", "{job}: {done}\n{}\n{}", farm.server.log(), farm.worker_logs());
        assert_eq!(Farm::segment_workers(&done).len() as u64, done["metrics"]["segments"].as_u64().unwrap(), "{done}");
        assert_eq!(done["metrics"]["frames_processed"].as_u64(), Some(500), "{done}");
    }
    assert!(farm.server.log().contains("Redis unreachable") || farm.worker_logs().contains("Redis unreachable"), "nobody noticed Redis going away");
}

#[test]
fn a_task_that_crashes_every_worker_fails_its_job_with_a_code_and_other_jobs_complete() {
    let mut farm = Farm::start(
        2,
        &["work_queue.max_deliveries=2", "work_queue.claim_idle_ms=1000", "work_queue.job_tasks_in_flight=1"],
        &[("MR_TEST_FAULT", "worker_crash:doomed")],
    );
    let clip = farm.clip("crash.mp4", 8.0);
    let scenario = long_captions(8.0);
    farm.submit("doomed", &clip, &scenario);
    farm.submit("healthy", &clip, &scenario);
    let deadline = Instant::now() + LONG;
    let mut restarts = 0;
    let ended = |farm: &Farm, job: &str| matches!(farm.server.status(job)["status"].as_str(), Some("completed" | "failed" | "cancelled"));
    while !(ended(&farm, "doomed") && ended(&farm, "healthy")) {
        assert!(Instant::now() < deadline, "the jobs never ended: {}", farm.worker_logs());
        for index in 0..farm.workers.len() {
            if !farm.workers[index].alive() {
                farm.restart_worker(index);
                restarts += 1;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let doomed = farm.server.status("doomed");
    assert_eq!(doomed["status"], "failed", "{doomed}");
    assert_eq!(doomed["error_code"], "TASK_DELIVERY_LIMIT_EXCEEDED", "{doomed}");
    assert!(doomed["error_message"].as_str().unwrap_or_default().contains("delivered 3 times"), "{doomed}");
    assert!(restarts >= 2, "the faulty task crashed {restarts} workers; it should have crashed one per delivery");
    let healthy = farm.server.status("healthy");
    assert_eq!(healthy["status"], "completed", "{healthy}\n{}", farm.worker_logs());
    assert!(farm.job_objects("doomed").is_empty(), "{:?}", farm.job_objects("doomed"));
}

#[test]
fn a_cancel_reaches_the_workers_and_leaves_no_segment_in_s3() {
    let farm = Farm::start(2, &[], &[]);
    let clip = farm.clip("cancel.mp4", 30.0);
    farm.submit("cancelled", &clip, &long_captions(30.0));
    wait_progress(&farm, "cancelled");
    let asked = Instant::now();
    let answer = super::service_support::request("POST", &farm.server.url("/api/render/cancelled/cancel"), &[], Some(b"{}"));
    assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
    farm.server.wait_for("cancelled", Duration::from_secs(2), |s| s["status"] == "cancelled");
    assert!(asked.elapsed() <= Duration::from_secs(2), "cancelled after {:?}", asked.elapsed());
    // Within a few heartbeats no worker renders it any more and nothing is left.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let encoders: Vec<String> = farm.workers.iter().flat_map(|w| descendants(w.pid())).map(|(_, c)| c).filter(|c| c.starts_with("ffmpeg")).collect();
        let left = (pending(&farm), farm.redis.cli(&["XLEN", "motionrender:tasks"]).trim().to_owned(), farm.job_objects("cancelled"));
        if encoders.is_empty() && left.0.is_empty() && left.1 == "0" && left.2.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "still working on the cancelled job: encoders {encoders:?}, pending {:?}, stream length {}, objects {:?}", left.0, left.1, left.2);
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(2));
    assert!(farm.job_objects("cancelled").is_empty(), "a late upload was left: {:?}", farm.job_objects("cancelled"));
    assert_eq!(farm.server.status("cancelled")["status"], "cancelled");
}
