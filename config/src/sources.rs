//! The inputs a configuration is loaded from: an optional TOML file, the
//! `MOTIONRENDER_*` environment and command-line `key=value` overrides.

use std::fmt;
use std::path::PathBuf;

use crate::error::ConfigError;

/// Prefix of every environment variable motionrender reads.
pub const ENV_PREFIX: &str = "MOTIONRENDER_";

/// Environment variable holding the configuration file's path; it is not a
/// configuration key.
pub const CONFIG_FILE_VAR: &str = "MOTIONRENDER_CONFIG";

/// The layers above the defaults, lowest first: file < environment < CLI.
#[derive(Clone, Default)]
pub struct Sources {
    /// TOML configuration file; `None` for none.
    pub file: Option<PathBuf>,
    /// `MOTIONRENDER_*` environment variables as (name, value), applied in order.
    pub env: Vec<(String, String)>,
    /// Command-line overrides as (dotted key, value), applied in order.
    pub cli: Vec<(String, String)>,
}

impl Sources {
    /// Sources with this file and these overrides, and every process
    /// environment variable whose name starts with `MOTIONRENDER_` (sorted by
    /// name). Without a file, the path in `MOTIONRENDER_CONFIG` is used, if set
    /// and non-empty.
    pub fn from_process_env(file: Option<PathBuf>, cli: Vec<(String, String)>) -> Self {
        let mut env: Vec<(String, String)> = std::env::vars_os()
            .filter_map(|(name, value)| {
                let name = name.to_string_lossy();
                name.starts_with(ENV_PREFIX)
                    .then(|| (name.into_owned(), value.to_string_lossy().into_owned()))
            })
            .collect();
        env.sort();
        let file = file.or_else(|| {
            std::env::var_os(CONFIG_FILE_VAR)
                .filter(|path| !path.is_empty())
                .map(PathBuf::from)
        });
        Self { file, env, cli }
    }
}

/// Splits a `--set` argument `key=value` at its first `=`; the key is trimmed,
/// the value kept as given.
pub fn parse_override(flag: &str) -> Result<(String, String), ConfigError> {
    match flag.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => {
            Ok((key.trim().to_owned(), value.to_owned()))
        }
        _ => Err(ConfigError::MalformedOverride {
            flag: flag.to_owned(),
        }),
    }
}

/// Shows names and keys only: environment values and overrides may be secrets.
impl fmt::Debug for Sources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let env: Vec<&str> = self.env.iter().map(|(name, _)| name.as_str()).collect();
        let cli: Vec<&str> = self.cli.iter().map(|(key, _)| key.as_str()).collect();
        f.debug_struct("Sources")
            .field("file", &self.file)
            .field("env", &env)
            .field("cli", &cli)
            .finish()
    }
}
