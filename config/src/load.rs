//! Building a `Config` from its layers: defaults < TOML file <
//! `MOTIONRENDER_*` environment < command-line overrides, remembering which
//! layer set each key so that errors can name it.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;
use serde_path_to_error::Segment;
use toml::{Table, Value};

use crate::config::Config;
use crate::error::ConfigError;
use crate::layer::Layer;
use crate::mask::display_value;
use crate::rules;
use crate::sources::{Sources, CONFIG_FILE_VAR};
use crate::table::{self, defaults_table, env_var_for, join, keys};

impl Config {
    /// Loads the configuration: the defaults, overridden by `sources.file`
    /// (TOML), then by `sources.env` (`MOTIONRENDER_<SECTION>_<KEY>`; the
    /// reserved `MOTIONRENDER_CONFIG` is skipped), then by `sources.cli`
    /// (`section.key`, value) pairs.
    ///
    /// Environment and command-line values are text: for a string key the text
    /// is the value; for other keys it is read as a TOML value (`128`, `0.5`,
    /// `true`, `["a", "b"]`), and an array of strings also accepts a
    /// comma-separated list (`a.example, b.example`).
    ///
    /// Each layer must give every key it sets a value of the key's type; then
    /// the result must pass [`Config::validate`]. The error names the key, the
    /// value and the layer that set it.
    pub fn load(sources: &Sources) -> Result<Config, ConfigError> {
        let mut layers = LayeredTable::new();
        layers.deserialize()?;

        if let Some(path) = &sources.file {
            let file = read_file(path)?;
            layers.merge_file(file, &Layer::File(path.clone()))?;
            layers.deserialize()?;
        }

        let env_keys: HashMap<String, String> = keys()
            .into_iter()
            .map(|key| (env_var_for(&key), key))
            .collect();
        for (name, text) in &sources.env {
            if name == CONFIG_FILE_VAR {
                continue;
            }
            let key = env_keys
                .get(name)
                .ok_or_else(|| ConfigError::UnknownEnvironmentVariable { name: name.clone() })?;
            layers.set_from_text(key, text, Layer::Environment(name.clone()))?;
        }
        layers.deserialize()?;

        for (key, text) in &sources.cli {
            layers.set_from_text(key, text, Layer::CommandLine(key.clone()))?;
        }
        let config = layers.deserialize()?;
        layers.check_rules(&config)?;
        Ok(config)
    }
}

/// Reads and parses the configuration file.
fn read_file(path: &Path) -> Result<Table, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|error| ConfigError::ReadFile {
        path: path.to_owned(),
        error,
    })?;
    toml::from_str(&text).map_err(|error| ConfigError::FileSyntax {
        path: path.to_owned(),
        error,
    })
}

/// The configuration as a TOML table being built layer by layer, with the
/// layer that last set each key.
struct LayeredTable {
    /// The defaults: which keys exist, and the type of each.
    defaults: Table,
    /// The merged values so far.
    merged: Table,
    /// The layer that last set each key; keys absent here are defaults.
    origins: HashMap<String, Layer>,
}

impl LayeredTable {
    fn new() -> Self {
        let defaults = defaults_table();
        Self {
            merged: defaults.clone(),
            defaults,
            origins: HashMap::new(),
        }
    }

    /// Merges a file's table into the merged one, key by key.
    fn merge_file(&mut self, file: Table, layer: &Layer) -> Result<(), ConfigError> {
        self.merge_under("", file, layer)
    }

    /// Merges `incoming`, found at `prefix`, leaf by leaf; a table stands for
    /// a section only where the defaults have one.
    fn merge_under(
        &mut self,
        prefix: &str,
        incoming: Table,
        layer: &Layer,
    ) -> Result<(), ConfigError> {
        for (name, value) in incoming {
            let key = join(prefix, &name);
            match (table::get(&self.defaults, &key), value) {
                (None, _) => {
                    return Err(ConfigError::UnknownKey {
                        key,
                        layer: layer.clone(),
                    })
                }
                (Some(Value::Table(_)), Value::Table(inner)) => {
                    self.merge_under(&key, inner, layer)?;
                }
                (Some(Value::Table(_)), value) => {
                    return Err(ConfigError::Invalid {
                        value: display_value(&key, &value),
                        expected: format!("a [{key}] table of settings"),
                        key,
                        layer: Some(layer.clone()),
                    })
                }
                (Some(_), value) => self.set(&key, value, layer.clone()),
            }
        }
        Ok(())
    }

    /// Sets a known leaf key from environment or command-line text.
    fn set_from_text(&mut self, key: &str, text: &str, layer: Layer) -> Result<(), ConfigError> {
        let default = match table::get(&self.defaults, key) {
            Some(Value::Table(_)) | None => {
                return Err(ConfigError::UnknownKey {
                    key: key.to_owned(),
                    layer,
                })
            }
            Some(default) => default,
        };
        let value = value_from_text(default, text);
        self.set(key, value, layer);
        Ok(())
    }

    fn set(&mut self, key: &str, value: Value, layer: Layer) {
        table::set(&mut self.merged, key, value);
        self.origins.insert(key.to_owned(), layer);
    }

    /// The layer that last set `key`.
    fn origin(&self, key: &str) -> Layer {
        self.origins.get(key).cloned().unwrap_or(Layer::Defaults)
    }

    /// The merged table as a `Config`; a value of the wrong type is an error
    /// naming its key and the layer that set it.
    fn deserialize(&self) -> Result<Config, ConfigError> {
        let merged = Value::Table(self.merged.clone());
        serde_path_to_error::deserialize(merged).map_err(|error| {
            let key = error
                .path()
                .iter()
                .filter_map(|segment| match segment {
                    Segment::Map { key } => Some(key.as_str()),
                    _ => None,
                })
                .collect::<Vec<_>>()
                .join(".");
            let expected = rules::expected(&key, table::get(&self.defaults, &key));
            self.invalid(&key, expected, self.origin(&key))
        })
    }

    /// Runs the semantic rules on the loaded configuration. A rule between two
    /// keys is blamed on the later layer of the two.
    fn check_rules(&self, config: &Config) -> Result<(), ConfigError> {
        let Some(rule) = rules::first_broken(config) else {
            return Ok(());
        };
        let mut layer = self.origin(rule.key);
        if let Some(other) = rule.depends_on {
            let other_layer = self.origin(other);
            if other_layer.precedence() > layer.precedence() {
                layer = other_layer;
            }
        }
        Err(self.invalid(rule.key, rule.expectation(&self.merged), layer))
    }

    /// An `Invalid` error for `key`, showing its merged value.
    fn invalid(&self, key: &str, expected: String, layer: Layer) -> ConfigError {
        let value = table::get(&self.merged, key)
            .map(|value| display_value(key, value))
            .unwrap_or_else(|| "(missing)".to_owned());
        ConfigError::Invalid {
            key: key.to_owned(),
            value,
            expected,
            layer: Some(layer),
        }
    }
}

/// The value that environment or command-line `text` gives a key whose
/// default is `default`: the text itself for a string key; a TOML value
/// otherwise, where an array also accepts a comma-separated list. Text that
/// is no TOML value stays a string, for the type check to report.
fn value_from_text(default: &Value, text: &str) -> Value {
    match default {
        Value::String(_) => Value::String(text.to_owned()),
        Value::Array(_) => match toml_literal(text) {
            Some(array @ Value::Array(_)) => array,
            _ => Value::Array(
                text.split(',')
                    .map(str::trim)
                    .filter(|item| !item.is_empty())
                    .map(|item| Value::String(item.to_owned()))
                    .collect(),
            ),
        },
        _ => toml_literal(text).unwrap_or_else(|| Value::String(text.to_owned())),
    }
}

/// `text` read as one TOML value (`128`, `0.5`, `true`, `["a"]`), if it is one.
fn toml_literal(text: &str) -> Option<Value> {
    Value::deserialize(toml::de::ValueDeserializer::new(text.trim())).ok()
}
