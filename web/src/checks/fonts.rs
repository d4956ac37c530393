//! Fonts the browser falls back to for CJK text and emoji (fontconfig).

use std::path::Path;

use super::{command, Check, Verdict};

/// CJK (Japanese, Chinese, Korean) and emoji coverage.
pub fn checks() -> Vec<Check> {
    let Some(fc_list) = command::on_path("fc-list") else {
        return vec![Check::new("fonts", Verdict::Warn, "fontconfig's fc-list is not on PATH: fonts cannot be checked").advise("apt-get install fontconfig")];
    };
    let cjk: Vec<&str> = ["ja", "zh", "ko"].into_iter().filter(|lang| families(&fc_list, &format!(":lang={lang}")).is_empty()).collect();
    let cjk = if cjk.is_empty() {
        Check::ok("CJK fonts", format!("e.g. {}", first(&families(&fc_list, ":lang=ja"))))
    } else {
        Check::new("CJK fonts", Verdict::Warn, format!("no font for {}: such text renders as empty boxes", cjk.join(", ")))
            .advise("apt-get install fonts-noto-cjk (scripts/setup does it)")
    };
    let emoji = families(&fc_list, ":charset=1f600");
    let emoji = if emoji.is_empty() {
        Check::new("emoji fonts", Verdict::Warn, "no font has emoji: they render as empty boxes").advise("apt-get install fonts-noto-color-emoji (scripts/setup does it)")
    } else {
        Check::ok("emoji fonts", format!("e.g. {}", first(&emoji)))
    };
    vec![cjk, emoji]
}

/// The font families fontconfig lists for `pattern`.
fn families(fc_list: &Path, pattern: &str) -> Vec<String> {
    command::output(fc_list, &[pattern, "family"]).map(|text| text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect()).unwrap_or_default()
}

fn first(families: &[String]) -> String {
    families.iter().min().map(|family| family.split(',').next().unwrap_or(family).to_owned()).unwrap_or_default()
}
