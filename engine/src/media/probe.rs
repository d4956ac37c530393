//! `probe`: what a source video is (upright size, rotation, frame rate, frame
//! count, duration, audio), read with FFprobe; a damaged or truncated file is
//! refused here, before any work starts.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

use super::damage::{client_reason, is_damage};
use super::error::MediaError;
use super::frame_rate::FrameRate;
use super::process::{run_to_end_with_stderr, FFPROBE};

/// What the pipeline needs to know about a source video.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MediaInfo {
    pub path: PathBuf,
    /// The picture's size as displayed: for a source rotated by 90 or 270
    /// degrees, the coded width and height swapped. Decoders deliver frames
    /// of this size, turned upright.
    pub width: u32,
    pub height: u32,
    /// Counter-clockwise degrees (0–359) the coded picture is turned by for
    /// display: the display matrix's rotation (side data), else the legacy
    /// `rotate` tag (which counts clockwise). 0 for most sources.
    pub rotation: u32,
    /// `r_frame_rate` when it agrees with `avg_frame_rate` within 1 %, else
    /// `avg_frame_rate` (variable-rate sources), else whichever is valid.
    pub frame_rate: FrameRate,
    /// Packets of the first video stream an edit list does not discard
    /// (the frames a decoder delivers), else its `nb_frames` header; always
    /// at least 1.
    pub frame_count: u64,
    /// Container duration in seconds (the stream's when the container has none).
    pub duration_seconds: f64,
    pub video_codec: String,
    pub pixel_format: String,
    /// The first audio stream, if any.
    pub audio: Option<AudioInfo>,
    /// Frames a decode can start at without decoding any before them: the
    /// shown key packets, by display position (their time from the first
    /// shown packet's, in frames), ascending. Empty when unknown.
    #[serde(skip)]
    pub keyframes: Vec<u64>,
}

/// The first audio stream of a source.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AudioInfo {
    pub codec: String,
    pub duration_seconds: Option<f64>,
}

impl MediaInfo {
    pub fn has_audio(&self) -> bool {
        self.audio.is_some()
    }
}

#[derive(Deserialize)]
struct ProbeOutput {
    #[serde(default)]
    streams: Vec<ProbeStream>,
    format: Option<ProbeFormat>,
}

#[derive(Deserialize)]
struct ProbeStream {
    codec_type: Option<String>,
    codec_name: Option<String>,
    width: Option<u32>,
    height: Option<u32>,
    pix_fmt: Option<String>,
    r_frame_rate: Option<String>,
    avg_frame_rate: Option<String>,
    nb_frames: Option<String>,
    /// Filled from the second FFprobe pass (packet flags).
    #[serde(skip)]
    packets: Option<Packets>,
    duration: Option<String>,
    #[serde(default)]
    side_data_list: Vec<ProbeSideData>,
    #[serde(default)]
    tags: std::collections::HashMap<String, String>,
}

/// A video stream's packets: all that are in the file, those shown, and
/// the display times (seconds) of the shown key packets.
#[derive(Debug, Default, Clone, PartialEq)]
struct Packets {
    total: u64,
    shown: u64,
    /// The earliest display time of a shown packet.
    first_time: Option<f64>,
    key_times: Vec<f64>,
}

#[derive(Deserialize)]
struct ProbeSideData {
    rotation: Option<f64>,
}

#[derive(Deserialize)]
struct ProbeFormat {
    duration: Option<String>,
}

/// Probes `path` with FFprobe: its streams, then the flags of every packet
/// of its video stream (a demux of the whole file, without decoding, so the
/// frame count is exact; packets an edit list discards, as in a clip cut
/// with `-ss … -c copy`, are not frames).
pub fn probe(path: &Path) -> Result<MediaInfo, MediaError> {
    let metadata = std::fs::metadata(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            MediaError::NotFound {
                path: path.to_owned(),
            }
        } else {
            MediaError::Io {
                path: path.to_owned(),
                source,
            }
        }
    })?;
    if metadata.len() == 0 {
        return Err(MediaError::EmptyFile {
            path: path.to_owned(),
        });
    }

    let (stdout, mut stderr) = ffprobe(path, &["-print_format", "json", "-show_streams", "-show_format"], "probe")?;
    let mut output: ProbeOutput =
        serde_json::from_slice(&stdout).map_err(|source| MediaError::ProbeOutput {
            path: path.to_owned(),
            source,
        })?;
    if let Some(video) = output.streams.iter_mut().find(|s| s.codec_type.as_deref() == Some("video")) {
        let (packets, packets_stderr) = video_packets(path)?;
        video.packets = Some(packets);
        stderr.push_str(&packets_stderr);
    }
    let info = media_info(path, &output)?;
    if let Some(reason) = damage(path, &output, &stderr) {
        return Err(MediaError::DamagedVideo { path: path.to_owned(), reason });
    }
    Ok(info)
}

/// The packets of the first video stream: all of them, those shown (not
/// flagged `D`, discarded by an edit list) and where the shown keyframes
/// are; with FFprobe's complaints.
fn video_packets(path: &Path) -> Result<(Packets, String), MediaError> {
    let (stdout, stderr) = ffprobe(path, &["-select_streams", "v:0", "-show_entries", "packet=pts_time,flags", "-of", "csv=p=0"], "packet count")?;
    Ok((count_packets(&String::from_utf8_lossy(&stdout)), stderr))
}

/// Runs `ffprobe -v error ARGS -i PATH` to its end: its output and
/// complaints. A file FFprobe refuses is [`MediaError::InvalidVideoFormat`].
fn ffprobe(path: &Path, args: &[&str], purpose: &str) -> Result<(Vec<u8>, String), MediaError> {
    let mut command = Command::new(FFPROBE);
    command.args(["-v", "error"]).args(args).arg("-i").arg(path);
    run_to_end_with_stderr(command, &format!("{purpose} of {}", path.display())).map_err(|error| match error {
        MediaError::ProcessFailed { stderr, .. } => MediaError::InvalidVideoFormat { path: path.to_owned(), stderr },
        other => other,
    })
}

/// Counts FFprobe's packets, one a line: its display time and flags
/// (`0.000000,K__`, `N/A,__`, `1.5,_D`, ...).
fn count_packets(lines: &str) -> Packets {
    let mut packets = Packets::default();
    for line in lines.lines().map(str::trim).filter(|l| !l.is_empty()) {
        packets.total += 1;
        let (time, flags) = line.split_once(',').unwrap_or(("N/A", line));
        if flags.contains('D') {
            continue;
        }
        packets.shown += 1;
        let Some(time) = time.parse::<f64>().ok().filter(|t| t.is_finite()) else { continue };
        packets.first_time = Some(packets.first_time.map_or(time, |first| first.min(time)));
        if flags.contains('K') {
            packets.key_times.push(time);
        }
    }
    packets
}

/// The frames the key packets of `packets` show, at `fps`, ascending.
fn keyframes(packets: &Packets, fps: f64) -> Vec<u64> {
    let Some(first) = packets.first_time else { return Vec::new() };
    let mut frames: Vec<u64> = packets.key_times.iter().map(|time| ((time - first) * fps).round().max(0.0) as u64).collect();
    frames.sort_unstable();
    frames.dedup();
    frames
}

/// Why a file FFprobe could read is damaged, if it is: its video stream has
/// fewer packets than its header lists (cut short), or FFprobe complained
/// about the bytes while reading them.
fn damage(path: &Path, output: &ProbeOutput, stderr: &str) -> Option<String> {
    let video = output.streams.iter().find(|s| s.codec_type.as_deref() == Some("video"))?;
    let count = |n: &Option<String>| n.as_deref().and_then(|n| n.parse::<u64>().ok());
    if let (Some(read), Some(listed)) = (video.packets.as_ref().map(|p| p.total), count(&video.nb_frames)) {
        if read < listed {
            return Some(format!("only {read} of the {listed} video frames its header lists are in the file"));
        }
    }
    is_damage(stderr).then(|| client_reason(stderr, path))
}

/// Counter-clockwise display rotation in whole degrees, 0–359.
fn rotation(video: &ProbeStream) -> u32 {
    let counter_clockwise = video
        .side_data_list
        .iter()
        .find_map(|side| side.rotation)
        .or_else(|| video.tags.get("rotate").and_then(|r| r.parse::<f64>().ok()).map(|clockwise| -clockwise))
        .unwrap_or(0.0);
    (counter_clockwise.round() as i64).rem_euclid(360) as u32
}

fn media_info(path: &Path, output: &ProbeOutput) -> Result<MediaInfo, MediaError> {
    let unusable = |detail: &str| MediaError::NoFrames {
        path: path.to_owned(),
        detail: detail.to_owned(),
    };
    if output.streams.is_empty() {
        // FFprobe accepted the bytes but found nothing in them.
        return Err(MediaError::InvalidVideoFormat {
            path: path.to_owned(),
            stderr: "no streams found".to_owned(),
        });
    }
    let video = output
        .streams
        .iter()
        .find(|s| s.codec_type.as_deref() == Some("video"))
        .ok_or_else(|| MediaError::NoVideoStream {
            path: path.to_owned(),
        })?;
    let audio = output
        .streams
        .iter()
        .find(|s| s.codec_type.as_deref() == Some("audio"))
        .map(|s| AudioInfo {
            codec: s.codec_name.clone().unwrap_or_default(),
            duration_seconds: parse_seconds(s.duration.as_deref()),
        });

    let (width, height) = match (video.width, video.height) {
        (Some(w), Some(h)) if w > 0 && h > 0 => (w, h),
        _ => return Err(unusable("no picture size")),
    };
    // FFmpeg turns the picture upright while decoding: the frames a decoder
    // delivers have the displayed size.
    let rotation = rotation(video);
    let (width, height) = if rotation % 180 == 90 { (height, width) } else { (width, height) };
    let frame_rate = choose_frame_rate(
        video.r_frame_rate.as_deref().and_then(FrameRate::parse),
        video.avg_frame_rate.as_deref().and_then(FrameRate::parse),
    )
    .ok_or_else(|| unusable("no frame rate"))?;
    let frame_count = video
        .packets
        .as_ref()
        .map(|p| p.shown)
        .or_else(|| video.nb_frames.as_deref().and_then(|n| n.parse::<u64>().ok()))
        .unwrap_or(0);
    if frame_count == 0 {
        return Err(unusable("zero frames"));
    }
    let duration_seconds = parse_seconds(output.format.as_ref().and_then(|f| f.duration.as_deref()))
        .or_else(|| parse_seconds(video.duration.as_deref()))
        .unwrap_or_else(|| frame_rate.frame_time(frame_count));

    Ok(MediaInfo {
        path: path.to_owned(),
        width,
        height,
        rotation,
        frame_rate,
        frame_count,
        duration_seconds,
        video_codec: video.codec_name.clone().unwrap_or_default(),
        pixel_format: video.pix_fmt.clone().unwrap_or_default(),
        audio,
        keyframes: video.packets.as_ref().map(|p| keyframes(p, frame_rate.as_f64())).unwrap_or_default(),
    })
}

fn choose_frame_rate(real: Option<FrameRate>, average: Option<FrameRate>) -> Option<FrameRate> {
    match (real, average) {
        (Some(r), Some(a)) => {
            if (r.as_f64() - a.as_f64()).abs() <= 0.01 * a.as_f64() {
                Some(r)
            } else {
                Some(a)
            }
        }
        (r, a) => r.or(a),
    }
}

fn parse_seconds(text: Option<&str>) -> Option<f64> {
    text.and_then(|t| t.parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counted(lines: &str) -> (u64, u64) {
        let packets = count_packets(lines);
        (packets.total, packets.shown)
    }

    #[test]
    fn packets_an_edit_list_discards_are_counted_but_not_shown() {
        assert_eq!(counted("-0.1,KD\n0.0,_D\n0.03,_D\n0.1,K_\n0.13,__\n0.16,__\n"), (6, 3));
        assert_eq!(counted(""), (0, 0));
        assert_eq!(counted("N/A,K_\n\nN/A,__C\n"), (2, 2));
    }

    #[test]
    fn keyframes_are_the_shown_key_packets_counted_in_frames_from_the_first_shown_one() {
        // Decode order: a keyframe the edit list hides, then B-frames shown
        // before the P-frame that precedes them in the file.
        let packets = count_packets("0.9,KD\n1.0,K__\n1.3,___\n1.1,___\n1.2,___\n1.4,K__\nN/A,K__\n1.8,K__\n");
        assert_eq!(keyframes(&packets, 10.0), vec![0, 4, 8]);
        assert!(keyframes(&count_packets("N/A,K__\n"), 10.0).is_empty());
    }
}
