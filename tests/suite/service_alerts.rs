//! `[alerts]`: the engine posts one alert for a failed job and one for a
//! render whose drop rate passed the threshold to a webhook (the test's own
//! loopback receiver), as a Slack-compatible body signed like callbacks; a
//! second failure within `alerts.min_interval_secs` posts nothing; a queue
//! longer than `alerts.max_queue_depth` posts one too.

use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

use super::service_metrics::{sample, scrape};
use super::service_support::{free_port, Received, Receiver, Server};

const SECRET: &str = "alert-signing-secret";

/// Waits until `done` holds for `/metrics`, or panics with the text.
fn wait_metrics(server: &Server, what: &str, done: impl Fn(&str) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let text = scrape(server);
        if done(&text) {
            return;
        }
        assert!(Instant::now() < deadline, "never {what}:\n{text}\nlog: {}", server.log());
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Whether the request carries `X-Motionrender-Signature` = HMAC-SHA256 of
/// `timestamp "." body` under the callbacks secret.
fn signed(request: &Received) -> bool {
    let (Some(signature), Some(timestamp)) = (request.headers.get("x-motionrender-signature"), request.headers.get("x-motionrender-timestamp")) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(&request.body);
    *signature == format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[test]
fn a_failed_job_a_drop_rate_breach_and_a_long_queue_post_one_signed_alert_each_and_a_second_failure_within_the_limit_none() {
    let dir = tempfile::tempdir().unwrap();
    let webhook = Receiver::start(free_port());
    let url = format!("alerts.webhook_url={}", webhook.url());
    let secret = format!("callbacks.secret={SECRET}");
    // The encoder waits until its segment's overlays were all offered, so a
    // one-frame queue under drop_newest keeps the first and drops the rest.
    let server = Server::start_with_env(
        dir.path(),
        &[&url, &secret, "alerts.min_interval_secs=3600", "alerts.max_drop_rate=0.05", "alerts.max_queue_depth=1", "queue.capacity_frames=1", "segments.seconds=2", "server.max_running_jobs=1"],
        &[("MR_TEST_FAULT", "encoder_waits_for_producer")],
    );
    let clip = server.input_clip("clip.mp4", 2.0, 160, 90);
    let whole = std::fs::read(&clip).unwrap();
    let broken = clip.with_file_name("broken.mp4");
    std::fs::write(&broken, &whole[..whole.len() / 2]).unwrap();
    let finished = |id: &str| server.wait_for(id, Duration::from_secs(180), |s| s["status"] != "queued" && s["status"] != "processing");

    assert_eq!(server.submit(&json!({ "jobId": "broken-1", "videoUrl": broken, "scenario": super::service_support::scenario("caption_box.json") })).status, 202);
    assert_eq!(finished("broken-1")["status"], "failed");
    wait_metrics(&server, "sent the failure alert", |text| sample(text, "motionrender_alerts_total{kind=\"job_failed\",outcome=\"sent\"}") == 1.0);

    // A second failure within the rate limit: counted as suppressed, not sent.
    assert_eq!(server.submit(&json!({ "jobId": "broken-2", "videoUrl": broken, "scenario": super::service_support::scenario("caption_box.json") })).status, 202);
    assert_eq!(finished("broken-2")["status"], "failed");
    wait_metrics(&server, "suppressed the second failure alert", |text| sample(text, "motionrender_alerts_total{kind=\"job_failed\",outcome=\"suppressed\"}") == 1.0);

    let body = json!({ "jobId": "dropping", "videoUrl": clip, "scenario": super::service_support::scenario("busy_captions.json"), "options": { "dropPolicy": "drop_newest" } });
    assert_eq!(server.submit(&body).status, 202);
    let done = finished("dropping");
    assert_eq!(done["status"], "completed", "{done}");
    let rate = done["metrics"]["drop_rate"].as_f64().unwrap();
    assert!(rate > 0.05, "the render dropped only {rate} of its overlays: {done}");
    wait_metrics(&server, "sent the drop-rate alert", |text| sample(text, "motionrender_alerts_total{kind=\"drop_rate\",outcome=\"sent\"}") == 1.0);

    // Three jobs at once with one run slot: two wait, more than the depth of one.
    for id in ["wait-1", "wait-2", "wait-3"] {
        let body = json!({ "jobId": id, "videoUrl": clip, "scenario": super::service_support::scenario("busy_captions.json"), "options": { "dropPolicy": "drop_newest" } });
        assert_eq!(server.submit(&body).status, 202);
    }
    wait_metrics(&server, "sent the queue-depth alert", |text| sample(text, "motionrender_alerts_total{kind=\"queue_depth\",outcome=\"sent\"}") == 1.0);

    let alerts = webhook.all();
    assert_eq!(alerts.len(), 3, "{:?}", alerts.iter().map(Received::json).collect::<Vec<_>>());
    let (failure, drops, queue) = (alerts[0].json(), alerts[1].json(), alerts[2].json());
    assert_eq!((queue["kind"].as_str(), queue["pending_jobs"].as_u64()), (Some("queue_depth"), Some(2)), "{queue}");
    assert_eq!((failure["kind"].as_str(), failure["job_id"].as_str()), (Some("job_failed"), Some("broken-1")), "{failure}");
    assert_eq!(failure["error_code"], "INVALID_VIDEO_FORMAT", "{failure}");
    assert!(failure["text"].as_str().unwrap().contains("broken-1"), "Slack's text names the job: {failure}");
    assert_eq!((drops["kind"].as_str(), drops["job_id"].as_str()), (Some("drop_rate"), Some("dropping")), "{drops}");
    assert!(drops["text"].as_str().unwrap().contains("dropped"), "{drops}");
    for alert in &alerts {
        assert_eq!(alert.headers.get("content-type").map(String::as_str), Some("application/json"));
        assert!(signed(alert), "not signed like a callback: {:?}", alert.headers);
    }
}
