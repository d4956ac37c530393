//! The URL policy through its public API: SSRF targets, input-root
//! confinement (symlinks included) and output keys.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use motionrender_actors::url_policy::{AddressClass, PolicyField, Refusal, UrlPolicy, VideoSource};
use motionrender_config::{PathsConfig, UrlPolicyConfig};
use tempfile::TempDir;

/// A temporary directory with `inputs/clip.mp4` (the input root),
/// `outside/secret.mp4`, `inputs-sibling/clip.mp4` (a name sharing the root's
/// prefix) and symlinks from inside the root to outside it.
struct Fixture {
    dir: TempDir,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("inputs/sub")).unwrap();
        fs::create_dir_all(dir.path().join("outside")).unwrap();
        fs::write(dir.path().join("inputs/clip.mp4"), b"video").unwrap();
        fs::write(dir.path().join("outside/secret.mp4"), b"secret").unwrap();
        fs::create_dir_all(dir.path().join("inputs-sibling")).unwrap();
        fs::write(dir.path().join("inputs-sibling/clip.mp4"), b"sibling").unwrap();
        symlink(
            dir.path().join("outside/secret.mp4"),
            dir.path().join("inputs/escape.mp4"),
        )
        .unwrap();
        symlink(dir.path().join("outside"), dir.path().join("inputs/outdir")).unwrap();
        symlink(
            dir.path().join("inputs/clip.mp4"),
            dir.path().join("inputs/sub/alias.mp4"),
        )
        .unwrap();
        Self { dir }
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    fn root(&self) -> PathBuf {
        self.path("inputs")
    }

    fn policy(&self) -> UrlPolicy {
        self.policy_with(UrlPolicyConfig::default())
    }

    fn policy_with(&self, config: UrlPolicyConfig) -> UrlPolicy {
        let paths = PathsConfig {
            input_roots: vec![self.root().to_string_lossy().into_owned()],
            ..PathsConfig::default()
        };
        UrlPolicy::new(&config, &paths)
    }
}

fn default_policy() -> UrlPolicy {
    UrlPolicy::new(&UrlPolicyConfig::default(), &PathsConfig::default())
}

fn text(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

async fn video_refusal(policy: &UrlPolicy, url: &str) -> Refusal {
    let error = policy.check_video_url(url).await.expect_err(url);
    assert_eq!(error.code(), "INVALID_VIDEO_URL", "{url}");
    assert_eq!(error.field(), PolicyField::VideoUrl);
    assert!(error.to_string().starts_with("videoUrl: "), "{error}");
    error.refusal().clone()
}

async fn callback_refusal(policy: &UrlPolicy, url: &str) -> Refusal {
    let error = policy.check_callback_url(url).await.expect_err(url);
    assert_eq!(error.code(), "VALIDATION_ERROR", "{url}");
    assert_eq!(error.field(), PolicyField::CallbackUrl);
    assert!(error.to_string().starts_with("callbackUrl: "), "{error}");
    error.refusal().clone()
}

fn forbidden_class(refusal: &Refusal) -> Option<AddressClass> {
    match refusal {
        Refusal::ForbiddenAddress { class, .. } => Some(*class),
        _ => None,
    }
}

// ---- videoUrl over http(s) ----

#[tokio::test]
async fn video_public_ip_is_accepted() {
    let source = default_policy()
        .check_video_url("https://93.184.215.14/v.mp4")
        .await
        .unwrap();
    assert!(matches!(source, VideoSource::Http(url) if url.host_str() == Some("93.184.215.14")));
}

#[tokio::test]
async fn video_loopback_and_private_are_refused_by_default() {
    let policy = default_policy();
    let cases = [
        ("http://127.0.0.1/v.mp4", AddressClass::Loopback),
        ("http://localhost:8080/v.mp4", AddressClass::Loopback),
        ("http://[::1]/v.mp4", AddressClass::Loopback),
        ("http://10.0.0.5/v.mp4", AddressClass::Private),
        ("http://192.168.1.20/v.mp4", AddressClass::Private),
        ("http://[fd12::1]/v.mp4", AddressClass::Private),
        ("http://0.0.0.0/v.mp4", AddressClass::Unspecified),
        ("http://0x7f.1/v.mp4", AddressClass::Loopback),
        ("http://[::ffff:127.0.0.1]/v.mp4", AddressClass::Loopback),
    ];
    for (url, class) in cases {
        let refusal = video_refusal(&policy, url).await;
        assert_eq!(forbidden_class(&refusal), Some(class), "{url}: {refusal}");
    }
}

#[tokio::test]
async fn video_metadata_and_link_local_are_refused_even_with_private_allowed() {
    let policy = UrlPolicy::new(
        &UrlPolicyConfig {
            allow_private_video: true,
            ..UrlPolicyConfig::default()
        },
        &PathsConfig::default(),
    );
    let cases = [
        (
            "http://169.254.169.254/latest/meta-data/",
            AddressClass::Metadata,
        ),
        ("http://[fd00:ec2::254]/", AddressClass::Metadata),
        ("http://100.100.100.200/", AddressClass::Metadata),
        ("http://169.254.10.10/", AddressClass::LinkLocal),
        ("http://[fe80::1]/", AddressClass::LinkLocal),
    ];
    for (url, class) in cases {
        let refusal = video_refusal(&policy, url).await;
        assert_eq!(forbidden_class(&refusal), Some(class), "{url}: {refusal}");
    }
    assert!(policy
        .check_video_url("http://10.0.0.5/v.mp4")
        .await
        .is_ok());
    assert!(policy
        .check_video_url("http://localhost/v.mp4")
        .await
        .is_ok());
}

#[tokio::test]
async fn allow_hosts_overrides_address_checks_and_restricts_other_hosts() {
    let policy = UrlPolicy::new(
        &UrlPolicyConfig {
            allow_hosts: vec!["169.254.169.254".to_owned(), "LocalHost".to_owned()],
            ..UrlPolicyConfig::default()
        },
        &PathsConfig::default(),
    );
    assert!(policy
        .check_video_url("http://169.254.169.254/v.mp4")
        .await
        .is_ok());
    assert!(policy
        .check_video_url("http://localhost/v.mp4")
        .await
        .is_ok());
    assert!(policy
        .check_callback_url("http://169.254.169.254/hook")
        .await
        .is_ok());
    let refusal = video_refusal(&policy, "https://93.184.215.14/v.mp4").await;
    assert!(matches!(refusal, Refusal::HostNotAllowed(_)), "{refusal}");
    let refusal = callback_refusal(&policy, "https://93.184.215.14/hook").await;
    assert!(matches!(refusal, Refusal::HostNotAllowed(_)), "{refusal}");
}

#[tokio::test]
async fn deny_hosts_wins_over_allow_hosts() {
    let policy = UrlPolicy::new(
        &UrlPolicyConfig {
            allow_hosts: vec!["93.184.215.14".to_owned()],
            deny_hosts: vec!["93.184.215.14".to_owned()],
            ..UrlPolicyConfig::default()
        },
        &PathsConfig::default(),
    );
    let refusal = video_refusal(&policy, "https://93.184.215.14/v.mp4").await;
    assert!(matches!(refusal, Refusal::DeniedHost(_)), "{refusal}");
    let refusal = callback_refusal(&policy, "https://93.184.215.14/hook").await;
    assert!(matches!(refusal, Refusal::DeniedHost(_)), "{refusal}");
}

#[tokio::test]
async fn video_urls_that_are_not_usable_are_refused() {
    let policy = default_policy();
    assert!(matches!(video_refusal(&policy, "").await, Refusal::Empty));
    assert!(matches!(
        video_refusal(&policy, "ftp://example.com/v.mp4").await,
        Refusal::UnsupportedScheme(_)
    ));
    assert!(matches!(
        video_refusal(&policy, "gopher://x").await,
        Refusal::UnsupportedScheme(_)
    ));
    assert!(matches!(
        video_refusal(&policy, "http://[::1/v").await,
        Refusal::Unparsable(_)
    ));
    assert!(matches!(
        video_refusal(&policy, "http://a\n.example/v").await,
        Refusal::ControlCharacter
    ));
    assert!(matches!(
        video_refusal(&policy, "http://does-not-exist.invalid/v.mp4").await,
        Refusal::Unresolvable(_)
    ));
}

// ---- videoUrl as s3 ----

#[tokio::test]
async fn s3_urls_give_bucket_and_key() {
    let source = default_policy()
        .check_video_url("s3://renders-in/clips/a.mp4")
        .await
        .unwrap();
    assert_eq!(
        source,
        VideoSource::S3 {
            bucket: "renders-in".to_owned(),
            key: "clips/a.mp4".to_owned()
        }
    );
    let refusal = video_refusal(&default_policy(), "s3://renders-in").await;
    assert!(matches!(refusal, Refusal::InvalidS3(_)), "{refusal}");
}

// ---- videoUrl as a local file ----

#[tokio::test]
async fn local_file_inside_the_root_is_accepted_canonicalized() {
    let fixture = Fixture::new();
    let expected = fs::canonicalize(fixture.path("inputs/clip.mp4")).unwrap();
    let policy = fixture.policy();

    for input in [
        text(&fixture.path("inputs/clip.mp4")),
        text(&fixture.path("inputs/sub/../clip.mp4")),
        text(&fixture.path("inputs/sub/alias.mp4")),
        format!("file://{}", text(&fixture.path("inputs/clip.mp4"))),
    ] {
        let source = policy.check_video_url(&input).await.unwrap();
        assert_eq!(source, VideoSource::Local(expected.clone()), "{input}");
    }
}

#[tokio::test]
async fn local_paths_outside_the_root_are_refused() {
    let fixture = Fixture::new();
    let policy = fixture.policy();
    let cases = [
        text(&fixture.path("outside/secret.mp4")),
        text(&fixture.path("inputs/../outside/secret.mp4")),
        text(&fixture.path("inputs/escape.mp4")),
        text(&fixture.path("inputs/outdir/secret.mp4")),
        format!("file://{}", text(&fixture.path("inputs/escape.mp4"))),
        format!("file://{}", text(&fixture.path("outside/secret.mp4"))),
        text(&fixture.path("inputs-sibling/clip.mp4")),
        "/etc/passwd".to_owned(),
        text(&fixture.path("outside/missing.mp4")),
    ];
    for input in cases {
        let refusal = video_refusal(&policy, &input).await;
        assert_eq!(refusal, Refusal::OutsideInputRoots, "{input}");
        let shown = policy
            .check_video_url(&input)
            .await
            .unwrap_err()
            .to_string();
        assert!(!shown.contains("secret"), "{shown}");
    }
}

#[tokio::test]
async fn local_paths_that_are_missing_or_not_files_are_refused() {
    let fixture = Fixture::new();
    let policy = fixture.policy();
    let missing = text(&fixture.path("inputs/missing.mp4"));
    assert_eq!(video_refusal(&policy, &missing).await, Refusal::NotFound);
    assert_eq!(
        video_refusal(&policy, &text(&fixture.path("inputs/sub"))).await,
        Refusal::NotAFile
    );
    let remote_file = "file://otherhost/etc/passwd";
    assert!(matches!(
        video_refusal(&policy, remote_file).await,
        Refusal::Unparsable(_)
    ));
}

#[tokio::test]
async fn no_input_roots_refuses_every_local_file() {
    let fixture = Fixture::new();
    let paths = PathsConfig {
        input_roots: Vec::new(),
        ..PathsConfig::default()
    };
    let policy = UrlPolicy::new(&UrlPolicyConfig::default(), &paths);
    let input = text(&fixture.path("inputs/clip.mp4"));
    assert_eq!(video_refusal(&policy, &input).await, Refusal::NoInputRoots);
}

// ---- callbackUrl ----

#[tokio::test]
async fn callback_to_loopback_is_allowed_by_default() {
    let policy = default_policy();
    for url in [
        "http://127.0.0.1:9000/hook",
        "http://localhost/hook",
        "http://[::1]:9000/hook",
    ] {
        let checked = policy.check_callback_url(url).await.unwrap();
        assert_eq!(checked.path(), "/hook", "{url}");
    }
    assert!(policy
        .check_callback_url("https://93.184.215.14/hook")
        .await
        .is_ok());
}

#[tokio::test]
async fn callback_to_loopback_is_refused_when_disabled() {
    let policy = UrlPolicy::new(
        &UrlPolicyConfig {
            allow_loopback_callbacks: false,
            ..UrlPolicyConfig::default()
        },
        &PathsConfig::default(),
    );
    let refusal = callback_refusal(&policy, "http://127.0.0.1:9000/hook").await;
    assert_eq!(forbidden_class(&refusal), Some(AddressClass::Loopback));
}

#[tokio::test]
async fn callback_to_private_metadata_or_other_schemes_is_refused() {
    let policy = UrlPolicy::new(
        &UrlPolicyConfig {
            allow_private_video: true,
            ..UrlPolicyConfig::default()
        },
        &PathsConfig::default(),
    );
    let cases = [
        ("http://10.0.0.5/hook", AddressClass::Private),
        (
            "http://169.254.169.254/latest/meta-data/",
            AddressClass::Metadata,
        ),
        ("http://[fd00:ec2::254]/", AddressClass::Metadata),
        ("http://[fe80::1]/", AddressClass::LinkLocal),
        ("http://0.0.0.0:9000/hook", AddressClass::Unspecified),
    ];
    for (url, class) in cases {
        let refusal = callback_refusal(&policy, url).await;
        assert_eq!(forbidden_class(&refusal), Some(class), "{url}: {refusal}");
    }
    let fixture = Fixture::new();
    let file = format!("file://{}", text(&fixture.path("inputs/clip.mp4")));
    for url in [file.as_str(), "s3://bucket/key", "/hook"] {
        let refusal = callback_refusal(&policy, url).await;
        assert!(
            matches!(
                refusal,
                Refusal::UnsupportedScheme(_) | Refusal::Unparsable(_)
            ),
            "{url}: {refusal}"
        );
    }
}

// ---- options.outputKey ----

#[test]
fn output_keys_cannot_escape_the_output_root() {
    assert_eq!(
        UrlPolicy::check_output_key("jobs/job-1/out.mp4").unwrap(),
        "jobs/job-1/out.mp4"
    );
    for key in ["../x.mp4", "a/../../x.mp4", "/abs.mp4", "a\\b.mp4", "a\0b"] {
        let error = UrlPolicy::check_output_key(key).unwrap_err();
        assert_eq!(error.code(), "INVALID_RENDER_OPTIONS");
        assert_eq!(error.field(), PolicyField::OutputKey);
        assert!(
            error.to_string().starts_with("options.outputKey: "),
            "{error}"
        );
    }
}
