//! Inputs shared by motionrender's benchmarks (generated scenarios of a
//! chosen size, so benchmarks need no files) and the frame-drop tuning
//! harness of `motionrender tune` ([`tune`]).

use serde_json::{json, Value};

pub mod tune;

/// A v2.0 scenario with `cues` subtitle cues, each `words` words long, one
/// per `spacing` seconds, every word with a fadeIn/fadeOut plugin chain.
pub fn subtitle_scenario(cues: usize, words: usize, spacing: f64) -> Value {
    let cues: Vec<Value> = (0..cues)
        .map(|c| {
            let start = c as f64 * spacing;
            let children: Vec<Value> = (0..words)
                .map(|w| {
                    json!({"id": format!("c{c}-w{w}"), "eType": "text", "text": format!("word{w}"),
                           "displayTime": [start, start + spacing * 0.8],
                           "pluginChain": [fade_in(), fade_out()]})
                })
                .collect();
            json!({"id": format!("c{c}"), "track": "sub", "root": {"id": format!("c{c}-g"), "eType": "group",
                   "layout": {"position": {"x": 0.5, "y": 0.85}}, "children": children}})
        })
        .collect();
    document(cues)
}

/// The scenario `scripts/bench` burns in: `cues` one-line cues spread evenly
/// over `seconds`, each shown for 80% of its share of the time and alive only
/// while shown (so the gaps between cues need no browser), each fading in and
/// out; every third cue also pops (scales up to 1.2 and settles). The text
/// node carries the position (centred, 85% down the stage): the page places
/// a group's children in the stage's box, not at the group's position.
pub fn fading_cues_scenario(cues: usize, seconds: f64) -> Value {
    let spacing = seconds / cues.max(1) as f64;
    let cues: Vec<Value> = (0..cues)
        .map(|c| {
            let start = round_ms(c as f64 * spacing + spacing * 0.1);
            let end = round_ms(start + spacing * 0.8);
            let mut chain = vec![fade_in()];
            if c % 3 == 2 {
                chain.push(json!({"name": "pop", "compose": "multiply", "params": {"maxScale": 1.2},
                                  "timeOffset": ["0%", "-60%"]}));
            }
            chain.push(fade_out());
            json!({"id": format!("c{c}"), "track": "sub", "domLifetime": [start, end],
                   "root": {"id": format!("c{c}-g"), "eType": "group",
                            "children": [{"id": format!("c{c}-t"), "eType": "text",
                                          "text": format!("Cue {} of {}: the quick brown fox fades in and out", c + 1, cues),
                                          "displayTime": [start, end],
                                          "layout": {"position": {"x": 0.5, "y": 0.85}, "anchor": "cc"},
                                          "pluginChain": chain}]}})
        })
        .collect();
    document(cues)
}

/// The document around generated cues: one subtitle track `sub` styled by
/// `define.style` (white bold text with a thin black stroke and a shadow).
fn document(cues: Vec<Value>) -> Value {
    json!({"version": "2.0", "pluginApiVersion": "3.0", "timebase": {"unit": "seconds"}, "stage": {"baseAspect": "16:9"},
           "tracks": [{"id": "sub", "type": "subtitle", "layer": 1, "defaultStyle": "define.style"}],
           "define": {"style": {"fontWeight": "700", "fontSizeRel": 0.05, "color": "#ffffff",
                                "stroke": {"widthRel": 0.003, "color": "#000000"},
                                "textShadow": "0 2px 6px rgba(0,0,0,0.6)", "align": "center"}},
           "cues": cues})
}

/// fadeIn over the first 20% of the node's window.
fn fade_in() -> Value {
    json!({"name": "fadeIn", "timeOffset": ["0%", "-80%"]})
}

/// fadeOut over the last 20% of the node's window.
fn fade_out() -> Value {
    json!({"name": "fadeOut", "timeOffset": ["80%", "0%"]})
}

/// Times in milliseconds, so the JSON reads `1.2`, not `1.2000000000000002`.
fn round_ms(seconds: f64) -> f64 {
    (seconds * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use motionrender_engine::scenario::load;

    #[test]
    fn fading_cues_scenario_loads_with_one_alive_interval_per_cue() {
        let scenario = load(&fading_cues_scenario(30, 60.0).to_string());
        let intervals = scenario.map(|s| s.alive_intervals().len());
        assert!(matches!(intervals, Ok(30)), "got {intervals:?}");
    }

    #[test]
    fn fading_cues_scenario_pops_every_third_cue() {
        let scenario = fading_cues_scenario(6, 12.0);
        let pops = scenario["cues"]
            .as_array()
            .map(|cues| cues.iter().filter(|cue| cue.to_string().contains("\"pop\"")).count());
        assert_eq!(pops, Some(2));
    }
}
