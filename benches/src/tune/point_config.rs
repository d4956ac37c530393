//! A sweep point as the engine's own configuration: the base configuration
//! with the point's keys set, turned into render settings by the engine
//! (`RenderSettings::from_config`), so a run uses the queue bounds, drop
//! policy and memory high-water mark a render with that configuration would.

use motionrender_config::Config;
use motionrender_engine::media::FrameRate;
use motionrender_engine::render::{OutputShape, RenderSettings};

use super::error::TuneError;
use super::spec::{policy_name, Point};

/// `base` with the point's values in `[queue]`, `[memory]`, `[browser]`,
/// `[segments]` and `[encoder]`.
pub fn point_config(base: &Config, point: &Point) -> Config {
    let mut config = base.clone();
    config.queue.drop_policy = point.drop_policy;
    config.queue.capacity_frames = point.capacity_frames;
    config.queue.capacity_bytes = point.capacity_bytes;
    config.memory.budget_mb = point.budget_mb;
    config.browser.pool_size = point.pages;
    config.segments.max_parallel = point.pages;
    config.encoder.preset.clone_from(&point.preset);
    config
}

/// The render settings of `point` on top of `base`, output shape included.
pub fn point_settings(base: &Config, point: &Point) -> Result<RenderSettings, TuneError> {
    let mut settings = RenderSettings::from_config(&point_config(base, point)).map_err(|e| TuneError::Point { point: point.key(), message: e.to_string() })?;
    settings.output = OutputShape { width: Some(point.width), height: Some(point.height), frame_rate: FrameRate::new(point.fps, 1) };
    Ok(settings)
}

/// The configuration keys that select `point`, as TOML to paste into a
/// configuration file.
pub fn point_toml(point: &Point) -> String {
    format!(
        "[queue]\ndrop_policy = \"{}\"\ncapacity_frames = {}\ncapacity_bytes = {}\n\n[memory]\nbudget_mb = {}\n\n[browser]\npool_size = {}\n\n[segments]\nmax_parallel = {}\n\n[encoder]\npreset = \"{}\"\n",
        policy_name(point.drop_policy),
        point.capacity_frames,
        point.capacity_bytes,
        point.budget_mb,
        point.pages,
        point.pages,
        point.preset
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use motionrender_config::DropPolicy;

    use super::*;

    #[test]
    fn the_snippet_is_configuration_that_selects_the_point() {
        let point = Point { drop_policy: DropPolicy::DropOldest, capacity_frames: 12, capacity_bytes: 1 << 20, budget_mb: 512, pages: 2, preset: "faster".to_owned(), width: 640, height: 360, fps: 25 };
        let parsed: Config = toml::from_str(&point_toml(&point)).unwrap();
        assert_eq!(parsed.queue, point_config(&Config::default(), &point).queue);
        assert_eq!(parsed.memory.budget_mb, 512);
        let settings = point_settings(&Config::default(), &point).unwrap();
        assert_eq!((settings.queue.frames(), settings.pages, settings.drop_policy), (12, 2, DropPolicy::DropOldest));
    }
}
