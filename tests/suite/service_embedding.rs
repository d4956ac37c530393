//! The embedding example (`web/examples/embedded.rs`): a host actix-web
//! service with its own routes and motionrender mounted under
//! `/render-engine`. Its own routes keep answering while it renders a job
//! through the mounted engine, and the engine's links point into the scope.

use std::path::Path;
use std::time::{Duration, Instant};

use motionrender_engine::media::{probe, testclip::generate_clip, FrameRate};
use motionrender_tests::{
    descendants, example_binary, fixtures_dir, free_local_addr, process_alive, processes_mentioning, read_json, ServerProcess,
};
use serde_json::{json, Value};

const JOB: &str = "embedded-job-1";
/// Longest a host route may take to answer while the engine renders. A
/// functional bound (the host is not starved), not a benchmark.
const HOST_ROUTE_LIMIT: Duration = Duration::from_secs(1);

/// GET `url`: the status, the JSON body and how long it took.
async fn get_json(client: &reqwest::Client, url: &str) -> (u16, Value, Duration) {
    let started = Instant::now();
    let answer = client.get(url).send().await.unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = answer.status().as_u16();
    let body = answer.json::<Value>().await.unwrap_or_else(|e| panic!("GET {url}: the body is not JSON: {e}"));
    (status, body, started.elapsed())
}

/// Waits until the host answers `/api/hello`.
async fn wait_until_up(client: &reqwest::Client, base: &str, server: &mut ServerProcess) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        server.assert_running();
        if let Ok(answer) = client.get(format!("{base}/api/hello")).send().await {
            if answer.status().is_success() {
                return;
            }
        }
        assert!(Instant::now() < deadline, "the example did not start within 30 s:\n{}", server.output());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The host's own routes answer correctly and within [`HOST_ROUTE_LIMIT`].
async fn check_host_routes(client: &reqwest::Client, base: &str) {
    let (status, hello, took) = get_json(client, &format!("{base}/api/hello")).await;
    assert_eq!(status, 200, "/api/hello: {hello}");
    assert_eq!(hello["message"], "hello from the host service");
    assert!(took < HOST_ROUTE_LIMIT, "/api/hello took {took:?} during the render");
    let (status, item, took) = get_json(client, &format!("{base}/api/items/2")).await;
    assert_eq!((status, &item["id"], &item["name"]), (200, &json!(2), &json!("subtitle pack")), "/api/items/2: {item}");
    assert!(took < HOST_ROUTE_LIMIT, "/api/items/2 took {took:?} during the render");
    let (status, missing, took) = get_json(client, &format!("{base}/api/items/77")).await;
    assert_eq!(status, 404, "/api/items/77: {missing}");
    assert!(took < HOST_ROUTE_LIMIT, "/api/items/77 took {took:?} during the render");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hosts_routes_keep_working_while_the_mounted_engine_renders() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("inputs")).unwrap();
    let clip = data.join("inputs/clip.mp4");
    generate_clip(&clip, 8.0, 640, 360, FrameRate::new(25, 1).unwrap(), true).unwrap();

    let addr = free_local_addr();
    let base = format!("http://{addr}");
    let data_arg = data.to_string_lossy().into_owned();
    let mut server =
        ServerProcess::start(&example_binary("embedded"), &["--bind", &addr, "--data-dir", &data_arg], &dir.path().join("embedded.log"));
    let client = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
    wait_until_up(&client, &base, &mut server).await;
    // One actix System: the host's handlers and the engine's actors run in
    // it, and the engine started no runtime of its own.
    let (_, runtime, _) = get_json(&client, &format!("{base}/api/runtime")).await;
    assert!(runtime["host_system"].is_u64(), "{runtime}");
    assert_eq!(runtime["host_system"], runtime["engine_system"], "the engine runs in another System: {runtime}");
    let threads: Vec<&str> = runtime["threads"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(!threads.iter().any(|name| name.starts_with("motionrender-en")), "the engine started a runtime of its own: {threads:?}");
    check_host_routes(&client, &base).await;
    let (status, _, _) = get_json(&client, &format!("{base}/api/jobs/{JOB}/summary")).await;
    assert_eq!(status, 404, "a job that was never submitted has a summary");

    // Submit through the mounted engine.
    let request = json!({
        "jobId": JOB,
        "videoUrl": clip.to_string_lossy(),
        "scenario": read_json(&fixtures_dir().join("render/busy_captions.json")),
    });
    let answer = client.post(format!("{base}/render-engine/render")).json(&request).send().await.unwrap();
    assert_eq!(answer.status().as_u16(), 202, "submit: {}", answer.text().await.unwrap_or_default());
    let location = answer.headers().get("location").and_then(|l| l.to_str().ok()).unwrap_or_default().to_owned();
    assert_eq!(location, format!("/render-engine/api/render/{JOB}/status"), "the Location header ignores the scope");
    let accepted: Value = answer.json().await.unwrap();
    assert_eq!(accepted["job_id"], JOB);

    // While it renders: the host's routes, the engine's status through the
    // scope, and the host's Rust-side summary of the same job.
    let deadline = Instant::now() + Duration::from_secs(240);
    let (mut progress_seen, mut checks_while_processing) = (Vec::new(), 0);
    // The browser and encoder processes the render started.
    let mut workers = std::collections::BTreeMap::new();
    let finished = loop {
        server.assert_running();
        assert!(Instant::now() < deadline, "the job did not finish within 240 s; seen {progress_seen:?}:\n{}", server.output());
        check_host_routes(&client, &base).await;
        let (status, job, _) = get_json(&client, &format!("{base}{location}")).await;
        assert_eq!(status, 200, "status: {job}");
        let (status, summary, took) = get_json(&client, &format!("{base}/api/jobs/{JOB}/summary")).await;
        assert_eq!(status, 200, "summary: {summary}");
        assert!(took < HOST_ROUTE_LIMIT, "the summary took {took:?} during the render");
        let state = job["status"].as_str().unwrap_or_default().to_owned();
        let progress = job["progress"].as_f64().unwrap();
        assert!(["queued", "processing", "completed"].contains(&state.as_str()), "unexpected status: {job}");
        if let Some(&(_, before)) = progress_seen.last() {
            assert!(progress >= before, "progress went backwards: {before} → {progress}");
        }
        // The summary read from the handle is never behind the status read before it.
        assert!(summary["progress"].as_f64().unwrap() >= progress, "summary {summary} behind status {job}");
        if state == "processing" && progress > 0.0 && progress < 100.0 {
            checks_while_processing += 1;
        }
        for (pid, cmdline) in descendants(server.pid()) {
            if cmdline.contains("chrom") || cmdline.contains("ffmpeg") {
                workers.insert(pid, cmdline);
            }
        }
        progress_seen.push((state.clone(), progress));
        if state == "completed" {
            break job;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert!(
        checks_while_processing >= 3,
        "the host's routes were checked only {checks_while_processing} times while the job was between 0 and 100%: {progress_seen:?}"
    );
    eprintln!("service_embedding: {} polls, {checks_while_processing} while processing; progress {progress_seen:?}", progress_seen.len());
    let distinct: std::collections::BTreeSet<u64> = progress_seen.iter().map(|(_, p)| *p as u64).collect();
    assert!(distinct.len() >= 3, "the job's progress did not move through several values: {progress_seen:?}");

    // The engine's links point into the host's scope, and the download works.
    let download_url = finished["download_url"].as_str().unwrap_or_default();
    assert_eq!(download_url, format!("{base}/render-engine/api/render/{JOB}/download"));
    let (_, summary, _) = get_json(&client, &format!("{base}/api/jobs/{JOB}/summary")).await;
    assert_eq!((&summary["status"], &summary["finished"], &summary["download_url"]), (&json!("completed"), &json!(true), &json!(download_url)));
    let video = client.get(download_url).send().await.unwrap();
    assert_eq!(video.status().as_u16(), 200);
    assert_eq!(video.headers().get("content-type").and_then(|t| t.to_str().ok()), Some("video/mp4"));
    let bytes = video.bytes().await.unwrap();
    assert_eq!(bytes.get(4..8), Some(&b"ftyp"[..]), "the download is not an MP4");
    let out = dir.path().join("downloaded.mp4");
    std::fs::write(&out, &bytes).unwrap();
    let (source_info, out_info) = (probe(&clip).unwrap(), probe(&out).unwrap());
    assert_eq!(out_info.frame_count, source_info.frame_count);
    assert!(out_info.has_audio(), "the source's audio is missing from the download");

    // The dashboard and the list it reads are served inside the scope too.
    let dashboard = client.get(format!("{base}/render-engine/")).send().await.unwrap();
    assert_eq!(dashboard.status().as_u16(), 200);
    assert!(dashboard.text().await.unwrap().contains("fetch('api/jobs'"), "the dashboard does not read its jobs relative to the scope");
    let (status, jobs, _) = get_json(&client, &format!("{base}/render-engine/api/jobs")).await;
    assert_eq!(status, 200, "{jobs}");
    assert!(jobs.as_array().unwrap().iter().any(|job| job["job_id"] == JOB), "the job is not listed under the scope: {jobs}");

    // The host's subscription to the engine saw the job's events.
    let (_, hello, _) = get_json(&client, &format!("{base}/api/hello")).await;
    assert!(hello["render_events_seen"].as_u64().unwrap() >= 3, "the host's event watcher saw too little: {hello}");
    assert!(server.output().contains(&format!("embedded: job {JOB} completed")), "no completion logged:\n{}", server.output());

    // The host submits through the engine handle too (no HTTP to the engine).
    let through_handle = json!({
        "jobId": "through-handle",
        "videoUrl": clip.to_string_lossy(),
        "scenario": read_json(&fixtures_dir().join("render/busy_captions.json")),
    });
    let answer = client.post(format!("{base}/api/host-jobs")).json(&through_handle).send().await.unwrap();
    assert_eq!(answer.status().as_u16(), 202, "host submit: {}", answer.text().await.unwrap_or_default());
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let (_, summary, _) = get_json(&client, &format!("{base}/api/jobs/through-handle/summary")).await;
        if summary["status"] == "completed" {
            break;
        }
        assert!(Instant::now() < deadline && summary["status"] != "failed", "the job submitted through the handle: {summary}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    // A graceful stop leaves no browser or encoder behind.
    let exit = server.stop(Duration::from_secs(20));
    assert!(exit.is_some_and(|status| status.success()), "the example did not stop cleanly ({exit:?}):\n{}", server.output());
    assert!(workers.values().any(|cmdline| cmdline.contains("chrom")), "no browser was seen rendering: {workers:?}");
    let alive: Vec<_> = workers.iter().filter(|(pid, _)| process_alive(**pid)).collect();
    assert!(alive.is_empty(), "render processes outlived the example: {alive:?}");
    let marker = dir.path().to_string_lossy().into_owned();
    let left = processes_mentioning(&marker);
    assert!(left.is_empty(), "processes left behind: {left:?}");
    assert!(!Path::new(&data.join("work/jobs").join(JOB)).exists(), "the job's work folder was left behind");
}
