//! Warnings about a valid scenario: places where the document renders as the
//! reference package draws it, but the author probably meant something else.
//!
//! motiontext-renderer 1.5.0 reads `layout.position`, `layout.size`,
//! `layout.transform.translate` and `layout.transform.scale` only in their
//! object forms (`{x, y}`, `{width, height}`). A pair array such as
//! `position: [0.5, 0.85]` is silently ignored: the node stays in normal
//! flow, at the top left of its parent, in every editor preview built on the
//! package. The engine draws exactly that (what the preview showed) and says
//! so here, with the pointer, so the author can write the object form.

use serde_json::Value;

use super::error::Issue;
use super::pointer::Pointer;

/// Layout fields the package reads only as objects, with the keys it reads.
const OBJECT_ONLY: [(&[&str], &str); 4] = [
    (&["position"], "{\"x\": …, \"y\": …}"),
    (&["size"], "{\"width\": …, \"height\": …}"),
    (&["transform", "translate"], "{\"x\": …, \"y\": …}"),
    (&["transform", "scale"], "{\"x\": …, \"y\": …}"),
];

/// Warnings for a resolved v2.0 document (`define.` references inlined), in
/// document order. Pointers name the field in that document.
pub fn layout_warnings(resolved: &Value) -> Vec<Issue> {
    let mut out = Vec::new();
    let cues = resolved.get("cues").and_then(Value::as_array).into_iter().flatten();
    for (index, cue) in cues.enumerate() {
        if let Some(root) = cue.get("root") {
            node(root, &Pointer::root().key("cues").index(index).key("root"), &mut out);
        }
    }
    out
}

fn node(value: &Value, at: &Pointer, out: &mut Vec<Issue>) {
    if let Some(layout) = value.get("layout").filter(|l| l.is_object()) {
        let at = at.key("layout");
        for (path, form) in OBJECT_ONLY {
            let (mut field, mut pointer) = (Some(layout), at.clone());
            for key in path {
                field = field.and_then(|f| f.get(*key));
                pointer = pointer.key(key);
            }
            if let Some(Value::Array(items)) = field {
                let shown = serde_json::to_string(items).unwrap_or_default();
                let name = path.join(".");
                out.push(Issue::new(
                    pointer,
                    format!(
                        "layout.{name} is the array {shown}; motiontext-renderer 1.5.0 reads only the object form {form} and ignores it, \
                         so the node is drawn as editors preview it (in normal flow, top left); write the object form to place it"
                    ),
                ));
            }
        }
    }
    for (index, child) in value.get("children").and_then(Value::as_array).into_iter().flatten().enumerate() {
        node(child, &at.key("children").index(index), out);
    }
}

#[cfg(test)]
mod tests {
    use super::layout_warnings;
    use crate::scenario::load_value;
    use serde_json::json;

    #[test]
    fn a_v13_position_array_is_kept_through_migration_and_warned_about() {
        let v13 = json!({"version": "1.3", "timebase": {"unit": "seconds"}, "stage": {"baseAspect": "16:9"},
            "tracks": [{"id": "t", "type": "subtitle", "layer": 1}],
            "cues": [{"id": "c", "track": "t", "root": {"id": "g", "e_type": "group", "children": [
                {"id": "x", "e_type": "text", "content": "hi", "absStart": 1, "absEnd": 2, "layout": {"position": [0.5, 0.8]}}
            ]}}]});
        let scenario = load_value(&v13).map_err(|e| e.to_string());
        let Ok(scenario) = scenario else { panic!("{scenario:?}") };
        assert_eq!(scenario.document["cues"][0]["root"]["children"][0]["layout"]["position"], json!([0.5, 0.8]));
        let pointers: Vec<String> = scenario.warnings.iter().map(|i| i.pointer.to_string()).collect();
        assert_eq!(pointers, ["/cues/0/root/children/0/layout/position"]);
    }

    #[test]
    fn points_at_each_array_the_package_ignores() {
        let doc = json!({"cues": [{"root": {"children": [
            {"layout": {"position": {"x": 0.5, "y": 0.5}}},
            {"layout": {"position": [0.5, 0.85], "transform": {"scale": [2, 2]}}}
        ]}}]});
        let pointers: Vec<String> = layout_warnings(&doc).iter().map(|i| i.pointer.to_string()).collect();
        assert_eq!(pointers, ["/cues/0/root/children/1/layout/position", "/cues/0/root/children/1/layout/transform/scale"]);
    }
}
