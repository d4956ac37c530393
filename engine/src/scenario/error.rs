//! Why a scenario was refused: a parse error, or validation issues that each
//! name the failing field by JSON pointer.

use std::fmt;

use super::pointer::Pointer;

/// One problem found in a scenario: where, and what is wrong, in a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// The failing field, as a JSON pointer into the (migrated) v2.0 document.
    pub pointer: Pointer,
    /// A plain sentence saying what is wrong and what was expected.
    pub message: String,
}

impl Issue {
    pub(crate) fn new(pointer: Pointer, message: impl Into<String>) -> Self {
        Self { pointer, message: message.into() }
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.pointer.as_str().is_empty() { "/" } else { self.pointer.as_str() };
        write!(f, "{at}: {}", self.message)
    }
}

/// A scenario the engine refuses to render.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The text is not JSON.
    #[error("scenario is not valid JSON: {message} (line {line}, column {column})")]
    Parse { line: usize, column: usize, message: String },
    /// The JSON is not a scenario the engine can render; the first issue is the
    /// most fundamental one, later ones are reported when they are independent.
    #[error("scenario is invalid: {}", first_issue(.0))]
    Invalid(Vec<Issue>),
}

impl ScenarioError {
    /// The issues of an invalid scenario (empty for a parse error).
    pub fn issues(&self) -> &[Issue] {
        match self {
            Self::Parse { .. } => &[],
            Self::Invalid(issues) => issues,
        }
    }

    /// The error code of the HTTP API for this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Parse { .. } => "SCENARIO_PARSE_ERROR",
            Self::Invalid(_) => "VALIDATION_ERROR",
        }
    }
}

fn first_issue(issues: &[Issue]) -> String {
    match issues {
        [] => "no detail".to_owned(),
        [one] => one.to_string(),
        [first, rest @ ..] => format!("{first} (and {} more)", rest.len()),
    }
}
