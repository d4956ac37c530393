//! JSON pointers (RFC 6901) that name a field of a scenario document.

use std::fmt;

/// A location in a JSON document, built segment by segment while walking it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Pointer(String);

impl Pointer {
    /// The whole document (the empty pointer).
    pub fn root() -> Self {
        Self::default()
    }

    /// This pointer extended by an object member name.
    pub fn key(&self, key: &str) -> Self {
        let escaped = key.replace('~', "~0").replace('/', "~1");
        Self(format!("{}/{}", self.0, escaped))
    }

    /// This pointer extended by an array index.
    pub fn index(&self, index: usize) -> Self {
        Self(format!("{}/{}", self.0, index))
    }

    /// The pointer text, e.g. `/cues/3/root/children/0/displayTime`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Pointer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::Pointer;

    #[test]
    fn escapes_slash_and_tilde_in_keys() {
        let p = Pointer::root().key("define").key("a/b~c").index(2);
        assert_eq!(p.as_str(), "/define/a~1b~0c/2");
    }
}
