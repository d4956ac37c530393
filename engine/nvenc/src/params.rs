//! What the engine asks of an encode session, from the helper's command line:
//! `--size WxH --fps N/D --preset pN --cq Q --gop G`, or `--probe`.

/// One segment's encode: the picture size, the frame rate, NVENC's preset
/// (1 fastest … 7 slowest), the constant-quality level and the keyframe
/// interval (every GOP closed, starting with an IDR picture).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionParams {
    pub width: u32,
    pub height: u32,
    pub fps_num: u32,
    pub fps_den: u32,
    pub preset: u8,
    pub cq: u8,
    pub gop: u32,
}

/// What the helper was asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Open a real session, encode one picture, say whether NVENC works here.
    Probe,
    /// Encode yuv420p frames from stdin to H.264 (Annex B) on stdout.
    Encode(SessionParams),
}

/// A command line the helper refuses, naming the option.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{option}: {message}")]
pub struct UsageError {
    pub option: String,
    pub message: String,
}

fn usage(option: &str, message: impl Into<String>) -> UsageError {
    UsageError { option: option.to_owned(), message: message.into() }
}

/// Parses the arguments after the program name.
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Command, UsageError> {
    let mut args = args.into_iter();
    let (mut size, mut fps, mut preset, mut cq, mut gop) = (None, None, None, None, None);
    while let Some(option) = args.next() {
        if option == "--probe" {
            return Ok(Command::Probe);
        }
        let value = args.next().ok_or_else(|| usage(&option, "needs a value"))?;
        match option.as_str() {
            "--size" => size = Some(pair(&option, &value, 'x', 16_384)?),
            "--fps" => fps = Some(pair(&option, &value, '/', 1_000_000)?),
            "--preset" => preset = Some(preset_number(&value).ok_or_else(|| usage(&option, format!("{value:?} is not p1..p7")))?),
            "--cq" => cq = Some(number(&option, &value, 1, 51)?),
            "--gop" => gop = Some(number(&option, &value, 1, 100_000)?),
            _ => return Err(usage(&option, "unknown option")),
        }
    }
    let (width, height) = size.ok_or_else(|| usage("--size", "is required"))?;
    if width % 2 != 0 || height % 2 != 0 {
        return Err(usage("--size", format!("{width}x{height}: 4:2:0 needs an even width and height")));
    }
    let (fps_num, fps_den) = fps.ok_or_else(|| usage("--fps", "is required"))?;
    Ok(Command::Encode(SessionParams {
        width,
        height,
        fps_num,
        fps_den,
        preset: preset.ok_or_else(|| usage("--preset", "is required"))?,
        cq: u8::try_from(cq.ok_or_else(|| usage("--cq", "is required"))?).unwrap_or(51),
        gop: gop.ok_or_else(|| usage("--gop", "is required"))?,
    }))
}

fn preset_number(value: &str) -> Option<u8> {
    let n: u8 = value.strip_prefix('p')?.parse().ok()?;
    (1..=7).contains(&n).then_some(n)
}

fn number(option: &str, value: &str, min: u32, max: u32) -> Result<u32, UsageError> {
    match value.parse::<u32>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(usage(option, format!("{value:?} is not a whole number in {min}..={max}"))),
    }
}

fn pair(option: &str, value: &str, separator: char, max: u32) -> Result<(u32, u32), UsageError> {
    let parsed = value.split_once(separator).and_then(|(a, b)| Some((a.parse::<u32>().ok()?, b.parse::<u32>().ok()?)));
    match parsed {
        Some((a, b)) if a > 0 && b > 0 && a <= max && b <= max => Ok((a, b)),
        _ => Err(usage(option, format!("{value:?} is not two whole numbers 1..={max} joined by {separator:?}"))),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn an_encode_line_parses_and_bad_values_name_their_option() {
        let command = parse(args("--size 1920x1080 --fps 30000/1001 --preset p2 --cq 18 --gop 60")).unwrap();
        assert_eq!(
            command,
            Command::Encode(SessionParams { width: 1920, height: 1080, fps_num: 30000, fps_den: 1001, preset: 2, cq: 18, gop: 60 })
        );
        assert_eq!(parse(args("--probe")).unwrap(), Command::Probe);
        for (line, option) in [
            ("--size 1919x1080 --fps 30/1 --preset p2 --cq 18 --gop 60", "--size"),
            ("--size 1920x1080 --fps 30/0 --preset p2 --cq 18 --gop 60", "--fps"),
            ("--size 1920x1080 --fps 30/1 --preset p9 --cq 18 --gop 60", "--preset"),
            ("--size 1920x1080 --fps 30/1 --preset p2 --cq 0 --gop 60", "--cq"),
            ("--size 1920x1080 --fps 30/1 --preset p2 --cq 18", "--gop"),
            ("--size 1920x1080 --fps 30/1 --preset p2 --cq 18 --gop 60 --bframes 2", "--bframes"),
            ("--size", "--size"),
        ] {
            assert_eq!(parse(args(line)).unwrap_err().option, option, "{line}");
        }
    }
}
