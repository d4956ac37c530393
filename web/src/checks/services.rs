//! Services a configuration may name: S3 for outputs, the alert webhook,
//! and the work queue's Redis (`work_queue.url`).

use motionrender_actors::farm::{FarmError, RedisLink};
use motionrender_actors::url_policy::UrlPolicy;
use motionrender_config::Config;
use motionrender_engine::storage::Storage;

use super::{Check, Verdict};

/// The work queue's Redis, when `work_queue.url` is set: one `PING`.
pub async fn redis(config: &Config) -> Check {
    let Some(url) = config.work_queue.url() else {
        return Check::new("redis", Verdict::Skip, "not configured: jobs render in this process (work_queue.url, --queue)");
    };
    let timeout = std::time::Duration::from_millis(config.work_queue.timeout_ms);
    let pinged = match RedisLink::open(url, timeout, std::time::Duration::ZERO, timeout) {
        Ok(link) => tokio::time::timeout(timeout, link.ping()).await.unwrap_or_else(|_| Err(FarmError::Unreachable { url: link.url().to_owned(), detail: "no answer in time".to_owned() })),
        Err(error) => Err(error),
    };
    match pinged {
        Ok(()) => Check::ok("redis", "the work queue's Redis answers"),
        Err(error) => Check::fail("redis", error.to_string(), "start Redis or fix work_queue.url (redis://HOST:PORT/DB)"),
    }
}

/// The `[s3]` bucket, when outputs go there: one `HeadBucket`.
pub async fn s3(config: &Config) -> Check {
    let Some(bucket) = config.s3.bucket() else {
        return Check::new("s3", Verdict::Skip, "not configured: outputs stay in paths.output_dir");
    };
    let reached = match Storage::from_config(config).await {
        Ok(storage) => storage.check_reachable().await,
        Err(error) => Err(error),
    };
    match reached {
        Ok(()) => Check::ok("s3", format!("bucket {bucket} answers")),
        Err(error) => Check::fail("s3", error.to_string(), "check s3.bucket, s3.endpoint, s3.region and the credentials"),
    }
}

/// `alerts.webhook_url`, when set: the URL policy must let it through.
pub async fn alert_webhook(config: &Config) -> Check {
    let Some(url) = config.alerts.webhook_url() else {
        return Check::new("alert webhook", Verdict::Skip, "not configured (alerts.webhook_url)");
    };
    let policy = UrlPolicy::new(&config.url_policy, &config.paths);
    match policy.check_callback_url(url).await {
        Ok(_) => Check::ok("alert webhook", "allowed by the URL policy"),
        Err(refused) => Check::fail("alert webhook", refused.to_string(), "fix alerts.webhook_url or [url_policy]"),
    }
}
