//! `merge_segments`: joins encoded segment files into the final MP4 without re-encoding, with the source's audio copied unchanged.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::error::MediaError;
use super::process::{run_to_end, FFMPEG};

/// Concatenates `segments` (in order) with FFmpeg's concat demuxer and
/// `-c copy`, adds the audio streams of `source_with_audio` when `has_audio`,
/// and writes `out` as an MP4 with `+faststart`.
///
/// The output is first written to a hidden temporary name beside `out` and
/// renamed into place only on success, so a failure leaves no partial `out`
/// (and removes the temporary files).
pub fn merge_segments(
    segments: &[PathBuf],
    source_with_audio: &Path,
    out: &Path,
    has_audio: bool,
) -> Result<(), MediaError> {
    if segments.is_empty() {
        return Err(MediaError::InvalidArgument(format!(
            "no segments to merge into {}",
            out.display()
        )));
    }
    let file_name = out
        .file_name()
        .ok_or_else(|| {
            MediaError::InvalidArgument(format!("output path {} has no file name", out.display()))
        })?
        .to_string_lossy()
        .into_owned();
    let directory = out.parent().unwrap_or(Path::new("."));
    let partial = directory.join(format!(".{file_name}.partial"));
    let list = directory.join(format!(".{file_name}.concat.txt"));

    let result = write_list(segments, &list).and_then(|()| {
        let mut command = Command::new(FFMPEG);
        command
            .args([
                "-nostdin", "-y", "-v", "error", "-f", "concat", "-safe", "0", "-i",
            ])
            .arg(&list);
        if has_audio {
            command.arg("-i").arg(source_with_audio);
        }
        command.args(["-map", "0:v"]);
        if has_audio {
            command.args(["-map", "1:a?"]);
        }
        command
            .args(["-c", "copy", "-movflags", "+faststart", "-f", "mp4"])
            .arg(&partial);
        run_to_end(command, &format!("merger of {}", out.display()))?;
        fs::rename(&partial, out).map_err(|source| MediaError::Io {
            path: out.to_owned(),
            source,
        })
    });
    let _ = fs::remove_file(&list);
    if result.is_err() {
        let _ = fs::remove_file(&partial);
    }
    result
}

/// Writes the concat demuxer's list: one `file '<absolute path>'` line per segment.
fn write_list(segments: &[PathBuf], list: &Path) -> Result<(), MediaError> {
    let mut text = String::from("ffconcat version 1.0\n");
    for segment in segments {
        let absolute = fs::canonicalize(segment).map_err(|source| MediaError::Io {
            path: segment.clone(),
            source,
        })?;
        let quoted = absolute
            .to_str()
            .filter(|p| !p.contains(['\n', '\r']))
            .ok_or_else(|| {
                MediaError::InvalidArgument(format!(
                    "segment path {} cannot be written to a concat list",
                    segment.display()
                ))
            })?;
        text.push_str(&format!("file '{}'\n", quoted.replace('\'', r"'\''")));
    }
    fs::write(list, text).map_err(|source| MediaError::Io {
        path: list.to_owned(),
        source,
    })
}
