//! Each layer overrides the one below it: defaults < file < environment < CLI.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;

use motionrender_config::{Config, DropPolicy, EncoderChoice, LogFormat, Sources};
use tempfile::NamedTempFile;

fn config_file(text: &str) -> NamedTempFile {
    let mut file = NamedTempFile::new().unwrap();
    file.write_all(text.as_bytes()).unwrap();
    file
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect()
}

const FILE: &str = r#"
[queue]
capacity_frames = 16
drop_policy = "drop_newest"

[encoder]
preset = "fast"
kind = "x264"

[s3]
force_path_style = true

[url_policy]
deny_hosts = ["file.example"]

[segments]
seconds = 4.5

[log]
format = "json"
"#;

#[test]
fn no_sources_give_the_defaults() {
    let config = Config::load(&Sources::default()).unwrap();
    assert_eq!(config, Config::default());
    assert_eq!(config.queue.capacity_frames, 64);
    assert_eq!(config.queue.drop_policy, DropPolicy::Block);
    assert_eq!(config.server.bind, "127.0.0.1:8090");
    assert_eq!(config.paths.input_roots, vec!["data/inputs".to_string()]);
    assert_eq!(config.server.token(), None);
    assert_eq!(config.paths.plugin_dir(), None);
}

#[test]
fn file_overrides_defaults() {
    let file = config_file(FILE);
    let sources = Sources {
        file: Some(file.path().to_owned()),
        ..Sources::default()
    };
    let config = Config::load(&sources).unwrap();
    assert_eq!(config.queue.capacity_frames, 16);
    assert_eq!(config.queue.drop_policy, DropPolicy::DropNewest);
    assert_eq!(config.encoder.preset, "fast");
    assert_eq!(config.encoder.kind, EncoderChoice::X264);
    assert!(config.s3.force_path_style);
    assert_eq!(
        config.url_policy.deny_hosts,
        vec!["file.example".to_string()]
    );
    assert_eq!(config.segments.seconds, 4.5);
    assert_eq!(config.log.format, LogFormat::Json);
    // Keys the file does not mention keep their defaults.
    assert_eq!(config.queue.capacity_bytes, 268_435_456);
    assert_eq!(config.encoder.quality, 90);
}

#[test]
fn environment_overrides_file() {
    let file = config_file(FILE);
    let sources = Sources {
        file: Some(file.path().to_owned()),
        env: pairs(&[
            ("MOTIONRENDER_QUEUE_CAPACITY_FRAMES", "32"),
            ("MOTIONRENDER_QUEUE_DROP_POLICY", "drop_oldest"),
            ("MOTIONRENDER_ENCODER_PRESET", "medium"),
            ("MOTIONRENDER_S3_FORCE_PATH_STYLE", "false"),
            ("MOTIONRENDER_URL_POLICY_DENY_HOSTS", "a.example, b.example"),
            ("MOTIONRENDER_SEGMENTS_SECONDS", "6"),
            ("MOTIONRENDER_CONFIG", "ignored-here.toml"),
        ]),
        cli: Vec::new(),
    };
    let config = Config::load(&sources).unwrap();
    assert_eq!(config.queue.capacity_frames, 32);
    assert_eq!(config.queue.drop_policy, DropPolicy::DropOldest);
    assert_eq!(config.encoder.preset, "medium");
    assert!(!config.s3.force_path_style);
    assert_eq!(
        config.url_policy.deny_hosts,
        vec!["a.example".to_string(), "b.example".to_string()]
    );
    assert_eq!(config.segments.seconds, 6.0);
    // Not overridden by the environment: still the file's.
    assert_eq!(config.encoder.kind, EncoderChoice::X264);
}

#[test]
fn command_line_overrides_environment() {
    let file = config_file(FILE);
    let sources = Sources {
        file: Some(file.path().to_owned()),
        env: pairs(&[
            ("MOTIONRENDER_QUEUE_CAPACITY_FRAMES", "32"),
            ("MOTIONRENDER_QUEUE_DROP_POLICY", "drop_oldest"),
            ("MOTIONRENDER_ENCODER_PRESET", "medium"),
            ("MOTIONRENDER_S3_FORCE_PATH_STYLE", "false"),
            ("MOTIONRENDER_URL_POLICY_DENY_HOSTS", "a.example,b.example"),
        ]),
        cli: pairs(&[
            ("queue.capacity_frames", "128"),
            ("queue.drop_policy", "block"),
            ("encoder.preset", "slow"),
            ("s3.force_path_style", "true"),
            ("url_policy.deny_hosts", r#"["cli.example"]"#),
            ("server.token", "cli-token"),
        ]),
    };
    let config = Config::load(&sources).unwrap();
    assert_eq!(config.queue.capacity_frames, 128);
    assert_eq!(config.queue.drop_policy, DropPolicy::Block);
    assert_eq!(config.encoder.preset, "slow");
    assert!(config.s3.force_path_style);
    assert_eq!(
        config.url_policy.deny_hosts,
        vec!["cli.example".to_string()]
    );
    assert_eq!(config.server.token(), Some("cli-token"));
    // Set by the file only.
    assert_eq!(config.log.format, LogFormat::Json);
}

#[test]
fn string_keys_take_environment_text_verbatim() {
    let sources = Sources {
        env: pairs(&[
            ("MOTIONRENDER_ENCODER_PRESET", "123"),
            ("MOTIONRENDER_BROWSER_EXECUTABLE", "/opt/chrome, with comma"),
        ]),
        ..Sources::default()
    };
    let config = Config::load(&sources).unwrap();
    assert_eq!(config.encoder.preset, "123");
    assert_eq!(config.browser.executable(), Some("/opt/chrome, with comma"));
}

#[test]
fn an_empty_list_clears_an_array() {
    let sources = Sources {
        cli: pairs(&[("paths.input_roots", "")]),
        ..Sources::default()
    };
    let config = Config::load(&sources).unwrap();
    assert!(config.paths.input_roots.is_empty());
}

#[test]
fn later_layers_can_repair_a_relation_between_keys() {
    // The file alone breaks max_backoff_ms >= initial_backoff_ms; the
    // environment completes the change, and only the result is checked.
    let file = config_file("[retries]\ninitial_backoff_ms = 40000\n");
    let sources = Sources {
        file: Some(file.path().to_owned()),
        env: pairs(&[("MOTIONRENDER_RETRIES_MAX_BACKOFF_MS", "60000")]),
        cli: Vec::new(),
    };
    let config = Config::load(&sources).unwrap();
    assert_eq!(config.retries.initial_backoff_ms, 40_000);
    assert_eq!(config.retries.max_backoff_ms, 60_000);
}
