//! A real S3-compatible server for the tests: moto's `moto_server` on a free
//! loopback port, killed when dropped.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};

/// The variable naming the `moto_server` executable; without it the tests use
/// `.venv-test/bin/moto_server` at the repository root, which `scripts/setup`
/// installs.
const MOTO_SERVER_VAR: &str = "MOTO_SERVER";

pub const ACCESS_KEY: &str = "motionrender-test";
pub const SECRET_KEY: &str = "motionrender-test-secret";

/// A running `moto_server`.
pub struct Moto {
    child: Child,
    pub endpoint: String,
}

impl Moto {
    /// Starts moto on a free port and waits until it answers.
    pub async fn start() -> Moto {
        let program = moto_server_path();
        let port = free_port();
        let child = Command::new(&program)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("could not start {}: {error}", program.display()));
        let moto = Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(response) = reqwest::get(format!("{}/moto-api/", moto.endpoint)).await {
                if response.status().is_success() {
                    return moto;
                }
            }
            assert!(
                Instant::now() < deadline,
                "moto_server did not answer within 30 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A client talking to moto directly, for setting up and checking buckets.
    pub fn client(&self) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::config::Builder::new()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(&self.endpoint)
            .force_path_style(true)
            .credentials_provider(Credentials::new(ACCESS_KEY, SECRET_KEY, None, None, "test"))
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    /// Creates a bucket with a name no other test uses.
    pub async fn bucket(&self) -> String {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!("mr-test-{}-{nanos}", std::process::id());
        self.client()
            .create_bucket()
            .bucket(&name)
            .send()
            .await
            .unwrap();
        name
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn moto_server_path() -> PathBuf {
    let path = match std::env::var_os(MOTO_SERVER_VAR) {
        Some(path) => PathBuf::from(path),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv-test/bin/moto_server"),
    };
    assert!(
        path.is_file(),
        "moto_server not found at {}: run scripts/setup (it installs moto[server] into \
         .venv-test/), or set {MOTO_SERVER_VAR} to the moto_server executable",
        path.display()
    );
    path
}

/// A loopback port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
