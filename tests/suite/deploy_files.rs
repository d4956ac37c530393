//! The deployment files of `scripts/deploy/` that cannot run here (no
//! container engine): every YAML file parses, the Kubernetes documents name
//! their kind and the worker scales on the task stream's lag, the compose
//! file has the server, workers, Redis and an S3 server, and the
//! Dockerfile installs exactly the system packages `scripts/setup` installs.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn deploy_dir() -> PathBuf {
    motionrender_tests::crate_dir().join("../scripts/deploy")
}

/// The documents of a YAML file as JSON, parsed by PyYAML (moto's virtual
/// environment, which scripts/setup installs, carries it).
fn yaml_documents(file: &Path) -> Vec<Value> {
    let moto = std::env::var_os("MOTO_SERVER").map(PathBuf::from).unwrap_or_else(|| motionrender_tests::crate_dir().join("../.venv-test/bin/moto_server"));
    let python = moto.with_file_name("python");
    assert!(python.is_file(), "{} is missing: run scripts/setup", python.display());
    let output = Command::new(python)
        .args(["-c", "import json, sys, yaml; print(json.dumps(list(yaml.safe_load_all(open(sys.argv[1])))))"])
        .arg(file)
        .output()
        .unwrap();
    assert!(output.status.success(), "{} is not valid YAML: {}", file.display(), String::from_utf8_lossy(&output.stderr));
    let documents: Value = serde_json::from_slice(&output.stdout).unwrap();
    documents.as_array().cloned().unwrap_or_default()
}

/// The words between `PACKAGES=(` and `)` in scripts/setup.
fn setup_packages() -> BTreeSet<String> {
    let setup = motionrender_tests::read_text(&motionrender_tests::crate_dir().join("../scripts/setup"));
    let start = setup.find("PACKAGES=(").expect("scripts/setup has PACKAGES=(") + "PACKAGES=(".len();
    let end = start + setup[start..].find(')').unwrap();
    setup[start..end].split_whitespace().filter(|word| !word.starts_with('#')).map(str::to_owned).collect()
}

/// The packages of the Dockerfile's `apt-get install` lines.
fn dockerfile_packages() -> BTreeSet<String> {
    let text = motionrender_tests::read_text(&deploy_dir().join("Dockerfile"));
    let joined = text.replace("\\\n", " ");
    let mut packages = BTreeSet::new();
    for line in joined.lines().filter(|line| line.contains("apt-get install")) {
        let after = line.split("apt-get install").nth(1).unwrap_or_default();
        let install = after.split("&&").next().unwrap_or_default();
        packages.extend(install.split_whitespace().filter(|word| !word.starts_with('-')).map(str::to_owned));
    }
    packages
}

#[test]
fn the_dockerfile_installs_the_packages_scripts_setup_installs() {
    let (setup, docker) = (setup_packages(), dockerfile_packages());
    assert!(setup.contains("chromium-headless-shell") && setup.contains("ffmpeg"), "{setup:?}");
    assert_eq!(docker, setup, "the Dockerfile and scripts/setup install different packages");
    let text = motionrender_tests::read_text(&deploy_dir().join("Dockerfile"));
    assert!(text.contains("npm ci"), "the page's npm packages are not installed by lockfile");
    assert!(text.contains("--no-default-features"), "the image's binary must not look for the source tree's page");
}

#[test]
fn the_compose_file_runs_a_server_workers_redis_and_s3() {
    let documents = yaml_documents(&deploy_dir().join("compose.yaml"));
    assert_eq!(documents.len(), 1);
    let services = documents[0]["services"].as_object().expect("compose services");
    for name in ["server", "worker", "redis", "s3"] {
        assert!(services.contains_key(name), "no {name} service: {:?}", services.keys().collect::<Vec<_>>());
    }
    let command = |name: &str| services[name]["command"].as_array().cloned().unwrap_or_default();
    assert!(command("server").iter().any(|a| a == "--queue"), "the server does not use the queue");
    assert_eq!(command("worker").first().and_then(Value::as_str), Some("worker"));
    assert_eq!(services["worker"]["deploy"]["replicas"], 2);
    assert!(command("redis").iter().any(|a| a == "--appendonly"), "Redis without AOF loses tasks on restart");
}

#[test]
fn the_kubernetes_manifests_parse_and_the_workers_scale_on_stream_lag() {
    let dir = deploy_dir().join("kubernetes");
    let mut kinds = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        for document in yaml_documents(&entry.path()) {
            let kind = document["kind"].as_str().unwrap_or_else(|| panic!("{}: a document without kind", entry.path().display())).to_owned();
            assert!(document["apiVersion"].is_string() && document["metadata"]["name"].is_string(), "{}: {document}", entry.path().display());
            kinds.push((kind, document));
        }
    }
    let find = |kind: &str, name: &str| kinds.iter().find(|(k, d)| k == kind && d["metadata"]["name"] == name).map(|(_, d)| d.clone());
    for (kind, name) in [("Deployment", "motionrender-server"), ("Service", "motionrender-server"), ("Deployment", "motionrender-worker"), ("StatefulSet", "motionrender-redis")] {
        assert!(find(kind, name).is_some(), "no {kind} {name}");
    }
    let scaler = find("ScaledObject", "motionrender-worker").expect("a scaling rule for the workers");
    let trigger = &scaler["spec"]["triggers"][0];
    assert_eq!(trigger["type"], "redis-streams");
    assert_eq!(trigger["metadata"]["stream"], "motionrender:tasks");
    assert_eq!(trigger["metadata"]["consumerGroup"], "workers");
    assert!(trigger["metadata"]["lagCount"].is_string(), "the rule does not scale on lag: {trigger}");
}
