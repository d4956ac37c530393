//! Callback delivery against a real HTTP receiver on a local socket.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use motionrender_actors::callbacks::{
    event_id, verify_signature, AttemptFailure, CallbackClient, DeliveryError, SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
};
use motionrender_config::{CallbacksConfig, Secret};
use serde_json::json;
use support::receiver::Receiver;
use tokio::net::TcpListener;
use tokio::sync::watch;

fn config(secret: &str) -> CallbacksConfig {
    CallbacksConfig {
        secret: Secret::new(secret),
        initial_backoff_ms: 50,
        max_backoff_ms: 200,
        timeout_ms: 2_000,
        ..CallbacksConfig::default()
    }
}

fn event() -> serde_json::Value {
    json!({
        "job_id": "job-1",
        "status": "processing",
        "progress": 40,
        "event_id": event_id("job-1", 3),
        "timestamp": "2026-11-25T12:00:00Z",
    })
}

fn never_cancelled() -> watch::Receiver<bool> {
    watch::channel(false).1
}

fn in_secs(secs: f64) -> Instant {
    Instant::now() + Duration::from_secs_f64(secs)
}

#[tokio::test]
async fn signed_delivery_verifies_with_the_secret() {
    let receiver = Receiver::start(200).await.unwrap();
    let client = CallbackClient::new(&config("s3cret")).unwrap();

    let report = client
        .deliver(&receiver.url(), &event(), in_secs(10.0), &never_cancelled())
        .await
        .unwrap();

    assert_eq!(report.attempts, 1);
    assert_eq!(report.status, 200);
    let received = receiver.received();
    assert_eq!(received.len(), 1);
    let request = &received[0];
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert!(request
        .header("user-agent")
        .unwrap()
        .starts_with("motionrender/"));
    let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(body, event());
    let timestamp = request.header(TIMESTAMP_HEADER).unwrap();
    assert!(timestamp.parse::<u64>().unwrap() > 1_700_000_000);
    let signature = request.header(SIGNATURE_HEADER).unwrap();
    assert!(verify_signature(
        "s3cret",
        timestamp,
        &request.body,
        signature
    ));
    assert!(!verify_signature(
        "wrong",
        timestamp,
        &request.body,
        signature
    ));
}

#[tokio::test]
async fn unsigned_when_no_secret_is_configured() {
    let receiver = Receiver::start(204).await.unwrap();
    let client = CallbackClient::new(&config("")).unwrap();

    let report = client
        .deliver(&receiver.url(), &event(), in_secs(10.0), &never_cancelled())
        .await
        .unwrap();

    assert_eq!(report.status, 204);
    let request = &receiver.received()[0];
    assert_eq!(request.header(SIGNATURE_HEADER), None);
    assert_eq!(request.header(TIMESTAMP_HEADER), None);
}

#[tokio::test]
async fn receiver_down_at_first_gets_the_event_once_it_is_up() {
    let addr = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let url = format!("http://{addr}/hook");
    let late_receiver = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(400)).await;
        Receiver::serve(TcpListener::bind(addr).await.unwrap(), 200)
    });
    let client = CallbackClient::new(&config("s3cret")).unwrap();

    let report = client
        .deliver(&url, &event(), in_secs(20.0), &never_cancelled())
        .await
        .unwrap();

    assert!(report.attempts > 1, "attempts: {}", report.attempts);
    let receiver = late_receiver.await.unwrap();
    assert_eq!(receiver.received().len(), 1);
}

#[tokio::test]
async fn client_errors_are_retried_too() {
    let receiver = Receiver::start(404).await.unwrap();
    let client = CallbackClient::new(&config("")).unwrap();
    let (url, body, cancel) = (receiver.url(), event(), never_cancelled());
    let deliver = client.deliver(&url, &body, in_secs(20.0), &cancel);
    let fix = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        receiver.set_status(200);
    };

    let (report, ()) = tokio::join!(deliver, fix);

    let report = report.unwrap();
    assert!(report.attempts > 1);
    assert_eq!(receiver.received().len() as u32, report.attempts);
}

#[tokio::test]
async fn failing_receiver_is_given_up_at_the_deadline() {
    let receiver = Receiver::start(500).await.unwrap();
    let client = CallbackClient::new(&config("")).unwrap();
    let deadline = in_secs(1.2);

    let error = client
        .deliver(&receiver.url(), &event(), deadline, &never_cancelled())
        .await
        .unwrap_err();
    let given_up = Instant::now();

    assert!(
        given_up >= deadline,
        "gave up {:?} early",
        deadline - given_up
    );
    assert!(
        given_up - deadline < Duration::from_secs(1),
        "gave up {:?} late",
        given_up - deadline
    );
    assert!(
        matches!(error, DeliveryError::DeadlineExceeded { .. }),
        "{error}"
    );
    assert!(error.attempts() > 1);
    // The last attempt may be the one the deadline cut short (on a busy
    // machine); otherwise it is the receiver's 500.
    match error.last_failure() {
        Some(AttemptFailure::Status(500)) => assert!(error.to_string().contains("HTTP status 500"), "{error}"),
        Some(AttemptFailure::Transport(_)) => {}
        other => panic!("unexpected last failure {other:?}"),
    }
    let received = receiver.received().len() as u32;
    assert!(received == error.attempts() || received + 1 == error.attempts(), "{received} requests arrived for {} attempts", error.attempts());
}

#[tokio::test]
async fn unreachable_receiver_reports_the_transport_error() {
    let addr = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let client = CallbackClient::new(&config("")).unwrap();

    let error = client
        .deliver(
            &format!("http://{addr}/hook?token=abc"),
            &event(),
            in_secs(0.5),
            &never_cancelled(),
        )
        .await
        .unwrap_err();

    assert!(
        matches!(error.last_failure(), Some(AttemptFailure::Transport(_))),
        "{error}"
    );
    assert!(!error.to_string().contains("token=abc"), "{error}");
}

#[tokio::test]
async fn cancellation_stops_retrying_promptly() {
    let receiver = Receiver::start(503).await.unwrap();
    let client = CallbackClient::new(&config("")).unwrap();
    let (cancel, cancelled) = watch::channel(false);
    let (url, body) = (receiver.url(), event());
    let deliver = client.deliver(&url, &body, in_secs(30.0), &cancelled);
    let started = Instant::now();
    let stop = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        cancel.send(true).unwrap();
    };

    let (result, ()) = tokio::join!(deliver, stop);

    let error = result.unwrap_err();
    assert!(matches!(error, DeliveryError::Cancelled { .. }), "{error}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(error.last_failure(), Some(&AttemptFailure::Status(503)));
}

#[tokio::test]
async fn past_deadline_makes_no_attempt() {
    let receiver = Receiver::start(200).await.unwrap();
    let client = CallbackClient::new(&config("")).unwrap();

    let error = client
        .deliver(
            &receiver.url(),
            &event(),
            Instant::now(),
            &never_cancelled(),
        )
        .await
        .unwrap_err();

    assert_eq!(error.attempts(), 0);
    assert!(receiver.received().is_empty());
}
