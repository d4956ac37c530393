//! Validation of a resolved v2.0 document: everything the reference package
//! checks, and more (element types, text and src, layers, plugin entries),
//! each issue naming its field by JSON pointer.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::error::Issue;
use super::pointer::Pointer;

const ASPECTS: [&str; 3] = ["16:9", "9:16", "auto"];
const TRACK_TYPES: [&str; 2] = ["subtitle", "free"];
const ELEMENT_TYPES: [&str; 4] = ["group", "text", "image", "video"];
const COMPOSE_MODES: [&str; 3] = ["replace", "add", "multiply"];
const PLUGIN_TYPES: [&str; 3] = ["channel", "dom", "hybrid"];

/// All issues of a resolved v2.0 document; empty when it is valid. The first
/// issue is the most fundamental: when the top level is broken, the rest is
/// not examined.
pub(crate) fn validate(doc: &Value) -> Vec<Issue> {
    let root = Pointer::root();
    let Some(top) = doc.as_object() else {
        return vec![Issue::new(root, format!("a scenario must be a JSON object, found {}", kind(doc)))];
    };
    let mut check = Checker::default();
    check.top_level(top, &root);
    if !check.issues.is_empty() {
        return check.issues;
    }
    let (Some(Value::Array(tracks)), Some(Value::Array(cues))) = (top.get("tracks"), top.get("cues")) else {
        return check.issues;
    };
    let track_ids = check.tracks(tracks, &root.key("tracks"));
    for (index, cue) in cues.iter().enumerate() {
        check.cue(cue, &track_ids, &root.key("cues").index(index));
    }
    check.issues
}

#[derive(Default)]
struct Checker {
    issues: Vec<Issue>,
    /// Every cue and node id seen so far, with where it was first seen.
    ids: HashMap<String, Pointer>,
}

impl Checker {
    fn push(&mut self, at: Pointer, message: impl Into<String>) {
        self.issues.push(Issue::new(at, message));
    }

    fn top_level(&mut self, top: &Map<String, Value>, root: &Pointer) {
        match top.get("version") {
            Some(Value::String(v)) if v == "2.0" => {}
            Some(other) => self.push(root.key("version"), format!("version must be \"2.0\" (or \"1.3\", which is migrated), found {other}")),
            None => self.push(root.key("version"), "version is missing; expected \"2.0\""),
        }
        let at = root.key("timebase");
        match top.get("timebase") {
            Some(Value::Object(timebase)) => {
                match timebase.get("unit") {
                    Some(Value::String(unit)) if unit == "seconds" => {}
                    other => self.push(at.key("unit"), format!("timebase.unit must be \"seconds\", found {}", shown(other))),
                }
                if let Some(fps) = timebase.get("fps") {
                    if !fps.as_f64().is_some_and(|f| f.is_finite() && f > 0.0) {
                        self.push(at.key("fps"), format!("timebase.fps must be a positive number, found {fps}"));
                    }
                }
            }
            other => self.push(at, format!("timebase must be an object such as {{\"unit\": \"seconds\"}}, found {}", shown(other))),
        }
        let at = root.key("stage");
        match top.get("stage") {
            Some(Value::Object(stage)) => match stage.get("baseAspect") {
                Some(Value::String(aspect)) if ASPECTS.contains(&aspect.as_str()) => {}
                other => self.push(at.key("baseAspect"), format!("stage.baseAspect must be one of {}, found {}", ASPECTS.join(", "), shown(other))),
            },
            other => self.push(at, format!("stage must be an object such as {{\"baseAspect\": \"16:9\"}}, found {}", shown(other))),
        }
        for list in ["tracks", "cues"] {
            if !matches!(top.get(list), Some(Value::Array(_))) {
                self.push(root.key(list), format!("{list} must be an array, found {}", shown(top.get(list))));
            }
        }
        if let Some(define) = top.get("define") {
            if !define.is_object() {
                self.push(root.key("define"), format!("define must be an object, found {}", kind(define)));
            }
        }
    }

    /// Checks the tracks and returns their ids.
    fn tracks(&mut self, tracks: &[Value], at: &Pointer) -> HashMap<String, ()> {
        let mut ids = HashMap::new();
        for (index, track) in tracks.iter().enumerate() {
            let at = at.index(index);
            let Some(track) = track.as_object() else {
                self.push(at, format!("a track must be an object, found {}", kind(track)));
                continue;
            };
            match track.get("id") {
                Some(Value::String(id)) if !id.is_empty() => {
                    if ids.insert(id.clone(), ()).is_some() {
                        self.push(at.key("id"), format!("track id \"{id}\" is used by an earlier track"));
                    }
                }
                other => self.push(at.key("id"), format!("a track needs a non-empty string id, found {}", shown(other))),
            }
            if let Some(kind_value) = track.get("type") {
                if !kind_value.as_str().is_some_and(|k| TRACK_TYPES.contains(&k)) {
                    self.push(at.key("type"), format!("track type must be one of {}, found {kind_value}", TRACK_TYPES.join(", ")));
                }
            }
            if let Some(layer) = track.get("layer") {
                if !layer.as_f64().is_some_and(f64::is_finite) {
                    self.push(at.key("layer"), format!("track layer must be a number (higher is on top), found {layer}"));
                }
            }
        }
        ids
    }

    fn cue(&mut self, cue: &Value, track_ids: &HashMap<String, ()>, at: &Pointer) {
        let Some(cue) = cue.as_object() else {
            self.push(at.clone(), format!("a cue must be an object, found {}", kind(cue)));
            return;
        };
        self.id(cue.get("id"), &at.key("id"), "cue");
        match cue.get("track") {
            Some(Value::String(track)) if track_ids.contains_key(track) => {}
            Some(Value::String(track)) => self.push(at.key("track"), format!("cue names track \"{track}\", which the tracks list does not have")),
            other => self.push(at.key("track"), format!("a cue needs the string id of its track, found {}", shown(other))),
        }
        if let Some(range) = cue.get("domLifetime") {
            self.time_range(range, &at.key("domLifetime"), "domLifetime");
        }
        if let Some(range) = cue.get("displayTime") {
            self.time_range(range, &at.key("displayTime"), "displayTime");
        }
        match cue.get("root") {
            Some(root @ Value::Object(_)) => self.node(root, &at.key("root")),
            other => self.push(at.key("root"), format!("a cue needs a root node object, found {}", shown(other))),
        }
    }

    fn node(&mut self, node: &Value, at: &Pointer) {
        let Some(node) = node.as_object() else {
            self.push(at.clone(), format!("a node must be an object, found {}", kind(node)));
            return;
        };
        self.id(node.get("id"), &at.key("id"), "node");
        let (type_key, type_value) = element_type_field(node);
        let element = match type_value {
            Some(Value::String(e)) if ELEMENT_TYPES.contains(&e.as_str()) => Some(e.as_str()),
            other => {
                self.push(at.key(type_key), format!("{type_key} must be one of {}, found {}", ELEMENT_TYPES.join(", "), shown(other)));
                None
            }
        };
        if let Some(range) = node.get("displayTime") {
            self.time_range(range, &at.key("displayTime"), "displayTime");
        }
        match element {
            Some("text") => {
                let key = if node.contains_key("text") || !node.contains_key("content") { "text" } else { "content" };
                if !matches!(node.get(key), Some(Value::String(_))) {
                    self.push(at.key(key), format!("a text node needs a string {key}, found {}", shown(node.get(key))));
                }
            }
            Some(media @ ("image" | "video")) if !node.get("src").is_some_and(is_source) => {
                let found = shown(node.get("src"));
                self.push(at.key("src"), format!("an {media} node needs a src: a non-empty string or a define asset with a url, found {found}"));
            }
            _ => {}
        }
        if let Some(chain) = node.get("pluginChain") {
            self.plugin_chain(chain, &at.key("pluginChain"));
        }
        match node.get("children") {
            None => {}
            Some(Value::Array(children)) => {
                for (index, child) in children.iter().enumerate() {
                    self.node(child, &at.key("children").index(index));
                }
            }
            Some(other) => self.push(at.key("children"), format!("children must be an array of nodes, found {}", kind(other))),
        }
    }

    fn id(&mut self, id: Option<&Value>, at: &Pointer, what: &str) {
        match id {
            Some(Value::String(id)) if !id.is_empty() => {
                if let Some(first) = self.ids.get(id) {
                    let message = format!("{what} id \"{id}\" is already used at {first}; cue and node ids must be unique across the scenario");
                    self.push(at.clone(), message);
                } else {
                    self.ids.insert(id.clone(), at.clone());
                }
            }
            other => self.push(at.clone(), format!("a {what} needs a non-empty string id, found {}", shown(other))),
        }
    }

    fn time_range(&mut self, range: &Value, at: &Pointer, name: &str) {
        let Some(items) = range.as_array().filter(|items| items.len() == 2) else {
            self.push(at.clone(), format!("{name} must be [start, end] in seconds, found {range}"));
            return;
        };
        let mut bounds = [0.0; 2];
        for (index, item) in items.iter().enumerate() {
            match item.as_f64().filter(|v| v.is_finite()) {
                Some(v) => bounds[index] = v,
                None => {
                    self.push(at.index(index), format!("{name} bounds must be finite numbers of seconds, found {item}"));
                    return;
                }
            }
        }
        if bounds[0] > bounds[1] {
            self.push(at.clone(), format!("{name} starts at {} after it ends at {}", bounds[0], bounds[1]));
        }
    }

    fn plugin_chain(&mut self, chain: &Value, at: &Pointer) {
        let Some(entries) = chain.as_array() else {
            self.push(at.clone(), format!("pluginChain must be an array, found {}", kind(chain)));
            return;
        };
        for (index, entry) in entries.iter().enumerate() {
            let at = at.index(index);
            let Some(entry) = entry.as_object() else {
                self.push(at, format!("a pluginChain entry must be an object with a name (or a define. reference to one), found {entry}"));
                continue;
            };
            if !matches!(entry.get("name"), Some(Value::String(n)) if !n.is_empty()) {
                self.push(at.key("name"), format!("a plugin entry needs a non-empty string name, found {}", shown(entry.get("name"))));
            }
            for key in ["timeOffset", "time_offset"] {
                if let Some(offset) = entry.get(key) {
                    self.time_offset(offset, &at.key(key));
                }
            }
            self.one_of(entry.get("compose"), &COMPOSE_MODES, &at.key("compose"), "compose");
            self.one_of(entry.get("type"), &PLUGIN_TYPES, &at.key("type"), "plugin type");
            if let Some(params) = entry.get("params") {
                if !params.is_object() {
                    self.push(at.key("params"), format!("params must be an object, found {}", kind(params)));
                }
            }
            if let Some(base) = entry.get("baseTime") {
                self.time_range(base, &at.key("baseTime"), "baseTime");
            }
        }
    }

    fn time_offset(&mut self, offset: &Value, at: &Pointer) {
        let Some(bounds) = offset.as_array().filter(|b| b.len() == 2) else {
            self.push(at.clone(), format!("timeOffset must be [start, end], found {offset}"));
            return;
        };
        for (index, bound) in bounds.iter().enumerate() {
            let ok = match bound {
                Value::Number(n) => n.as_f64().is_some_and(f64::is_finite),
                Value::String(s) => is_offset_text(s),
                _ => false,
            };
            if !ok {
                self.push(at.index(index), format!("a timeOffset bound must be seconds (a number) or a percentage such as \"50%\", found {bound}"));
            }
        }
    }

    fn one_of(&mut self, value: Option<&Value>, allowed: &[&str], at: &Pointer, name: &str) {
        if let Some(value) = value {
            if !value.as_str().is_some_and(|v| allowed.contains(&v)) {
                self.push(at.clone(), format!("{name} must be one of {}, found {value}", allowed.join(", ")));
            }
        }
    }
}

/// The field naming a node's element type: `eType`, or the aliases `e_type`
/// and `type` that the package also reads; `eType` when none is present.
pub(crate) fn element_type_field(node: &Map<String, Value>) -> (&'static str, Option<&Value>) {
    ["eType", "e_type", "type"]
        .into_iter()
        .find_map(|key| node.get(key).map(|value| (key, Some(value))))
        .unwrap_or(("eType", None))
}

/// A media source: a URL or path, or a define asset (`{type, url}`) resolved in place.
fn is_source(src: &Value) -> bool {
    let non_empty = |v: Option<&Value>| matches!(v, Some(Value::String(s)) if !s.is_empty());
    match src {
        Value::Object(asset) => non_empty(asset.get("url")) || non_empty(asset.get("src")),
        other => non_empty(Some(other)),
    }
}

/// `-?digits(.digits)?%?` with optional surrounding spaces, as the package accepts.
fn is_offset_text(text: &str) -> bool {
    let body = text.trim();
    let body = body.strip_suffix('%').unwrap_or(body);
    let body = body.strip_prefix('-').unwrap_or(body);
    let (whole, fraction) = match body.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (body, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(whole) && fraction.is_none_or(digits)
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn shown(value: Option<&Value>) -> String {
    match value {
        None => "nothing (the field is missing)".to_owned(),
        Some(Value::Object(_)) => "an object".to_owned(),
        Some(Value::Array(items)) if items.len() > 4 => "a long array".to_owned(),
        Some(v) => v.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::is_offset_text;

    #[test]
    fn offset_text_follows_the_package_pattern() {
        for ok in ["50%", " -20% ", "1.5", "0", "100.25%"] {
            assert!(is_offset_text(ok), "{ok}");
        }
        for bad in ["", "%", "abc", "1.", ".5", "--1", "5%%", "1e3"] {
            assert!(!is_offset_text(bad), "{bad}");
        }
    }
}
