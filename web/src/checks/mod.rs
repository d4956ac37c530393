//! What a render needs from the machine, checked: Chromium (which binary,
//! its version, beginFrame capture), FFmpeg and its encoders, the browser
//! page and its npm packages, fonts for CJK and emoji, the work and data
//! folders, NVENC, S3 and the alert webhook when configured. `motionrender
//! doctor` prints every check; `render` and `serve` run the required ones
//! first and refuse to start with the same advice; `/readyz` answers with
//! them. A check only looks: it creates and leaves nothing.

mod chromium;
mod command;
mod fonts;
mod folders;
mod media;
mod page;
mod services;

use motionrender_config::Config;

/// What a check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Present and usable.
    Ok,
    /// Usable, but something is missing or slower than it could be.
    Warn,
    /// A render cannot run.
    Fail,
    /// Not configured, so not checked.
    Skip,
}

impl Verdict {
    fn label(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Warn => "warn",
            Self::Fail => "FAIL",
            Self::Skip => "skip",
        }
    }
}

/// One checked part, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// The part checked, e.g. `chromium`, `page packages`.
    pub part: &'static str,
    pub verdict: Verdict,
    /// What was found.
    pub detail: String,
    /// What to do, when something is to be done.
    pub advice: Option<String>,
}

impl Check {
    fn new(part: &'static str, verdict: Verdict, detail: impl Into<String>) -> Self {
        Self { part, verdict, detail: detail.into(), advice: None }
    }

    fn ok(part: &'static str, detail: impl Into<String>) -> Self {
        Self::new(part, Verdict::Ok, detail)
    }

    fn fail(part: &'static str, detail: impl Into<String>, advice: impl Into<String>) -> Self {
        Self::new(part, Verdict::Fail, detail).advise(advice)
    }

    fn advise(mut self, advice: impl Into<String>) -> Self {
        self.advice = Some(advice.into());
        self
    }

    /// The finding and the advice on one line: `page packages: … are
    /// missing in DIR; run npm ci --prefix DIR`.
    pub fn summary(&self) -> String {
        match &self.advice {
            Some(advice) => format!("{}: {}; {advice}", self.part, self.detail),
            None => format!("{}: {}", self.part, self.detail),
        }
    }

    /// The line `doctor` prints.
    pub fn line(&self) -> String {
        format!("{:<5} {}", self.verdict.label(), self.summary())
    }
}

/// What the checks are for: a one-shot render, or a service that also
/// keeps a job store and outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Render,
    Serve,
}

/// The checks without which no render can run; quick (no process started
/// but FFmpeg's encoder list), so `render` and `serve` run them first.
pub fn required(config: &Config, purpose: Purpose) -> Vec<Check> {
    let mut checks = vec![chromium::executable(config).0];
    checks.extend(media::tools());
    checks.push(media::x264());
    checks.extend(page::checks(config));
    checks.extend(folders::checks(config, purpose));
    checks
}

/// Every check `doctor` makes, in the order it prints them. Blocking (it
/// runs tools and asks S3): call it from a thread that may block.
pub fn all(config: &Config) -> Vec<Check> {
    let (executable, found) = chromium::executable(config);
    let mut checks = vec![executable];
    if let Some(path) = found {
        checks.push(chromium::version(&path));
        checks.push(chromium::begin_frame(&path));
    }
    checks.extend(media::tools());
    checks.push(media::x264());
    checks.push(media::nvenc(config));
    checks.extend(page::checks(config));
    checks.extend(page::plugins(config));
    checks.extend(fonts::checks());
    checks.extend(folders::checks(config, Purpose::Serve));
    match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => {
            checks.push(runtime.block_on(services::redis(config)));
            checks.push(runtime.block_on(services::s3(config)));
            checks.push(runtime.block_on(services::alert_webhook(config)));
        }
        Err(error) => checks.push(Check::new("services", Verdict::Warn, format!("cannot check S3 and the alert webhook: {error}"))),
    }
    checks
}

/// The first failed check of the required ones, as one line of advice.
pub fn refusal(config: &Config, purpose: Purpose) -> Option<String> {
    required(config, purpose).into_iter().find(|check| check.verdict == Verdict::Fail).map(|check| check.summary())
}

/// Whether every check passed (warnings and skips allowed).
pub fn all_pass(checks: &[Check]) -> bool {
    checks.iter().all(|check| check.verdict != Verdict::Fail)
}
