//! Services a configuration may name: S3 for outputs, the alert webhook,
//! and Redis (not used by this build).

use motionrender_actors::url_policy::UrlPolicy;
use motionrender_config::Config;
use motionrender_engine::storage::Storage;

use super::{Check, Verdict};

/// Redis: this build queues jobs in its embedded store.
pub fn redis() -> Check {
    Check::new("redis", Verdict::Skip, "not used: jobs are queued in the embedded store (this build has no Redis queue)")
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
