//! Inputs shared by motionrender's benchmarks: generated scenarios of a
//! chosen size, so benchmarks need no files.

use serde_json::{json, Value};

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
                           "pluginChain": [{"name": "fadeIn", "timeOffset": ["0%", "-80%"]}, {"name": "fadeOut", "timeOffset": ["80%", "0%"]}]})
                })
                .collect();
            json!({"id": format!("c{c}"), "track": "sub", "root": {"id": format!("c{c}-g"), "eType": "group",
                   "layout": {"position": [0.5, 0.85]}, "children": children}})
        })
        .collect();
    json!({"version": "2.0", "timebase": {"unit": "seconds"}, "stage": {"baseAspect": "16:9"},
           "tracks": [{"id": "sub", "type": "subtitle", "layer": 1, "defaultStyle": "define.style"}],
           "define": {"style": {"fontSizeRel": 0.05, "color": "#ffffff"}}, "cues": cues})
}
