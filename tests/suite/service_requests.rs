//! Bad requests get the right status and error code, name the field, queue
//! nothing, and leave the server healthy; subtitle text that looks like HTML
//! renders as the literal characters.

use std::time::Duration;

use motionrender_tests::{luma_frame, mean_difference};
use serde_json::{json, Value};

use super::service_support::{get, request, scenario, Server};

/// A valid job body to break one field of.
fn valid(server: &Server) -> Value {
    let clip = server.input_clip("clip.mp4", 2.0, 640, 360);
    json!({ "videoUrl": clip, "scenario": scenario("caption_box.json") })
}

fn with(mut body: Value, pointer: &str, value: Value) -> Value {
    *body.pointer_mut(pointer).unwrap_or_else(|| panic!("{pointer} not in the body")) = value;
    body
}

fn with_option(body: Value, name: &str, value: Value) -> Value {
    let mut body = body;
    body["options"][name] = value;
    body
}

#[test]
fn bad_requests_are_refused_by_status_code_and_field_and_the_server_stays_healthy() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["server.max_body_bytes=65536"]);
    let base = valid(&server);
    let outside = dir.path().join("outside.mp4");
    std::fs::copy(server.input_clip("clip.mp4", 2.0, 640, 360), &outside).unwrap();
    let mut invalid_scenario = scenario("caption_box.json");
    invalid_scenario["cues"][0]["track"] = json!("no-such-track");

    let json_cases: Vec<(&str, Value, u16, &str, &str)> = vec![
        ("body is an array", json!([1, 2]), 422, "VALIDATION_ERROR", ""),
        ("no videoUrl", json!({ "scenario": scenario("caption_box.json") }), 422, "VALIDATION_ERROR", "videoUrl"),
        ("no scenario", json!({ "videoUrl": base["videoUrl"] }), 422, "VALIDATION_ERROR", "scenario"),
        ("scenario is a string", with(base.clone(), "/scenario", json!("2.0")), 422, "VALIDATION_ERROR", "scenario"),
        ("scenario refers to an unknown track", with(base.clone(), "/scenario", invalid_scenario), 422, "VALIDATION_ERROR", "scenario/cues/0/track"),
        ("scenario version 3.0", with(base.clone(), "/scenario/version", json!("3.0")), 422, "VALIDATION_ERROR", "scenario"),
        ("unknown top-level field", with(base.clone(), "", { let mut b = base.clone(); b["priority"] = json!(1); b }), 422, "VALIDATION_ERROR", "priority"),
        ("unknown option", with_option(base.clone(), "turbo", json!(true)), 422, "INVALID_RENDER_OPTIONS", "options.turbo"),
        ("quality 0", with_option(base.clone(), "quality", json!(0)), 422, "INVALID_RENDER_OPTIONS", "options.quality"),
        ("quality is text", with_option(base.clone(), "quality", json!("high")), 422, "INVALID_RENDER_OPTIONS", "options.quality"),
        ("encoder vp9", with_option(base.clone(), "encoder", json!("vp9")), 422, "INVALID_RENDER_OPTIONS", "options.encoder"),
        ("dropPolicy sometimes", with_option(base.clone(), "dropPolicy", json!("sometimes")), 422, "INVALID_RENDER_OPTIONS", "options.dropPolicy"),
        ("odd width", with_option(base.clone(), "width", json!(1281)), 422, "INVALID_RENDER_OPTIONS", "options.width"),
        ("format webm", with_option(base.clone(), "format", json!("webm")), 422, "INVALID_RENDER_OPTIONS", "options.format"),
        ("videoUrl on loopback", with(base.clone(), "/videoUrl", json!("http://127.0.0.1:9/clip.mp4")), 422, "INVALID_VIDEO_URL", "videoUrl"),
        ("videoUrl on localhost", with(base.clone(), "/videoUrl", json!("http://localhost/clip.mp4")), 422, "INVALID_VIDEO_URL", "videoUrl"),
        ("videoUrl at cloud metadata", with(base.clone(), "/videoUrl", json!("http://169.254.169.254/latest/meta-data")), 422, "INVALID_VIDEO_URL", "videoUrl"),
        ("videoUrl at IPv6 metadata", with(base.clone(), "/videoUrl", json!("http://[fd00:ec2::254]/")), 422, "INVALID_VIDEO_URL", "videoUrl"),
        ("videoUrl on a private network", with(base.clone(), "/videoUrl", json!("http://10.1.2.3/clip.mp4")), 422, "INVALID_VIDEO_URL", "videoUrl"),
        ("videoUrl outside the input roots", with(base.clone(), "/videoUrl", json!(outside)), 422, "INVALID_VIDEO_URL", "videoUrl"),
        ("videoUrl climbing out of the root", with(base.clone(), "/videoUrl", json!(dir.path().join("inputs/../outside.mp4"))), 422, "INVALID_VIDEO_URL", "videoUrl"),
        ("videoUrl /etc/passwd", with(base.clone(), "/videoUrl", json!("/etc/passwd")), 422, "INVALID_VIDEO_URL", "videoUrl"),
        ("videoUrl ftp", with(base.clone(), "/videoUrl", json!("ftp://example.com/clip.mp4")), 422, "INVALID_VIDEO_URL", "videoUrl"),
        ("outputKey with ../", with_option(base.clone(), "outputKey", json!("../escape.mp4")), 422, "INVALID_RENDER_OPTIONS", "options.outputKey"),
        ("absolute outputKey", with_option(base.clone(), "outputKey", json!("/tmp/abs.mp4")), 422, "INVALID_RENDER_OPTIONS", "options.outputKey"),
        ("callback at cloud metadata", with(base.clone(), "", { let mut b = base.clone(); b["callbackUrl"] = json!("http://169.254.169.254/cb"); b }), 422, "VALIDATION_ERROR", "callbackUrl"),
        ("callback not a URL", with(base.clone(), "", { let mut b = base.clone(); b["callbackUrl"] = json!("not a url"); b }), 422, "VALIDATION_ERROR", "callbackUrl"),
        ("jobId with a slash", with(base.clone(), "", { let mut b = base.clone(); b["jobId"] = json!("../etc"); b }), 422, "VALIDATION_ERROR", "jobId"),
    ];
    let mut checked = 0;
    for (name, body, status, code, field) in &json_cases {
        let answer = server.submit(body);
        assert_eq!(answer.status, *status, "{name}: {}", String::from_utf8_lossy(&answer.body));
        let error = answer.json();
        assert_eq!(error["error_code"], *code, "{name}: {error}");
        let message = error["error_message"].as_str().unwrap();
        let named = error["details"]["field"].as_str().unwrap_or(message);
        assert!(named.contains(field) || message.contains(field), "{name}: the error does not name {field}: {error}");
        checked += 1;
    }

    let raw_cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("malformed JSON", b"{\"videoUrl\": ".to_vec(), 400),
        ("empty body", Vec::new(), 400),
        ("oversized body", format!("{{\"videoUrl\": \"{}\"}}", "x".repeat(100_000)).into_bytes(), 413),
    ];
    for (name, body, status) in &raw_cases {
        let answer = request("POST", &server.url("/render"), &[], Some(body));
        assert_eq!(answer.status, *status, "{name}: {}", String::from_utf8_lossy(&answer.body));
        assert_eq!(answer.json()["error_code"], "VALIDATION_ERROR", "{name}");
        checked += 1;
    }

    // The same id with another body is a conflict; with the same body, the same job.
    let first = with(base.clone(), "", { let mut b = base.clone(); b["jobId"] = json!("dup-1"); b });
    assert_eq!(server.submit(&first).status, 202);
    let repeat = server.submit(&first);
    assert_eq!((repeat.status, repeat.json()["job_id"].clone()), (200, json!("dup-1")), "an identical repeat returns the job");
    let other = with_option(first.clone(), "quality", json!(50));
    let conflict = server.submit(&other);
    assert_eq!((conflict.status, conflict.json()["error_code"].clone()), (409, json!("JOB_ALREADY_EXISTS")));
    let unknown = get(&server.url("/api/render/no-such-job/status"));
    assert_eq!((unknown.status, unknown.json()["error_code"].clone()), (404, json!("JOB_NOT_FOUND")));
    let cancel_unknown = request("POST", &server.url("/api/render/no-such-job/cancel"), &[], Some(b""));
    assert_eq!(cancel_unknown.status, 404);
    checked += 3;
    assert!(checked >= 25, "only {checked} bad requests were tried");

    // Nothing was queued by the refused requests, and the server is fine.
    let queue = get(&server.url("/queue/status")).json();
    let total: u64 = ["queued", "processing", "completed", "failed", "cancelled"].iter().map(|k| queue["detailed_status"][k].as_u64().unwrap()).sum();
    assert_eq!(total, 1, "refused requests created jobs: {queue}");
    assert_eq!(get(&server.url("/health")).json()["status"], "healthy");
    server.wait_for("dup-1", Duration::from_secs(120), |s| s["status"] == "completed");
}

#[test]
fn a_token_is_required_when_one_is_configured() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["server.token=t0ken-for-tests"]);
    let body = valid(&server);
    let missing = request("POST", &server.url("/render"), &[], Some(body.to_string().as_bytes()));
    assert_eq!((missing.status, missing.json()["error_code"].clone()), (401, json!("UNAUTHORIZED")));
    let wrong = request("POST", &server.url("/render"), &[("Authorization", "Bearer nope")], Some(body.to_string().as_bytes()));
    assert_eq!(wrong.status, 401);
    assert_eq!(get(&server.url("/api/render/x/status")).status, 401);
    assert_eq!(get(&server.url("/metrics")).status, 401);
    assert_eq!(get(&server.url("/livez")).status, 200, "liveness needs no token");
    let right = request("POST", &server.url("/render"), &[("Authorization", "Bearer t0ken-for-tests")], Some(body.to_string().as_bytes()));
    assert_eq!(right.status, 202, "{}", String::from_utf8_lossy(&right.body));
}

/// Caption text that looks like HTML and script is drawn as those very
/// characters: its caption is as wide as the literal text, and no script ran
/// (a script would have painted the whole page).
#[test]
fn subtitle_text_with_html_and_script_renders_as_literal_characters() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let clip = server.input_clip("clip.mp4", 2.0, 640, 360);
    let hostile = "<b>NOT</b><img src=x onerror=\"document.documentElement.style.background='red'\"><script>document.documentElement.style.background='red'</script>";
    let mut jobs = Vec::new();
    for (id, text) in [("html-text", hostile), ("plain-text", "NOT")] {
        let mut caption = scenario("caption_box.json");
        caption["cues"][0]["root"]["children"][0]["text"] = json!(text);
        caption["tracks"][0]["defaultStyle"]["fontSizeRel"] = json!(0.025);
        caption["cues"][0]["root"]["children"][0]["displayTime"] = json!([0.0, 2.0]);
        caption["cues"][0]["domLifetime"] = json!([0.0, 2.0]);
        let body = json!({ "jobId": id, "videoUrl": clip, "scenario": caption });
        assert_eq!(server.submit(&body).status, 202, "text is text: the request must be accepted");
        jobs.push(id);
    }
    let (width, height) = (640, 360);
    let source = luma_frame(&clip, width, height, 25);
    let mut widths = Vec::new();
    for id in &jobs {
        server.wait_for(id, Duration::from_secs(120), |s| s["status"] == "completed");
        let out = dir.path().join("output").join(format!("{id}.mp4"));
        let frame = luma_frame(&out, width, height, 25);
        let corner = mean_difference(&frame, &source, width, (0, 0, 120, 60));
        assert!(corner < 2.0, "{id}: pixels far from the caption changed ({corner:.1}): did a script run?");
        let changed: Vec<u32> = (0..width)
            .filter(|&x| (height / 2 - 20..height / 2 + 20).any(|y| frame[(y * width + x) as usize].abs_diff(source[(y * width + x) as usize]) > 40))
            .collect();
        widths.push(changed.last().unwrap_or(&0).saturating_sub(*changed.first().unwrap_or(&0)));
    }
    assert!(widths[0] > widths[1] * 5, "the HTML text was not drawn literally: caption widths {widths:?} (html, plain)");
}

#[test]
fn a_full_queue_answers_429_queue_full_with_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["server.max_running_jobs=1", "server.max_queued_jobs=1"]);
    let clip = server.input_clip("clip.mp4", 4.0, 640, 360);
    let mut answers = Vec::new();
    for n in 0..4 {
        let body = json!({ "jobId": format!("q-{n}"), "videoUrl": clip, "scenario": scenario("busy_captions.json") });
        answers.push(server.submit(&body));
    }
    let full: Vec<_> = answers.iter().filter(|a| a.status == 429).collect();
    assert!(!full.is_empty(), "four jobs fit a queue of one: {:?}", answers.iter().map(|a| a.status).collect::<Vec<_>>());
    for answer in &full {
        assert_eq!(answer.json()["error_code"], "QUEUE_FULL");
        let wait: u64 = answer.header("retry-after").expect("Retry-After").parse().unwrap();
        assert!(wait >= 1);
    }
    assert_eq!(answers[0].status, 202);
}

#[test]
fn health_readiness_and_openapi_describe_the_service() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let health = get(&server.url("/health")).json();
    assert_eq!(health["status"], "healthy");
    let nvenc = &health["encoders"]["nvenc"];
    let status = motionrender_engine::media::nvenc_status();
    assert_eq!(nvenc["available"], status.usable, "{health}");
    assert_eq!(nvenc["reason"], status.reason.as_str(), "the reason NVENC is or is not usable: {health}");
    assert_eq!(health["encoders"]["x264"]["available"], true);
    assert_eq!(health["browsers"]["available"], true, "{health}");
    assert_eq!(get(&server.url("/readyz")).status, 200);
    let openapi = get(&server.url("/openapi.json")).json();
    assert_eq!(openapi["openapi"], "3.1.0");
    for (path, method) in [("/render", "post"), ("/api/render/{job_id}/status", "get"), ("/api/render/{job_id}/cancel", "post"), ("/metrics", "get")] {
        assert!(openapi["paths"][path][method].is_object(), "{method} {path} missing from /openapi.json");
    }
    let routes = openapi["paths"].as_object().unwrap().len();
    assert!(routes >= 14, "only {routes} paths documented");
    let metrics = String::from_utf8(get(&server.url("/metrics")).body).unwrap();
    assert!(metrics.lines().any(|line| line == "motionrender_jobs_queued 0"), "{metrics}");
}

#[test]
fn serve_refuses_to_start_without_its_browser_and_readiness_fails_with_the_reason_when_the_pages_packages_go() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let refused = std::process::Command::new(motionrender_tests::motionrender_binary())
        .args(["--set", "browser.executable=/nonexistent/chromium", "serve", "--bind", &motionrender_tests::free_local_addr(), "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    let reason = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "serve started without a browser");
    assert!(reason.contains("/nonexistent/chromium") && reason.contains("chromium-headless-shell"), "{reason}");
    assert!(!data.exists(), "the refused serve made its data folder");

    // A page whose packages are there at start and gone later.
    let page = dir.path().join("page");
    super::cli_doctor::page_without_packages(&page);
    for package in ["gsap", "motiontext-renderer"] {
        let folder = page.join("node_modules").join(package);
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("package.json"), r#"{"version": "0.0.0"}"#).unwrap();
    }
    std::fs::create_dir_all(&data).unwrap();
    let server = Server::start(&data, &[&format!("paths.page_dir={}", page.display())]);
    assert_eq!(get(&server.url("/readyz")).status, 200);
    std::fs::remove_dir_all(page.join("node_modules")).unwrap();
    let answer = get(&server.url("/readyz"));
    assert_eq!(answer.status, 503);
    let reasons = answer.json()["reasons"].to_string();
    assert!(reasons.contains(&format!("npm ci --prefix {}", page.display())), "{reasons}");
    assert_eq!(get(&server.url("/livez")).status, 200, "alive all the same");
}
