//! Where a checked `videoUrl` points, and the parsing of `s3://bucket/key`.

use std::path::PathBuf;

use super::error::Refusal;

/// A `videoUrl` that passed the URL policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VideoSource {
    /// A local file: canonical path (symlinks resolved) of an existing
    /// regular file inside an input root. From a plain path or a `file://` URL.
    Local(PathBuf),
    /// An `http`/`https` URL whose host passed the address checks.
    Http(url::Url),
    /// An object in S3-compatible storage, from `s3://bucket/key`.
    S3 {
        /// Bucket name.
        bucket: String,
        /// Object key, as written (not percent-decoded).
        key: String,
    },
}

/// Splits `s3://bucket/key` (scheme in any case) into bucket and key.
///
/// The bucket must follow S3 naming (3 to 63 of `a-z 0-9 . -`, starting and
/// ending with a letter or digit); the key must be non-empty and at most 1024
/// bytes.
pub(crate) fn parse_s3(input: &str) -> Result<(String, String), Refusal> {
    let rest = input
        .split_once("://")
        .map(|(_, rest)| rest)
        .ok_or(Refusal::InvalidS3("missing ://"))?;
    let (bucket, key) = rest
        .split_once('/')
        .ok_or(Refusal::InvalidS3("missing object key"))?;
    if !valid_bucket(bucket) {
        return Err(Refusal::InvalidS3("invalid bucket name"));
    }
    if key.is_empty() {
        return Err(Refusal::InvalidS3("missing object key"));
    }
    if key.len() > 1024 {
        return Err(Refusal::InvalidS3("object key longer than 1024 bytes"));
    }
    Ok((bucket.to_owned(), key.to_owned()))
}

fn valid_bucket(bucket: &str) -> bool {
    let bytes = bucket.as_bytes();
    let edge_ok = |byte: Option<&u8>| byte.is_some_and(u8::is_ascii_alphanumeric);
    (3..=63).contains(&bytes.len())
        && bytes
            .iter()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || b".-".contains(byte))
        && edge_ok(bytes.first())
        && edge_ok(bytes.last())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::parse_s3;

    #[test]
    fn splits_bucket_and_key() {
        assert_eq!(
            parse_s3("s3://my-bucket/videos/a b.mp4").unwrap(),
            ("my-bucket".to_owned(), "videos/a b.mp4".to_owned())
        );
    }

    #[test]
    fn refuses_malformed_locations() {
        for input in [
            "s3://my-bucket",
            "s3://my-bucket/",
            "s3://ab/x",
            "s3://My_Bucket/x",
            "s3://-bucket/x",
            "s3:///x",
        ] {
            assert!(parse_s3(input).is_err(), "{input}");
        }
    }
}
