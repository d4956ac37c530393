//! The TOML-table view of a configuration: the defaults table that defines
//! every key and its type, dotted-key lookups, and the key list.

use toml::{Table, Value};

use crate::config::Config;
use crate::sources::ENV_PREFIX;

/// `Config::default()` as a TOML table: its leaves are exactly the known keys.
#[expect(
    clippy::expect_used,
    reason = "the defaults are fixed strings, booleans, arrays of strings and \
              numbers within TOML's range; serializing them cannot fail \
              (the tests load them)"
)]
pub(crate) fn defaults_table() -> Table {
    table_of(&Config::default()).expect("the default configuration serializes to TOML")
}

/// A configuration as a TOML table. Fails only for an integer beyond TOML's
/// range (above `i64::MAX`), which a `Config` built in code may hold.
pub(crate) fn table_of(config: &Config) -> Result<Table, toml::ser::Error> {
    Table::try_from(config)
}

/// Every dotted key of the configuration (`section.key`), sorted.
pub fn keys() -> Vec<String> {
    let mut keys = Vec::new();
    collect_leaf_keys(&defaults_table(), "", &mut keys);
    keys.sort();
    keys
}

/// The environment variable that sets `key`: `MOTIONRENDER_` followed by the
/// key with `.` replaced by `_`, uppercased; e.g. `queue.capacity_frames` is
/// set by `MOTIONRENDER_QUEUE_CAPACITY_FRAMES`.
pub fn env_var_for(key: &str) -> String {
    format!("{ENV_PREFIX}{}", key.replace('.', "_").to_ascii_uppercase())
}

/// Pushes the dotted path of every non-table value under `table`.
fn collect_leaf_keys(table: &Table, prefix: &str, keys: &mut Vec<String>) {
    for (name, value) in table {
        let key = join(prefix, name);
        match value {
            Value::Table(inner) => collect_leaf_keys(inner, &key, keys),
            _ => keys.push(key),
        }
    }
}

/// `prefix.name`, or `name` at the top level.
pub(crate) fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

/// The value at a dotted key, if there is one.
pub(crate) fn get<'t>(table: &'t Table, key: &str) -> Option<&'t Value> {
    let mut parts = key.split('.');
    let mut value = table.get(parts.next()?)?;
    for part in parts {
        value = value.as_table()?.get(part)?;
    }
    Some(value)
}

/// Sets the value at a dotted key whose parent tables exist; returns whether
/// it did.
pub(crate) fn set(table: &mut Table, key: &str, value: Value) -> bool {
    let Some((parents, name)) = key.rsplit_once('.') else {
        table.insert(key.to_owned(), value);
        return true;
    };
    let mut current = table;
    for part in parents.split('.') {
        match current.get_mut(part) {
            Some(Value::Table(inner)) => current = inner,
            _ => return false,
        }
    }
    current.insert(name.to_owned(), value);
    true
}
