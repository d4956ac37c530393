//! `summary.md` (and the same content as `summary.html`, with the plots
//! inline): the machine, the sweep, one table row per point, the
//! recommendation and what the runs could not measure.

use std::fmt::Write as _;
use std::path::Path;

use super::error::TuneError;
use super::point_summary::PointSummary;
use super::recommend::{Recommendation, TargetCheck};
use super::record::{RunLine, SweepRecord, SUMMARY, SUMMARY_HTML};
use super::spec::{policy_name, Deadline};

/// A table: header and rows of cells.
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

/// The summary as blocks that both renderings share.
enum Block {
    Heading(String),
    Text(String),
    Table(Table),
    Code(String),
    Image(String),
}

fn number(value: Option<f64>, digits: usize) -> String {
    value.map_or_else(|| "–".to_owned(), |v| format!("{v:.digits$}"))
}

fn check_text(check: &TargetCheck) -> String {
    let value = number(check.value, 3);
    format!("{} ≤ {}: {} ({})", check.target, check.limit, value, if check.met { "met" } else { "missed" })
}

fn blocks(record: &SweepRecord, points: &[PointSummary], lines: &[RunLine], plots: &[String]) -> Vec<Block> {
    let spec = &record.spec;
    let m = &record.machine;
    let mut out = vec![Block::Heading(format!("Tuning sweep `{}`", spec.name))];
    let deadline = match spec.deadline {
        Deadline::None => "none (throughput)".to_owned(),
        Deadline::Deadline { latency_budget_ms } => format!("deadline, latency budget {latency_budget_ms} ms"),
    };
    out.push(Block::Text(format!(
        "{:?} mode, {} points × {} runs (+{} warm-up), seed {}, pacing: {deadline}. Started {}, took {:.1} s.",
        spec.mode, record.points, record.runs_per_point, record.warmup_per_point, spec.seed, record.started_at, record.wall_seconds
    )));
    out.push(Block::Table(Table {
        header: vec!["machine".into(), "".into()],
        rows: vec![
            vec!["CPU".into(), format!("{} ({} cores)", m.cpu, m.cores)],
            vec!["memory".into(), format!("{} MB", m.memory_mb)],
            vec!["OS".into(), m.os.clone()],
            vec!["git revision".into(), m.git_revision.clone()],
            vec!["build".into(), format!("{} (harness {})", m.build, m.harness_version)],
            vec!["Chromium".into(), m.chromium.clone()],
            vec!["FFmpeg".into(), m.ffmpeg.clone()],
        ],
    }));
    out.push(Block::Heading("Points (medians over runs; ± is the MAD)".to_owned()));
    let cell = |p: &PointSummary, name: &str, scale: f64, digits: usize| match p.metrics.get(name) {
        Some(s) => format!("{:.digits$} ± {:.digits$}", s.median * scale, s.mad * scale),
        None => "–".to_owned(),
    };
    let rows = points
        .iter()
        .map(|p| {
            let q = &p.point;
            let outliers = p.outlier_runs();
            vec![
                p.index.to_string(),
                policy_name(q.drop_policy).to_owned(),
                q.capacity_frames.to_string(),
                format!("{:.0}", q.capacity_bytes as f64 / 1048576.0),
                q.budget_mb.to_string(),
                q.pages.to_string(),
                format!("{} {}x{}@{}", q.preset, q.width, q.height, q.fps),
                cell(p, "drop_rate", 100.0, 2),
                cell(p, "p99_latency_ms", 1.0, 1),
                cell(p, "throughput_fps", 1.0, 1),
                cell(p, "render_time_factor", 1.0, 3),
                cell(p, "blocked_seconds", 1.0, 2),
                cell(p, "peak_memory_mb", 1.0, 0),
                if outliers.is_empty() { "–".to_owned() } else { outliers.iter().map(usize::to_string).collect::<Vec<_>>().join(" ") },
            ]
        })
        .collect();
    out.push(Block::Table(Table {
        header: ["#", "policy", "frames", "MiB", "budget MB", "pages", "encode", "drop %", "p99 ms", "fps", "time factor", "blocked s", "peak MB", "outlier runs"].map(String::from).to_vec(),
        rows,
    }));
    out.push(Block::Heading("Recommendation".to_owned()));
    match &record.recommendation {
        Recommendation::NoTargets => out.push(Block::Text("No targets were given (`[targets]`), so nothing is recommended.".to_owned())),
        Recommendation::Meets { point, key, checks, toml } => {
            out.push(Block::Text(format!("The smallest configuration that meets every target is point {point}, `{key}`: {}.", checks.iter().map(check_text).collect::<Vec<_>>().join("; "))));
            out.push(Block::Text("Paste into the configuration (also in `recommendation.toml`):".to_owned()));
            out.push(Block::Code(toml.clone()));
        }
        Recommendation::NoneMeets { closest, key, checks, best } => {
            out.push(Block::Text(format!("No configuration meets every target. Closest: point {closest}, `{key}`: {}.", checks.iter().map(check_text).collect::<Vec<_>>().join("; "))));
            out.push(Block::Text(format!("Best any point reached, per target: {}.", best.iter().map(check_text).collect::<Vec<_>>().join("; "))));
        }
    }
    if !plots.is_empty() {
        out.push(Block::Heading("Plots".to_owned()));
        for plot in plots.iter().filter(|p| p.ends_with(".svg")) {
            out.push(Block::Image(plot.clone()));
        }
    }
    let mut unmeasured: Vec<&String> = lines.iter().flat_map(|l| l.metrics.not_measured.iter()).collect();
    unmeasured.sort();
    unmeasured.dedup();
    let notes: Vec<String> = unmeasured.into_iter().cloned().chain(record.notes.iter().cloned()).collect();
    if !notes.is_empty() {
        out.push(Block::Heading("Not measured, and notes".to_owned()));
        out.push(Block::Text(notes.iter().map(|n| format!("- {n}")).collect::<Vec<_>>().join("\n")));
    }
    out
}

fn markdown(blocks: &[Block]) -> String {
    let mut md = String::new();
    for (n, block) in blocks.iter().enumerate() {
        match block {
            Block::Heading(text) => {
                let _ = writeln!(md, "{} {text}\n", if n == 0 { "#" } else { "##" });
            }
            Block::Text(text) => {
                let _ = writeln!(md, "{text}\n");
            }
            Block::Code(text) => {
                let _ = writeln!(md, "```toml\n{}```\n", text);
            }
            Block::Image(path) => {
                let _ = writeln!(md, "![{path}]({path})\n");
            }
            Block::Table(table) => {
                let _ = writeln!(md, "| {} |", table.header.join(" | "));
                let _ = writeln!(md, "|{}", "---|".repeat(table.header.len()));
                for row in &table.rows {
                    let _ = writeln!(md, "| {} |", row.join(" | "));
                }
                md.push('\n');
            }
        }
    }
    md
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Inline `code` of the Markdown text as HTML.
fn inline(text: &str) -> String {
    let mut html = String::new();
    for (n, part) in escape(text).split('`').enumerate() {
        if n % 2 == 1 {
            let _ = write!(html, "<code>{part}</code>");
        } else {
            html.push_str(part);
        }
    }
    html
}

fn html(blocks: &[Block]) -> String {
    let mut html = String::from("<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>tuning sweep</title><style>body{font-family:sans-serif;margin:24px;background:#fff;color:#222}table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px}img{display:block;max-width:960px;margin:12px 0;border:1px solid #ddd}pre{background:#f4f4f4;padding:8px}</style></head><body>\n");
    for (n, block) in blocks.iter().enumerate() {
        match block {
            Block::Heading(text) => {
                let tag = if n == 0 { "h1" } else { "h2" };
                let _ = writeln!(html, "<{tag}>{}</{tag}>", inline(text));
            }
            Block::Text(text) => {
                let _ = writeln!(html, "<p>{}</p>", inline(text).replace('\n', "<br>"));
            }
            Block::Code(text) => {
                let _ = writeln!(html, "<pre>{}</pre>", escape(text));
            }
            Block::Image(path) => {
                let _ = writeln!(html, "<img src=\"{}\" alt=\"{}\">", escape(path), escape(path));
            }
            Block::Table(table) => {
                html.push_str("<table><tr>");
                for cell in &table.header {
                    let _ = write!(html, "<th>{}</th>", inline(cell));
                }
                html.push_str("</tr>\n");
                for row in &table.rows {
                    html.push_str("<tr>");
                    for cell in row {
                        let _ = write!(html, "<td>{}</td>", inline(cell));
                    }
                    html.push_str("</tr>\n");
                }
                html.push_str("</table>\n");
            }
        }
    }
    html.push_str("</body></html>\n");
    html
}

/// Writes `summary.md` and `summary.html` into `dir`.
pub fn write_summary(dir: &Path, record: &SweepRecord, points: &[PointSummary], lines: &[RunLine], plots: &[String]) -> Result<(), TuneError> {
    let blocks = blocks(record, points, lines, plots);
    for (name, text) in [(SUMMARY, markdown(&blocks)), (SUMMARY_HTML, html(&blocks))] {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(TuneError::io(&path))?;
    }
    Ok(())
}
