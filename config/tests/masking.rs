//! Secrets never appear in shown configurations, debug output or errors.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use motionrender_config::{Config, Secret, Sources};

const SECRETS: [(&str, &str); 4] = [
    ("callbacks.secret", "hmac-secret-value"),
    ("server.token", "bearer-token-value"),
    ("s3.access_key_id", "AKIAEXAMPLEKEYID"),
    ("s3.secret_access_key", "secret-access-key-value"),
];

fn with_secrets() -> Config {
    Config::load(&Sources {
        cli: SECRETS
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect(),
        ..Sources::default()
    })
    .unwrap()
}

#[test]
fn set_secrets_are_masked_and_the_output_parses_back() {
    let config = with_secrets();
    assert_eq!(config.callbacks.secret(), Some("hmac-secret-value"));
    let shown = config.to_masked_toml();
    for (_, secret) in SECRETS {
        assert!(!shown.contains(secret), "{secret} leaked:\n{shown}");
    }
    let parsed: toml::Table = toml::from_str(&shown).unwrap();
    for (key, _) in SECRETS {
        let (section, name) = key.split_once('.').unwrap();
        assert_eq!(parsed[section][name].as_str(), Some("***"), "{key}");
    }
    // Everything else is shown as is.
    assert_eq!(parsed["server"]["bind"].as_str(), Some("127.0.0.1:8090"));
    assert_eq!(parsed["queue"]["capacity_frames"].as_integer(), Some(64));
}

#[test]
fn unset_secrets_stay_empty() {
    let shown = Config::default().to_masked_toml();
    let parsed: toml::Table = toml::from_str(&shown).unwrap();
    assert_eq!(parsed["server"]["token"].as_str(), Some(""));
    assert_eq!(parsed["callbacks"]["secret"].as_str(), Some(""));
}

#[test]
fn masked_output_loads_back_except_secrets() {
    let config = with_secrets();
    let shown = config.to_masked_toml();
    let reloaded: Config = toml::from_str(&shown).unwrap();
    assert_eq!(reloaded.queue, config.queue);
    assert_eq!(reloaded.server.token(), Some("***"));
}

#[test]
fn debug_output_hides_secrets() {
    let config = with_secrets();
    let debug = format!("{config:?}");
    for (_, secret) in SECRETS {
        assert!(!debug.contains(secret), "{secret} leaked: {debug}");
    }
    assert_eq!(format!("{:?}", Secret::new("x")), "Secret(\"***\")");
    let sources = Sources {
        env: vec![(
            "MOTIONRENDER_SERVER_TOKEN".into(),
            "bearer-token-value".into(),
        )],
        ..Sources::default()
    };
    let debug = format!("{sources:?}");
    assert!(debug.contains("MOTIONRENDER_SERVER_TOKEN"), "{debug}");
    assert!(!debug.contains("bearer-token-value"), "{debug}");
}

#[test]
fn errors_do_not_show_secret_values() {
    let error = Config::load(&Sources {
        cli: vec![("s3.access_key_id".into(), "AKIAEXAMPLEKEYID".into())],
        ..Sources::default()
    })
    .unwrap_err();
    let message = error.to_string();
    assert!(message.contains("s3.secret_access_key"), "{message}");
    assert!(!message.contains("AKIAEXAMPLEKEYID"), "{message}");
}

#[test]
fn string_secrets_take_command_line_text_verbatim() {
    let config = Config::load(&Sources {
        env: vec![(
            "MOTIONRENDER_SERVER_TOKEN".into(),
            "bearer-token-value".into(),
        )],
        cli: vec![("server.token".into(), "[1]".into())],
        ..Sources::default()
    })
    .unwrap();
    assert_eq!(config.server.token(), Some("[1]"));
}
