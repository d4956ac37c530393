//! What can go wrong while loading or validating a configuration.

use std::io;
use std::path::PathBuf;

use thiserror::Error;

use crate::layer::Layer;

/// A configuration that cannot be used, with the key, value and layer at fault.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// A key has a value of the wrong type or outside its allowed range.
    #[error(
        "invalid configuration: {key} = {value}{}: expected {expected}",
        from_layer(.layer)
    )]
    Invalid {
        /// Dotted key, e.g. `queue.capacity_frames`.
        key: String,
        /// The offending value as TOML (secrets shown as `"***"`).
        value: String,
        /// What the key accepts, e.g. `an integer >= 1`.
        expected: String,
        /// The layer the value came from; `None` when validating a `Config`
        /// built in code rather than loaded.
        layer: Option<Layer>,
    },
    /// The file or a command-line override names a key that does not exist.
    #[error("unknown configuration key {key} (from {layer})")]
    UnknownKey {
        /// The key as given, dotted.
        key: String,
        /// Where it was given.
        layer: Layer,
    },
    /// A `MOTIONRENDER_*` environment variable names no configuration key.
    #[error(
        "unknown environment variable {name}: it names no configuration key \
         (expected MOTIONRENDER_<SECTION>_<KEY>, e.g. MOTIONRENDER_QUEUE_CAPACITY_FRAMES)"
    )]
    UnknownEnvironmentVariable {
        /// The variable's name.
        name: String,
    },
    /// The configuration file is missing or cannot be read.
    #[error("cannot read configuration file {}: {error}", .path.display())]
    ReadFile {
        /// The file's path.
        path: PathBuf,
        /// Why it could not be read.
        error: io::Error,
    },
    /// The configuration file is not valid TOML.
    #[error("configuration file {} is not valid TOML: {error}", .path.display())]
    FileSyntax {
        /// The file's path.
        path: PathBuf,
        /// The parser's message, with line and column.
        error: toml::de::Error,
    },
    /// A command-line override is not of the form `key=value`.
    #[error("malformed override {flag:?}: expected key=value, e.g. queue.capacity_frames=128")]
    MalformedOverride {
        /// The override as given.
        flag: String,
    },
}

/// ` (from <layer>)`, or nothing when the layer is unknown.
fn from_layer(layer: &Option<Layer>) -> String {
    match layer {
        Some(layer) => format!(" (from {layer})"),
        None => String::new(),
    }
}
