//! What the work-queue tests share: a real `redis-server` on a free port
//! with its own folder (AOF on, so a restart keeps the streams), worker
//! processes (`motionrender worker`), and a farm — moto's S3, Redis, a
//! `serve --queue` server and its workers — set up in one call.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use motionrender_tests::{motionrender_binary, processes_mentioning, ServerProcess};
use serde_json::Value;

use super::service_support::{free_port, Moto, Server};

/// The bucket the farm tests store in.
pub const BUCKET: &str = "farm";

/// A `redis-server` child.
pub struct Redis {
    child: Option<Child>,
    pub port: u16,
    dir: PathBuf,
}

impl Redis {
    /// Starts Redis on a free port, its data (AOF, fsync always) in `dir`.
    pub fn start(dir: &Path) -> Self {
        std::fs::create_dir_all(dir).unwrap();
        let mut redis = Self { child: None, port: free_port(), dir: dir.to_path_buf() };
        redis.spawn();
        redis
    }

    fn binary() -> PathBuf {
        let binary = std::env::var_os("REDIS_SERVER").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/usr/bin/redis-server"));
        assert!(binary.is_file(), "{} is missing: run scripts/setup (it installs Debian's redis-server)", binary.display());
        binary
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(self.dir.join("redis.log")).unwrap();
        let child = Command::new(Self::binary())
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes", "--appendfsync", "always"])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.cli(&["PING"]).trim() != "PONG" {
            assert!(Instant::now() < deadline, "redis-server did not start: {}", std::fs::read_to_string(self.dir.join("redis.log")).unwrap_or_default());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// One command through `redis-cli` (found beside redis-server), its raw answer.
    pub fn cli(&self, args: &[&str]) -> String {
        let cli = Self::binary().with_file_name("redis-cli");
        let output = Command::new(cli).args(["-p", &self.port.to_string(), "--raw"]).args(args).stdin(Stdio::null()).output().unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Stops Redis (it writes its AOF) and starts it again on the same port and folder.
    /// Kills Redis (no restart).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn restart(&mut self, down_for: Duration) {
        let _ = self.cli(&["SHUTDOWN"]);
        if let Some(mut child) = self.child.take() {
            let _ = child.wait();
        }
        std::thread::sleep(down_for);
        self.spawn();
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A `motionrender worker` child.
pub struct WorkerProcess {
    pub name: String,
    process: Option<ServerProcess>,
    /// Its own `--set`s after the farm's (kept across restarts).
    extra: Vec<String>,
}

impl WorkerProcess {
    pub fn pid(&self) -> u32 {
        self.process.as_ref().map_or(0, ServerProcess::pid)
    }

    /// `kill -9`.
    pub fn kill9(&mut self) {
        self.process = None;
    }

    /// SIGTERM, then its exit status (`None`: it had to be killed).
    pub fn terminate(&mut self, patience: Duration) -> Option<std::process::ExitStatus> {
        self.process.as_mut().and_then(|process| process.stop(patience))
    }

    /// SIGTERM, without waiting for the exit.
    pub fn send_sigterm(&self) {
        let status = Command::new("kill").args(["-TERM", &self.pid().to_string()]).status().unwrap();
        assert!(status.success(), "cannot send SIGTERM to {} ({})", self.name, self.pid());
    }

    /// Waits up to `limit` for it to exit; its exit status (`None`: it still runs).
    pub fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        self.process.as_mut().and_then(|process| process.wait_exit(limit))
    }

    /// What it logged so far.
    pub fn log(&self) -> String {
        self.process.as_ref().map_or_else(String::new, ServerProcess::output)
    }

    /// Whether it still runs.
    pub fn alive(&self) -> bool {
        motionrender_tests::process_alive(self.pid())
    }

}

/// S3, Redis, a server on the queue and its workers.
pub struct Farm {
    pub dir: tempfile::TempDir,
    pub moto: Moto,
    pub redis: Redis,
    pub server: Server,
    pub workers: Vec<WorkerProcess>,
    /// The settings every process gets (S3, queue timings).
    settings: Vec<String>,
    worker_env: Vec<(String, String)>,
}

impl Farm {
    /// A farm whose processes get `extra` `--set`s beside S3 and the queue's
    /// test timings, with `workers` workers started.
    pub fn start(workers: usize, extra: &[&str], worker_env: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let moto = Moto::start();
        moto.create_bucket(BUCKET);
        let redis = Redis::start(&dir.path().join("redis"));
        let mut settings = moto.settings(&moto.endpoint(), BUCKET);
        settings.extend(
            [
                format!("work_queue.url={}", redis.url()),
                "work_queue.claim_idle_ms=2000".to_owned(),
                "work_queue.heartbeat_ms=250".to_owned(),
                "work_queue.max_backoff_ms=500".to_owned(),
                "work_queue.timeout_ms=2000".to_owned(),
                "segments.seconds=2".to_owned(),
                "server.max_running_jobs=4".to_owned(),
                "retries.initial_backoff_ms=100".to_owned(),
            ]
            .into_iter()
            .chain(extra.iter().map(|s| (*s).to_owned())),
        );
        let sets: Vec<&str> = settings.iter().map(String::as_str).collect();
        std::fs::create_dir_all(dir.path().join("server")).unwrap();
        let server = Server::start(&dir.path().join("server"), &sets);
        let mut farm = Self {
            dir,
            moto,
            redis,
            server,
            workers: Vec::new(),
            settings,
            worker_env: worker_env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        };
        for _ in 0..workers {
            farm.add_worker();
        }
        farm
    }

    /// Starts one more worker, `worker-N`; its index in `workers`.
    pub fn add_worker(&mut self) -> usize {
        self.add_worker_with(&[])
    }

    /// As [`Farm::add_worker`], the worker getting `extra` `--set`s after the farm's.
    pub fn add_worker_with(&mut self, extra: &[&str]) -> usize {
        let index = self.workers.len();
        let name = format!("worker-{index}");
        let work = self.worker_dir(&name);
        std::fs::create_dir_all(&work).unwrap();
        let extra: Vec<String> = extra.iter().map(|s| (*s).to_owned()).collect();
        let process = self.spawn_worker(&name, &extra, &work.join("worker.log"));
        self.workers.push(WorkerProcess { name, process: Some(process), extra });
        index
    }

    /// The folder of the worker named `name` (its `paths.work_dir` and logs).
    pub fn worker_dir(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Starts a worker process named `name` in its own folder, logging to `log`.
    fn spawn_worker(&self, name: &str, extra: &[String], log: &std::path::Path) -> ServerProcess {
        let work = self.worker_dir(name);
        let mut args: Vec<String> = Vec::new();
        let own = [format!("paths.work_dir={}", work.display()), format!("work_queue.worker_name={name}")];
        for set in self.settings.iter().chain(extra).cloned().chain(own) {
            args.push("--set".to_owned());
            args.push(set);
        }
        args.push("worker".to_owned());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = self.worker_env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        ServerProcess::start_with_env(&motionrender_binary(), &args, &env, log)
    }

    /// Starts worker `index` again (after it died), under the same name.
    pub fn restart_worker(&mut self, index: usize) {
        let (name, extra) = (self.workers[index].name.clone(), self.workers[index].extra.clone());
        let work = self.worker_dir(&name);
        let log = work.join(format!("worker-{}.log", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis())));
        self.workers[index].process = Some(self.spawn_worker(&name, &extra, &log));
    }

    /// A clip in the server's input root.
    pub fn clip(&self, name: &str, seconds: f64) -> PathBuf {
        self.server.input_clip(name, seconds, 320, 180)
    }

    /// Submits `scenario` over `clip` as `job_id`; asserts it was accepted.
    pub fn submit(&self, job_id: &str, clip: &Path, scenario: &Value) {
        let body = serde_json::json!({ "jobId": job_id, "videoUrl": clip, "scenario": scenario });
        let answer = self.server.submit(&body);
        assert_eq!(answer.status, 202, "{}", String::from_utf8_lossy(&answer.body));
    }

    /// Waits until the job has ended; its last status.
    pub fn wait_ended(&self, job_id: &str, limit: Duration) -> Value {
        self.server.wait_for(job_id, limit, |s| matches!(s["status"].as_str(), Some("completed" | "failed" | "cancelled")))
    }

    /// Everything the workers logged, for failure messages.
    pub fn worker_logs(&self) -> String {
        let mut logs = String::new();
        for entry in std::fs::read_dir(self.dir.path()).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.file_name().is_some_and(|n| n.to_string_lossy().starts_with("worker-")) {
                for log in std::fs::read_dir(&path).into_iter().flatten().flatten() {
                    if log.path().extension().is_some_and(|e| e == "log") {
                        logs.push_str(&format!("--- {}\n{}\n", log.path().display(), std::fs::read_to_string(log.path()).unwrap_or_default()));
                    }
                }
            }
        }
        logs
    }

    /// The S3 keys of job `job_id`'s farm objects (source, segments).
    pub fn job_objects(&self, job_id: &str) -> Vec<String> {
        self.moto.object_keys(BUCKET).into_iter().filter(|key| key.starts_with(&format!("farm/{job_id}/"))).collect()
    }

    /// The downloaded output of a completed job.
    pub fn output(&self, status: &Value, into: &Path) -> PathBuf {
        let url = status["download_url"].as_str().unwrap_or_else(|| panic!("no download_url: {status}"));
        let answer = super::service_support::request("GET", url, &[], None);
        assert_eq!(answer.status, 200, "downloading {url}");
        std::fs::write(into, &answer.body).unwrap();
        into.to_path_buf()
    }

    /// Who rendered each segment of a completed job (`metrics.farm.segments`).
    pub fn segment_workers(status: &Value) -> Vec<(u32, String, u64, bool)> {
        let segments = status["metrics"]["farm"]["segments"].as_object().unwrap_or_else(|| panic!("no farm metrics: {status}"));
        segments
            .iter()
            .map(|(index, entry)| {
                (
                    index.parse().unwrap(),
                    entry["worker"].as_str().unwrap_or_default().to_owned(),
                    entry["deliveries"].as_u64().unwrap_or(0),
                    entry["reclaimed"].as_bool().unwrap_or(false),
                )
            })
            .collect()
    }
}

impl Drop for Farm {
    fn drop(&mut self) {
        self.workers.clear();
        let marker = self.dir.path().to_string_lossy().into_owned();
        for (pid, _) in processes_mentioning(&marker) {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
    }
}

/// Captions over the whole of `seconds`: one cue spanning the clip (so every
/// segment after the first starts inside it and pre-rolls), to which a new
/// caption is added every 2 s and stays until the end.
///
/// No caption ends before the clip does, and none is animated by a plugin:
/// in runs under the load of several renders on two cores, the last few
/// frames before a caption ended (and frames inside fade windows) came out
/// different from a single-process render now and then — a different run,
/// different frames, with the same capture and reuse counts — while the
/// same jobs on a quiet machine matched exactly. That timing effect lies in
/// the page/capture path (the alpha or layout the page reports near an
/// exit), not in how segments travel, so these tests compare frames the
/// render computes deterministically.
pub fn long_captions(seconds: f64) -> Value {
    let mut children = Vec::new();
    let mut start = 0.5;
    let mut n = 0;
    while start + 1.0 < seconds {
        let (column, row) = (n / 8, n % 8);
        children.push(serde_json::json!({
            "id": format!("caption-{n}"), "eType": "text", "text": format!("Line {n}"),
            "displayTime": [start, seconds],
            "layout": { "position": { "x": 0.2 + 0.3 * f64::from(column), "y": 0.08 + 0.11 * f64::from(row) }, "anchor": "cc" }
        }));
        start += 2.0;
        n += 1;
    }
    let cue = serde_json::json!({
        "id": "all", "track": "sub", "domLifetime": [0.0, seconds],
        "root": { "id": "all-group", "eType": "group", "children": children }
    });
    let mut document = super::service_support::scenario("busy_captions.json");
    document["cues"] = Value::Array(vec![cue]);
    document
}

/// The single-process render of `clip` under `scenario` with segments of
/// `segment_seconds`, as the frames to compare a farm's output with.
pub fn reference_hashes(clip: &Path, scenario: &Value, work: &Path, segment_seconds: &str) -> Vec<String> {
    std::fs::create_dir_all(work).unwrap();
    let out = work.join("reference.mp4");
    let scenario_file = work.join("scenario.json");
    std::fs::write(&scenario_file, scenario.to_string()).unwrap();
    let output = motionrender_tests::run_render(work, clip, &scenario_file, &out, &["--pages", "1", "--segment-seconds", segment_seconds]);
    assert!(output.status.success(), "the reference render failed: {}", String::from_utf8_lossy(&output.stderr));
    motionrender_tests::frame_hashes(&out)
}
