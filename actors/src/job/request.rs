//! The body of `POST /render` (camelCase, as the existing backend sends it).

use serde::{Deserialize, Serialize};

/// A render job as submitted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RenderJobRequest {
    /// Caller-chosen id; generated when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    /// A file under an allowed root, an http(s) URL or `s3://bucket/key`.
    pub video_url: String,
    /// The MotionText scenario (v2.0, or v1.3 migrated).
    #[schema(value_type = Object)]
    pub scenario: serde_json::Value,
    #[serde(default)]
    pub options: RenderOptions,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_url: Option<String>,
}

/// `options` of a render request; unset fields take the source's or the
/// configuration's values.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RenderOptions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fps: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoder: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drop_policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_key: Option<String>,
}

impl RenderJobRequest {
    /// A stable digest of what the job asks for (its id aside), to tell a
    /// repeated submit from a different body under the same id. It is taken
    /// over canonical JSON (object keys sorted at every depth, no spaces), so
    /// the same request with its keys in another order has the same digest.
    pub fn digest(&self) -> String {
        use sha2::Digest as _;
        let mut body = self.clone();
        body.job_id = None;
        let text = serde_json::to_value(&body).map(|value| canonical_json(&value)).unwrap_or_default();
        hex::encode(sha2::Sha256::digest(text.as_bytes()))
    }
}

/// `value` as compact JSON with the keys of every object in sorted order
/// (serde_json keeps insertion order here, `preserve_order` being on).
fn canonical_json(value: &serde_json::Value) -> String {
    fn write(value: &serde_json::Value, out: &mut String) {
        match value {
            serde_json::Value::Object(members) => {
                let mut keys: Vec<&String> = members.keys().collect();
                keys.sort();
                out.push('{');
                for (n, key) in keys.into_iter().enumerate() {
                    if n > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::Value::String(key.clone()).to_string());
                    out.push(':');
                    write(&members[key], out);
                }
                out.push('}');
            }
            serde_json::Value::Array(items) => {
                out.push('[');
                for (n, item) in items.iter().enumerate() {
                    if n > 0 {
                        out.push(',');
                    }
                    write(item, out);
                }
                out.push(']');
            }
            scalar => out.push_str(&scalar.to_string()),
        }
    }
    let mut out = String::new();
    write(value, &mut out);
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn request(text: &str) -> RenderJobRequest {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn the_digest_does_not_depend_on_key_order() {
        let one = request(r#"{"videoUrl":"a.mp4","scenario":{"version":"2.0","cues":[{"id":"c","track":"t"}],"stage":{"baseAspect":"16:9"}},"options":{"quality":80,"preset":"fast"}}"#);
        let other = request(r#"{"options":{"preset":"fast","quality":80},"scenario":{"stage":{"baseAspect":"16:9"},"cues":[{"track":"t","id":"c"}],"version":"2.0"},"videoUrl":"a.mp4"}"#);
        assert_eq!(one.digest(), other.digest());
    }

    #[test]
    fn the_digest_tells_different_requests_apart() {
        let one = request(r#"{"videoUrl":"a.mp4","scenario":{"cues":[{"id":"c"},{"id":"d"}]}}"#);
        let reordered_list = request(r#"{"videoUrl":"a.mp4","scenario":{"cues":[{"id":"d"},{"id":"c"}]}}"#);
        let other_value = request(r#"{"videoUrl":"a.mp4","scenario":{"cues":[{"id":"c"},{"id":"e"}]}}"#);
        assert_ne!(one.digest(), reordered_list.digest(), "list order is meaningful");
        assert_ne!(one.digest(), other_value.digest());
        let mut with_id = one.clone();
        with_id.job_id = Some("x".to_owned());
        assert_eq!(one.digest(), with_id.digest(), "the id is not part of the digest");
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_depth_and_escapes_them() {
        let value: serde_json::Value = serde_json::from_str(r#"{"b":{"z":1,"a":[{"y":true,"x":null}]},"a\"q":"s"}"#).unwrap();
        assert_eq!(canonical_json(&value), r#"{"a\"q":"s","b":{"a":[{"x":null,"y":true}],"z":1}}"#);
    }
}
