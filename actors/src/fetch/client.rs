//! The HTTP client of every outbound request: built once per user (the
//! engine's downloads, the callback deliverer) with a connect timeout and
//! no redirects.

use std::error::Error as _;
use std::time::Duration;

use reqwest::header::CONTENT_TYPE;

/// An HTTP client for requests to caller-given URLs; cheap to clone.
#[derive(Debug, Clone)]
pub struct OutboundClient {
    pub(super) http: reqwest::Client,
    pub(super) connect_timeout: Duration,
}

impl OutboundClient {
    /// A client that gives up connecting after `connect_timeout`, follows no
    /// redirects (a redirect could point where the URL policy forbids) and
    /// sends `user_agent`.
    pub fn new(connect_timeout: Duration, user_agent: &str) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .user_agent(user_agent)
            .connect_timeout(connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self { http, connect_timeout })
    }

    /// POSTs `body` as JSON with `headers`, the whole request bounded by
    /// `timeout`; the answer's status. The answer's body is not read.
    pub async fn post_json(
        &self,
        url: &str,
        body: &[u8],
        headers: &[(&str, String)],
        timeout: Duration,
    ) -> Result<u16, reqwest::Error> {
        let mut request = self.http.post(url).timeout(timeout).header(CONTENT_TYPE, "application/json").body(body.to_vec());
        for (name, value) in headers {
            request = request.header(*name, value.as_str());
        }
        Ok(request.send().await?.status().as_u16())
    }
}

/// A reqwest error and its causes, without the URL.
pub(crate) fn describe(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
