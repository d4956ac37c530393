//! Errors name the key, the offending value, the layer and what was expected.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::PathBuf;

use motionrender_config::{parse_override, Config, ConfigError, Layer, Sources};
use tempfile::NamedTempFile;

fn config_file(text: &str) -> NamedTempFile {
    let mut file = NamedTempFile::new().unwrap();
    file.write_all(text.as_bytes()).unwrap();
    file
}

fn from_file(text: &str) -> (NamedTempFile, Result<Config, ConfigError>) {
    let file = config_file(text);
    let sources = Sources {
        file: Some(file.path().to_owned()),
        ..Sources::default()
    };
    let result = Config::load(&sources);
    (file, result)
}

fn from_env(name: &str, value: &str) -> Result<Config, ConfigError> {
    Config::load(&Sources {
        env: vec![(name.to_string(), value.to_string())],
        ..Sources::default()
    })
}

fn from_cli(key: &str, value: &str) -> Result<Config, ConfigError> {
    Config::load(&Sources {
        cli: vec![(key.to_string(), value.to_string())],
        ..Sources::default()
    })
}

/// The key and layer of an `Invalid` error, after checking its message shows both.
fn invalid(error: ConfigError) -> (String, Option<Layer>, String) {
    let message = error.to_string();
    match error {
        ConfigError::Invalid {
            key, layer, value, ..
        } => {
            assert!(message.contains(&key), "{message}");
            if let Some(layer) = &layer {
                assert!(message.contains(&layer.to_string()), "{message}");
            }
            (key, layer, value)
        }
        other => panic!("expected an invalid-value error, got {other:?}"),
    }
}

#[test]
fn bad_value_in_file_names_key_and_file() {
    let (file, result) = from_file("[queue]\ncapacity_frames = \"many\"\n");
    let error = result.unwrap_err();
    let message = error.to_string();
    let (key, layer, value) = invalid(error);
    assert_eq!(key, "queue.capacity_frames");
    assert_eq!(layer, Some(Layer::File(file.path().to_owned())));
    assert_eq!(value, "\"many\"");
    assert!(
        message.contains(&file.path().display().to_string()),
        "{message}"
    );
    assert!(message.contains("expected an integer >= 1"), "{message}");
}

#[test]
fn bad_enum_in_file_lists_the_choices() {
    let (_file, result) = from_file("[queue]\ndrop_policy = \"sometimes\"\n");
    let message = result.unwrap_err().to_string();
    assert!(
        message.contains("queue.drop_policy = \"sometimes\""),
        "{message}"
    );
    assert!(message.contains("\"drop_newest\""), "{message}");
}

#[test]
fn bad_value_in_environment_names_key_and_variable() {
    let error = from_env("MOTIONRENDER_QUEUE_CAPACITY_FRAMES", "abc").unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid configuration: queue.capacity_frames = \"abc\" (from environment variable \
         MOTIONRENDER_QUEUE_CAPACITY_FRAMES): expected an integer >= 1"
    );
    let (key, layer, _) = invalid(error);
    assert_eq!(key, "queue.capacity_frames");
    assert_eq!(
        layer,
        Some(Layer::Environment(
            "MOTIONRENDER_QUEUE_CAPACITY_FRAMES".into()
        ))
    );
}

#[test]
fn bad_bool_in_environment_is_refused() {
    let error = from_env("MOTIONRENDER_S3_FORCE_PATH_STYLE", "yes").unwrap_err();
    let message = error.to_string();
    assert!(message.contains("expected true or false"), "{message}");
    let (key, _, _) = invalid(error);
    assert_eq!(key, "s3.force_path_style");
}

#[test]
fn bad_value_on_command_line_names_key_and_flag() {
    let error = from_cli("encoder.kind", "quicksync").unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("command-line flag --set encoder.kind"),
        "{message}"
    );
    let (key, layer, value) = invalid(error);
    assert_eq!(key, "encoder.kind");
    assert_eq!(layer, Some(Layer::CommandLine("encoder.kind".into())));
    assert_eq!(value, "\"quicksync\"");
}

#[test]
fn negative_count_on_command_line_is_refused() {
    let (key, layer, value) = invalid(from_cli("segments.max_parallel", "-1").unwrap_err());
    assert_eq!(key, "segments.max_parallel");
    assert_eq!(
        layer,
        Some(Layer::CommandLine("segments.max_parallel".into()))
    );
    assert_eq!(value, "-1");
}

#[test]
fn unknown_key_in_file_is_named() {
    let (file, result) = from_file("[queue]\ncapacity_frame = 3\n");
    match result.unwrap_err() {
        ConfigError::UnknownKey { key, layer } => {
            assert_eq!(key, "queue.capacity_frame");
            assert_eq!(layer, Layer::File(file.path().to_owned()));
        }
        other => panic!("expected an unknown-key error, got {other:?}"),
    }
}

#[test]
fn unknown_section_in_file_is_named() {
    let (_file, result) = from_file("[queues]\ncapacity_frames = 3\n");
    let message = result.unwrap_err().to_string();
    assert!(
        message.contains("unknown configuration key queues"),
        "{message}"
    );
}

#[test]
fn section_given_a_value_is_refused() {
    let (_file, result) = from_file("queue = 3\n");
    let (key, _, _) = invalid(result.unwrap_err());
    assert_eq!(key, "queue");
}

#[test]
fn unknown_environment_variable_is_named() {
    let error = from_env("MOTIONRENDER_QUEUE_CAPACITY", "3").unwrap_err();
    assert!(
        matches!(&error, ConfigError::UnknownEnvironmentVariable { name } if name == "MOTIONRENDER_QUEUE_CAPACITY"),
        "{error:?}"
    );
    assert!(error.to_string().contains("MOTIONRENDER_QUEUE_CAPACITY"));
}

#[test]
fn config_file_variable_is_not_a_key() {
    let config = from_env("MOTIONRENDER_CONFIG", "/nowhere.toml").unwrap();
    assert_eq!(config, Config::default());
}

#[test]
fn unknown_key_on_command_line_is_named() {
    for key in ["queue.nope", "queue", "nope"] {
        match from_cli(key, "1").unwrap_err() {
            ConfigError::UnknownKey { key: named, layer } => {
                assert_eq!(named, key);
                assert_eq!(layer, Layer::CommandLine(key.into()));
            }
            other => panic!("expected an unknown-key error for {key}, got {other:?}"),
        }
    }
}

#[test]
fn semantic_errors_name_the_key() {
    let cases = [
        ("segments.seconds", "0", "a number greater than 0"),
        ("server.bind", "nope", "a socket address"),
        ("encoder.quality", "0", "an integer from 1 to 100"),
        ("encoder.quality", "101", "an integer from 1 to 100"),
        (
            "memory.pause_at_fraction",
            "1.5",
            "greater than 0 and at most 1",
        ),
        (
            "memory.pause_at_fraction",
            "0",
            "greater than 0 and at most 1",
        ),
        ("s3.part_size_bytes", "1024", "5242880"),
        ("log.level", "loud", "\"trace\""),
        ("retries.max_attempts", "0", "an integer >= 1"),
        ("server.max_queued_jobs", "0", "an integer >= 1"),
        ("url_policy.allow_hosts", "https://x.example/", "host names"),
    ];
    for (key, value, expected) in cases {
        let error = from_cli(key, value).unwrap_err();
        let message = error.to_string();
        assert!(message.contains(expected), "{key}={value}: {message}");
        let (named, layer, _) = invalid(error);
        assert_eq!(named, key, "{message}");
        assert_eq!(layer, Some(Layer::CommandLine(key.into())));
    }
}

#[test]
fn semantic_error_in_file_names_key_and_file() {
    let (file, result) = from_file("[segments]\nseconds = 0\n");
    let error = result.unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "invalid configuration: segments.seconds = 0 (from file {}): expected a number greater than 0",
            file.path().display()
        )
    );
}

#[test]
fn relation_between_keys_is_blamed_on_the_later_layer() {
    let file = config_file("[retries]\nmax_backoff_ms = 1000\n");
    let sources = Sources {
        file: Some(file.path().to_owned()),
        env: vec![(
            "MOTIONRENDER_RETRIES_INITIAL_BACKOFF_MS".into(),
            "2000".into(),
        )],
        cli: Vec::new(),
    };
    let error = Config::load(&sources).unwrap_err();
    let message = error.to_string();
    let (key, layer, value) = invalid(error);
    assert_eq!(key, "retries.max_backoff_ms");
    assert_eq!(value, "1000");
    assert!(
        message.ends_with(
            "expected an integer >= retries.initial_backoff_ms (retries.initial_backoff_ms = 2000)"
        ),
        "{message}"
    );
    assert_eq!(
        layer,
        Some(Layer::Environment(
            "MOTIONRENDER_RETRIES_INITIAL_BACKOFF_MS".into()
        ))
    );
}

#[test]
fn public_bind_requires_a_token() {
    let error = from_cli("server.bind", "0.0.0.0:8090").unwrap_err();
    let (key, _, _) = invalid(error);
    assert_eq!(key, "server.token");
    let config = Config::load(&Sources {
        cli: vec![
            ("server.bind".into(), "0.0.0.0:8090".into()),
            ("server.token".into(), "t0ken".into()),
        ],
        ..Sources::default()
    })
    .unwrap();
    assert_eq!(config.server.token(), Some("t0ken"));
}

#[test]
fn validate_without_layer_names_the_key() {
    let mut config = Config::default();
    config.encoder.quality = 0;
    let error = config.validate().unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid configuration: encoder.quality = 0: expected an integer from 1 to 100"
    );
}

#[test]
fn missing_file_is_named() {
    let path = PathBuf::from("/definitely/not/here/motionrender.toml");
    let error = Config::load(&Sources {
        file: Some(path.clone()),
        ..Sources::default()
    })
    .unwrap_err();
    assert!(matches!(&error, ConfigError::ReadFile { path: named, .. } if *named == path));
    assert!(error
        .to_string()
        .contains("/definitely/not/here/motionrender.toml"));
}

#[test]
fn bad_toml_syntax_is_named() {
    let (file, result) = from_file("[queue\ncapacity_frames = \n");
    let error = result.unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, ConfigError::FileSyntax { .. }), "{message}");
    assert!(
        message.contains(&file.path().display().to_string()),
        "{message}"
    );
}

#[test]
fn a_bad_value_is_refused_even_if_a_later_layer_overrides_it() {
    let file = config_file("[encoder]\nquality = \"high\"\n");
    let error = Config::load(&Sources {
        file: Some(file.path().to_owned()),
        env: Vec::new(),
        cli: vec![("encoder.quality".into(), "80".into())],
    })
    .unwrap_err();
    let (key, layer, _) = invalid(error);
    assert_eq!(key, "encoder.quality");
    assert_eq!(layer, Some(Layer::File(file.path().to_owned())));
}

#[test]
fn override_flags_split_at_the_first_equals_sign() {
    assert_eq!(
        parse_override("server.token=a=b").unwrap(),
        ("server.token".to_string(), "a=b".to_string())
    );
    assert_eq!(
        parse_override(" queue.capacity_frames =8").unwrap(),
        ("queue.capacity_frames".to_string(), "8".to_string())
    );
    for flag in ["novalue", "=3", ""] {
        assert!(
            matches!(
                parse_override(flag),
                Err(ConfigError::MalformedOverride { .. })
            ),
            "{flag:?}"
        );
    }
}
