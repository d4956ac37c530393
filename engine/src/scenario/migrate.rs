//! Deterministic migration of MotionText v1.3 scenarios to v2.0.
//!
//! The mapping (times are seconds):
//! - `version` "1.3" → "2.0"; `pluginApiVersion` "3.0" is added when absent.
//! - `timebase.unit` "tc" → "seconds"; timecode strings (`HH:MM:SS.mmm`, or
//!   `HH:MM:SS:FF` with `timebase.fps`) become seconds.
//! - cue `hintTime {start, end}` → `domLifetime [start, end]`; a bare number
//!   `hintTime` is only a hint and is dropped (the default lifetime applies).
//! - node `absStart`/`absEnd` → `displayTime [absStart, absEnd]`: the same
//!   numbers; the half-open v1.3 end becomes the inclusive v2.0 end.
//! - node `e_type` / `type` → `eType`; `content` → `text`.
//! - node `plugin` (one entry) → `pluginChain [entry]`; a plain string entry
//!   becomes `{name}`.
//! - plugin `relStart`/`relEnd` (seconds after the node's start) → numeric
//!   `timeOffset [relStart, relEnd − D]`, and `relStartPct`/`relEndPct`
//!   (fractions of the node's window) → `timeOffset ["s%", "(e − 1)%"]`,
//!   where D is the node's display duration. Under v2.0 the start bound is
//!   added to the window start and the end bound to the window end, so the
//!   absolute plugin window is unchanged. An entry with neither gets `[0, 0]`,
//!   the whole window (v2.0 without `timeOffset` would extend it by D).
//! - `track.scaleMode` has no v2.0 meaning and is dropped.
//! - missing ids are generated: cues `cue-<index>`, nodes `<cue id>-<path>`
//!   (`-r` for the root, `-r-0-2` for its first child's third child), with a
//!   numeric suffix if that id is taken.
//! - `layout` is copied unchanged, pair arrays included. The v1.3 runtime's
//!   layout rules are v2.0's: its types (`types/scenario.d.ts` of the
//!   package, `Layout.position: {x, y}`, `size: {width, height}`,
//!   `transform.translate/scale: {x, y}`) and its layout code read only
//!   the object forms, so a v1.3 `position: [x, y]` was ignored there too and
//!   the node sat in normal flow. Keeping the array keeps that picture; the
//!   migrated document gets the same `validate`/QC warning (with its pointer,
//!   which is also the field's pointer in the v1.3 input) as a v2.0 one.

use std::collections::{BTreeMap, HashSet};

use serde_json::{Map, Value};

use super::error::Issue;
use super::pointer::Pointer;

/// What a migration changed, counted per kind of change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Migration {
    /// The version migrated from.
    pub from: String,
    /// Counts per change, e.g. `"absStart/absEnd → displayTime" => 275`.
    pub changes: BTreeMap<&'static str, usize>,
}

impl Migration {
    fn count(&mut self, change: &'static str) {
        *self.changes.entry(change).or_default() += 1;
    }
}

/// Migrates a v1.3 document to v2.0. Issues point into the v1.3 input.
pub fn migrate_v13(input: &Value) -> Result<(Value, Migration), Vec<Issue>> {
    let mut doc = input.clone();
    let mut migration = Migration { from: "1.3".to_owned(), changes: BTreeMap::new() };
    let mut issues = Vec::new();
    let root = Pointer::root();
    let Some(top) = doc.as_object_mut() else {
        return Err(vec![Issue::new(root, "a scenario must be a JSON object")]);
    };
    top.insert("version".to_owned(), Value::from("2.0"));
    if !top.contains_key("pluginApiVersion") {
        top.insert("pluginApiVersion".to_owned(), Value::from("3.0"));
    }
    let clock = Clock::take(top, &mut migration);
    if let Some(Value::Array(tracks)) = top.get_mut("tracks") {
        for track in tracks.iter_mut().filter_map(Value::as_object_mut) {
            if track.remove("scaleMode").is_some() {
                migration.count("track scaleMode dropped");
            }
        }
    }
    let mut ids = IdRegistry::collect(top.get("cues"));
    if let Some(Value::Array(cues)) = top.get_mut("cues") {
        for (index, cue) in cues.iter_mut().enumerate() {
            let at = root.key("cues").index(index);
            if let Some(cue) = cue.as_object_mut() {
                let mut ctx = CueMigration { clock: &clock, migration: &mut migration, issues: &mut issues, ids: &mut ids };
                ctx.cue(cue, index, &at);
            }
        }
    }
    if issues.is_empty() {
        Ok((doc, migration))
    } else {
        Err(issues)
    }
}

/// How v1.3 times are written: seconds, or timecode under unit "tc".
struct Clock {
    timecode: bool,
    fps: Option<f64>,
}

impl Clock {
    fn take(top: &mut Map<String, Value>, migration: &mut Migration) -> Self {
        let mut clock = Clock { timecode: false, fps: None };
        if let Some(Value::Object(timebase)) = top.get_mut("timebase") {
            clock.fps = timebase.get("fps").and_then(Value::as_f64);
            if timebase.get("unit").and_then(Value::as_str) == Some("tc") {
                clock.timecode = true;
                timebase.insert("unit".to_owned(), Value::from("seconds"));
                migration.count("timebase unit tc → seconds");
            }
        }
        clock
    }

    /// Seconds of a v1.3 time value, or `None` when it is not a time.
    fn seconds(&self, value: &Value) -> Option<f64> {
        match value {
            Value::Number(n) => n.as_f64(),
            Value::String(s) if self.timecode => parse_timecode(s, self.fps),
            _ => None,
        }
    }
}

/// `HH:MM:SS(.mmm)` or `HH:MM:SS:FF` (needs fps) to seconds.
fn parse_timecode(text: &str, fps: Option<f64>) -> Option<f64> {
    let parts: Vec<&str> = text.trim().split(':').collect();
    let number = |s: &str, below: f64| s.parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0 && *v < below);
    let clock = |h: &str, m: &str, s: &str| Some(number(h, f64::INFINITY)? * 3600.0 + number(m, 60.0)? * 60.0 + number(s, 60.0)?);
    match parts.as_slice() {
        [h, m, s] => clock(h, m, s),
        [h, m, s, f] => {
            let fps = fps.filter(|fps| *fps > 0.0)?;
            let frame = number(f, fps).filter(|f| f.fract() == 0.0)?;
            Some(clock(h, m, s)? + frame / fps)
        }
        _ => None,
    }
}

/// Every id already used in the document, so generated ids stay unique.
struct IdRegistry(HashSet<String>);

impl IdRegistry {
    fn collect(cues: Option<&Value>) -> Self {
        fn walk(node: &Value, ids: &mut HashSet<String>) {
            if let Some(id) = node.get("id").and_then(Value::as_str) {
                ids.insert(id.to_owned());
            }
            if let Some(Value::Array(children)) = node.get("children") {
                children.iter().for_each(|child| walk(child, ids));
            }
        }
        let mut ids = HashSet::new();
        for cue in cues.and_then(Value::as_array).into_iter().flatten() {
            if let Some(id) = cue.get("id").and_then(Value::as_str) {
                ids.insert(id.to_owned());
            }
            if let Some(root) = cue.get("root") {
                walk(root, &mut ids);
            }
        }
        Self(ids)
    }

    fn fresh(&mut self, wanted: String) -> String {
        let mut candidate = wanted.clone();
        let mut suffix = 2;
        while self.0.contains(&candidate) {
            candidate = format!("{wanted}-{suffix}");
            suffix += 1;
        }
        self.0.insert(candidate.clone());
        candidate
    }
}

struct CueMigration<'a> {
    clock: &'a Clock,
    migration: &'a mut Migration,
    issues: &'a mut Vec<Issue>,
    ids: &'a mut IdRegistry,
}

impl CueMigration<'_> {
    fn cue(&mut self, cue: &mut Map<String, Value>, index: usize, at: &Pointer) {
        let cue_id = match cue.get("id").and_then(Value::as_str) {
            Some(id) if !id.is_empty() => id.to_owned(),
            _ => {
                let id = self.ids.fresh(format!("cue-{index}"));
                cue.insert("id".to_owned(), Value::from(id.clone()));
                self.migration.count("cue id generated");
                id
            }
        };
        if let Some(hint) = cue.remove("hintTime") {
            match &hint {
                Value::Object(range) => {
                    let range = self.range(range.get("start"), range.get("end"), &at.key("hintTime"), "hintTime.start", "hintTime.end");
                    if let Some((start, end)) = range {
                        cue.insert("domLifetime".to_owned(), serde_json::json!([start, end]));
                        self.migration.count("hintTime → domLifetime");
                    }
                }
                _ => self.migration.count("hintTime number dropped"),
            }
        }
        if let Some(Value::Object(root)) = cue.get_mut("root") {
            // A plugin's base window is its node's displayTime (inherited from
            // ancestors), never the cue's lifetime, as in the reference package.
            self.node(root, &format!("{cue_id}-r"), None, &at.key("root"));
        }
    }

    fn node(&mut self, node: &mut Map<String, Value>, path_id: &str, inherited: Option<(f64, f64)>, at: &Pointer) {
        for alias in ["e_type", "type"] {
            if let Some(kind) = node.remove(alias) {
                if !node.contains_key("eType") {
                    node.insert("eType".to_owned(), kind);
                    self.migration.count("e_type/type → eType");
                }
            }
        }
        if let Some(content) = node.remove("content") {
            if !node.contains_key("text") {
                node.insert("text".to_owned(), content);
                self.migration.count("content → text");
            }
        }
        if !matches!(node.get("id"), Some(Value::String(id)) if !id.is_empty()) {
            node.insert("id".to_owned(), Value::from(self.ids.fresh(path_id.to_owned())));
            self.migration.count("node id generated");
        }
        let mut window = inherited;
        let (abs_start, abs_end) = (node.remove("absStart"), node.remove("absEnd"));
        if abs_start.is_some() || abs_end.is_some() {
            let start = abs_start.or_else(|| inherited.map(|w| Value::from(w.0)));
            let end = abs_end.or_else(|| inherited.map(|w| Value::from(w.1)));
            if let Some((start, end)) = self.range(start.as_ref(), end.as_ref(), at, "absStart", "absEnd") {
                node.insert("displayTime".to_owned(), serde_json::json!([start, end]));
                window = Some((start, end));
                self.migration.count("absStart/absEnd → displayTime");
            }
        } else if let Some(range) = node.get("displayTime").and_then(Value::as_array) {
            if let [Some(start), Some(end)] = [range.first().and_then(Value::as_f64), range.get(1).and_then(Value::as_f64)] {
                window = Some((start, end));
            }
        }
        if let Some(single) = node.remove("plugin") {
            if !node.contains_key("pluginChain") {
                node.insert("pluginChain".to_owned(), Value::Array(vec![single]));
                self.migration.count("plugin → pluginChain");
            }
        }
        if let Some(Value::Array(chain)) = node.get_mut("pluginChain") {
            for (index, entry) in chain.iter_mut().enumerate() {
                self.plugin(entry, window, &at.key("pluginChain").index(index));
            }
        }
        if let Some(Value::Array(children)) = node.get_mut("children") {
            for (index, child) in children.iter_mut().enumerate() {
                if let Some(child) = child.as_object_mut() {
                    self.node(child, &format!("{path_id}-{index}"), window, &at.key("children").index(index));
                }
            }
        }
    }

    fn plugin(&mut self, entry: &mut Value, window: Option<(f64, f64)>, at: &Pointer) {
        if let Value::String(name) = entry {
            if !name.starts_with("define.") {
                *entry = serde_json::json!({ "name": name.clone() });
                self.migration.count("plugin name → entry");
            }
        }
        let Some(entry) = entry.as_object_mut() else { return };
        let rel = (entry.remove("relStart"), entry.remove("relEnd"));
        let pct = (entry.remove("relStartPct"), entry.remove("relEndPct"));
        if entry.contains_key("timeOffset") {
            return;
        }
        let seconds_form = rel.0.is_some() || rel.1.is_some();
        if seconds_form && (pct.0.is_some() || pct.1.is_some()) {
            let message = "a plugin window is given both in seconds (relStart/relEnd) and as fractions (relStartPct/relEndPct); use one form";
            self.issues.push(Issue::new(at.clone(), message));
            return;
        }
        let offset = if seconds_form {
            let start = self.number(rel.0.as_ref(), 0.0, &at.key("relStart"));
            let end = match (rel.1.as_ref(), window) {
                (None, _) => Some(0.0),
                (Some(end), Some((s, e))) => self.number(Some(end), 0.0, &at.key("relEnd")).map(|rel_end| rel_end - (e - s)),
                (Some(_), None) => {
                    self.issues.push(Issue::new(at.key("relEnd"), "relEnd needs the node's absStart/absEnd (or an ancestor's) to convert to timeOffset"));
                    None
                }
            };
            start.zip(end).map(|(s, e)| serde_json::json!([s, e]))
        } else if pct.0.is_some() || pct.1.is_some() {
            let start = self.number(pct.0.as_ref(), 0.0, &at.key("relStartPct"));
            let end = self.number(pct.1.as_ref(), 1.0, &at.key("relEndPct"));
            start.zip(end).map(|(s, e)| serde_json::json!([percent(s), percent(e - 1.0)]))
        } else {
            Some(serde_json::json!([0, 0]))
        };
        if let Some(offset) = offset {
            entry.insert("timeOffset".to_owned(), offset);
            self.migration.count("plugin window → timeOffset");
        }
    }

    fn number(&mut self, value: Option<&Value>, default: f64, at: &Pointer) -> Option<f64> {
        match value {
            None => Some(default),
            Some(v) => match v.as_f64().filter(|n| n.is_finite()) {
                Some(n) => Some(n),
                None => {
                    self.issues.push(Issue::new(at.clone(), format!("expected a finite number, found {v}")));
                    None
                }
            },
        }
    }

    fn range(&mut self, start: Option<&Value>, end: Option<&Value>, at: &Pointer, start_name: &str, end_name: &str) -> Option<(f64, f64)> {
        let mut read = |value: Option<&Value>, name: &str| -> Option<f64> {
            let parsed = value.and_then(|v| self.clock.seconds(v)).filter(|n| n.is_finite());
            if parsed.is_none() {
                let found = value.map_or("nothing".to_owned(), Value::to_string);
                self.issues.push(Issue::new(at.key(name), format!("{name} must be a finite time, found {found}")));
            }
            parsed
        };
        let start = read(start, start_name.rsplit('.').next().unwrap_or(start_name));
        let end = read(end, end_name.rsplit('.').next().unwrap_or(end_name));
        start.zip(end)
    }
}

/// A fraction as a v2.0 percentage string, rounded to 1e-9 percent (which
/// moves a window by at most D·1e-11 s and hides binary noise like 0.9 − 1).
fn percent(fraction: f64) -> String {
    let value = (fraction * 100.0 * 1e9).round() / 1e9;
    let value = if value == 0.0 { 0.0 } else { value };
    format!("{value}%")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn percent_is_deterministic_and_has_no_negative_zero() {
        assert_eq!(percent(0.2), "20%");
        assert_eq!(percent(1.0 - 1.0), "0%");
        assert_eq!(percent(0.9 - 1.0), "-10%");
    }

    #[test]
    fn timecodes_read_with_and_without_fps() {
        assert_eq!(parse_timecode("00:01:02.5", None), Some(62.5));
        assert_eq!(parse_timecode("00:00:01:15", Some(30.0)), Some(1.5));
        assert_eq!(parse_timecode("00:00:01:15", None), None);
        assert_eq!(parse_timecode("soon", None), None);
        assert_eq!(parse_timecode("00:00:01:30", Some(25.0)), None, "frame beyond the rate");
        assert_eq!(parse_timecode("00:61:00", None), None, "minutes past 59");
    }

    #[test]
    fn maps_times_aliases_plugins_and_ids() {
        let input = json!({
            "version": "1.3", "timebase": {"unit": "seconds"}, "stage": {"baseAspect": "16:9"},
            "tracks": [{"id": "t", "type": "subtitle", "layer": 1, "scaleMode": "fit"}],
            "cues": [{"track": "t", "hintTime": {"start": 1, "end": 9}, "root": {"e_type": "group", "children": [
                {"type": "text", "content": "hi", "absStart": 2, "absEnd": 6, "pluginChain": [
                    {"name": "a", "relStart": 1, "relEnd": 3},
                    {"name": "b", "relStartPct": 0.25, "relEndPct": 0.5},
                    {"name": "c"}
                ]}
            ]}}]
        });
        let (doc, migration) = migrate_v13(&input).unwrap();
        assert_eq!(doc["version"], "2.0");
        assert!(doc["tracks"][0].get("scaleMode").is_none());
        let cue = &doc["cues"][0];
        assert_eq!(cue["id"], "cue-0");
        assert_eq!(cue["domLifetime"], json!([1.0, 9.0]));
        assert_eq!(cue["root"]["id"], "cue-0-r");
        let text = &cue["root"]["children"][0];
        assert_eq!(text["id"], "cue-0-r-0");
        assert_eq!(text["eType"], "text");
        assert_eq!(text["text"], "hi");
        assert_eq!(text["displayTime"], json!([2.0, 6.0]));
        // relEnd 3 s after start of a 4 s window ends 1 s before the window end.
        assert_eq!(text["pluginChain"][0]["timeOffset"], json!([1.0, -1.0]));
        assert_eq!(text["pluginChain"][1]["timeOffset"], json!(["25%", "-50%"]));
        assert_eq!(text["pluginChain"][2]["timeOffset"], json!([0, 0]));
        assert_eq!(migration.changes["absStart/absEnd → displayTime"], 1);
    }

    #[test]
    fn generated_ids_avoid_existing_ones() {
        let input = json!({"version": "1.3", "cues": [
            {"id": "cue-1", "track": "t", "root": {"id": "x"}},
            {"track": "t", "root": {"eType": "group"}},
            {"id": "c", "track": "t", "root": {"id": "cue-1"}}
        ]});
        let (doc, _) = migrate_v13(&input).unwrap();
        assert_eq!(doc["cues"][1]["id"], "cue-1-2");
        assert_eq!(doc["cues"][1]["root"]["id"], "cue-1-2-r");
    }
}
