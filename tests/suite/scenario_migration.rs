//! The v1.3 → v2.0 time mapping, checked independently of migrate.rs: the
//! v1.3 samples and their migrated documents are walked side by side, and
//! every cue lifetime, node displayTime and plugin window is recomputed from
//! the v1.3 fields by this file's own reading of the format.

use motionrender_engine::scenario::load;
use motionrender_tests::{display_time, file_name, json_files, plugin_window_v2, read_json, read_text, scenarios_dir, Window};
use std::path::Path;
use serde_json::Value;

const TOLERANCE: f64 = 1e-9;
const LEGACY_SAMPLES: [&str; 2] = ["legacy_demo.json", "legacy_timecode.json"];

/// How a v1.3 file writes times: seconds, or timecode under unit "tc".
#[derive(Debug, Clone, Copy)]
struct Clock {
    timecode: bool,
    fps: Option<f64>,
}

impl Clock {
    fn of(document: &Value) -> Self {
        Self { timecode: document["timebase"]["unit"] == "tc", fps: document["timebase"]["fps"].as_f64() }
    }

    /// Seconds of a v1.3 time: a number, or under "tc" `HH:MM:SS(.fff)` or
    /// `HH:MM:SS:FF` (FF frames at the timebase's fps).
    fn seconds(self, value: &Value, at: &str) -> f64 {
        if let Some(seconds) = value.as_f64() {
            return seconds;
        }
        let text = value.as_str().unwrap_or_else(|| panic!("{at}: {value} is not a time"));
        assert!(self.timecode, "{at}: the timecode {text:?} needs timebase unit \"tc\"");
        let fields: Vec<f64> = text.split(':').map(|f| f.parse::<f64>().unwrap_or_else(|_| panic!("{at}: bad timecode {text:?}"))).collect();
        match fields.as_slice() {
            [h, m, s] => h * 3600.0 + m * 60.0 + s,
            [h, m, s, frames] => {
                let fps = self.fps.unwrap_or_else(|| panic!("{at}: frame timecode {text:?} without fps"));
                h * 3600.0 + m * 60.0 + s + frames / fps
            }
            _ => panic!("{at}: bad timecode {text:?}"),
        }
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= TOLERANCE
}

fn assert_window(actual: Window, expected: Window, what: &str) {
    assert!(close(actual.0, expected.0) && close(actual.1, expected.1), "{what}: migrated {actual:?}, expected {expected:?}");
}

fn number(entry: &Value, key: &str) -> Option<f64> {
    entry.get(key).map(|v| v.as_f64().unwrap_or_else(|| panic!("{key} = {v} is not a number")))
}

/// A v1.3 plugin's absolute window on a node whose window is `node`:
/// `relStart`/`relEnd` are seconds after the node's start, `relStartPct`/
/// `relEndPct` fractions of its window; a missing bound is the window's own.
fn plugin_window_v13(entry: &Value, node: Window) -> Window {
    let duration = node.1 - node.0;
    let start = match (number(entry, "relStart"), number(entry, "relStartPct")) {
        (Some(seconds), _) => node.0 + seconds,
        (None, Some(fraction)) => node.0 + duration * fraction,
        (None, None) => node.0,
    };
    let end = match (number(entry, "relEnd"), number(entry, "relEndPct")) {
        (Some(seconds), _) => node.0 + seconds,
        (None, Some(fraction)) => node.0 + duration * fraction,
        (None, None) => node.1,
    };
    (start, end)
}

/// What the side-by-side walk compared, so a vacuous walk fails.
#[derive(Debug, Default)]
struct Compared {
    lifetimes: usize,
    display_times: usize,
    plugins: usize,
}

struct Walk {
    clock: Clock,
    compared: Compared,
}

impl Walk {
    fn cue(&mut self, input: &Value, output: &Value, at: &str) {
        match input.get("hintTime") {
            Some(hint @ Value::Object(_)) => {
                let expected = (self.clock.seconds(&hint["start"], at), self.clock.seconds(&hint["end"], at));
                let actual = display_pair(output.get("domLifetime")).unwrap_or_else(|| panic!("{at}: no domLifetime for hintTime {hint}"));
                assert_window(actual, expected, &format!("{at}/domLifetime"));
                self.compared.lifetimes += 1;
            }
            _ => assert!(output.get("domLifetime").is_none(), "{at}: a domLifetime appeared without hintTime {{start, end}}"),
        }
        self.node(&input["root"], &output["root"], None, None, &format!("{at}/root"));
    }

    /// `window13` / `window2`: the window the node inherits in each version.
    fn node(&mut self, input: &Value, output: &Value, window13: Option<Window>, window2: Option<Window>, at: &str) {
        let own13 = match (input.get("absStart"), input.get("absEnd")) {
            (Some(start), Some(end)) => {
                let expected = (self.clock.seconds(start, at), self.clock.seconds(end, at));
                let actual = display_time(output).unwrap_or_else(|| panic!("{at}: no displayTime for absStart/absEnd"));
                assert_window(actual, expected, &format!("{at}/displayTime"));
                self.compared.display_times += 1;
                Some(expected)
            }
            (None, None) => {
                assert_eq!(output.get("displayTime"), input.get("displayTime"), "{at}: displayTime changed without absStart/absEnd");
                None
            }
            _ => panic!("{at}: the samples give absStart and absEnd together"),
        };
        let window13 = own13.or(window13);
        let window2 = display_time(output).or(window2);

        let entries13: Vec<&Value> = match (input.get("plugin"), input.get("pluginChain")) {
            (Some(single), None) => vec![single],
            (None, Some(chain)) => chain.as_array().unwrap_or_else(|| panic!("{at}: pluginChain is not an array")).iter().collect(),
            (None, None) => Vec::new(),
            (Some(_), Some(_)) => panic!("{at}: the samples use plugin or pluginChain, not both"),
        };
        let entries2: Vec<&Value> = output.get("pluginChain").and_then(Value::as_array).into_iter().flatten().collect();
        assert_eq!(entries13.len(), entries2.len(), "{at}: plugin entries lost or added by migration");
        for (index, (entry13, entry2)) in entries13.into_iter().zip(entries2).enumerate() {
            let at = format!("{at}/pluginChain/{index}");
            let base13 = window13.unwrap_or_else(|| panic!("{at}: the v1.3 node has no absStart/absEnd window"));
            let base2 = window2.unwrap_or_else(|| panic!("{at}: the migrated node has no displayTime window"));
            let name = entry13.as_str().map_or_else(|| entry13["name"].clone(), Value::from);
            assert_eq!(entry2["name"], name, "{at}: plugin name changed");
            let expected = plugin_window_v13(entry13, base13);
            let actual = plugin_window_v2(entry2, base2).unwrap_or_else(|| panic!("{at}: migrated entry {entry2} has an unreadable timeOffset"));
            assert_window(actual, expected, &at);
            self.compared.plugins += 1;
        }

        let children13 = input.get("children").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
        let children2 = output.get("children").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
        assert_eq!(children13.len(), children2.len(), "{at}: children lost or added by migration");
        for (index, (child13, child2)) in children13.iter().zip(children2).enumerate() {
            self.node(child13, child2, window13, window2, &format!("{at}/children/{index}"));
        }
    }
}

fn display_pair(value: Option<&Value>) -> Option<Window> {
    match value?.as_array()?.as_slice() {
        [start, end] => Some((start.as_f64()?, end.as_f64()?)),
        _ => None,
    }
}

/// How many plugin entries the nodes of v1.3 cues name (`plugin` or
/// `pluginChain` on a node; a `plugin` key inside a style is not one).
fn plugin_entries(cues: &Value) -> usize {
    fn node(value: &Value) -> usize {
        let own = usize::from(value.get("plugin").is_some()) + value.get("pluginChain").and_then(Value::as_array).map_or(0, Vec::len);
        own + value.get("children").and_then(Value::as_array).into_iter().flatten().map(node).sum::<usize>()
    }
    cues.as_array().into_iter().flatten().filter_map(|cue| cue.get("root")).map(node).sum()
}

/// Walks a v1.3 file and its migrated document side by side, asserting
/// every time is kept; returns what was compared.
fn check_migration(path: &Path) -> Compared {
    let name = file_name(path);
    let input = read_json(path);
    assert_eq!(input["version"], "1.3", "{name}");
    let scenario = load(&read_text(path)).unwrap_or_else(|e| panic!("{name} is refused: {e}"));
    let output = &scenario.document;
    let cues13 = input["cues"].as_array().unwrap();
    let cues2 = output["cues"].as_array().unwrap();
    assert_eq!(cues13.len(), cues2.len(), "{name}: cues lost or added");

    let mut walk = Walk { clock: Clock::of(&input), compared: Compared::default() };
    for (index, (cue13, cue2)) in cues13.iter().zip(cues2).enumerate() {
        walk.cue(cue13, cue2, &format!("{name}#/cues/{index}"));
    }
    assert_eq!(walk.compared.plugins, plugin_entries(&input["cues"]), "{name}: not every plugin window was compared");
    walk.compared
}

#[test]
fn migration_keeps_cue_lifetimes_display_times_and_plugin_windows() {
    for name in LEGACY_SAMPLES {
        let Compared { lifetimes, display_times, .. } = check_migration(&scenarios_dir().join(name));
        assert!(lifetimes > 0 && display_times > 0, "{name}: nothing compared ({lifetimes} lifetimes, {display_times} displayTimes)");
    }
}

/// Every v1.3 file of a folder keeps its times through migration. The folder
/// is `$MOTIONRENDER_SCENARIO_DIR` (scripts/conformance points it at the
/// corpus it checks), else the bundled samples.
#[test]
fn migration_keeps_times_for_every_v13_file_of_the_scenario_folder() {
    let dir = std::env::var_os("MOTIONRENDER_SCENARIO_DIR").map_or_else(scenarios_dir, std::path::PathBuf::from);
    let legacy: Vec<_> = json_files(&dir).into_iter().filter(|path| read_json(path)["version"] == "1.3").collect();
    assert!(!legacy.is_empty(), "{} holds no v1.3 scenario", dir.display());
    let display_times: usize = legacy.iter().map(|path| check_migration(path).display_times).sum();
    assert!(display_times > 0, "no displayTime compared in {}", dir.display());
}

#[test]
fn the_tests_own_timecode_reading_is_right() {
    let clock = Clock { timecode: true, fps: Some(25.0) };
    assert!(close(clock.seconds(&Value::from("00:00:01:12"), "t"), 1.48));
    assert!(close(clock.seconds(&Value::from("00:01:02.5"), "t"), 62.5));
    assert!(close(clock.seconds(&Value::from("01:00:00:00"), "t"), 3600.0));
    assert!(close(clock.seconds(&Value::from(4.25), "t"), 4.25));
}

#[test]
fn the_tests_own_window_rules_are_right() {
    let node = (2.0, 6.0);
    let v13 = |entry: Value| plugin_window_v13(&entry, node);
    assert_eq!(v13(serde_json::json!("pop")), (2.0, 6.0));
    assert_eq!(v13(serde_json::json!({"name": "a", "relStart": 1, "relEnd": 3})), (3.0, 5.0));
    assert_eq!(v13(serde_json::json!({"name": "a", "relStart": 1})), (3.0, 6.0));
    assert_eq!(v13(serde_json::json!({"name": "a", "relStartPct": 0.25, "relEndPct": 0.5})), (3.0, 4.0));
    assert_eq!(v13(serde_json::json!({"name": "a", "relStartPct": 0.75})), (5.0, 6.0));

    let v2 = |entry: Value| plugin_window_v2(&entry, node).unwrap();
    assert_eq!(v2(serde_json::json!({"name": "a", "timeOffset": [0, 0]})), (2.0, 6.0));
    assert_eq!(v2(serde_json::json!({"name": "a", "timeOffset": [1, -1]})), (3.0, 5.0));
    assert_eq!(v2(serde_json::json!({"name": "a", "timeOffset": ["25%", "-50%"]})), (3.0, 4.0));
    assert_window(v2(serde_json::json!({"name": "a", "timeOffset": ["0%", "-70%"]})), (2.0, 3.2), "0%, -70%");
    // The package's quirk: no timeOffset spans [start, end + duration].
    assert_eq!(v2(serde_json::json!({"name": "a"})), (2.0, 10.0));
    assert!(plugin_window_v2(&serde_json::json!({"timeOffset": ["soon", 0]}), node).is_none());
}

/// The side-by-side walk of `legacy_demo.json`, with `tamper` applied to the
/// migrated document first; whether the walk found it consistent.
fn walk_accepts(tamper: impl FnOnce(&mut Value)) -> bool {
    let path = scenarios_dir().join("legacy_demo.json");
    let input = read_json(&path);
    let mut output = load(&read_text(&path)).unwrap().document;
    tamper(&mut output);
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut walk = Walk { clock: Clock::of(&input), compared: Compared::default() };
        for (index, (cue13, cue2)) in input["cues"].as_array().unwrap().iter().zip(output["cues"].as_array().unwrap()).enumerate() {
            walk.cue(cue13, cue2, &format!("tampered#/cues/{index}"));
        }
    }))
    .is_ok()
}

#[test]
fn the_walk_notices_a_shifted_time() {
    assert!(walk_accepts(|_| {}), "the untouched migration must pass");
    let english = "/cues/1/root/children/0";
    assert!(!walk_accepts(|doc| doc.pointer_mut(&format!("{english}/pluginChain/1/timeOffset/1")).map_or((), |v| *v = Value::from("-59%"))));
    assert!(!walk_accepts(|doc| doc.pointer_mut(&format!("{english}/pluginChain/2/timeOffset/0")).map_or((), |v| *v = Value::from(0.8))));
    assert!(!walk_accepts(|doc| doc.pointer_mut(&format!("{english}/displayTime/1")).map_or((), |v| *v = Value::from(8.4))));
    assert!(!walk_accepts(|doc| doc.pointer_mut("/cues/0/domLifetime/0").map_or((), |v| *v = Value::from(0.0))));
    assert!(!walk_accepts(|doc| doc.pointer_mut("/cues/2/root/children/0/pluginChain").map_or((), |v| *v = Value::Array(Vec::new()))));
}
