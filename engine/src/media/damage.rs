//! Damaged input told apart in FFmpeg's stderr, and FFmpeg's words made fit
//! to show a client: the file by its name, no server path, no addresses.

use std::path::Path;

/// What FFmpeg and FFprobe say, in lower case, when the bytes of a source
/// are damaged or missing (as opposed to a crash, a kill or a full disk).
const DAMAGE_MARKERS: &[&str] = &[
    "partial file",
    "invalid data found",
    "invalid nal unit",
    "moov atom not found",
    "corrupt",
    "missing picture",
    "error splitting the input",
    "error while decoding",
    "truncat",
    "error reading header",
    "non-existing pps",
    "could not find codec parameters",
    "no frame!",
];

/// Longest reason shown to a client, in bytes.
const REASON_BYTES: usize = 300;

/// Whether `stderr` says the input is damaged.
pub(crate) fn is_damage(stderr: &str) -> bool {
    let lower = stderr.to_lowercase();
    DAMAGE_MARKERS.iter().any(|marker| lower.contains(marker))
}

/// The last part of `path`, as shown in messages (the whole path when it has none).
pub(crate) fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(|| path.display().to_string(), |name| name.to_string_lossy().into_owned())
}

/// FFmpeg's first few distinct complaints, without the `[h264 @ 0x…]`
/// prefixes and with every absolute path replaced by its file name.
pub(crate) fn client_reason(stderr: &str, path: &Path) -> String {
    let (full, name) = (path.display().to_string(), file_name(path));
    let mut lines: Vec<String> = Vec::new();
    for line in stderr.lines() {
        let line = without_context(line.trim()).replace(&full, &name);
        let line = line.split(' ').map(without_directories).collect::<Vec<_>>().join(" ");
        if !line.is_empty() && !lines.contains(&line) {
            lines.push(line);
        }
        if lines.len() == 3 {
            break;
        }
    }
    let mut reason = lines.join("; ");
    if reason.len() > REASON_BYTES {
        let mut end = REASON_BYTES;
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        reason.truncate(end);
        reason.push('…');
    }
    if reason.is_empty() {
        "FFmpeg could not read it".to_owned()
    } else {
        reason
    }
}

/// A line without its leading `[component @ 0xADDRESS] ` (also when the
/// stderr tail cut the line's start off: `64 @ 0x55…] `).
fn without_context(line: &str) -> &str {
    // A prefix the stderr tail cut at its start: `@ 0x…] message`.
    if let Some(rest) = line.strip_prefix("@ 0x").and_then(|rest| rest.split_once("] ")) {
        return rest.1.trim_start();
    }
    let Some(at) = line.find(" @ 0x") else { return line };
    match line[at..].find("] ") {
        Some(close) if !line[..at].contains(' ') => line[at + close + 2..].trim_start(),
        _ => line,
    }
}

/// A word that is a path (`/a/b/c.mp4:`, or `rk/a/c.mp4` where the stderr
/// tail cut it) as its last part (`c.mp4:`); a ratio like `1/25` stays.
fn without_directories(word: &str) -> String {
    if word.matches('/').count() >= 2 {
        word.rsplit('/').next().unwrap_or_default().to_owned()
    } else {
        word.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn damage_is_told_from_other_failures() {
        assert!(is_damage("[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55] stream 1, offset 0xeb22: partial file"));
        assert!(is_damage("Error while decoding stream #0:0: Invalid data found when processing input"));
        assert!(!is_damage(""), "a killed process says nothing");
        assert!(!is_damage("Conversion failed!"));
    }

    #[test]
    fn the_reason_shows_no_path_no_address_and_no_repeats() {
        let path = Path::new("/srv/data/work/jobs/j1/input/clip.mp4");
        let stderr = "[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55b6300f7180] moov atom not found\n\
                      /srv/data/work/jobs/j1/input/clip.mp4: Invalid data found when processing input\n\
                      [mov,mp4,m4a,3gp,3g2,mj2 @ 0x55b6300f7181] moov atom not found\n\
                      Error opening /srv/other/place/x.mp4 failed";
        let reason = client_reason(stderr, path);
        assert_eq!(reason, "moov atom not found; clip.mp4: Invalid data found when processing input; Error opening x.mp4 failed");
    }

    #[test]
    fn a_line_whose_start_the_tail_cut_off_loses_its_context_too() {
        let reason = client_reason("64 @ 0x564822ddc300] Error splitting the input into NAL units.\nError while decoding", Path::new("/a/b.mp4"));
        assert_eq!(reason, "Error splitting the input into NAL units.; Error while decoding");
        assert_eq!(without_context("size 1 @ 0x10] is kept"), "size 1 @ 0x10] is kept", "only a leading context is dropped");
        assert_eq!(client_reason("rk/jobs/j1/input/clip.mp4: partial file at 1/25", Path::new("/srv/work/jobs/j1/input/clip.mp4")), "clip.mp4: partial file at 1/25");
    }

    #[test]
    fn a_long_reason_is_cut_on_a_character_boundary() {
        let reason = client_reason(&"é".repeat(400), Path::new("/a/b.mp4"));
        assert!(reason.len() <= REASON_BYTES + '…'.len_utf8() && reason.ends_with('…'));
    }
}
