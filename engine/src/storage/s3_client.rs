//! The S3 client made from `[s3]`, and which of its errors are worth retrying.

use std::time::Duration;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{
    BehaviorVersion, Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
};
use aws_sdk_s3::error::{DisplayErrorContext, SdkError};
use motionrender_config::S3Config;

use super::StorageError;

/// Longest wait for a TCP (and TLS) connection to the S3 endpoint. Fixed: a
/// slow connect is retried by [`super::retry`], which the configuration bounds.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest silence while reading a response before the attempt is given up.
const READ_TIMEOUT: Duration = Duration::from_secs(60);
/// Name of the static credentials provider, shown in SDK logs.
const CREDENTIALS_SOURCE: &str = "motionrender-config";

/// An S3 client for `[s3]`'s region, endpoint, addressing style and
/// credentials. The SDK's own retries are off: [`super::retry`] retries.
pub(super) async fn build_client(s3: &S3Config) -> Result<aws_sdk_s3::Client, StorageError> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(s3.region.clone()))
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .read_timeout(READ_TIMEOUT)
                .build(),
        );
    match (s3.access_key_id(), s3.secret_access_key()) {
        (Some(access_key_id), Some(secret_access_key)) => {
            loader = loader.credentials_provider(Credentials::new(
                access_key_id,
                secret_access_key,
                None,
                None,
                CREDENTIALS_SOURCE,
            ));
        }
        (None, None) => {}
        _ => {
            return Err(StorageError::Config {
                detail: "s3.access_key_id and s3.secret_access_key must be set together".to_owned(),
            })
        }
    }
    if let Some(endpoint) = s3.endpoint() {
        if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
            return Err(StorageError::Config {
                detail: format!("s3.endpoint {endpoint:?} is not an http:// or https:// URL"),
            });
        }
        loader = loader.endpoint_url(endpoint);
    }
    let shared = loader.load().await;
    let config = aws_sdk_s3::config::Builder::from(&shared)
        .force_path_style(s3.force_path_style)
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
        .build();
    Ok(aws_sdk_s3::Client::from_conf(config))
}

/// Whether a failed request may succeed when tried again: no connection, a
/// timeout, an unreadable response, or HTTP 5xx, 408 or 429.
pub(super) fn is_transient<E>(error: &SdkError<E, HttpResponse>) -> bool {
    match error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(failure) => {
            let status = failure.raw().status();
            status.is_server_error() || matches!(status.as_u16(), 408 | 429)
        }
        _ => false,
    }
}

/// The error with its whole cause chain, for messages and logs.
pub(super) fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    DisplayErrorContext(error).to_string()
}
