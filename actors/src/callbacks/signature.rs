//! HMAC-SHA256 signing of callback requests, and its verification for
//! receivers and tests.
//!
//! The signed message is `timestamp + "." + body`; the signature header is
//! `sha256=` followed by the lowercase hex HMAC. The timestamp is the Unix
//! time of the attempt in whole seconds, as decimal digits, so a receiver can
//! refuse stale replays.

use std::fmt;

use hmac::{Hmac, Mac};
use motionrender_config::Secret;
use sha2::Sha256;

use super::error::ClientBuildError;

/// Header carrying `sha256=<hex HMAC>`.
pub const SIGNATURE_HEADER: &str = "X-Motionrender-Signature";
/// Header carrying the signed timestamp.
pub const TIMESTAMP_HEADER: &str = "X-Motionrender-Timestamp";

const SCHEME_PREFIX: &str = "sha256=";

type HmacSha256 = Hmac<Sha256>;

/// The values of the two signature headers of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeaders {
    /// Value of [`SIGNATURE_HEADER`]: `sha256=<hex>`.
    pub signature: String,
    /// Value of [`TIMESTAMP_HEADER`], as signed.
    pub timestamp: String,
}

/// Signs callback bodies with the configured `callbacks.secret`.
#[derive(Clone)]
pub struct CallbackSigner {
    mac: HmacSha256,
}

impl CallbackSigner {
    /// A signer for `secret`, or `None` when the secret is unset (callbacks
    /// are then sent unsigned).
    pub fn from_secret(secret: &Secret) -> Result<Option<Self>, ClientBuildError> {
        secret.get().map(Self::new).transpose()
    }

    /// A signer keyed with `secret`.
    pub fn new(secret: &str) -> Result<Self, ClientBuildError> {
        let mac = keyed(secret).ok_or(ClientBuildError::SigningKey)?;
        Ok(Self { mac })
    }

    /// The headers for `body` sent at `timestamp`.
    pub fn sign(&self, timestamp: &str, body: &[u8]) -> SignatureHeaders {
        let mut mac = self.mac.clone();
        feed(&mut mac, timestamp, body);
        let digest = mac.finalize().into_bytes();
        SignatureHeaders {
            signature: format!("{SCHEME_PREFIX}{}", hex::encode(digest)),
            timestamp: timestamp.to_owned(),
        }
    }
}

impl fmt::Debug for CallbackSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackSigner").finish_non_exhaustive()
    }
}

/// Whether `header_value` (the [`SIGNATURE_HEADER`] value, `sha256=<hex>`) is
/// the signature of `timestamp` and `body` under `secret`. The comparison is
/// constant-time. Checking that the timestamp is recent is up to the receiver.
pub fn verify_signature(secret: &str, timestamp: &str, body: &[u8], header_value: &str) -> bool {
    let Some(hex_digest) = header_value.strip_prefix(SCHEME_PREFIX) else {
        return false;
    };
    let Ok(expected) = hex::decode(hex_digest) else {
        return false;
    };
    let Some(mut mac) = keyed(secret) else {
        return false;
    };
    feed(&mut mac, timestamp, body);
    mac.verify_slice(&expected).is_ok()
}

fn keyed(secret: &str) -> Option<HmacSha256> {
    // HMAC accepts keys of any length; the error case exists only in the
    // generic signature.
    HmacSha256::new_from_slice(secret.as_bytes()).ok()
}

fn feed(mac: &mut HmacSha256, timestamp: &str, body: &[u8]) {
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use motionrender_config::Secret;

    use super::{verify_signature, CallbackSigner};

    #[test]
    fn matches_a_known_hmac_sha256() {
        // HMAC-SHA256(key "key", "1700000000.{}"), computed independently
        // with `openssl dgst -sha256 -hmac key` and Python's `hmac`.
        let headers = CallbackSigner::new("key")
            .unwrap()
            .sign("1700000000", b"{}");
        assert_eq!(headers.timestamp, "1700000000");
        assert_eq!(
            headers.signature,
            "sha256=9d713ed406bb7076d4123f0dc2c39d2df5c654ed4b0cd56b52c8b4c940bd63ae"
        );
    }

    #[test]
    fn verifies_its_own_signature_and_nothing_else() {
        let signer = CallbackSigner::new("s3cret").unwrap();
        let headers = signer.sign("1700000000", br#"{"job_id":"a"}"#);
        assert!(verify_signature(
            "s3cret",
            "1700000000",
            br#"{"job_id":"a"}"#,
            &headers.signature
        ));
        assert!(!verify_signature(
            "other",
            "1700000000",
            br#"{"job_id":"a"}"#,
            &headers.signature
        ));
        assert!(!verify_signature(
            "s3cret",
            "1700000001",
            br#"{"job_id":"a"}"#,
            &headers.signature
        ));
        assert!(!verify_signature(
            "s3cret",
            "1700000000",
            br#"{"job_id":"b"}"#,
            &headers.signature
        ));
        let bare = headers.signature.trim_start_matches("sha256=");
        assert!(!verify_signature(
            "s3cret",
            "1700000000",
            br#"{"job_id":"a"}"#,
            bare
        ));
        assert!(!verify_signature(
            "s3cret",
            "1700000000",
            br#"{"job_id":"a"}"#,
            "sha256=zz"
        ));
        let truncated = &headers.signature[..headers.signature.len() - 2];
        assert!(!verify_signature(
            "s3cret",
            "1700000000",
            br#"{"job_id":"a"}"#,
            truncated
        ));
    }

    #[test]
    fn unset_secret_means_no_signer() {
        assert!(CallbackSigner::from_secret(&Secret::default())
            .unwrap()
            .is_none());
        assert!(CallbackSigner::from_secret(&Secret::new("x"))
            .unwrap()
            .is_some());
    }

    #[test]
    fn debug_does_not_show_the_key() {
        let shown = format!("{:?}", CallbackSigner::new("topsecret").unwrap());
        assert!(!shown.contains("topsecret"));
    }
}
