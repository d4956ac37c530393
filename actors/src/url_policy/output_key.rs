//! `options.outputKey`: a relative storage key that cannot leave the output
//! root (local `paths.output_dir` or the S3 bucket's prefix).

use super::error::{PolicyError, PolicyField, Refusal};

/// Longest accepted key, in bytes (S3's limit).
const MAX_KEY_BYTES: usize = 1024;

/// Checks an output key and returns it normalized: `/`-separated segments,
/// empty and `.` segments dropped.
///
/// Refused: an empty key; more than 1024 bytes; a leading `/`; a `..`
/// segment; any character other than ASCII letters, digits and `-_.=+@/`
/// (so no backslash, NUL, `:` or whitespace).
pub(crate) fn check_output_key(key: &str) -> Result<String, PolicyError> {
    validate(key).map_err(|refusal| PolicyError::new(PolicyField::OutputKey, refusal))
}

fn validate(key: &str) -> Result<String, Refusal> {
    if key.is_empty() {
        return Err(Refusal::Empty);
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(Refusal::InvalidKey("is longer than 1024 bytes"));
    }
    if key.chars().any(char::is_control) {
        return Err(Refusal::ControlCharacter);
    }
    if key.contains('\\') {
        return Err(Refusal::InvalidKey("contains a backslash"));
    }
    if !key.bytes().all(allowed_byte) {
        return Err(Refusal::InvalidKey(
            "may contain only ASCII letters, digits and - _ . = + @ /",
        ));
    }
    if key.starts_with('/') {
        return Err(Refusal::InvalidKey("must be relative (no leading /)"));
    }
    let mut segments = Vec::new();
    for segment in key.split('/') {
        match segment {
            "" | "." => {}
            ".." => return Err(Refusal::InvalidKey("must not contain a .. segment")),
            _ => segments.push(segment),
        }
    }
    if segments.is_empty() {
        return Err(Refusal::InvalidKey("names no file"));
    }
    Ok(segments.join("/"))
}

fn allowed_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"-_.=+@/".contains(&byte)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::check_output_key;

    #[test]
    fn accepts_and_normalizes_relative_keys() {
        assert_eq!(
            check_output_key("renders/job-1.mp4").unwrap(),
            "renders/job-1.mp4"
        );
        assert_eq!(check_output_key("a//b/./c.mp4").unwrap(), "a/b/c.mp4");
        assert_eq!(check_output_key("dir/").unwrap(), "dir");
        assert_eq!(check_output_key("v=1+x@y..mp4").unwrap(), "v=1+x@y..mp4");
        assert_eq!(check_output_key("...").unwrap(), "...");
    }

    #[test]
    fn refuses_keys_that_escape_or_are_malformed() {
        let long = "a".repeat(1025);
        for key in [
            "",
            "../x.mp4",
            "a/../../x.mp4",
            "a/..",
            "..",
            "/etc/passwd",
            "a\\..\\b",
            "a\0b",
            "a b.mp4",
            "C:x.mp4",
            "./",
            "//",
            "ü.mp4",
            long.as_str(),
        ] {
            let error = check_output_key(key).unwrap_err();
            assert_eq!(error.code(), "INVALID_RENDER_OPTIONS", "{key:?}");
            assert!(
                error.to_string().starts_with("options.outputKey: "),
                "{error}"
            );
        }
    }
}
