//! `motionrender validate` and `motionrender migrate` as a user runs them:
//! exit status, the JSON report's pointers and alive intervals, and the
//! message for a file that does not exist.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use motionrender_engine::scenario::load;
use motionrender_tests::{expected_refusals, json_difference, json_files, motionrender_binary, read_text, scenarios_dir};
use serde_json::Value;

fn run(args: &[&str], files: &[PathBuf]) -> Output {
    let binary = motionrender_binary();
    Command::new(&binary).args(args).args(files).output().unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()))
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The `--format json` report: one JSON object per line, one line per file.
fn json_lines(output: &Output, files: &[PathBuf]) -> Vec<Value> {
    let text = stdout(output);
    let lines: Vec<Value> =
        text.lines().map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"))).collect();
    assert_eq!(lines.len(), files.len(), "one line per file expected:\n{text}");
    for (line, file) in lines.iter().zip(files) {
        assert_eq!(line["file"].as_str(), file.to_str(), "reports out of order:\n{text}");
    }
    lines
}

#[test]
fn validate_refuses_every_invalid_fixture_and_names_its_pointer() {
    let expected = expected_refusals();
    let files: Vec<PathBuf> = expected.iter().map(|row| row.path()).collect();
    let output = run(&["validate", "--format", "json"], &files);
    assert!(!output.status.success(), "validate exited {} on invalid files", output.status);
    for (line, row) in json_lines(&output, &files).iter().zip(&expected) {
        assert_eq!(line["valid"], false, "{}: {line}", row.file);
        assert_eq!(line["error_code"], row.code.as_str(), "{}: {line}", row.file);
        let first = line["issues"].as_array().and_then(|issues| issues.first());
        match &row.pointer {
            Some(pointer) => {
                let first = first.unwrap_or_else(|| panic!("{}: no issues in {line}", row.file));
                assert_eq!(first["pointer"], pointer.as_str(), "{}: {line}", row.file);
                assert!(first["message"].as_str().is_some_and(|m| !m.is_empty()), "{}: {line}", row.file);
            }
            None => assert!(first.is_none() && line["error"].as_str().is_some_and(|e| !e.is_empty()), "{}: {line}", row.file),
        }
    }
}

#[test]
fn validate_fails_when_one_of_several_files_is_invalid() {
    let row = expected_refusals().into_iter().find(|row| row.pointer.as_deref() == Some("/timebase/fps")).unwrap();
    let files = vec![scenarios_dir().join("demo_fades.json"), row.path()];
    let output = run(&["validate", "--format", "json"], &files);
    assert!(!output.status.success(), "one invalid file must fail the run");
    let lines = json_lines(&output, &files);
    assert_eq!(lines[0]["valid"], true);
    assert_eq!(lines[1]["valid"], false);
}

#[test]
fn validate_accepts_the_samples_and_prints_their_alive_intervals() {
    let files = json_files(&scenarios_dir());
    assert!(!files.is_empty());
    let output = run(&["validate", "--format", "json"], &files);
    assert!(output.status.success(), "validate exited {} on valid samples:\n{}", output.status, stdout(&output));
    for (line, file) in json_lines(&output, &files).iter().zip(&files) {
        assert_eq!(line["valid"], true, "{line}");
        let scenario = load(&read_text(file)).unwrap();
        let printed = line["alive"].as_array().unwrap_or_else(|| panic!("no alive intervals in {line}"));
        let expected = scenario.alive_intervals();
        assert!(!expected.is_empty());
        assert_eq!(printed.len(), expected.len(), "{line}");
        for (pair, range) in printed.iter().zip(&expected) {
            let (start, end) = (pair[0].as_f64().unwrap(), pair[1].as_f64().unwrap());
            assert!((start - range.start).abs() <= 1e-9 && (end - range.end).abs() <= 1e-9, "{}: printed {pair}, engine {range}", file.display());
        }
        assert_eq!(line["version"], scenario.input_version(), "{line}");
    }
}

#[test]
fn validate_text_report_shows_alive_intervals() {
    let file = scenarios_dir().join("demo_fades.json");
    let output = run(&["validate"], std::slice::from_ref(&file));
    assert!(output.status.success());
    let text = stdout(&output);
    assert!(text.contains("valid") && text.contains("[0.000, 12.000]"), "{text}");
}

fn assert_missing_file_is_named(format: &str) {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no_such_scenario.json");
    let output = run(&["validate", "--format", format], std::slice::from_ref(&missing));
    assert!(!output.status.success(), "--format {format}: a missing file must fail");
    let said = format!("{}{}", stdout(&output), String::from_utf8_lossy(&output.stderr));
    assert!(said.contains(&missing.display().to_string()), "--format {format}: the message does not name the file:\n{said}");
}

#[test]
fn validate_names_a_missing_file() {
    for format in ["text", "line", "json"] {
        assert_missing_file_is_named(format);
    }
}

#[test]
fn migrate_prints_the_v2_document_the_engine_renders() {
    for name in ["legacy_demo.json", "legacy_timecode.json"] {
        let file: &Path = &scenarios_dir().join(name);
        let output = run(&["migrate"], &[file.to_path_buf()]);
        assert!(output.status.success(), "migrate {name} exited {}", output.status);
        let printed: Value = serde_json::from_str(&stdout(&output)).unwrap_or_else(|e| panic!("migrate {name} printed no JSON: {e}"));
        assert_eq!(printed["version"], "2.0");
        if let Some(difference) = json_difference(&printed, &load(&read_text(file)).unwrap().document, 1e-9) {
            panic!("migrate {name} printed another document than the engine renders, at {difference}");
        }
        let again = load(&stdout(&output)).unwrap_or_else(|e| panic!("migrate {name} printed a document the engine refuses: {e}"));
        assert!(again.migration.is_none());
    }
}

#[test]
fn migrate_refuses_an_invalid_file() {
    let row = expected_refusals().into_iter().find(|row| row.file.starts_with("legacy_")).unwrap();
    let output = run(&["migrate"], &[row.path()]);
    assert!(!output.status.success(), "migrate accepted {}", row.file);
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains(&row.file), "the message does not name {}: {said}", row.file);
}
