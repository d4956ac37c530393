//! One alert: what happened, as a Slack-compatible webhook body.

use serde_json::{json, Value};

/// What an alert is about; the rate limit applies per kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlertKind {
    JobFailed,
    DropRate,
    QueueDepth,
}

impl AlertKind {
    /// The `kind` label and body field.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::JobFailed => "job_failed",
            Self::DropRate => "drop_rate",
            Self::QueueDepth => "queue_depth",
        }
    }
}

/// An alert to post.
#[derive(Debug, Clone, PartialEq, actix::Message)]
#[rtype(result = "()")]
pub enum Alert {
    /// A job failed with `code`.
    JobFailed { job_id: String, code: String, message: String },
    /// A finished render dropped `rate` of its overlays, above `threshold`.
    DropRate { job_id: String, rate: f64, threshold: f64 },
    /// `waiting` jobs wait, more than `depth`.
    QueueDepth { waiting: usize, depth: u32 },
}

impl Alert {
    pub fn kind(&self) -> AlertKind {
        match self {
            Self::JobFailed { .. } => AlertKind::JobFailed,
            Self::DropRate { .. } => AlertKind::DropRate,
            Self::QueueDepth { .. } => AlertKind::QueueDepth,
        }
    }

    /// The line a person reads.
    pub fn text(&self) -> String {
        match self {
            Self::JobFailed { job_id, code, message } => format!("motionrender: job {job_id} failed with {code}: {message}"),
            Self::DropRate { job_id, rate, threshold } => {
                format!("motionrender: job {job_id} dropped {:.1}% of its overlays (alert above {:.1}%)", rate * 100.0, threshold * 100.0)
            }
            Self::QueueDepth { waiting, depth } => format!("motionrender: {waiting} jobs are waiting (alert above {depth})"),
        }
    }

    /// The webhook body: Slack's `text`, and the same facts as fields for
    /// other receivers.
    pub fn body(&self, timestamp: &str, event_id: &str) -> Value {
        let mut body = json!({ "text": self.text(), "kind": self.kind().as_str(), "timestamp": timestamp, "event_id": event_id });
        let facts = match self {
            Self::JobFailed { job_id, code, .. } => json!({ "job_id": job_id, "error_code": code }),
            Self::DropRate { job_id, rate, threshold } => json!({ "job_id": job_id, "drop_rate": rate, "threshold": threshold }),
            Self::QueueDepth { waiting, depth } => json!({ "pending_jobs": waiting, "threshold": depth }),
        };
        if let (Some(body), Value::Object(facts)) = (body.as_object_mut(), facts) {
            body.extend(facts);
        }
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_has_slacks_text_and_the_facts() {
        let alert = Alert::DropRate { job_id: "j1".into(), rate: 0.25, threshold: 0.05 };
        let body = alert.body("2026-12-01T00:00:00.000Z", "alert-1");
        assert_eq!(body["text"], "motionrender: job j1 dropped 25.0% of its overlays (alert above 5.0%)");
        assert_eq!(body["kind"], "drop_rate");
        assert_eq!(body["job_id"], "j1");
        assert_eq!(body["event_id"], "alert-1");
    }
}
