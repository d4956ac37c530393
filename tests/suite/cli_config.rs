//! `motionrender config --print` through the binary: each configuration layer
//! overrides the one below, and a bad value in any layer stops start-up with
//! an error naming the key.

use std::process::{Command, Output};

use motionrender_tests::motionrender_binary;

/// Runs `motionrender [args] config --print` with only the given
/// MOTIONRENDER_* variables set.
fn config_print(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(motionrender_binary());
    for (name, _) in std::env::vars_os().filter(|(n, _)| n.to_string_lossy().starts_with("MOTIONRENDER_")) {
        command.env_remove(name);
    }
    command.args(args).args(["config", "--print"]).envs(env.iter().copied());
    command.output().unwrap()
}

fn printed(output: &Output) -> toml::Table {
    assert!(output.status.success(), "config --print failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).parse().unwrap()
}

fn value<'a>(table: &'a toml::Table, key: &str) -> &'a toml::Value {
    let (section, name) = key.split_once('.').unwrap();
    &table[section][name]
}

#[test]
fn each_layer_overrides_the_one_below() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("motionrender.toml");
    std::fs::write(&file, "[queue]\ncapacity_frames = 10\ndrop_policy = \"drop_oldest\"\n[browser]\npool_size = 3\n[segments]\nseconds = 4.0\n").unwrap();
    let file = file.to_str().unwrap();

    let defaults = printed(&config_print(&[], &[]));
    assert_eq!(value(&defaults, "queue.capacity_frames").as_integer(), Some(64));

    let from_file = printed(&config_print(&["--config", file], &[]));
    assert_eq!(value(&from_file, "queue.capacity_frames").as_integer(), Some(10));
    assert_eq!(value(&from_file, "queue.drop_policy").as_str(), Some("drop_oldest"));

    let env = [("MOTIONRENDER_QUEUE_CAPACITY_FRAMES", "20"), ("MOTIONRENDER_BROWSER_POOL_SIZE", "4")];
    let from_env = printed(&config_print(&["--config", file], &env));
    assert_eq!(value(&from_env, "queue.capacity_frames").as_integer(), Some(20));
    assert_eq!(value(&from_env, "browser.pool_size").as_integer(), Some(4));
    assert_eq!(value(&from_env, "queue.drop_policy").as_str(), Some("drop_oldest"), "the file still shows where env is silent");

    let from_cli = printed(&config_print(&["--config", file, "--set", "queue.capacity_frames=30"], &env));
    assert_eq!(value(&from_cli, "queue.capacity_frames").as_integer(), Some(30));
    assert_eq!(value(&from_cli, "browser.pool_size").as_integer(), Some(4));
    assert_eq!(value(&from_cli, "segments.seconds").as_float(), Some(4.0));

    let via_env_file = printed(&config_print(&[], &[("MOTIONRENDER_CONFIG", file)]));
    assert_eq!(value(&via_env_file, "browser.pool_size").as_integer(), Some(3));
}

#[test]
fn a_bad_value_in_any_layer_names_the_key_and_the_layer() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(&file, "[segments]\nseconds = -1.0\n").unwrap();
    /// Flags, environment, the key the error must name, and its layer.
    type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>, &'a str, &'a str);
    let cases: [Case; 4] = [
        (vec!["--config", file.to_str().unwrap()], vec![], "segments.seconds", "file"),
        (vec![], vec![("MOTIONRENDER_QUEUE_CAPACITY_FRAMES", "lots")], "queue.capacity_frames", "MOTIONRENDER_QUEUE_CAPACITY_FRAMES"),
        (vec!["--set", "encoder.kind=gpu"], vec![], "encoder.kind", "--set"),
        (vec!["--set", "queue.no_such_key=1"], vec![], "queue.no_such_key", "--set"),
    ];
    for (args, env, key, layer) in cases {
        let output = config_print(&args, &env);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{key}: accepted");
        assert!(output.stdout.is_empty(), "{key}: printed a configuration anyway");
        assert!(stderr.contains(key) && stderr.contains(layer), "{key}: error does not name the key and {layer}: {stderr}");
    }
}

#[test]
fn secrets_are_masked() {
    let output = config_print(&["--set", "server.token=hunter2"], &[("MOTIONRENDER_CALLBACKS_SECRET", "s3cr3t")]);
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let table = printed(&output);
    assert!(!text.contains("hunter2") && !text.contains("s3cr3t"), "{text}");
    assert_eq!(value(&table, "server.token").as_str(), Some("***"));
    assert_eq!(value(&table, "s3.secret_access_key").as_str(), Some(""), "an unset secret stays empty");
}

#[test]
fn the_sample_service_configuration_loads_and_a_bad_alert_threshold_is_refused_by_key() {
    let sample = motionrender_tests::crate_dir().join("../scripts/deploy/motionrender.toml");
    // Beyond loopback a token is required; the sample leaves it to the environment.
    let table = printed(&config_print(&["--config", sample.to_str().unwrap()], &[("MOTIONRENDER_SERVER_TOKEN", "a-token")]));
    assert_eq!(value(&table, "alerts.max_queue_depth").as_integer(), Some(50));
    assert_eq!(value(&table, "paths.data_dir").as_str(), Some("/var/lib/motionrender"));
    let refused = config_print(&["--set", "alerts.max_drop_rate=1.5"], &[]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("alerts.max_drop_rate"), "{}", String::from_utf8_lossy(&refused.stderr));
}

#[test]
fn every_set_counts_before_and_after_the_subcommand() {
    let mut command = Command::new(motionrender_binary());
    command.args(["--set", "queue.capacity_frames=7", "config", "--print", "--set=encoder.quality=55", "--set", "encoder.in_process=false"]);
    let table = printed(&command.output().unwrap());
    assert_eq!(value(&table, "queue.capacity_frames").as_integer(), Some(7));
    assert_eq!(value(&table, "encoder.quality").as_integer(), Some(55));
    assert_eq!(value(&table, "encoder.in_process").as_bool(), Some(false));
}
