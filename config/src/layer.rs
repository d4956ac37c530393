//! Where a configuration value came from: defaults, the file, an environment
//! variable or a command-line override.

use std::fmt;
use std::path::PathBuf;

/// The source of a configuration value, named in every error about it.
/// Later layers override earlier ones, in the order of the variants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layer {
    /// The built-in defaults ([`crate::Config::default`]).
    Defaults,
    /// The TOML configuration file at this path.
    File(PathBuf),
    /// This `MOTIONRENDER_*` environment variable.
    Environment(String),
    /// A `--set key=value` command-line override of this key.
    CommandLine(String),
}

impl Layer {
    /// Precedence of the layer: a higher one overrides a lower one.
    pub(crate) fn precedence(&self) -> u8 {
        match self {
            Layer::Defaults => 0,
            Layer::File(_) => 1,
            Layer::Environment(_) => 2,
            Layer::CommandLine(_) => 3,
        }
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Layer::Defaults => f.write_str("defaults"),
            Layer::File(path) => write!(f, "file {}", path.display()),
            Layer::Environment(name) => write!(f, "environment variable {name}"),
            Layer::CommandLine(key) => write!(f, "command-line flag --set {key}=..."),
        }
    }
}
