//! A request's `options` turned into render settings, each bad value
//! refused with the field it came from.

use motionrender_config::{Config, DropPolicy, EncoderChoice};
use motionrender_engine::media::{nvenc_preset, FrameRate};
use motionrender_engine::render::{OutputShape, RenderSettings};

use super::error::ApiError;
use crate::job::RenderOptions;

const BAD_OPTIONS: &str = "INVALID_RENDER_OPTIONS";

/// The settings a job renders with: configuration, then its options.
pub fn render_settings(config: &Config, options: &RenderOptions) -> Result<RenderSettings, ApiError> {
    let mut settings = RenderSettings::from_config(config).map_err(|e| ApiError::internal(format!("[queue] configuration: {e}")))?;
    if let Some(quality) = options.quality {
        if !(1..=100).contains(&quality) {
            return Err(ApiError::field(BAD_OPTIONS, "options.quality", format!("must be 1..=100, got {quality}")));
        }
        settings.quality = quality;
    }
    if let Some(format) = &options.format {
        if format != "mp4" {
            return Err(ApiError::field(BAD_OPTIONS, "options.format", format!("only \"mp4\" is supported, got {format:?}")));
        }
    }
    if let Some(encoder) = &options.encoder {
        settings.encoder = match encoder.as_str() {
            "auto" => EncoderChoice::Auto,
            "nvenc" => EncoderChoice::Nvenc,
            "x264" => EncoderChoice::X264,
            other => return Err(ApiError::field(BAD_OPTIONS, "options.encoder", format!("must be auto, nvenc or x264, got {other:?}"))),
        };
    }
    if let Some(preset) = &options.preset {
        if nvenc_preset(preset).is_none() {
            return Err(ApiError::field(BAD_OPTIONS, "options.preset", format!("unknown preset {preset:?} (ultrafast … veryslow)")));
        }
        settings.preset.clone_from(preset);
    }
    if let Some(policy) = &options.drop_policy {
        settings.drop_policy = match policy.as_str() {
            "block" => DropPolicy::Block,
            "drop_newest" => DropPolicy::DropNewest,
            "drop_oldest" => DropPolicy::DropOldest,
            other => {
                return Err(ApiError::field(BAD_OPTIONS, "options.dropPolicy", format!("must be block, drop_newest or drop_oldest, got {other:?}")))
            }
        };
    }
    let frame_rate = options.fps.map(frame_rate).transpose()?;
    for (field, side) in [("options.width", options.width), ("options.height", options.height)] {
        if let Some(side) = side {
            if !(16..=8192).contains(&side) || side % 2 != 0 {
                return Err(ApiError::field(BAD_OPTIONS, field, format!("must be even and within 16..=8192, got {side}")));
            }
        }
    }
    settings.output = OutputShape { width: options.width, height: options.height, frame_rate };
    Ok(settings)
}

/// `30` → 30/1, `29.97` → 30000/1001, others to the millisecond.
fn frame_rate(fps: f64) -> Result<FrameRate, ApiError> {
    let refuse = || ApiError::field(BAD_OPTIONS, "options.fps", format!("must be within 1..=240, got {fps}"));
    if !(fps.is_finite() && (1.0..=240.0).contains(&fps)) {
        return Err(refuse());
    }
    let ntsc = [(23.976, 24000), (29.97, 30000), (59.94, 60000)];
    if let Some((_, num)) = ntsc.iter().find(|(rate, _)| (fps - rate).abs() < 0.005) {
        return FrameRate::new(*num, 1001).ok_or_else(refuse);
    }
    if fps.fract() == 0.0 {
        return FrameRate::new(fps as u32, 1).ok_or_else(refuse);
    }
    FrameRate::new((fps * 1000.0).round() as u32, 1000).ok_or_else(refuse)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn options(value: serde_json::Value) -> RenderOptions {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn options_override_the_configuration() {
        let config = Config::default();
        let settings = render_settings(&config, &options(serde_json::json!({
            "quality": 70, "encoder": "x264", "preset": "fast", "dropPolicy": "drop_oldest", "width": 1280, "fps": 29.97
        })))
        .unwrap();
        assert_eq!((settings.quality, settings.preset.as_str()), (70, "fast"));
        assert_eq!(settings.drop_policy, DropPolicy::DropOldest);
        assert_eq!(settings.output.width, Some(1280));
        assert_eq!(settings.output.frame_rate, FrameRate::new(30000, 1001));
    }

    #[test]
    fn each_bad_option_is_refused_by_its_field() {
        let config = Config::default();
        for (body, field) in [
            (serde_json::json!({ "quality": 0 }), "options.quality"),
            (serde_json::json!({ "format": "webm" }), "options.format"),
            (serde_json::json!({ "encoder": "vp9" }), "options.encoder"),
            (serde_json::json!({ "preset": "warp" }), "options.preset"),
            (serde_json::json!({ "dropPolicy": "sometimes" }), "options.dropPolicy"),
            (serde_json::json!({ "width": 1281 }), "options.width"),
            (serde_json::json!({ "fps": 0.5 }), "options.fps"),
        ] {
            let error = render_settings(&config, &options(body.clone())).unwrap_err();
            assert_eq!(error.error_code, BAD_OPTIONS, "{body}");
            assert!(error.error_message.starts_with(field), "{body}: {}", error.error_message);
        }
    }
}
