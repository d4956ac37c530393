//! An installed motionrender (`scripts/install PREFIX`: the binary in
//! PREFIX/bin, the page, its npm packages and the plugin pack in
//! PREFIX/share/motionrender) renders the demo scenario from another folder,
//! with nothing configured, loading its page from the prefix and not from
//! the build tree.

use std::path::Path;
use std::process::Command;

use motionrender_engine::media::{probe, testclip::generate_clip, FrameRate};
use motionrender_tests::{crate_dir, motionrender_binary, read_json, scenarios_dir};

/// Runs the installed binary in `cwd` with an environment that names no
/// configuration (no MOTIONRENDER_* variable).
fn installed(prefix: &Path, cwd: &Path, args: &[&str]) -> std::process::Output {
    Command::new(prefix.join("bin/motionrender"))
        .args(args)
        .current_dir(cwd)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", cwd)
        .output()
        .unwrap()
}

#[test]
fn an_installed_binary_renders_the_demo_scenario_from_another_folder_with_its_page_from_the_prefix() {
    let prefix = tempfile::tempdir().unwrap();
    let install = Command::new("bash")
        .arg(crate_dir().join("../scripts/install"))
        .arg("--binary")
        .arg(motionrender_binary())
        .arg(prefix.path())
        .output()
        .unwrap();
    assert!(install.status.success(), "scripts/install failed: {}", String::from_utf8_lossy(&install.stderr));
    let share = prefix.path().join("share/motionrender/page");
    for file in ["index.html", "adapter.js", "plugins/index.json", "node_modules/motiontext-renderer/package.json", "node_modules/gsap/package.json"] {
        assert!(share.join(file).is_file(), "{file} is not installed under {}", share.display());
    }

    // Another folder, no configuration: doctor finds the installed page.
    let elsewhere = tempfile::tempdir().unwrap();
    let doctor = installed(prefix.path(), elsewhere.path(), &["doctor"]);
    let report = String::from_utf8_lossy(&doctor.stdout).into_owned();
    assert!(doctor.status.success(), "doctor of the installed binary failed:\n{report}");
    let share = share.canonicalize().unwrap();
    assert!(report.contains(&format!("page: {} (installed beside the executable)", share.display())), "{report}");

    std::fs::copy(scenarios_dir().join("demo_fades.json"), elsewhere.path().join("demo_fades.json")).unwrap();
    generate_clip(&elsewhere.path().join("sample.mp4"), 12.0, 640, 360, FrameRate::new(25, 1).unwrap(), true).unwrap();
    let render = installed(prefix.path(), elsewhere.path(), &["render", "--video", "sample.mp4", "--scenario", "demo_fades.json", "--out", "demo_fades.mp4"]);
    assert!(render.status.success(), "the installed binary did not render: {}", String::from_utf8_lossy(&render.stderr));
    let out = elsewhere.path().join("demo_fades.mp4");
    assert_eq!(probe(&out).unwrap().frame_count, 300);
    let qc = read_json(&elsewhere.path().join("demo_fades.mp4.qc.json"));
    assert!(qc["frames"]["captured"].as_u64().unwrap() > 0, "nothing was drawn: {qc}");
    let page = qc["page_dir"].as_str().unwrap();
    assert_eq!(Path::new(page), share, "the render loaded its page from elsewhere: {qc}");
    let build_tree = crate_dir().parent().unwrap().canonicalize().unwrap();
    assert!(!Path::new(page).starts_with(&build_tree), "the installed binary used the build tree's page {page}");
}
