//! Loading a scenario: JSON text → (v1.3 migrated to) v2.0 → `define`
//! resolved → validated → typed [`Scenario`].

use serde_json::Value;

use super::define::resolve;
use super::error::{Issue, ScenarioError};
use super::lint::layout_warnings;
use super::migrate::migrate_v13;
use super::model::Scenario;
use super::pointer::Pointer;
use super::validate::validate;

/// Parses and validates scenario JSON text.
pub fn load(text: &str) -> Result<Scenario, ScenarioError> {
    let value: Value = serde_json::from_str(text).map_err(|e| ScenarioError::Parse {
        line: e.line(),
        column: e.column(),
        message: e.to_string().split(" at line").next().unwrap_or_default().to_owned(),
    })?;
    load_value(&value)
}

/// Validates an already parsed scenario (as the HTTP API receives it).
pub fn load_value(value: &Value) -> Result<Scenario, ScenarioError> {
    let (document, migration) = match value.get("version").and_then(Value::as_str) {
        Some("1.3") => {
            let (document, migration) = migrate_v13(value).map_err(ScenarioError::Invalid)?;
            (document, Some(migration))
        }
        _ => (value.clone(), None),
    };
    if !document.is_object() {
        let issue = Issue::new(Pointer::root(), "a scenario must be a JSON object with version, timebase, stage, tracks and cues");
        return Err(ScenarioError::Invalid(vec![issue]));
    }
    let resolved = resolve(&document).map_err(ScenarioError::Invalid)?;
    let issues = validate(&resolved);
    if !issues.is_empty() {
        return Err(ScenarioError::Invalid(issues));
    }
    let mut scenario = Scenario::from_resolved(document, &resolved, migration);
    scenario.warnings = layout_warnings(&resolved);
    Ok(scenario)
}
