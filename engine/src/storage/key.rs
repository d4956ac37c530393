//! Defensive check of a storage key before it becomes a path or an S3 key.

use super::StorageError;

/// Refuses a key that is empty, absolute, or has an empty, `.` or `..` segment
/// (or a backslash or NUL), so that no key can leave the output directory.
pub(super) fn check_key(key: &str) -> Result<(), StorageError> {
    let reason = if key.is_empty() {
        Some("empty key")
    } else if key.starts_with('/') {
        Some("absolute key")
    } else if key.contains('\\') || key.contains('\0') {
        Some("backslash or NUL in key")
    } else if key
        .split('/')
        .any(|segment| matches!(segment, "" | "." | ".."))
    {
        Some("empty, '.' or '..' segment in key")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(StorageError::InvalidKey {
            key: key.to_owned(),
            reason,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::check_key;

    #[test]
    fn accepts_nested_relative_keys() {
        assert!(check_key("jobs/abc/out.mp4").is_ok());
        assert!(check_key("out..mp4").is_ok());
    }

    #[test]
    fn refuses_keys_that_could_escape() {
        for key in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a//b",
            "./a",
            "a/",
            "a\\..\\b",
        ] {
            assert!(check_key(key).is_err(), "{key:?} should be refused");
        }
    }
}
