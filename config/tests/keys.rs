//! The key list, the environment variable names and the defaults.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;

use motionrender_config::{env_var_for, keys, Config, Sources};

#[test]
fn defaults_validate() {
    Config::default().validate().unwrap();
    assert_eq!(
        Config::load(&Sources::default()).unwrap(),
        Config::default()
    );
}

#[test]
fn keys_cover_every_section() {
    let keys = keys();
    for key in [
        "paths.input_roots",
        "browser.pool_size",
        "queue.drop_policy",
        "memory.pause_at_fraction",
        "encoder.kind",
        "segments.seconds",
        "retries.max_backoff_ms",
        "callbacks.secret",
        "s3.part_size_bytes",
        "server.token",
        "url_policy.deny_hosts",
        "log.level",
        "limits.max_scenario_bytes",
        "url_policy.max_video_bytes",
        "server.allowed_hosts",
        "jobs.retention",
        "jobs.retention_sweep",
        "paths.page_dir",
        "alerts.webhook_url",
        "alerts.max_drop_rate",
        "encoder.in_process",
        "work_queue.url",
        "work_queue.max_deliveries",
        "work_queue.claim_idle_ms",
    ] {
        assert!(
            keys.contains(&key.to_string()),
            "{key} missing from {keys:?}"
        );
    }
    assert_eq!(keys.len(), 81, "{keys:?}");
    assert!(
        keys.iter().all(|key| key.split('.').count() == 2),
        "{keys:?}"
    );
}

#[test]
fn every_key_has_its_own_environment_variable() {
    let keys = keys();
    let names: HashSet<String> = keys.iter().map(|key| env_var_for(key)).collect();
    assert_eq!(names.len(), keys.len());
    assert_eq!(
        env_var_for("queue.capacity_frames"),
        "MOTIONRENDER_QUEUE_CAPACITY_FRAMES"
    );
    assert!(!names.contains("MOTIONRENDER_CONFIG"));
}

#[test]
fn every_key_can_be_set_from_the_environment_to_its_default() {
    // Round trip: each default, written as environment text, loads unchanged.
    let shown: toml::Table = toml::from_str(&Config::default().to_masked_toml()).unwrap();
    let env = keys()
        .into_iter()
        .map(|key| {
            let (section, name) = key.split_once('.').unwrap();
            let text = match &shown[section][name] {
                toml::Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            (env_var_for(&key), text)
        })
        .collect();
    let config = Config::load(&Sources {
        env,
        ..Sources::default()
    })
    .unwrap();
    assert_eq!(config, Config::default());
}

#[test]
fn request_limits_and_fetch_bounds_refuse_values_out_of_range() {
    for (key, value) in [
        ("limits.max_job_id_bytes", "129"),
        ("limits.max_url_bytes", "8"),
        ("limits.max_scenario_bytes", "10"),
        ("limits.max_cues", "0"),
        ("url_policy.download_timeout_secs", "0"),
        ("url_policy.max_video_bytes", "0"),
        ("callbacks.connect_timeout_ms", "0"),
        ("server.allowed_hosts", "example.com:8090"),
        ("jobs.retention", "a week"),
        ("jobs.retention_sweep", "0"),
        ("jobs.retention_sweep", "500ms"),
    ] {
        let error = Config::load(&Sources {
            cli: vec![(key.to_owned(), value.to_owned())],
            ..Sources::default()
        })
        .unwrap_err();
        assert!(error.to_string().contains(key), "{key}={value}: {error}");
    }
    let hosts = Config::load(&Sources {
        cli: vec![("server.allowed_hosts".to_owned(), "render.example.com,::1".to_owned())],
        ..Sources::default()
    })
    .unwrap();
    assert_eq!(hosts.server.allowed_hosts, ["render.example.com", "::1"]);
    let kept = Config::load(&Sources {
        cli: vec![("jobs.retention".to_owned(), "0".to_owned())],
        ..Sources::default()
    })
    .unwrap();
    assert_eq!(kept.jobs.retention(), None, "0 keeps finished jobs for ever");
}
