//! Typed, layered configuration of motionrender: defaults < TOML file <
//! `MOTIONRENDER_*` environment < command-line `--set key=value` overrides,
//! checked key by key with errors that name the key, the value and the layer.
//!
//! Every key is a field of [`Config`] (`section.key`, e.g. `queue.capacity_frames`);
//! the field's doc comment gives its meaning, unit and default, and [`keys`]
//! lists them all. The environment variable of a key is `MOTIONRENDER_` followed
//! by the key with `.` replaced by `_`, uppercased ([`env_var_for`]).

mod config;
mod error;
mod layer;
mod load;
mod mask;
mod rules;
mod secret;
mod sections;
mod sources;
mod table;
mod unset;

pub use config::Config;
pub use error::ConfigError;
pub use layer::Layer;
pub use secret::Secret;
pub use sections::{
    AlertsConfig, BrowserConfig, CallbacksConfig, DropPolicy, EncoderChoice, EncoderConfig, JobsConfig, LimitsConfig, LogConfig, LogFormat,
    MemoryConfig, PathsConfig, QueueConfig, RetriesConfig, S3Config, SegmentsConfig, ServerConfig,
    UrlPolicyConfig, WorkQueueConfig,
};
pub use sources::{parse_override, Sources, CONFIG_FILE_VAR, ENV_PREFIX};
pub use table::{env_var_for, keys};
