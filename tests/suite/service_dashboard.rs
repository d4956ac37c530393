//! The dashboard at `/` of `motionrender serve`, opened in headless Chromium
//! while a job renders: the job's row shows it processing with a partly
//! filled progress bar, the throughput chart is drawn from the event stream
//! (checked on the canvas and in a screenshot), and the row ends `completed`
//! with the job's captured / reused counts and its bar in the frames chart.

use std::path::Path;
use std::time::{Duration, Instant};

use chromiumoxide::handler::viewport::Viewport;
use chromiumoxide::page::ScreenshotParams;
use chromiumoxide::{Browser, BrowserConfig, Page};
use futures::StreamExt as _;
use motionrender_engine::browser::find_executable;
use motionrender_engine::media::{testclip::generate_clip, FrameRate};
use motionrender_tests::{fixtures_dir, free_local_addr, motionrender_binary, processes_mentioning, read_json, ServerProcess};
use serde_json::{json, Value};

const JOB: &str = "dashboard-job-1";
const VIEW_WIDTH: u32 = 1280;
const VIEW_HEIGHT: u32 = 900;

/// The job's row, the bar, and how many pixels of each chart are painted in
/// `color` (an `[r, g, b]`), as the page has them now.
const READ_PAGE: &str = r#"(job, color) => {
  // Pixels of the colour in a canvas, all and (raised) those above its bottom 10 rows.
  const painted = (id) => {
    const canvas = document.getElementById(id);
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let all = 0, raised = 0;
    for (let i = 0; i < data.length; i += 4) {
      const close = Math.abs(data[i] - color[0]) + Math.abs(data[i + 1] - color[1]) + Math.abs(data[i + 2] - color[2]) < 40;
      if (close && data[i + 3] > 200) {
        all += 1;
        if (Math.floor(i / 4 / canvas.width) < canvas.height - 10) raised += 1;
      }
    }
    return { all, raised };
  };
  const box = (element) => {
    if (!element) return null;
    const r = element.getBoundingClientRect();
    return [r.left, r.top, r.right, r.bottom];
  };
  const row = document.querySelector(`tr[data-job="${job}"]`);
  const cell = (name) => row && row.querySelector('td.' + name) ? row.querySelector('td.' + name).textContent : null;
  const fill = row && row.querySelector('td.progress .bar > div');
  return {
    found: !!row,
    status: cell('status'),
    progress_text: cell('progress'),
    captured: cell('captured'),
    reused: cell('reused'),
    bar_width: fill ? parseFloat(fill.style.width) : null,
    bar_box: box(fill),
    throughput_pixels: painted('throughput'),
    throughput_box: box(document.getElementById('throughput')),
    frames_pixels: painted('frames'),
    feed: document.getElementById('status').textContent,
  };
}"#;

/// The blue of the throughput line, the progress bar and captured frames (#2f7de1).
const BLUE: [u8; 3] = [0x2f, 0x7d, 0xe1];

/// Headless Chromium for looking at the dashboard, with its own profile.
struct Viewer {
    browser: Browser,
    handler: tokio::task::JoinHandle<()>,
}

impl Viewer {
    async fn launch(profile: &Path) -> Self {
        let config = BrowserConfig::builder()
            .chrome_executable(find_executable().unwrap())
            .no_sandbox()
            .user_data_dir(profile)
            .window_size(VIEW_WIDTH, VIEW_HEIGHT)
            .viewport(Viewport { width: VIEW_WIDTH, height: VIEW_HEIGHT, device_scale_factor: Some(1.0), ..Viewport::default() })
            .arg("disable-gpu")
            .arg("no-first-run")
            .build()
            .unwrap();
        let (browser, mut events) = Browser::launch(config).await.unwrap();
        let handler = tokio::spawn(async move { while events.next().await.is_some_and(|event| event.is_ok()) {} });
        Self { browser, handler }
    }

    async fn close(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(5), self.browser.close()).await;
        if tokio::time::timeout(Duration::from_secs(5), self.browser.wait()).await.is_err() {
            let _ = self.browser.kill().await;
        }
        self.handler.abort();
    }
}

async fn read_page(page: &Page) -> Value {
    let call = format!("({READ_PAGE})({}, {})", json!(JOB), json!(BLUE));
    page.evaluate(call).await.unwrap().into_value().unwrap()
}

/// Polls the page until `done` holds for what it shows; the last reading.
async fn wait_for(page: &Page, what: &str, within: Duration, server: &mut ServerProcess, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + within;
    loop {
        server.assert_running();
        let seen = read_page(page).await;
        if done(&seen) {
            return seen;
        }
        assert!(Instant::now() < deadline, "the dashboard did not show {what} within {within:?}; it shows {seen}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Pixels of `png` inside `area` (CSS pixels, scale 1) within `tolerance` of `color`.
fn pixels_like(png: &[u8], area: &Value, color: [u8; 3]) -> usize {
    let mut reader = png::Decoder::new(std::io::Cursor::new(png)).read_info().unwrap();
    let mut buffer = vec![0; reader.output_buffer_size()];
    let frame = reader.next_frame(&mut buffer).unwrap();
    assert_eq!((frame.width, frame.height), (VIEW_WIDTH, VIEW_HEIGHT), "the screenshot is not the viewport");
    let channels = match frame.color_type {
        png::ColorType::Rgba => 4,
        png::ColorType::Rgb => 3,
        other => panic!("unexpected screenshot colour type {other:?}"),
    };
    let side = |i: usize| area[i].as_f64().unwrap().max(0.0) as u32;
    let (x0, y0, x1, y1) = (side(0), side(1), side(2).min(frame.width), side(3).min(frame.height));
    let mut count = 0;
    for y in y0..y1 {
        for x in x0..x1 {
            let at = ((y * frame.width + x) as usize) * channels;
            let distance: u32 = (0..3).map(|c| u32::from(buffer[at + c].abs_diff(color[c]))).sum();
            if distance < 40 {
                count += 1;
            }
        }
    }
    count
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_shows_a_job_progressing_and_its_charts() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("inputs")).unwrap();
    let clip = data.join("inputs/clip.mp4");
    generate_clip(&clip, 12.0, 640, 360, FrameRate::new(25, 1).unwrap(), true).unwrap();

    let addr = free_local_addr();
    let base = format!("http://{addr}");
    let data_arg = data.to_string_lossy().into_owned();
    let mut server =
        ServerProcess::start(&motionrender_binary(), &["serve", "--bind", &addr, "--data-dir", &data_arg], &dir.path().join("serve.log"));
    let client = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !client.get(format!("{base}/livez")).send().await.is_ok_and(|answer| answer.status().is_success()) {
        server.assert_running();
        assert!(Instant::now() < deadline, "motionrender serve did not start within 30 s:\n{}", server.output());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let request = json!({
        "jobId": JOB,
        "videoUrl": clip.to_string_lossy(),
        "scenario": read_json(&fixtures_dir().join("render/busy_captions.json")),
    });
    let answer = client.post(format!("{base}/render")).json(&request).send().await.unwrap();
    assert_eq!(answer.status().as_u16(), 202, "submit: {}", answer.text().await.unwrap_or_default());

    // Open the dashboard while the job runs.
    let viewer = Viewer::launch(&dir.path().join("viewer-profile")).await;
    let page = viewer.browser.new_page(format!("{base}/")).await.unwrap();
    let running = wait_for(&page, "the job processing between 0 and 95% with a throughput line above zero", Duration::from_secs(120), &mut server, |seen| {
        let width = seen["bar_width"].as_f64().unwrap_or(0.0);
        // A line above the chart's floor: some throughput above zero was drawn.
        seen["status"] == "processing" && width > 0.0 && width < 95.0 && seen["throughput_pixels"]["raised"].as_u64().unwrap_or(0) > 0
    })
    .await;
    assert_eq!(running["feed"], "live", "the event stream is not connected: {running}");
    let screenshot = page.screenshot(ScreenshotParams::builder().build()).await.unwrap();
    let shot = dir.path().join("dashboard.png");
    std::fs::write(&shot, &screenshot).unwrap();
    // Kept after the test too, for looking at.
    let kept = Path::new(env!("CARGO_TARGET_TMPDIR")).join("service_dashboard.png");
    std::fs::write(&kept, &screenshot).unwrap();
    eprintln!("service_dashboard: screenshot at {} (copy kept at {}); page showed {running}", shot.display(), kept.display());

    // The screenshot shows what the DOM says: a partly filled bar and the line.
    assert!(pixels_like(&screenshot, &running["bar_box"], BLUE) > 0, "no progress fill in the screenshot: {running}");
    assert!(pixels_like(&screenshot, &running["throughput_box"], BLUE) > 0, "no throughput line in the screenshot: {running}");

    // The row ends completed; the final metrics fill the counts and the frames chart.
    let done = wait_for(&page, "the job completed with its captured frames", Duration::from_secs(180), &mut server, |seen| {
        seen["status"] == "completed" && seen["captured"].as_str().is_some_and(|c| !c.is_empty())
    })
    .await;
    let status: Value = client.get(format!("{base}/api/render/{JOB}/status")).send().await.unwrap().json().await.unwrap();
    assert_eq!(status["status"], "completed", "{status}");
    let metrics = &status["metrics"];
    assert_eq!(done["captured"].as_str().unwrap(), metrics["frames_captured"].to_string(), "captured count: {done} vs {metrics}");
    assert_eq!(done["reused"].as_str().unwrap(), metrics["frames_reused"].to_string(), "reused count: {done} vs {metrics}");
    assert_eq!(done["bar_width"].as_f64(), Some(100.0), "{done}");
    assert!(metrics["frames_captured"].as_u64().unwrap() > 0, "{metrics}");
    assert!(done["frames_pixels"]["all"].as_u64().unwrap() > 0, "no captured frames drawn in the frames chart: {done}");

    viewer.close().await;
    let exit = server.stop(Duration::from_secs(20));
    assert!(exit.is_some_and(|status| status.success()), "motionrender serve did not stop cleanly ({exit:?}):\n{}", server.output());
    let marker = dir.path().to_string_lossy().into_owned();
    let left = processes_mentioning(&marker);
    assert!(left.is_empty(), "processes left behind: {left:?}");
}
