//! Keeping secrets out of shown configurations and error messages.

use toml::Value;

use crate::config::Config;
use crate::table::{self, table_of};

/// Keys whose values are secrets: shown as `"***"` when set.
pub(crate) const SECRET_KEYS: [&str; 4] = [
    "callbacks.secret",
    "server.token",
    "s3.access_key_id",
    "s3.secret_access_key",
];

/// The replacement shown for a set secret.
const MASK: &str = "***";

/// A value as TOML for an error message; a secret key's value is masked
/// unless it is the empty string.
pub(crate) fn display_value(key: &str, value: &Value) -> String {
    let is_empty = value.as_str().is_some_and(str::is_empty);
    if SECRET_KEYS.contains(&key) && !is_empty {
        Value::String(MASK.to_owned()).to_string()
    } else {
        value.to_string()
    }
}

impl Config {
    /// The configuration as a TOML document, with every set secret
    /// (`callbacks.secret`, `server.token`, `s3.access_key_id`,
    /// `s3.secret_access_key`) replaced by `"***"`; unset ones stay `""`.
    ///
    /// A configuration built in code with an integer beyond TOML's range
    /// (above `i64::MAX`) renders as a TOML comment saying so.
    pub fn to_masked_toml(&self) -> String {
        let mut shown = match table_of(self) {
            Ok(shown) => shown,
            Err(error) => return format!("# configuration cannot be shown as TOML: {error}\n"),
        };
        for key in SECRET_KEYS {
            let is_set = table::get(&shown, key)
                .and_then(Value::as_str)
                .is_some_and(|secret| !secret.is_empty());
            if is_set {
                table::set(&mut shown, key, Value::String(MASK.to_owned()));
            }
        }
        match toml::to_string(&shown) {
            Ok(text) => text,
            Err(error) => format!("# configuration cannot be shown as TOML: {error}\n"),
        }
    }
}
