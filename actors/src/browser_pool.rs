//! BrowserPool: owns the warm headless Chromium processes shared by jobs.
//! It leases a browser to each page a job runs (health-checking an idle one
//! first, launching one when none is idle and the pool has room), takes it
//! back when the job is done, replaces a crashed or hung browser, keeps at
//! least `browser.min_idle` warm, closes idle ones after
//! `browser.idle_timeout_secs`, and drops its idle browsers when the
//! backpressure controller says memory is short. Each job opens its own page
//! on a leased browser and closes it, so no scenario, plugin or page state
//! reaches the next job.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use motionrender_engine::browser::{HeadlessBrowser, LaunchOptions};
use motionrender_engine::render::RenderError;
use tokio::sync::oneshot;

use crate::metrics::Metrics;

const MAILBOX: usize = 64;
/// How often idle browsers are checked against the idle timeout and the minimum.
const TICK: Duration = Duration::from_secs(2);
/// How long a health check of an idle browser may take.
const HEALTH_CHECK: Duration = Duration::from_secs(3);

/// What the pool needs to know.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// Browsers alive at most (leased, idle or starting).
    pub capacity: u32,
    pub min_idle: u32,
    pub idle_timeout: Duration,
    pub launch: LaunchOptions,
}

/// A browser leased to one page of a job; dropping it without
/// [`Lease::release`] kills the browser and tells the pool.
#[derive(Debug)]
pub struct Lease {
    browser: Option<HeadlessBrowser>,
    /// Whether this lease launched the browser (else it was warm).
    pub launched: bool,
    pool: Addr<BrowserPool>,
}

impl Lease {
    pub fn browser(&self) -> Option<&HeadlessBrowser> {
        self.browser.as_ref()
    }

    /// Hands the browser back: to be reused when `healthy`, else replaced.
    pub fn release(mut self, healthy: bool) {
        let browser = self.browser.take().filter(|_| healthy);
        if self.pool.try_send(Release(browser)).is_err() {
            tracing::warn!("the browser pool is gone; a released browser is closed");
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if self.browser.take().is_some() {
            // The browser is killed as it drops; the pool counts it gone.
            let _ = self.pool.try_send(Release(None));
        }
    }
}

struct Idle {
    browser: HeadlessBrowser,
    since: Instant,
}

/// The pool actor.
pub struct BrowserPool {
    settings: PoolSettings,
    idle: Vec<Idle>,
    /// Browsers alive: leased, idle and starting.
    alive: u32,
    waiting: VecDeque<oneshot::Sender<()>>,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for BrowserPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrowserPool").field("alive", &self.alive).field("idle", &self.idle.len()).finish()
    }
}

impl BrowserPool {
    pub fn new(settings: PoolSettings, metrics: Arc<Metrics>) -> Self {
        Self { settings, idle: Vec::new(), alive: 0, waiting: VecDeque::new(), metrics }
    }

    /// Launches browsers until `min_idle` are idle or starting (within capacity).
    fn top_up(&mut self, ctx: &mut Context<Self>) {
        let idle = self.idle.len() as u32;
        let wanted = self.settings.min_idle.saturating_sub(idle).min(self.settings.capacity.saturating_sub(self.alive));
        for _ in 0..wanted {
            self.alive += 1;
            let launch = self.settings.launch.clone();
            ctx.spawn(async move { HeadlessBrowser::launch(&launch).await }.into_actor(self).map(|launched, pool, _| match launched {
                Ok(browser) => {
                    pool.metrics.browser_launched();
                    pool.idle.push(Idle { browser, since: Instant::now() });
                    pool.wake_one();
                }
                Err(error) => {
                    pool.alive -= 1;
                    tracing::warn!(%error, "cannot start a warm browser");
                }
            }));
        }
    }

    /// Lets the longest-waiting lessee try again.
    fn wake_one(&mut self) {
        while let Some(waiter) = self.waiting.pop_front() {
            if waiter.send(()).is_ok() {
                return;
            }
        }
    }

    fn close_idle(&mut self, ctx: &mut Context<Self>, keep: usize, older_than: Option<Duration>) {
        let mut kept = Vec::new();
        let mut closing = Vec::new();
        // The most recently used stay.
        self.idle.sort_by_key(|idle| std::cmp::Reverse(idle.since));
        for (n, idle) in self.idle.drain(..).enumerate() {
            let stale = older_than.is_none_or(|limit| idle.since.elapsed() >= limit);
            if n >= keep && stale {
                closing.push(idle.browser);
            } else {
                kept.push(idle);
            }
        }
        self.idle = kept;
        self.alive -= closing.len() as u32;
        if !closing.is_empty() {
            tracing::info!(closed = closing.len(), "closing idle browsers");
            ctx.spawn(
                async move {
                    for browser in closing {
                        if let Err(error) = browser.close().await {
                            tracing::warn!(%error, "closing an idle browser");
                        }
                    }
                }
                .into_actor(self),
            );
            self.wake_one();
        }
    }
}

impl Actor for BrowserPool {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(MAILBOX);
        self.top_up(ctx);
        ctx.run_interval(TICK, |pool, ctx| {
            let keep = pool.settings.min_idle as usize;
            let timeout = pool.settings.idle_timeout;
            pool.close_idle(ctx, keep, Some(timeout));
            pool.top_up(ctx);
        });
    }
}

impl actix::Supervised for BrowserPool {
    fn restarting(&mut self, _: &mut Self::Context) {
        // Idle browsers are dropped (killed); leased ones come back as they are released.
        self.metrics.restarted("browser_pool");
        self.alive -= self.idle.len() as u32;
        self.idle.clear();
    }
}

/// Asks for a browser; answered when one is ready (warm or newly launched).
#[derive(Debug, Message)]
#[rtype(result = "Result<Lease, RenderError>")]
pub struct Acquire;

/// What the pool decided for one `Acquire`.
enum Grant {
    Warm(HeadlessBrowser),
    Launch,
    Wait(oneshot::Receiver<()>),
}

impl Handler<Acquire> for BrowserPool {
    type Result = ResponseActFuture<Self, Result<Lease, RenderError>>;

    fn handle(&mut self, _: Acquire, ctx: &mut Self::Context) -> Self::Result {
        let pool = ctx.address();
        let grant = if let Some(idle) = self.idle.pop() {
            Grant::Warm(idle.browser)
        } else if self.alive < self.settings.capacity {
            self.alive += 1;
            Grant::Launch
        } else {
            let (wake, woken) = oneshot::channel();
            self.waiting.push_back(wake);
            Grant::Wait(woken)
        };
        let launch = self.settings.launch.clone();
        Box::pin(
            async move {
                match grant {
                    Grant::Warm(browser) => {
                        if tokio::time::timeout(HEALTH_CHECK, browser.version()).await.is_ok_and(|v| v.is_ok()) {
                            return Ok(Some((browser, false, false)));
                        }
                        drop(browser);
                        HeadlessBrowser::launch(&launch).await.map(|b| Some((b, true, true))).map_err(RenderError::from)
                    }
                    Grant::Launch => HeadlessBrowser::launch(&launch).await.map(|b| Some((b, true, false))).map_err(RenderError::from),
                    Grant::Wait(woken) => {
                        let _ = woken.await;
                        Ok(None)
                    }
                }
            }
            .into_actor(self)
            .then(move |granted, pool_actor, _| {
                match granted {
                    Ok(Some((browser, launched, replaced))) => {
                        let metrics = &pool_actor.metrics;
                        if launched {
                            metrics.browser_launched();
                        } else {
                            metrics.browser_reused();
                        }
                        if replaced {
                            metrics.browser_replaced();
                            tracing::warn!("an idle browser failed its health check and was replaced");
                        }
                        return fut::ready(Ok(Lease { browser: Some(browser), launched, pool })).boxed_local();
                    }
                    // Woken: ask again (below).
                    Ok(None) => {}
                    Err(error) => {
                        pool_actor.alive -= 1;
                        pool_actor.wake_one();
                        return fut::ready(Err(error)).boxed_local();
                    }
                }
                let address = pool.clone();
                async move { address.send(Acquire).await.unwrap_or_else(|e| Err(RenderError::Compositor { segment: 0, message: format!("the browser pool stopped: {e}") })) }
                    .into_actor(pool_actor)
                    .boxed_local()
            }),
        )
    }
}

/// A lease's browser handed back (`None`: it died or was unhealthy).
#[derive(Debug, Message)]
#[rtype(result = "()")]
struct Release(Option<HeadlessBrowser>);

impl Handler<Release> for BrowserPool {
    type Result = ();

    fn handle(&mut self, Release(browser): Release, ctx: &mut Self::Context) {
        match browser {
            Some(browser) => self.idle.push(Idle { browser, since: Instant::now() }),
            None => {
                self.alive = self.alive.saturating_sub(1);
                self.metrics.browser_replaced();
                self.top_up(ctx);
            }
        }
        self.wake_one();
    }
}

/// Memory is short: close every idle browser.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct Shrink;

impl Handler<Shrink> for BrowserPool {
    type Result = ();

    fn handle(&mut self, _: Shrink, ctx: &mut Self::Context) {
        if !self.idle.is_empty() {
            self.metrics.pool_shrunk();
            self.close_idle(ctx, 0, None);
        }
    }
}

/// How many browsers are alive and idle.
#[derive(Debug, Message)]
#[rtype(result = "PoolStatus")]
pub struct Status;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStatus {
    pub alive: u32,
    pub idle: u32,
}

impl Handler<Status> for BrowserPool {
    type Result = MessageResult<Status>;

    fn handle(&mut self, _: Status, _: &mut Self::Context) -> Self::Result {
        MessageResult(PoolStatus { alive: self.alive, idle: self.idle.len() as u32 })
    }
}

/// Shutting down: close every idle browser and wait for them.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct Close;

impl Handler<Close> for BrowserPool {
    type Result = ResponseActFuture<Self, ()>;

    fn handle(&mut self, _: Close, _: &mut Self::Context) -> Self::Result {
        self.settings.min_idle = 0;
        let closing: Vec<HeadlessBrowser> = self.idle.drain(..).map(|idle| idle.browser).collect();
        self.alive -= closing.len() as u32;
        Box::pin(
            async move {
                for browser in closing {
                    if let Err(error) = browser.close().await {
                        tracing::warn!(%error, "closing a browser at shutdown");
                    }
                }
            }
            .into_actor(self),
        )
    }
}
