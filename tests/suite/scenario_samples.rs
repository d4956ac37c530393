//! Our bundled valid scenarios (`fixtures/scenarios/`): they load, v1.3 ones
//! migrate to documents that load again as v2.0 with the same timing, ids
//! are unique, and each sample still shows what it was written to show.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use motionrender_engine::scenario::{load, ElementType, Scenario, TimeRange, TrackType};
use motionrender_tests::{display_time, document_ids, file_name, json_difference, json_files, plugin_window_v2, read_json, read_text, scenarios_dir};
use serde_json::Value;

const TOLERANCE: f64 = 1e-9;

fn sample(name: &str) -> PathBuf {
    scenarios_dir().join(name)
}

fn load_file(path: &Path) -> Scenario {
    load(&read_text(path)).unwrap_or_else(|e| panic!("{} is refused: {e}", path.display()))
}

fn is_legacy(path: &Path) -> bool {
    file_name(path).starts_with("legacy_")
}

fn assert_same_intervals(a: &[TimeRange], b: &[TimeRange], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: {a:?} vs {b:?}");
    for (x, y) in a.iter().zip(b) {
        assert!((x.start - y.start).abs() <= TOLERANCE && (x.end - y.end).abs() <= TOLERANCE, "{what}: {a:?} vs {b:?}");
    }
}

#[test]
fn the_bundled_samples_are_all_there() {
    let names: HashSet<String> = json_files(&scenarios_dir()).iter().map(|p| file_name(p)).collect();
    for wanted in ["demo_fades.json", "demo_free_layout.json", "legacy_demo.json", "legacy_timecode.json"] {
        assert!(names.contains(wanted), "fixtures/scenarios/{wanted} is missing (scripts/demo renders it)");
    }
}

#[test]
fn every_sample_loads_with_the_version_its_name_says() {
    for path in json_files(&scenarios_dir()) {
        let scenario = load_file(&path);
        let declared = read_json(&path)["version"].as_str().unwrap_or_default().to_owned();
        assert_eq!(scenario.input_version(), declared, "{}", path.display());
        if is_legacy(&path) {
            assert_eq!(declared, "1.3", "{}: legacy_ samples are v1.3", path.display());
            let migration = scenario.migration.as_ref().unwrap_or_else(|| panic!("{}: no migration reported", path.display()));
            assert_eq!(migration.from, "1.3");
            assert!(!migration.changes.is_empty(), "{}: the migration reports no change", path.display());
        } else {
            assert_eq!(declared, "2.0", "{}", path.display());
            assert!(scenario.migration.is_none(), "{}: a v2.0 file was migrated", path.display());
            assert_eq!(scenario.document, read_json(&path), "{}: a v2.0 document must reach the page as written", path.display());
        }
        assert!(!scenario.cues.is_empty() && scenario.end_time().is_some(), "{}: a demo needs cues that end", path.display());
    }
}

#[test]
fn migrated_samples_load_again_as_v2_with_the_same_alive_intervals() {
    for path in json_files(&scenarios_dir()).into_iter().filter(|p| is_legacy(p)) {
        let migrated = load_file(&path);
        assert_eq!(migrated.document["version"], "2.0", "{}", path.display());
        let text = serde_json::to_string_pretty(&migrated.document).unwrap();
        let again = load(&text).unwrap_or_else(|e| panic!("the migrated {} is refused as v2.0: {e}", path.display()));
        assert!(again.migration.is_none(), "{}: the migrated document is not v2.0", path.display());
        assert_eq!(again.input_version(), "2.0");
        if let Some(difference) = json_difference(&again.document, &migrated.document, TOLERANCE) {
            panic!("{}: the v2.0 document changed on reload at {difference}", path.display());
        }
        assert_same_intervals(&migrated.alive_intervals(), &again.alive_intervals(), &file_name(&path));
        assert_eq!(again.node_count(), migrated.node_count(), "{}", path.display());
        assert_eq!(again.plugins_named(), migrated.plugins_named(), "{}", path.display());
        assert_eq!(again.end_time(), migrated.end_time(), "{}", path.display());
    }
}

#[test]
fn cue_and_node_ids_are_unique_in_every_sample() {
    for path in json_files(&scenarios_dir()) {
        let scenario = load_file(&path);
        let ids = document_ids(&scenario.document);
        assert_eq!(ids.len(), scenario.cues.len() + scenario.node_count(), "{}", path.display());
        let mut seen = HashSet::new();
        for id in &ids {
            assert!(!id.is_empty(), "{}: a cue or node has no id", path.display());
            assert!(seen.insert(id), "{}: id {id:?} is used twice", path.display());
        }
    }
}

/// Calls `f(node, inherited displayTime)` on a v2.0 node and its descendants.
fn walk_v2(node: &Value, inherited: Option<(f64, f64)>, f: &mut impl FnMut(&Value, Option<(f64, f64)>)) {
    let own = display_time(node).or(inherited);
    f(node, own);
    for child in node.get("children").and_then(Value::as_array).into_iter().flatten() {
        walk_v2(child, own, f);
    }
}

#[test]
fn demo_fades_fits_a_12_second_clip_with_fading_subtitles() {
    let path = sample("demo_fades.json");
    let scenario = load_file(&path);
    assert!(scenario.cues.len() >= 6, "demo_fades has {} cues", scenario.cues.len());
    assert!(scenario.tracks.iter().all(|t| t.kind == TrackType::Subtitle));
    for range in scenario.alive_intervals() {
        assert!(range.start >= 0.0 && range.end <= 12.0, "alive {range} leaves the 12 s clip");
    }
    let named: HashSet<String> = scenario.plugins_named().keys().map(|p| p.name.clone()).collect();
    for plugin in ["fadeIn", "fadeOut", "pop"] {
        assert!(named.contains(plugin), "demo_fades does not use {plugin}");
    }
    let mut windows = 0;
    for cue in scenario.document["cues"].as_array().unwrap() {
        let position = cue["root"]["layout"]["position"].clone();
        assert_eq!(position, serde_json::json!({"x": 0.5, "y": 0.85}), "{}: not at the subtitle position", cue["id"]);
        walk_v2(&cue["root"], None, &mut |node, base| {
            for entry in node.get("pluginChain").and_then(Value::as_array).into_iter().flatten() {
                let base = base.unwrap_or_else(|| panic!("{}: a plugin without a displayTime", node["id"]));
                let (start, end) = plugin_window_v2(entry, base).unwrap_or_else(|| panic!("{}: bad timeOffset {entry}", node["id"]));
                assert!(entry.get("timeOffset").is_some(), "{}: {entry} has no timeOffset", node["id"]);
                assert!(0.0 <= start && start <= end && end <= 12.0, "{}: {} runs over [{start}, {end}]", node["id"], entry["name"]);
                assert!(base.0 <= start && end <= base.1, "{}: {} leaves its node's window", node["id"], entry["name"]);
                windows += 1;
            }
        });
    }
    assert!(windows >= 12, "only {windows} plugin windows checked");
}

#[test]
fn demo_free_layout_takes_styles_plugins_and_an_image_from_define() {
    let path = sample("demo_free_layout.json");
    let document = read_json(&path);
    let scenario = load_file(&path);
    assert!(scenario.tracks.iter().any(|t| t.kind == TrackType::Free), "no free track");
    assert!(document["define"].as_object().is_some_and(|d| !d.is_empty()), "no define section");
    let uses_define = |value: &Value| value.as_str().is_some_and(|s| s.starts_with("define."));
    assert!(document["tracks"].as_array().unwrap().iter().any(|t| uses_define(&t["defaultStyle"])), "no style from define");

    let mut image_srcs = Vec::new();
    let mut plugin_refs = 0;
    for cue in document["cues"].as_array().unwrap() {
        walk_v2(&cue["root"], None, &mut |node, _| {
            if node["eType"] == "image" {
                image_srcs.push(node["src"].clone());
            }
            plugin_refs += node.get("pluginChain").and_then(Value::as_array).into_iter().flatten().filter(|e| uses_define(e)).count();
        });
    }
    assert!(!image_srcs.is_empty() && image_srcs.iter().all(uses_define), "image srcs {image_srcs:?} should be define assets");
    assert!(plugin_refs > 0, "no plugin taken from define");

    let mut resolved_images = 0;
    for cue in &scenario.cues {
        cue.root.visit(&mut |node| {
            if node.element == ElementType::Image {
                let src = node.src.as_deref().unwrap_or_default();
                assert!(src.starts_with("data:image/"), "image {} resolves to {src:?}, expected the define asset's data URL", node.id);
                resolved_images += 1;
            }
        });
    }
    assert_eq!(resolved_images, image_srcs.len());
    // Plugins reached only through define references must still be counted.
    let named: HashSet<String> = scenario.plugins_named().keys().map(|p| p.name.clone()).collect();
    for plugin in ["pop", "fadeIn", "fadeOut", "bobY"] {
        assert!(named.contains(plugin), "{plugin} from define is not seen: {named:?}");
    }
}

/// Object keys anywhere under `value`, with how often they occur.
fn count_key(value: &Value, key: &str) -> usize {
    match value {
        Value::Object(members) => members.iter().map(|(k, v)| usize::from(k == key) + count_key(v, key)).sum(),
        Value::Array(items) => items.iter().map(|v| count_key(v, key)).sum(),
        _ => 0,
    }
}

#[test]
fn legacy_demo_exercises_every_migrated_feature_and_none_survives() {
    let path = sample("legacy_demo.json");
    let input = read_json(&path);
    let cues = input["cues"].as_array().unwrap();
    assert!(cues.iter().any(|c| c["hintTime"].is_object()), "no hintTime {{start, end}}");
    assert!(cues.iter().any(|c| c["hintTime"].is_number()), "no numeric hintTime");
    assert!(cues.iter().any(|c| c.get("id").is_none()), "every cue has an id");
    assert!(input["tracks"].as_array().unwrap().iter().any(|t| t.get("scaleMode").is_some()), "no track scaleMode");
    for key in ["absStart", "absEnd", "e_type", "content", "plugin", "relStart", "relEnd", "relStartPct", "relEndPct"] {
        assert!(count_key(&input["cues"], key) > 0, "legacy_demo never uses {key}");
    }
    let mut type_alias = 0;
    let mut without_id = 0;
    for cue in cues {
        walk_v2(&cue["root"], None, &mut |node, _| {
            type_alias += usize::from(node.get("type").is_some());
            without_id += usize::from(node.get("id").is_none());
        });
    }
    assert!(type_alias > 0, "no node uses the type alias");
    assert!(without_id > 0, "every node has an id");

    let migrated = load_file(&path).document;
    for key in ["hintTime", "absStart", "absEnd", "e_type", "content", "plugin", "relStart", "relEnd", "relStartPct", "relEndPct", "scaleMode"] {
        assert_eq!(count_key(&migrated, key), 0, "the migrated legacy_demo still has {key}");
    }
    for cue in migrated["cues"].as_array().unwrap() {
        walk_v2(&cue["root"], None, &mut |node, _| {
            assert!(node.get("type").is_none() && node["eType"].is_string(), "{}: element type not migrated", node["id"]);
        });
    }
}

#[test]
fn legacy_timecode_is_written_in_timecode_at_25_fps() {
    let path = sample("legacy_timecode.json");
    let input = read_json(&path);
    assert_eq!(input["timebase"], serde_json::json!({"unit": "tc", "fps": 25}));
    let timecodes = read_text(&path).matches("\"00:00:").count();
    assert!(timecodes >= 10, "only {timecodes} timecode strings");
    let migrated = load_file(&path).document;
    assert_eq!(migrated["timebase"]["unit"], "seconds");
    assert!(!serde_json::to_string(&migrated).unwrap().contains("\"00:00:"), "a timecode survived migration");
}
