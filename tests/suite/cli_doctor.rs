//! `motionrender doctor` on this machine passes; with the page's npm
//! packages hidden it fails and names the command that installs them, and
//! `render` and `serve` then refuse with the same advice and leave nothing
//! behind.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use motionrender_engine::media::{testclip::generate_clip, FrameRate};
use motionrender_tests::{motionrender_binary, scenarios_dir};

fn run(args: &[&str]) -> Output {
    Command::new(motionrender_binary()).args(args).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Copies the source tree's page into `to`, without its `node_modules`.
pub(super) fn page_without_packages(to: &Path) {
    fn copy(from: &Path, to: &Path) {
        fs::create_dir_all(to).unwrap();
        for entry in fs::read_dir(from).unwrap().flatten() {
            let (source, target) = (entry.path(), to.join(entry.file_name()));
            if entry.file_name() == "node_modules" {
                continue;
            }
            if source.is_dir() {
                copy(&source, &target);
            } else {
                fs::copy(&source, &target).unwrap();
            }
        }
    }
    copy(&motionrender_tests::crate_dir().join("../engine/page"), to);
}

#[test]
fn doctor_passes_on_this_machine() {
    let dir = tempfile::tempdir().unwrap();
    let work = format!("paths.work_dir={}", dir.path().join("work").display());
    let output = run(&["--set", &work, "doctor"]);
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "doctor failed here:\n{stdout}{}", text(&output.stderr));
    for part in ["chromium", "chromium version", "beginFrame", "ffmpeg", "ffprobe", "x264", "page", "page packages", "plugins", "CJK fonts", "emoji fonts", "work folder"] {
        assert!(stdout.lines().any(|line| line.starts_with("ok ") && line[5..].trim_start().starts_with(&format!("{part}: "))), "no ok line for {part}:\n{stdout}");
    }
    assert!(stdout.contains("nvenc: "), "NVENC is reported either way:\n{stdout}");
    assert!(!stdout.lines().any(|line| line.starts_with("FAIL")), "{stdout}");
    assert!(!dir.path().join("work").exists(), "doctor made the work folder");
}

#[test]
fn with_the_pages_packages_hidden_doctor_fails_naming_npm_ci_and_render_and_serve_refuse_alike_leaving_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("page");
    page_without_packages(&page);
    let page_set = format!("paths.page_dir={}", page.display());
    let advice = format!("npm ci --prefix {}", page.display());

    let doctor = run(&["--set", &page_set, "doctor"]);
    let report = text(&doctor.stdout);
    assert!(!doctor.status.success(), "doctor passed without the page's packages:\n{report}");
    let failed = report.lines().find(|line| line.starts_with("FAIL") && line.contains("page packages:")).unwrap_or_else(|| panic!("no failed page packages line:\n{report}"));
    assert!(failed.contains("motiontext-renderer") && failed.contains("gsap") && failed.contains(&advice), "{failed}");
    let summary = failed.trim_start_matches("FAIL").trim().to_owned();

    // render refuses with the same advice, before anything is made.
    let clip = dir.path().join("clip.mp4");
    generate_clip(&clip, 1.0, 160, 90, FrameRate::new(25, 1).unwrap(), true).unwrap();
    let (work, out_dir) = (dir.path().join("work"), dir.path().join("out"));
    fs::create_dir(&out_dir).unwrap();
    let out = out_dir.join("out.mp4");
    let work_set = format!("paths.work_dir={}", work.display());
    let scenario = scenarios_dir().join("demo_fades.json");
    let render = Command::new(motionrender_binary())
        .args(["--set", &page_set, "--set", &work_set, "render", "--video"])
        .arg(&clip)
        .arg("--scenario")
        .arg(&scenario)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let refusal = text(&render.stderr);
    assert!(!render.status.success(), "render ran without the page's packages");
    assert_eq!(refusal.lines().count(), 1, "one line of advice: {refusal}");
    assert!(refusal.contains(&summary), "render's refusal differs from doctor's advice:\n{refusal}\n{summary}");
    assert!(!work.exists(), "render made its work folder");
    assert_eq!(fs::read_dir(&out_dir).unwrap().count(), 0, "render left files in the output folder");

    // serve refuses too, and makes no data folder.
    let data = dir.path().join("data");
    let serve = run(&["--set", &page_set, "serve", "--bind", &motionrender_tests::free_local_addr(), "--data-dir", data.to_str().unwrap()]);
    let refusal = text(&serve.stderr);
    assert!(!serve.status.success(), "serve started without the page's packages");
    assert!(refusal.contains(&summary), "serve's refusal differs from doctor's advice:\n{refusal}");
    assert!(!data.exists(), "serve made its data folder");
}

#[test]
fn doctor_asks_the_configured_bucket_and_fails_when_it_does_not_answer() {
    let moto = super::service_support::Moto::start();
    moto.create_bucket("outputs");
    let dir = tempfile::tempdir().unwrap();
    let work = format!("paths.work_dir={}", dir.path().join("work").display());
    let doctor = |bucket: &str| {
        let mut args: Vec<String> = vec!["--set".into(), work.clone()];
        for set in moto.settings(&moto.endpoint(), bucket) {
            args.extend(["--set".into(), set]);
        }
        args.push("doctor".into());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run(&args)
    };
    let reached = doctor("outputs");
    let report = text(&reached.stdout);
    assert!(reached.status.success(), "{report}");
    assert!(report.lines().any(|line| line.starts_with("ok") && line.contains("s3: bucket outputs answers")), "{report}");
    let missing = doctor("no-such-bucket");
    let report = text(&missing.stdout);
    assert!(!missing.status.success(), "doctor passed with a bucket that does not exist:\n{report}");
    assert!(report.lines().any(|line| line.starts_with("FAIL") && line.contains("s3:") && line.contains("no-such-bucket")), "{report}");
}
