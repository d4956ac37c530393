//! Shared helpers of the end-to-end tests: where the fixtures and the
//! `motionrender` binary are, readers for the fixture files, and running a
//! render and reading its frames back.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// The tests crate's folder (`<workspace>/tests`).
pub fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `<workspace>/tests/fixtures`.
pub fn fixtures_dir() -> PathBuf {
    crate_dir().join("fixtures")
}

/// Malformed scenarios, one defect each, listed in `expected.tsv`.
pub fn invalid_dir() -> PathBuf {
    fixtures_dir().join("invalid")
}

/// Our own valid scenarios (also rendered by `scripts/demo`).
pub fn scenarios_dir() -> PathBuf {
    fixtures_dir().join("scenarios")
}

/// The `.json` files of a folder, sorted by name.
pub fn json_files(dir: &Path) -> Vec<PathBuf> {
    let entries = fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display())).path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    files
}

/// A file's text; panics with the path when it cannot be read.
pub fn read_text(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// A file's JSON; panics with the path when it is not JSON.
pub fn read_json(path: &Path) -> Value {
    serde_json::from_str(&read_text(path)).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// The file name of a path, as text.
pub fn file_name(path: &Path) -> String {
    path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default()
}

/// The error code of a scenario that is not JSON at all.
pub const PARSE_ERROR: &str = "SCENARIO_PARSE_ERROR";
/// The error code of JSON that is not a valid scenario.
pub const VALIDATION_ERROR: &str = "VALIDATION_ERROR";

/// One line of `fixtures/invalid/expected.tsv`: how the engine must refuse a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedRefusal {
    /// File name inside `fixtures/invalid/`.
    pub file: String,
    /// JSON pointer of the first issue; `None` for a parse error (written `-`).
    pub pointer: Option<String>,
    /// `VALIDATION_ERROR` or `SCENARIO_PARSE_ERROR`.
    pub code: String,
}

impl ExpectedRefusal {
    /// The fixture's path.
    pub fn path(&self) -> PathBuf {
        invalid_dir().join(&self.file)
    }
}

/// Reads `expected.tsv`: `NAME.json<TAB>pointer<TAB>code` per line (the
/// pointer may be empty: the whole document). Panics on a malformed line.
pub fn expected_refusals() -> Vec<ExpectedRefusal> {
    let path = invalid_dir().join("expected.tsv");
    let text = read_text(&path);
    let mut seen = HashSet::new();
    let mut rows = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let at = format!("{}:{}", path.display(), number + 1);
        let columns: Vec<&str> = line.split('\t').collect();
        let [file, pointer, code] = columns.as_slice() else {
            panic!("{at}: expected 3 tab-separated columns, found {}: {line:?}", columns.len());
        };
        assert!(file.ends_with(".json"), "{at}: the first column must name a .json file, found {file:?}");
        assert!(seen.insert(file.to_string()), "{at}: {file} is listed twice");
        let pointer = match (*code, *pointer) {
            (PARSE_ERROR, "-") => None,
            (PARSE_ERROR, other) => panic!("{at}: a parse error has no pointer; write '-', found {other:?}"),
            (VALIDATION_ERROR, pointer) => {
                assert!(pointer.is_empty() || pointer.starts_with('/'), "{at}: {pointer:?} is not a JSON pointer");
                Some(pointer.to_owned())
            }
            (other, _) => panic!("{at}: unknown error code {other:?}"),
        };
        rows.push(ExpectedRefusal { file: file.to_string(), pointer, code: code.to_string() });
    }
    rows
}

/// The `motionrender` binary built next to the running test executable
/// (`<target>/debug/deps/tests-…` → `<target>/debug/motionrender`).
pub fn motionrender_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_else(|e| panic!("cannot locate the test executable: {e}"));
    let profile_dir = exe.parent().and_then(Path::parent).unwrap_or_else(|| panic!("unexpected test executable location {}", exe.display()));
    let binary = profile_dir.join(format!("motionrender{}", std::env::consts::EXE_SUFFIX));
    assert!(
        binary.is_file(),
        "{} does not exist: run `cargo build -p motionrender-web --bins` first (scripts/test builds it before testing)",
        binary.display()
    );
    binary
}

/// Every cue and node id of a v2.0 document, in document order.
pub fn document_ids(document: &Value) -> Vec<String> {
    fn node_ids(node: &Value, ids: &mut Vec<String>) {
        ids.push(node.get("id").and_then(Value::as_str).unwrap_or_default().to_owned());
        for child in node.get("children").and_then(Value::as_array).into_iter().flatten() {
            node_ids(child, ids);
        }
    }
    let mut ids = Vec::new();
    for cue in document.get("cues").and_then(Value::as_array).into_iter().flatten() {
        ids.push(cue.get("id").and_then(Value::as_str).unwrap_or_default().to_owned());
        if let Some(root) = cue.get("root") {
            node_ids(root, &mut ids);
        }
    }
    ids
}

/// A time window `(start, end)` in seconds.
pub type Window = (f64, f64);

/// A v2.0 node's displayTime, when it has two numbers.
pub fn display_time(node: &Value) -> Option<Window> {
    match node.get("displayTime")?.as_array()?.as_slice() {
        [start, end] => Some((start.as_f64()?, end.as_f64()?)),
        _ => None,
    }
}

/// The absolute window of a v2.0 plugin entry on a node whose (inherited)
/// displayTime is `base`, by the reference package's rule: a number bound
/// shifts its end of the base window by that many seconds, a `"p%"` bound by
/// p% of the base duration; without `timeOffset` the package spans
/// `[start, end + duration]`. `None` when a bound is neither.
pub fn plugin_window_v2(entry: &Value, base: Window) -> Option<Window> {
    let duration = base.1 - base.0;
    let Some(offset) = entry.get("timeOffset") else {
        return Some((base.0, base.1 + duration));
    };
    let shift = |bound: &Value| -> Option<f64> {
        match bound {
            Value::Number(n) => n.as_f64(),
            Value::String(text) => match text.trim().strip_suffix('%') {
                Some(percent) => percent.trim().parse::<f64>().ok().map(|p| duration * p / 100.0),
                None => text.trim().parse::<f64>().ok(),
            },
            _ => None,
        }
    };
    match offset.as_array()?.as_slice() {
        [start, end] => Some((base.0 + shift(start)?, base.1 + shift(end)?)),
        _ => None,
    }
}

/// Where two JSON values first differ, numbers compared within `tolerance`
/// (text → f64 parsing without serde_json's `float_roundtrip` can be off by
/// an ulp); `None` when they agree. Object key order is not compared.
pub fn json_difference(a: &Value, b: &Value, tolerance: f64) -> Option<String> {
    fn walk(a: &Value, b: &Value, tolerance: f64, at: &str) -> Option<String> {
        match (a, b) {
            (Value::Number(x), Value::Number(y)) => {
                let (x, y) = (x.as_f64()?, y.as_f64()?);
                ((x - y).abs() > tolerance).then(|| format!("{at}: {x} vs {y}"))
            }
            (Value::Array(xs), Value::Array(ys)) if xs.len() == ys.len() => {
                xs.iter().zip(ys).enumerate().find_map(|(i, (x, y))| walk(x, y, tolerance, &format!("{at}/{i}")))
            }
            (Value::Object(xs), Value::Object(ys)) if xs.len() == ys.len() => xs.iter().find_map(|(key, x)| match ys.get(key) {
                Some(y) => walk(x, y, tolerance, &format!("{at}/{key}")),
                None => Some(format!("{at}/{key}: only in the first")),
            }),
            _ => (a != b).then(|| format!("{at}: {a} vs {b}")),
        }
    }
    walk(a, b, tolerance, "")
}

/// Runs `motionrender render --video VIDEO --scenario SCENARIO --out OUT`,
/// then `extra`, with its scratch files in `work_dir`; the finished process.
pub fn run_render(work_dir: &Path, video: &Path, scenario: &Path, out: &Path, extra: &[&str]) -> Output {
    Command::new(motionrender_binary())
        .args(["--set", &format!("paths.work_dir={}", work_dir.display()), "render", "--video"])
        .arg(video)
        .arg("--scenario")
        .arg(scenario)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap_or_else(|e| panic!("cannot run motionrender: {e}"))
}

/// A rectangle of pixels `(x0, y0, x1, y1)`: columns `x0..x1`, rows `y0..y1`.
pub type PixelBox = (u32, u32, u32, u32);

/// The luma planes of `video` (`width`×`height`), in order: every frame, or
/// only frame `only` when given. They are the Y planes of a yuv420p decode, so
/// the values are the encoded ones, not a conversion of them; frames are
/// passed through as decoded (none duplicated or dropped to fit a rate).
fn decode_luma(video: &Path, width: u32, height: u32, only: Option<u64>) -> Vec<Vec<u8>> {
    let mut command = Command::new("ffmpeg");
    command.args(["-nostdin", "-v", "error", "-i"]).arg(video);
    if let Some(index) = only {
        command.args(["-vf", &format!("select=eq(n\\,{index})"), "-frames:v", "1"]);
    }
    let output = command
        .args(["-an", "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-"])
        .output()
        .unwrap_or_else(|e| panic!("cannot run ffmpeg: {e}"));
    assert!(output.status.success(), "decoding {} failed: {}", video.display(), String::from_utf8_lossy(&output.stderr));
    let (luma, frame) = ((width * height) as usize, (width * height * 3 / 2) as usize);
    assert!(
        output.stdout.len().is_multiple_of(frame),
        "{} did not decode to whole {width}x{height} frames ({} bytes)",
        video.display(),
        output.stdout.len()
    );
    output.stdout.chunks_exact(frame).map(|yuv| yuv[..luma].to_vec()).collect()
}

/// The luma plane of every frame of `video` (`width`×`height`), in order.
pub fn luma_frames(video: &Path, width: u32, height: u32) -> Vec<Vec<u8>> {
    decode_luma(video, width, height, None)
}

/// The luma plane of frame `index` of `video` (`width`×`height`).
pub fn luma_frame(video: &Path, width: u32, height: u32, index: u64) -> Vec<u8> {
    let mut frames = decode_luma(video, width, height, Some(index));
    assert_eq!(frames.len(), 1, "frame {index} of {}", video.display());
    frames.remove(0)
}

/// Mean absolute difference of two luma planes `width` pixels wide inside `area`.
pub fn mean_difference(a: &[u8], b: &[u8], width: u32, (x0, y0, x1, y1): PixelBox) -> f64 {
    let mut sum = 0u64;
    for y in y0..y1 {
        for x in x0..x1 {
            let i = (y * width + x) as usize;
            sum += u64::from(a[i].abs_diff(b[i]));
        }
    }
    sum as f64 / f64::from((x1 - x0) * (y1 - y0))
}

/// An example program of the `web` crate, built by `cargo build --examples`
/// next to the `motionrender` binary (`<target>/debug/examples/NAME`).
pub fn example_binary(name: &str) -> PathBuf {
    let binary_dir = motionrender_binary().parent().map(Path::to_path_buf).unwrap_or_default();
    let example = binary_dir.join("examples").join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        example.is_file(),
        "{} does not exist: run `cargo build -p motionrender-web --examples` first (scripts/setup builds the examples)",
        example.display()
    );
    example
}

/// A loopback address with a port nobody listens on right now.
pub fn free_local_addr() -> String {
    format!("127.0.0.1:{}", free_port())
}

/// A loopback port nothing listens on right now.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("cannot find a free port: {e}"));
    listener.local_addr().unwrap_or_else(|e| panic!("cannot find a free port: {e}")).port()
}

/// Processes (other than this one) whose command line mentions `marker`
/// (e.g. a test's temporary folder, to find Chromium or FFmpeg left
/// behind), as `(pid, command line)`.
pub fn processes_mentioning(marker: &str) -> Vec<(u32, String)> {
    let own = std::process::id();
    let mut found = Vec::new();
    for entry in fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        let Ok(cmdline) = fs::read(entry.path().join("cmdline")) else { continue };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if pid != own && cmdline.contains(marker) {
            found.push((pid, cmdline));
        }
    }
    found
}

/// A server process started by a test (`motionrender serve` or an example),
/// its stderr kept in a file. Dropping it kills the process if it still runs.
#[derive(Debug)]
pub struct ServerProcess {
    child: std::process::Child,
    /// Where the process's stderr goes.
    pub log: PathBuf,
}

impl ServerProcess {
    /// Starts `program` with `args`, stdout and stderr into `log`.
    pub fn start(program: &Path, args: &[&str], log: &Path) -> Self {
        Self::start_with_env(program, args, &[], log)
    }

    /// As [`ServerProcess::start`], with environment variables set for it.
    pub fn start_with_env(program: &Path, args: &[&str], env: &[(&str, &str)], log: &Path) -> Self {
        let file = fs::File::create(log).unwrap_or_else(|e| panic!("cannot create {}: {e}", log.display()));
        let out = file.try_clone().unwrap_or_else(|e| panic!("cannot open {}: {e}", log.display()));
        let child = Command::new(program)
            .args(args)
            .envs(env.iter().copied())
            .stdout(out)
            .stderr(file)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
        Self { child, log: log.to_path_buf() }
    }

    /// The process's id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the process wrote so far.
    pub fn output(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Panics with the process's output when it has exited.
    pub fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("the server exited ({status}):\n{}", self.output());
        }
    }

    /// Waits up to `patience` for the process to exit (it is reaped: a
    /// zombie whose threads are still going counts as running); its exit
    /// status, `None` while it still runs.
    pub fn wait_exit(&mut self, patience: std::time::Duration) -> Option<std::process::ExitStatus> {
        let deadline = std::time::Instant::now() + patience;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if std::time::Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// Sends SIGTERM and waits up to `patience` for the exit; kills it
    /// after that. The exit status, `None` when it had to be killed.
    pub fn stop(&mut self, patience: std::time::Duration) -> Option<std::process::ExitStatus> {
        if let Ok(Some(status)) = self.child.try_wait() {
            return Some(status);
        }
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        if let Some(status) = self.wait_exit(patience) {
            return Some(status);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        None
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The processes descending from `pid` (children, their children, …) as
/// `(pid, command line)`, read from `/proc`.
pub fn descendants(pid: u32) -> Vec<(u32, String)> {
    let mut parents: Vec<(u32, u32)> = Vec::new();
    for entry in fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(child) = entry.file_name().to_str().and_then(|name| name.parse::<u32>().ok()) else { continue };
        // /proc/PID/stat: "PID (comm) STATE PPID …"; comm may hold spaces.
        let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else { continue };
        let Some(after_comm) = stat.rsplit_once(')').map(|(_, rest)| rest) else { continue };
        if let Some(parent) = after_comm.split_whitespace().nth(1).and_then(|p| p.parse::<u32>().ok()) {
            parents.push((child, parent));
        }
    }
    let mut found = Vec::new();
    let mut frontier = vec![pid];
    while let Some(parent) = frontier.pop() {
        for &(child, _) in parents.iter().filter(|(_, p)| *p == parent) {
            let cmdline = fs::read(format!("/proc/{child}/cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ").trim().to_owned();
            found.push((child, cmdline));
            frontier.push(child);
        }
    }
    found
}

/// Whether process `pid` still exists (a zombie counts as gone).
pub fn process_alive(pid: u32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().next()).is_some_and(|state| state != "Z"),
        Err(_) => false,
    }
}

/// The MD5 of every decoded video frame of `video`, in order.
pub fn frame_hashes(video: &Path) -> Vec<String> {
    let output = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(video)
        .args(["-map", "0:v:0", "-f", "framemd5", "-"])
        .output()
        .unwrap_or_else(|e| panic!("cannot run ffmpeg: {e}"));
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8_lossy(&output.stdout);
    text.lines().filter(|line| !line.starts_with('#')).filter_map(|line| line.rsplit(',').next()).map(|hash| hash.trim().to_owned()).collect()
}

/// The x264 settings each segment of `video` was encoded with (x264 writes
/// them into the stream).
pub fn x264_settings(video: &Path) -> Vec<String> {
    let bytes = std::fs::read(video).unwrap_or_default();
    let marker = b"x264 - core";
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(start) = bytes[at..].windows(marker.len()).position(|w| w == marker).map(|p| p + at) {
        let end = bytes[start..].iter().position(|&b| b == 0).map_or(bytes.len(), |p| p + start);
        let text = String::from_utf8_lossy(&bytes[start..end]);
        found.push(text.split(" options: ").nth(1).unwrap_or(&text).to_owned());
        at = end;
    }
    found
}
