//! Why a `videoUrl`, `callbackUrl` or `options.outputKey` was refused.

use std::fmt;

use thiserror::Error;

use super::address::AddressClass;

/// The request field a refusal is about, named as in the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyField {
    /// `videoUrl`.
    VideoUrl,
    /// `callbackUrl`.
    CallbackUrl,
    /// `options.outputKey`.
    OutputKey,
}

impl PolicyField {
    /// The field's name in the request body.
    pub fn name(self) -> &'static str {
        match self {
            Self::VideoUrl => "videoUrl",
            Self::CallbackUrl => "callbackUrl",
            Self::OutputKey => "options.outputKey",
        }
    }
}

impl fmt::Display for PolicyField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A location refused by the URL policy, with the field it came from.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{field}: {refusal}")]
pub struct PolicyError {
    field: PolicyField,
    refusal: Refusal,
}

impl PolicyError {
    pub(crate) fn new(field: PolicyField, refusal: Refusal) -> Self {
        Self { field, refusal }
    }

    /// The refused field.
    pub fn field(&self) -> PolicyField {
        self.field
    }

    /// Why it was refused.
    pub fn refusal(&self) -> &Refusal {
        &self.refusal
    }

    /// The API error code (see the API's error list):
    /// `INVALID_VIDEO_URL` for `videoUrl`, `INVALID_RENDER_OPTIONS` for
    /// `options.outputKey`, and `VALIDATION_ERROR` for `callbackUrl`, which
    /// has no code of its own.
    pub fn code(&self) -> &'static str {
        match self.field {
            PolicyField::VideoUrl => "INVALID_VIDEO_URL",
            PolicyField::CallbackUrl => "VALIDATION_ERROR",
            PolicyField::OutputKey => "INVALID_RENDER_OPTIONS",
        }
    }
}

/// The reason for a refusal. Messages never show where a symlink leads or
/// which addresses a name resolved to, only the class that was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Refusal {
    /// The value is empty.
    #[error("is empty")]
    Empty,
    /// The value contains a NUL or another control character.
    #[error("contains a control character")]
    ControlCharacter,
    /// Not a valid URL.
    #[error("is not a valid URL: {0}")]
    Unparsable(String),
    /// A scheme this field does not accept.
    #[error("scheme `{0}` is not supported")]
    UnsupportedScheme(String),
    /// An http(s) URL without a host.
    #[error("has no host")]
    MissingHost,
    /// The host is listed in `url_policy.deny_hosts`.
    #[error("host {0} is denied by url_policy.deny_hosts")]
    DeniedHost(String),
    /// `url_policy.allow_hosts` is set and does not list the host.
    #[error("host {0} is not in url_policy.allow_hosts")]
    HostNotAllowed(String),
    /// The host name did not resolve to any address.
    #[error("host {0} could not be resolved")]
    Unresolvable(String),
    /// The host is, or resolves to, an address of a refused class.
    #[error("host {host} is a {class} address, which is not allowed here")]
    ForbiddenAddress {
        /// The host as written in the URL.
        host: String,
        /// The refused class.
        class: AddressClass,
    },
    /// `paths.input_roots` is empty, so no local file is accepted.
    #[error("local files are not accepted (paths.input_roots is empty)")]
    NoInputRoots,
    /// A local path outside every input root (after resolving symlinks).
    #[error("local path is outside the allowed input roots")]
    OutsideInputRoots,
    /// A local path inside an input root that does not exist.
    #[error("local file does not exist")]
    NotFound,
    /// A local path that is not a regular file.
    #[error("local path is not a regular file")]
    NotAFile,
    /// A local path that could not be inspected.
    #[error("local path cannot be read: {0}")]
    Unreadable(String),
    /// A malformed `s3://bucket/key` URL.
    #[error("is not a valid s3://bucket/key URL: {0}")]
    InvalidS3(&'static str),
    /// An output key that could escape the output root or is malformed.
    #[error("{0}")]
    InvalidKey(&'static str),
}
