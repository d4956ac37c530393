//! The URL policy: which `videoUrl`, `callbackUrl` and `options.outputKey`
//! values a job may use.
//!
//! Rules for an http(s) URL, in order:
//! 1. a host in `url_policy.deny_hosts` is refused;
//! 2. when `url_policy.allow_hosts` is non-empty, a host not in it is refused;
//! 3. a host in `url_policy.allow_hosts` is explicitly trusted: no address
//!    check (this is how an operator allows, say, a metadata-like or private
//!    address on purpose);
//! 4. otherwise the host is resolved and **every** address must be allowed:
//!    - link-local (`169.254.0.0/16`, `fe80::/10`), cloud-metadata
//!      (`169.254.169.254`, `fd00:ec2::254`, `100.100.100.200`), multicast
//!      and broadcast: always refused;
//!    - `videoUrl`: loopback, private and unspecified refused unless
//!      `url_policy.allow_private_video`;
//!    - `callbackUrl`: loopback allowed when
//!      `url_policy.allow_loopback_callbacks` (a backend on the same host is
//!      the common deployment); private and unspecified refused.
//!
//! The check runs before the request is made; a host whose DNS answer changes
//! between the check and the connection (DNS rebinding) is not caught here.
//!
//! The policy also carries how long and how large a `videoUrl` download may
//! be (`url_policy.connect_timeout_ms`, `download_timeout_secs`,
//! `download_idle_secs`, `max_video_bytes`).

use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use motionrender_config::{PathsConfig, UrlPolicyConfig};
use url::{Host, Url};

use crate::fetch::DownloadLimits;

use super::address::AddressClass;
use super::error::{PolicyError, PolicyField, Refusal};
use super::host_list::{host_key, HostList};
use super::input_roots::InputRoots;
use super::output_key;
use super::video_source::{parse_s3, VideoSource};

/// What an http(s) URL is for; decides which address classes pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Video,
    Callback,
}

/// The configured URL policy (`[url_policy]` and `paths.input_roots`).
#[derive(Debug, Clone)]
pub struct UrlPolicy {
    allow_private_video: bool,
    allow_loopback_callbacks: bool,
    allow_hosts: HostList,
    deny_hosts: HostList,
    input_roots: InputRoots,
    downloads: DownloadLimits,
    connect_timeout: Duration,
}

impl UrlPolicy {
    /// The policy of `url_policy` and `paths.input_roots` (relative roots are
    /// relative to the working directory; an empty list refuses every local
    /// file, as `paths.input_roots` documents).
    pub fn new(policy: &UrlPolicyConfig, paths: &PathsConfig) -> Self {
        Self {
            allow_private_video: policy.allow_private_video,
            allow_loopback_callbacks: policy.allow_loopback_callbacks,
            allow_hosts: HostList::new(&policy.allow_hosts),
            deny_hosts: HostList::new(&policy.deny_hosts),
            input_roots: InputRoots::new(&paths.input_roots),
            downloads: DownloadLimits::from_config(policy),
            connect_timeout: Duration::from_millis(policy.connect_timeout_ms),
        }
    }

    /// How long and how large a download of a `videoUrl` may be.
    pub fn download_limits(&self) -> &DownloadLimits {
        &self.downloads
    }

    /// The longest wait for a connection to a `videoUrl` host.
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// Checks a `videoUrl`: a local path or `file://` URL (must exist inside
    /// an input root after resolving symlinks), an `http`/`https` URL (host
    /// rules in the module docs) or `s3://bucket/key`.
    pub async fn check_video_url(&self, url: &str) -> Result<VideoSource, PolicyError> {
        self.video_source(url)
            .await
            .map_err(|refusal| PolicyError::new(PolicyField::VideoUrl, refusal))
    }

    /// Checks a `callbackUrl`: `http`/`https` only, host rules in the module
    /// docs. Returns the parsed URL.
    pub async fn check_callback_url(&self, url: &str) -> Result<Url, PolicyError> {
        self.callback_url(url)
            .await
            .map_err(|refusal| PolicyError::new(PolicyField::CallbackUrl, refusal))
    }

    /// Checks an `options.outputKey` and returns it normalized (`/`-separated,
    /// empty and `.` segments dropped). Refused: empty, over 1024 bytes, a
    /// leading `/`, a `..` segment, or any character but ASCII letters,
    /// digits and `-_.=+@/` (so no backslash, NUL, `:` or whitespace).
    pub fn check_output_key(key: &str) -> Result<String, PolicyError> {
        output_key::check_output_key(key)
    }

    async fn video_source(&self, input: &str) -> Result<VideoSource, Refusal> {
        reject_empty_or_control(input)?;
        let url = match Url::parse(input) {
            Ok(url) => url,
            Err(url::ParseError::RelativeUrlWithoutBase) => {
                return Ok(VideoSource::Local(
                    self.input_roots.confine(Path::new(input)).await?,
                ));
            }
            Err(error) => return Err(Refusal::Unparsable(error.to_string())),
        };
        match url.scheme() {
            "http" | "https" => {
                self.check_host(&url, Purpose::Video).await?;
                Ok(VideoSource::Http(url))
            }
            "file" => {
                let path = url
                    .to_file_path()
                    .map_err(|()| Refusal::Unparsable("file URL with a remote host".to_owned()))?;
                Ok(VideoSource::Local(self.input_roots.confine(&path).await?))
            }
            "s3" => {
                let (bucket, key) = parse_s3(input)?;
                Ok(VideoSource::S3 { bucket, key })
            }
            other => Err(Refusal::UnsupportedScheme(other.to_owned())),
        }
    }

    async fn callback_url(&self, input: &str) -> Result<Url, Refusal> {
        reject_empty_or_control(input)?;
        let url = Url::parse(input).map_err(|error| Refusal::Unparsable(error.to_string()))?;
        match url.scheme() {
            "http" | "https" => {
                self.check_host(&url, Purpose::Callback).await?;
                Ok(url)
            }
            other => Err(Refusal::UnsupportedScheme(other.to_owned())),
        }
    }

    async fn check_host(&self, url: &Url, purpose: Purpose) -> Result<(), Refusal> {
        let host = url.host().ok_or(Refusal::MissingHost)?;
        let shown = host_key(&host);
        if self.deny_hosts.contains(&host) {
            return Err(Refusal::DeniedHost(shown));
        }
        if self.allow_hosts.contains(&host) {
            return Ok(());
        }
        if !self.allow_hosts.is_empty() {
            return Err(Refusal::HostNotAllowed(shown));
        }
        let port = url.port_or_known_default().unwrap_or(80);
        for ip in resolve(&host, port)
            .await
            .ok_or_else(|| Refusal::Unresolvable(shown.clone()))?
        {
            let class = AddressClass::of(ip);
            if !self.class_allowed(class, purpose) {
                return Err(Refusal::ForbiddenAddress { host: shown, class });
            }
        }
        Ok(())
    }

    fn class_allowed(&self, class: AddressClass, purpose: Purpose) -> bool {
        match (class, purpose) {
            (AddressClass::Public, _) => true,
            (AddressClass::LinkLocal | AddressClass::Metadata | AddressClass::NonUnicast, _) => {
                false
            }
            (
                AddressClass::Loopback | AddressClass::Private | AddressClass::Unspecified,
                Purpose::Video,
            ) => self.allow_private_video,
            (AddressClass::Loopback, Purpose::Callback) => self.allow_loopback_callbacks,
            (AddressClass::Private | AddressClass::Unspecified, Purpose::Callback) => false,
        }
    }
}

fn reject_empty_or_control(input: &str) -> Result<(), Refusal> {
    if input.is_empty() {
        Err(Refusal::Empty)
    } else if input.chars().any(char::is_control) {
        Err(Refusal::ControlCharacter)
    } else {
        Ok(())
    }
}

/// The addresses of `host`: itself for an IP literal, else every address DNS
/// gives; `None` when there are none.
async fn resolve(host: &Host<&str>, port: u16) -> Option<Vec<IpAddr>> {
    let addresses: Vec<IpAddr> = match host {
        Host::Ipv4(ip) => vec![IpAddr::V4(*ip)],
        Host::Ipv6(ip) => vec![IpAddr::V6(*ip)],
        Host::Domain(name) => tokio::net::lookup_host((*name, port))
            .await
            .ok()?
            .map(|socket| socket.ip())
            .collect(),
    };
    (!addresses.is_empty()).then_some(addresses)
}
