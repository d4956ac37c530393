//! A configuration string that must not show up in logs or debug output.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::unset::non_empty;

/// A secret string (token, key, signing secret). Empty means unset.
///
/// It serializes as the plain string, so a configuration round-trips, but its
/// `Debug` output is `Secret("***")` when set, so `{:?}` of a [`crate::Config`]
/// never reveals it. Use [`crate::Config::to_masked_toml`] to show a configuration.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// A secret with this value; an empty value is the same as unset.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret's value, or `None` when it is unset (empty).
    pub fn get(&self) -> Option<&str> {
        non_empty(&self.0)
    }

    /// Whether the secret is set (non-empty).
    pub fn is_set(&self) -> bool {
        !self.0.is_empty()
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = if self.is_set() { "***" } else { "" };
        f.debug_tuple("Secret").field(&shown).finish()
    }
}
