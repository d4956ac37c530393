//! The size limits of a render request (`[limits]`): every string and list a
//! request can carry is bounded before any work is done with it.

use motionrender_config::LimitsConfig;

use crate::job::RenderJobRequest;

/// A request field beyond its configured limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {actual} {unit} is over the limit of {limit} {unit} ({key})")]
pub struct LimitExceeded {
    /// The request field, as named in the body (`callbackUrl`, `scenario.cues`).
    pub field: String,
    /// The configuration key of the limit (`limits.max_url_bytes`).
    pub key: &'static str,
    pub limit: u64,
    /// How much the request carried; for the scenario's size, the count
    /// stops a little past the limit.
    pub actual: u64,
    /// `bytes`, `cues` or `nodes`.
    pub unit: &'static str,
}

/// Checks every string and list of `request` against `limits`; the first
/// one beyond its limit is the error.
pub fn check_limits(limits: &LimitsConfig, request: &RenderJobRequest) -> Result<(), LimitExceeded> {
    let bytes = |field: &str, text: &str, key: &'static str, limit: u32| {
        within(field, text.len() as u64, key, u64::from(limit), "bytes")
    };
    if let Some(id) = &request.job_id {
        bytes("jobId", id, "limits.max_job_id_bytes", limits.max_job_id_bytes)?;
    }
    bytes("videoUrl", &request.video_url, "limits.max_url_bytes", limits.max_url_bytes)?;
    if let Some(url) = &request.callback_url {
        bytes("callbackUrl", url, "limits.max_url_bytes", limits.max_url_bytes)?;
    }
    let options = &request.options;
    for (field, value) in [
        ("options.format", &options.format),
        ("options.encoder", &options.encoder),
        ("options.preset", &options.preset),
        ("options.dropPolicy", &options.drop_policy),
        ("options.outputKey", &options.output_key),
    ] {
        if let Some(value) = value {
            bytes(field, value, "limits.max_option_bytes", limits.max_option_bytes)?;
        }
    }
    let size = json_size_up_to(&request.scenario, limits.max_scenario_bytes.saturating_add(1));
    within("scenario", size, "limits.max_scenario_bytes", limits.max_scenario_bytes, "bytes")?;
    let cues = request.scenario.get("cues").and_then(serde_json::Value::as_array).map_or(&[][..], Vec::as_slice);
    within("scenario.cues", cues.len() as u64, "limits.max_cues", u64::from(limits.max_cues), "cues")?;
    let nodes: u64 = cues.iter().filter_map(|cue| cue.get("root")).map(count_nodes).sum();
    within("scenario.cues", nodes, "limits.max_nodes", u64::from(limits.max_nodes), "nodes")
}

fn within(field: &str, actual: u64, key: &'static str, limit: u64, unit: &'static str) -> Result<(), LimitExceeded> {
    if actual <= limit {
        Ok(())
    } else {
        Err(LimitExceeded { field: field.to_owned(), key, limit, actual, unit })
    }
}

/// A node and every node under it through `children`, at any depth.
fn count_nodes(root: &serde_json::Value) -> u64 {
    let mut count = 0;
    let mut pending = vec![root];
    while let Some(node) = pending.pop() {
        count += 1;
        if let Some(children) = node.get("children").and_then(serde_json::Value::as_array) {
            pending.extend(children);
        }
    }
    count
}

/// The length of `value` as compact JSON, counted up to `cap` bytes (the
/// writing stops there, so a huge value costs no more than `cap`).
fn json_size_up_to(value: &serde_json::Value, cap: u64) -> u64 {
    struct Counter {
        written: u64,
        cap: u64,
    }
    impl std::io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.written += buf.len() as u64;
            if self.written >= self.cap {
                return Err(std::io::Error::other("over the cap"));
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter { written: 0, cap };
    let _ = serde_json::to_writer(&mut counter, value);
    counter.written.min(cap)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;

    fn request(body: serde_json::Value) -> RenderJobRequest {
        serde_json::from_value(body).unwrap()
    }

    fn small() -> LimitsConfig {
        LimitsConfig { max_job_id_bytes: 8, max_url_bytes: 32, max_option_bytes: 16, max_scenario_bytes: 2048, max_cues: 3, max_nodes: 6 }
    }

    fn cue(children: usize) -> serde_json::Value {
        json!({ "id": "c", "root": { "eType": "group", "children": vec![json!({ "eType": "text", "text": "x" }); children] } })
    }

    #[test]
    fn a_request_within_every_limit_passes() {
        let body = json!({ "jobId": "job-1", "videoUrl": "clip.mp4", "scenario": { "cues": [cue(1), cue(2)] }, "options": { "preset": "fast" } });
        check_limits(&small(), &request(body)).unwrap();
    }

    #[test]
    fn each_limit_names_its_field_and_key() {
        let scenario = json!({ "cues": [cue(1)] });
        for (body, field, key) in [
            (json!({ "jobId": "a-much-longer-id", "videoUrl": "v", "scenario": scenario }), "jobId", "limits.max_job_id_bytes"),
            (json!({ "videoUrl": "x".repeat(33), "scenario": scenario }), "videoUrl", "limits.max_url_bytes"),
            (json!({ "videoUrl": "v", "callbackUrl": format!("http://{}", "c".repeat(40)), "scenario": scenario }), "callbackUrl", "limits.max_url_bytes"),
            (json!({ "videoUrl": "v", "scenario": scenario, "options": { "outputKey": "k".repeat(17) } }), "options.outputKey", "limits.max_option_bytes"),
            (json!({ "videoUrl": "v", "scenario": { "cues": [cue(1)], "pad": "p".repeat(3000) } }), "scenario", "limits.max_scenario_bytes"),
            (json!({ "videoUrl": "v", "scenario": { "cues": [cue(0), cue(0), cue(0), cue(0)] } }), "scenario.cues", "limits.max_cues"),
            (json!({ "videoUrl": "v", "scenario": { "cues": [cue(3), cue(2)] } }), "scenario.cues", "limits.max_nodes"),
        ] {
            let error = check_limits(&small(), &request(body)).unwrap_err();
            assert_eq!((error.field.as_str(), error.key), (field, key), "{error}");
            assert!(error.actual > error.limit, "{error}");
            assert!(error.to_string().starts_with(field) && error.to_string().contains(key), "{error}");
        }
    }

    #[test]
    fn nested_children_count_at_every_depth() {
        let deep = json!({ "children": [{ "children": [{ "children": [{}, {}] }] }, {}] });
        assert_eq!(count_nodes(&deep), 6);
    }

    #[test]
    fn the_scenario_size_is_counted_without_writing_it_all() {
        let big = json!({ "text": "t".repeat(1_000_000) });
        assert_eq!(json_size_up_to(&big, 100), 100);
        let exact = json!({ "a": 1 });
        assert_eq!(json_size_up_to(&exact, 1000), 7);
    }
}
