//! Property tests of the scenario model: no input makes it panic, and the
//! alive intervals always cover every displayTime.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use motionrender_engine::scenario::{load, load_value, migrate_v13};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

/// Arbitrary JSON, biased towards the keys a scenario uses so that deep
/// paths of the migration and validation are reached.
fn arbitrary_json() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("version".to_owned()), Just("tracks".to_owned()), Just("cues".to_owned()), Just("root".to_owned()),
        Just("children".to_owned()), Just("absStart".to_owned()), Just("absEnd".to_owned()), Just("hintTime".to_owned()),
        Just("pluginChain".to_owned()), Just("plugin".to_owned()), Just("relStart".to_owned()), Just("relEndPct".to_owned()),
        Just("e_type".to_owned()), Just("id".to_owned()), Just("define".to_owned()), Just("timebase".to_owned()),
        Just("unit".to_owned()), Just("timeOffset".to_owned()), "[a-z]{1,6}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop_oneof![Just("1.3".to_owned()), Just("2.0".to_owned()), Just("tc".to_owned()), Just("define.a".to_owned()), Just("00:00:01:05".to_owned()), ".{0,8}"]
            .prop_map(Value::from),
    ];
    leaf.prop_recursive(5, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..6).prop_map(|members| Value::Object(members.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A valid v2.0 scenario with random cues and displayTimes, some cues with
/// an explicit domLifetime (possibly narrower than their nodes' times).
fn valid_scenario() -> impl Strategy<Value = Value> {
    let time = 0.0f64..100.0;
    let node = (time.clone(), 0.0f64..10.0, any::<bool>());
    let cue = (prop::collection::vec(node, 1..5), prop::option::of((time, 0.0f64..10.0)));
    prop::collection::vec(cue, 0..8).prop_map(|cues| {
        let cues: Vec<Value> = cues
            .into_iter()
            .enumerate()
            .map(|(c, (nodes, lifetime))| {
                let children: Vec<Value> = nodes
                    .into_iter()
                    .enumerate()
                    .map(|(n, (start, length, timed))| {
                        let mut node = json!({"id": format!("n{c}-{n}"), "eType": "text", "text": "hi"});
                        if timed {
                            node["displayTime"] = json!([start, start + length]);
                        }
                        node
                    })
                    .collect();
                let mut cue = json!({"id": format!("c{c}"), "track": "t", "root": {"id": format!("g{c}"), "eType": "group", "children": children}});
                if let Some((start, length)) = lifetime {
                    cue["domLifetime"] = json!([start, start + length]);
                }
                cue
            })
            .collect();
        json!({"version": "2.0", "timebase": {"unit": "seconds"}, "stage": {"baseAspect": "16:9"},
               "tracks": [{"id": "t", "type": "subtitle", "layer": 1}], "cues": cues})
    })
}

fn display_times(node: &Value, out: &mut Vec<(f64, f64)>) {
    if let Some([start, end]) = node.get("displayTime").and_then(Value::as_array).map(Vec::as_slice) {
        out.push((start.as_f64().unwrap(), end.as_f64().unwrap()));
    }
    for child in node.get("children").and_then(Value::as_array).into_iter().flatten() {
        display_times(child, out);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn migration_never_panics(value in arbitrary_json()) {
        let _ = migrate_v13(&value);
        let mut v13 = value.clone();
        if let Some(top) = v13.as_object_mut() {
            top.insert("version".to_owned(), json!("1.3"));
        }
        let _ = load_value(&v13);
    }

    #[test]
    fn loading_never_panics(value in arbitrary_json()) {
        let _ = load_value(&value);
        let _ = load(&value.to_string());
    }

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,200}") {
        let _ = load(&text);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn alive_intervals_cover_every_display_time(doc in valid_scenario()) {
        let scenario = load_value(&doc).expect("generated scenarios are valid");
        let alive = scenario.alive_intervals();
        for pair in alive.windows(2) {
            prop_assert!(pair[0].end < pair[1].start, "intervals overlap or are unsorted: {alive:?}");
        }
        for cue in doc["cues"].as_array().unwrap() {
            let mut times = Vec::new();
            display_times(&cue["root"], &mut times);
            for (start, end) in times {
                prop_assert!(alive.iter().any(|r| r.start <= start && end <= r.end), "[{start}, {end}] not covered by {alive:?}");
            }
            if let Some([start, end]) = cue.get("domLifetime").and_then(Value::as_array).map(Vec::as_slice) {
                let (start, end) = (start.as_f64().unwrap(), end.as_f64().unwrap());
                prop_assert!(alive.iter().any(|r| r.start <= start && end <= r.end));
            }
        }
        if let Some(end) = scenario.end_time() {
            prop_assert!(alive.iter().all(|r| r.end <= end));
        }
    }
}
