//! `config/motionrender.sample.toml`, the sample the README points at, sets
//! every key, each to its default.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use motionrender_config::{keys, Config, Sources};

fn sample() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("motionrender.sample.toml")
}

#[test]
fn the_sample_loads_as_the_defaults() {
    let config = Config::load(&Sources { file: Some(sample()), ..Sources::default() }).unwrap();
    assert_eq!(config, Config::default());
}

#[test]
fn the_sample_names_every_key() {
    let text = std::fs::read_to_string(sample()).unwrap();
    let table: toml::Table = text.parse().unwrap();
    for key in keys() {
        let (section, name) = key.split_once('.').unwrap();
        assert!(table.get(section).and_then(|s| s.get(name)).is_some(), "{key} is missing from the sample");
    }
}
