//! TOML has no null: an empty string stands for an unset optional value.

/// `None` for the empty string, else the string.
pub(crate) fn non_empty(value: &str) -> Option<&str> {
    if value.is_empty() {
        None
    } else {
        Some(value)
    }
}
