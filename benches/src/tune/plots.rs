//! The sweep's plots, each as SVG and PNG under `plots/`: drop rate vs
//! capacity per policy, p99 latency vs throughput, queue depth over time for
//! chosen runs, peak memory vs capacity, render-time factor vs pages.
//!
//! Text is drawn with a TrueType font found on the machine (DejaVu Sans from
//! `fonts-dejavu-core`, or `$MOTIONRENDER_TUNE_FONT`); without one, no plot
//! is drawn and the summary says why.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use motionrender_config::DropPolicy;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::error::TuneError;
use super::point_summary::PointSummary;
use super::record::RunLine;
use super::spec::{policy_name, Point, SweepSpec};

const WIDTH: u32 = 960;
const HEIGHT: u32 = 600;

/// Fonts tried in order after `$MOTIONRENDER_TUNE_FONT`.
const FONT_FILES: [&str; 4] = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
];

/// The plots drawn, relative to the run folder, and why any were not.
#[derive(Debug, Default)]
pub struct Plots {
    pub files: Vec<String>,
    pub notes: Vec<String>,
}

/// One curve or set of markers.
struct Series {
    label: String,
    color: RGBColor,
    points: Vec<(f64, f64)>,
    joined: bool,
}

struct Chart {
    name: &'static str,
    title: String,
    x_label: &'static str,
    y_label: &'static str,
    series: Vec<Series>,
}

/// Draws every plot the sweep has data for into `dir/plots/`.
pub fn draw_plots(dir: &Path, spec: &SweepSpec, points: &[PointSummary], lines: &[RunLine]) -> Result<Plots, TuneError> {
    let mut plots = Plots::default();
    if let Err(reason) = font() {
        plots.notes.push(format!("no plots: {reason}"));
        return Ok(plots);
    }
    let folder = dir.join("plots");
    std::fs::create_dir_all(&folder).map_err(TuneError::io(&folder))?;
    let charts = [
        by_capacity(points, "drop_rate_vs_capacity", "Drop rate vs queue capacity", "drop rate (%)", |p| p.median("drop_rate").map(|v| v * 100.0)),
        latency_vs_throughput(points),
        queue_depth(spec, lines),
        by_capacity(points, "peak_memory_vs_capacity", "Peak memory (engine + Chromium) vs queue capacity", "peak memory (MB)", |p| p.median("peak_memory_mb")),
        factor_vs_pages(points),
    ];
    for chart in charts {
        if chart.series.iter().all(|s| s.points.is_empty()) {
            plots.notes.push(format!("{}: nothing to draw (the runs did not measure it)", chart.name));
            continue;
        }
        for (extension, draw) in [("svg", draw_svg as fn(&Chart, &Path) -> Result<(), String>), ("png", draw_png)] {
            let path = folder.join(format!("{}.{extension}", chart.name));
            draw(&chart, &path).map_err(|message| TuneError::Plot { file: path.display().to_string(), message })?;
            plots.files.push(format!("plots/{}.{extension}", chart.name));
        }
    }
    Ok(plots)
}

/// Registers the first font found, once per process.
fn font() -> Result<(), String> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            let mut candidates: Vec<PathBuf> = std::env::var_os("MOTIONRENDER_TUNE_FONT").map(PathBuf::from).into_iter().collect();
            candidates.extend(FONT_FILES.iter().map(PathBuf::from));
            let Some((path, bytes)) = candidates.iter().find_map(|p| std::fs::read(p).ok().map(|b| (p.clone(), b))) else {
                return Err(format!("no TrueType font found (tried $MOTIONRENDER_TUNE_FONT, {}); install fonts-dejavu-core", FONT_FILES.join(", ")));
            };
            let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
            plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).map_err(|_| format!("{} is not a usable font", path.display()))
        })
        .clone()
}

fn policy_color(policy: DropPolicy, variant: usize) -> RGBColor {
    let (r, g, b) = match policy {
        DropPolicy::Block => (0x2f, 0x7d, 0xe1),
        DropPolicy::DropNewest => (0xe8, 0x74, 0x3b),
        DropPolicy::DropOldest => (0x19, 0xa9, 0x79),
    };
    // Later variants of a policy are darker shades of its colour.
    let shade = |c: u8| (f64::from(c) * 0.82f64.powi(variant.min(6) as i32)) as u8;
    RGBColor(shade(r), shade(g), shade(b))
}

/// Whether `p` has the first swept value of every parameter except those `free` names.
fn at_base(p: &Point, base: &Point, free: &[&str]) -> bool {
    let same = |name: &str, equal: bool| free.contains(&name) || equal;
    same("capacity_frames", p.capacity_frames == base.capacity_frames)
        && same("capacity_bytes", p.capacity_bytes == base.capacity_bytes)
        && same("budget_mb", p.budget_mb == base.budget_mb)
        && same("pages", p.pages == base.pages)
        && same("preset", p.preset == base.preset)
        && same("size", (p.width, p.height) == (base.width, base.height))
        && same("fps", p.fps == base.fps)
}

fn distinct<T: PartialEq + Copy>(values: impl Iterator<Item = T>) -> Vec<T> {
    let mut found = Vec::new();
    for value in values {
        if !found.contains(&value) {
            found.push(value);
        }
    }
    found
}

/// A metric's median against queue frames, one curve per policy and page count.
fn by_capacity(points: &[PointSummary], name: &'static str, title: &str, y_label: &'static str, value: fn(&PointSummary) -> Option<f64>) -> Chart {
    let mut series = Vec::new();
    if let Some(base) = points.first().map(|p| p.point.clone()) {
        for policy in distinct(points.iter().map(|p| p.point.drop_policy)) {
            for (variant, pages) in distinct(points.iter().map(|p| p.point.pages)).into_iter().enumerate() {
                let mut curve: Vec<(f64, f64)> = points
                    .iter()
                    .filter(|p| p.point.drop_policy == policy && p.point.pages == pages && at_base(&p.point, &base, &["capacity_frames", "pages"]))
                    .filter_map(|p| value(p).map(|v| (f64::from(p.point.capacity_frames), v)))
                    .collect();
                curve.sort_by(|a, b| a.0.total_cmp(&b.0));
                series.push(Series { label: format!("{}, {pages} page(s)", policy_name(policy)), color: policy_color(policy, variant), points: curve, joined: true });
            }
        }
    }
    Chart { name, title: title.to_owned(), x_label: "queue capacity (frames)", y_label, series }
}

fn latency_vs_throughput(points: &[PointSummary]) -> Chart {
    let series = distinct(points.iter().map(|p| p.point.drop_policy))
        .into_iter()
        .map(|policy| Series {
            label: policy_name(policy).to_owned(),
            color: policy_color(policy, 0),
            points: points
                .iter()
                .filter(|p| p.point.drop_policy == policy)
                .filter_map(|p| Some((p.median("throughput_fps")?, p.median("p99_latency_ms")?)))
                .collect(),
            joined: false,
        })
        .collect();
    Chart { name: "p99_latency_vs_throughput", title: "p99 latency vs throughput (one marker per point)".to_owned(), x_label: "throughput (fps)", y_label: "p99 latency (ms)", series }
}

/// The first run of the chosen points (default: per policy, the point with the most queue frames).
fn queue_depth(spec: &SweepSpec, lines: &[RunLine]) -> Chart {
    let chosen: Vec<usize> = if spec.plots.depth_points.is_empty() {
        distinct(lines.iter().map(|l| l.params.drop_policy))
            .into_iter()
            .filter_map(|policy| lines.iter().filter(|l| l.params.drop_policy == policy).max_by_key(|l| (l.params.capacity_frames, std::cmp::Reverse(l.point))).map(|l| l.point))
            .collect()
    } else {
        spec.plots.depth_points.clone()
    };
    let series = chosen
        .iter()
        .enumerate()
        .filter_map(|(n, &point)| {
            let line = lines.iter().find(|l| l.point == point && l.run == 0)?;
            let depth = line.metrics.queue_depth.as_ref()?;
            Some(Series {
                label: format!("point {point}: {}, {} frames, {} page(s)", policy_name(line.params.drop_policy), line.params.capacity_frames, line.params.pages),
                color: policy_color(line.params.drop_policy, n / 3),
                points: depth.iter().map(|&(t, d)| (t, d as f64)).collect(),
                joined: true,
            })
        })
        .collect();
    Chart { name: "queue_depth_over_time", title: "Queue depth over time (all pages, first run)".to_owned(), x_label: "time (s)", y_label: "frames queued", series }
}

fn factor_vs_pages(points: &[PointSummary]) -> Chart {
    let mut series = Vec::new();
    if let Some(base) = points.first().map(|p| p.point.clone()) {
        for policy in distinct(points.iter().map(|p| p.point.drop_policy)) {
            for (variant, frames) in distinct(points.iter().map(|p| p.point.capacity_frames)).into_iter().enumerate() {
                let mut curve: Vec<(f64, f64)> = points
                    .iter()
                    .filter(|p| p.point.drop_policy == policy && p.point.capacity_frames == frames && at_base(&p.point, &base, &["capacity_frames", "pages"]))
                    .filter_map(|p| p.median("render_time_factor").map(|v| (f64::from(p.point.pages), v)))
                    .collect();
                curve.sort_by(|a, b| a.0.total_cmp(&b.0));
                series.push(Series { label: format!("{}, {frames} frames", policy_name(policy)), color: policy_color(policy, variant), points: curve, joined: true });
            }
        }
    }
    Chart { name: "render_time_factor_vs_pages", title: "Render time / video duration vs pages".to_owned(), x_label: "pages", y_label: "render-time factor", series }
}

/// The range of `values` with a margin; a single value gets a unit around it.
fn range(values: impl Iterator<Item = f64>, from_zero: bool) -> std::ops::Range<f64> {
    let (mut low, mut high) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| (l.min(v), h.max(v)));
    if !low.is_finite() {
        return 0.0..1.0;
    }
    if from_zero {
        low = low.min(0.0);
    }
    if high - low < 1e-9 {
        high = low + 1.0;
    }
    let margin = (high - low) * 0.05;
    (if from_zero && low >= 0.0 { low } else { low - margin })..(high + margin)
}

fn draw_chart<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, chart: &Chart) -> Result<(), String> {
    let error = |e: &dyn std::fmt::Display| e.to_string();
    root.fill(&WHITE).map_err(|e| error(&e))?;
    let xs = range(chart.series.iter().flat_map(|s| s.points.iter().map(|p| p.0)), false);
    let ys = range(chart.series.iter().flat_map(|s| s.points.iter().map(|p| p.1)), true);
    let mut context = ChartBuilder::on(root)
        .caption(&chart.title, ("sans-serif", 24))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(72)
        .build_cartesian_2d(xs, ys)
        .map_err(|e| error(&e))?;
    // Counts (frames, pages) are labelled without decimals.
    let whole = chart.series.iter().flat_map(|s| s.points.iter()).all(|p| p.0.fract() == 0.0);
    let whole_label = |v: &f64| if (v - v.round()).abs() < 1e-9 { format!("{v:.0}") } else { String::new() };
    let decimal_label = |v: &f64| format!("{v:.1}");
    let x_format: &dyn Fn(&f64) -> String = if whole { &whole_label } else { &decimal_label };
    context
        .configure_mesh()
        .x_label_formatter(x_format)
        .x_desc(chart.x_label)
        .y_desc(chart.y_label)
        .label_style(("sans-serif", 15))
        .axis_desc_style(("sans-serif", 17))
        .draw()
        .map_err(|e| error(&e))?;
    for series in chart.series.iter().filter(|s| !s.points.is_empty()) {
        let color = series.color;
        let style = color.stroke_width(3);
        let drawn = if series.joined {
            context.draw_series(LineSeries::new(series.points.iter().copied(), style)).map_err(|e| error(&e))?
        } else {
            context.draw_series(series.points.iter().map(|&p| Circle::new(p, 6, color.filled()))).map_err(|e| error(&e))?
        };
        drawn.label(series.label.clone()).legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 20, y + 5)], color.filled()));
        if series.joined && series.points.len() <= 30 {
            context.draw_series(series.points.iter().map(|&p| Circle::new(p, 4, color.filled()))).map_err(|e| error(&e))?;
        }
    }
    context
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 15))
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(|e| error(&e))?;
    root.present().map_err(|e| error(&e))
}

fn draw_svg(chart: &Chart, path: &Path) -> Result<(), String> {
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, (WIDTH, HEIGHT)).into_drawing_area();
        draw_chart(&root, chart)?;
    }
    std::fs::write(path, text).map_err(|e| e.to_string())
}

fn draw_png(chart: &Chart, path: &Path) -> Result<(), String> {
    let mut pixels = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (WIDTH, HEIGHT)).into_drawing_area();
        draw_chart(&root, chart)?;
    }
    let file = std::fs::File::create(path).map_err(|e| e.to_string())?;
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), WIDTH, HEIGHT);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
    writer.write_image_data(&pixels).map_err(|e| e.to_string())
}
