//! The malformed scenarios of `fixtures/invalid/`: each is refused with the
//! error code and first-issue JSON pointer that `expected.tsv` lists.

use std::collections::BTreeSet;

use motionrender_engine::scenario::{load, ScenarioError};
use motionrender_tests::{expected_refusals, file_name, invalid_dir, json_files, read_text, PARSE_ERROR};
use serde_json::Value;

#[test]
fn invalid_fixtures_are_refused_with_the_expected_code_and_first_pointer() {
    let mut failures = Vec::new();
    for expected in expected_refusals() {
        let text = read_text(&expected.path());
        let error = match load(&text) {
            Ok(_) => {
                failures.push(format!("{}: accepted, expected {}", expected.file, expected.code));
                continue;
            }
            Err(error) => error,
        };
        if error.code() != expected.code {
            failures.push(format!("{}: code {}, expected {} ({error})", expected.file, error.code(), expected.code));
            continue;
        }
        match (&expected.pointer, error.issues().first()) {
            (None, None) => assert!(matches!(error, ScenarioError::Parse { .. })),
            (None, Some(issue)) => failures.push(format!("{}: expected a parse error, got issue {issue}", expected.file)),
            (Some(pointer), None) => failures.push(format!("{}: expected an issue at {pointer:?}, got no issues ({error})", expected.file)),
            (Some(pointer), Some(issue)) if issue.pointer.as_str() != pointer => {
                failures.push(format!("{}: first issue at {:?}, expected {pointer:?} ({})", expected.file, issue.pointer.as_str(), issue.message));
            }
            (Some(_), Some(issue)) => {
                if issue.message.trim().is_empty() {
                    failures.push(format!("{}: the first issue has no message", expected.file));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} fixture(s) not refused as expected:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn expected_tsv_and_the_invalid_folder_list_the_same_files() {
    let listed: BTreeSet<String> = expected_refusals().into_iter().map(|row| row.file).collect();
    let present: BTreeSet<String> = json_files(&invalid_dir()).iter().map(|path| file_name(path)).collect();
    let unlisted: Vec<_> = present.difference(&listed).collect();
    let missing: Vec<_> = listed.difference(&present).collect();
    assert!(unlisted.is_empty(), "fixtures missing from expected.tsv: {unlisted:?}");
    assert!(missing.is_empty(), "expected.tsv lists files that do not exist: {missing:?}");
    assert!(listed.len() >= 30, "only {} invalid fixtures; keep at least 30", listed.len());
}

#[test]
fn the_invalid_folder_holds_nothing_but_fixtures_and_the_table() {
    let entries = std::fs::read_dir(invalid_dir()).unwrap();
    let strays: Vec<String> = entries
        .map(|entry| file_name(&entry.unwrap().path()))
        .filter(|name| !name.ends_with(".json") && name != "expected.tsv")
        .collect();
    assert!(strays.is_empty(), "unexpected files in fixtures/invalid: {strays:?}");
}

#[test]
fn parse_error_fixtures_are_not_json_and_the_others_are() {
    for expected in expected_refusals() {
        let parsed = serde_json::from_str::<Value>(&read_text(&expected.path()));
        if expected.code == PARSE_ERROR {
            assert!(parsed.is_err(), "{} is listed as a parse error but is JSON", expected.file);
        } else {
            assert!(parsed.is_ok(), "{} is listed as {} but is not JSON: {:?}", expected.file, expected.code, parsed.err());
        }
    }
}

/// A pointer names either a field that is in the file (a wrong value) or one
/// missing from an object that is (a missing field): its parent must exist.
#[test]
fn expected_pointers_name_a_place_in_their_fixture() {
    let mut failures = Vec::new();
    for expected in expected_refusals() {
        let Some(pointer) = &expected.pointer else { continue };
        let document: Value = serde_json::from_str(&read_text(&expected.path())).unwrap();
        if pointer.is_empty() {
            continue;
        }
        let parent = &pointer[..pointer.rfind('/').unwrap_or(0)];
        match document.pointer(parent) {
            Some(Value::Object(_) | Value::Array(_)) => {}
            Some(other) => failures.push(format!("{}: {parent:?} holds {other}, not an object or array", expected.file)),
            None => failures.push(format!("{}: {parent:?} (parent of {pointer:?}) is not in the file", expected.file)),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_fixture_is_refused_the_same_way_through_load_value() {
    // The HTTP API validates parsed JSON with `load_value`; it must agree with `load`.
    for expected in expected_refusals() {
        let text = read_text(&expected.path());
        let Ok(value) = serde_json::from_str::<Value>(&text) else { continue };
        let from_value = motionrender_engine::scenario::load_value(&value).err();
        let from_text = load(&text).err();
        let first = |e: &Option<ScenarioError>| e.as_ref().and_then(|e| e.issues().first().map(|i| i.pointer.as_str().to_owned()));
        assert_eq!(first(&from_value), first(&from_text), "{}", expected.file);
        assert!(from_value.is_some(), "{}: load_value accepted it", expected.file);
    }
}
