//! One connection to Redis that comes back after Redis went away: every
//! command has a connect and a reply timeout, and a command that failed
//! because the connection broke (or Redis was loading its AOF) is retried
//! on a fresh connection after a pause doubling from 100 ms up to
//! `work_queue.max_backoff_ms`, until it succeeds or the caller stops.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client, Cmd, ErrorKind, Pipeline, RedisError, Value};
use tokio::sync::Mutex;

use super::FarmError;

const FIRST_BACKOFF: Duration = Duration::from_millis(100);

/// A Redis connection that reconnects.
pub struct RedisLink {
    client: Client,
    /// The URL without credentials, for messages.
    shown: String,
    connection: Mutex<Option<MultiplexedConnection>>,
    settings: AsyncConnectionConfig,
    max_backoff: Duration,
    /// Consumer groups `(stream, group)` made again when Redis answers
    /// `NOGROUP` (a Redis restarted without its data).
    groups: Vec<(String, String)>,
}

impl std::fmt::Debug for RedisLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisLink").field("url", &self.shown).finish_non_exhaustive()
    }
}

impl RedisLink {
    /// A link to `url` (nothing is connected yet). `timeout` bounds the
    /// connect and each reply; `blocking` is added to the reply timeout for
    /// a link that issues blocking reads (`XREADGROUP … BLOCK`).
    pub fn open(url: &str, timeout: Duration, blocking: Duration, max_backoff: Duration) -> Result<Self, FarmError> {
        let client = Client::open(url).map_err(|e| FarmError::BadUrl { url: shown_url(url), detail: e.to_string() })?;
        let settings = AsyncConnectionConfig::new().set_connection_timeout(Some(timeout)).set_response_timeout(Some(timeout + blocking));
        Ok(Self { client, shown: shown_url(url), connection: Mutex::new(None), settings, max_backoff: max_backoff.max(FIRST_BACKOFF), groups: Vec::new() })
    }

    /// The same link, making `groups` (`(stream, group)`) whenever they are missing.
    pub fn with_groups(mut self, groups: Vec<(String, String)>) -> Self {
        self.groups = groups;
        self
    }

    /// Makes the consumer groups (and their streams) that do not exist yet.
    pub async fn ensure_groups(&self) -> Result<(), RedisError> {
        for (stream, group) in &self.groups {
            let made = self.once(redis::cmd("XGROUP").arg("CREATE").arg(stream).arg(group).arg("0").arg("MKSTREAM")).await;
            match made {
                Ok(_) => {}
                Err(error) if error.code() == Some("BUSYGROUP") => {}
                Err(error) => return Err(error),
            }
        }
        Ok(())
    }

    /// The broker's URL, without credentials.
    pub fn url(&self) -> &str {
        &self.shown
    }

    /// Runs `command` once (connecting first when needed).
    pub async fn once(&self, command: &Cmd) -> Result<Value, RedisError> {
        let mut connection = self.connection().await?;
        // A refusal arrives as a value; it is an error here.
        let answer = connection.send_packed_command(command).await.and_then(Value::extract_error);
        if answer.as_ref().is_err_and(broken) {
            *self.connection.lock().await = None;
        }
        answer
    }

    /// Runs `command`, retrying with backoff while Redis cannot be reached,
    /// until `stop` is set. A server's refusal is returned as it is.
    pub async fn run(&self, command: &Cmd, stop: &AtomicBool) -> Result<Value, FarmError> {
        let mut pause = FIRST_BACKOFF;
        loop {
            match self.once(command).await {
                Ok(value) => return Ok(value),
                Err(error) if error.code() == Some("NOGROUP") => {
                    tracing::warn!(url = %self.shown, command = %name_of(command), "a consumer group is missing; making it again");
                    match self.ensure_groups().await {
                        Ok(()) => continue,
                        Err(error) => tracing::warn!(url = %self.shown, %error, "cannot make the consumer groups"),
                    }
                }
                Err(error) if is_transient(&error) => {
                    tracing::warn!(url = %self.shown, command = %name_of(command), %error, pause_ms = pause.as_millis() as u64, "Redis unreachable; retrying");
                }
                Err(error) => return Err(self.refused(command, &error)),
            }
            if stop.load(Ordering::Relaxed) {
                return Err(FarmError::Stopped);
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(self.max_backoff);
        }
    }

    /// Runs `pipeline` (a `MULTI … EXEC` when it is atomic) with the same retries as [`RedisLink::run`].
    pub async fn run_pipeline(&self, pipeline: &Pipeline, stop: &AtomicBool) -> Result<Vec<Value>, FarmError> {
        let mut pause = FIRST_BACKOFF;
        loop {
            let answer = match self.connection().await {
                Ok(mut connection) => {
                    let answer = pipeline.query_async::<Vec<Value>>(&mut connection).await;
                    if answer.as_ref().is_err_and(broken) {
                        *self.connection.lock().await = None;
                    }
                    answer
                }
                Err(error) => Err(error),
            };
            match answer {
                Ok(values) => return Ok(values),
                Err(error) if is_transient(&error) => {
                    tracing::warn!(url = %self.shown, %error, pause_ms = pause.as_millis() as u64, "Redis unreachable; retrying");
                }
                Err(error) => return Err(FarmError::Redis { url: self.shown.clone(), command: "MULTI".to_owned(), detail: error.to_string() }),
            }
            if stop.load(Ordering::Relaxed) {
                return Err(FarmError::Stopped);
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(self.max_backoff);
        }
    }

    /// Whether Redis answers `PING` now (no retry).
    pub async fn ping(&self) -> Result<(), FarmError> {
        match self.once(&redis::cmd("PING")).await {
            Ok(_) => Ok(()),
            Err(error) => Err(FarmError::Unreachable { url: self.shown.clone(), detail: error.to_string() }),
        }
    }

    /// The error for a command Redis refused.
    pub fn refused(&self, command: &Cmd, error: &RedisError) -> FarmError {
        FarmError::Redis { url: self.shown.clone(), command: name_of(command), detail: error.to_string() }
    }

    /// An error for an answer of the wrong shape.
    pub fn bad_reply(&self, command: &str, detail: impl Into<String>) -> FarmError {
        FarmError::Reply { url: self.shown.clone(), command: command.to_owned(), detail: detail.into() }
    }

    async fn connection(&self) -> Result<MultiplexedConnection, RedisError> {
        let mut held = self.connection.lock().await;
        if let Some(connection) = held.as_ref() {
            return Ok(connection.clone());
        }
        let connection = self.client.get_multiplexed_async_connection_with_config(&self.settings).await?;
        *held = Some(connection.clone());
        Ok(connection)
    }
}

/// Whether the error means the connection is gone (a new one is needed).
fn broken(error: &RedisError) -> bool {
    error.code().is_none() && (error.is_io_error() || error.is_timeout() || error.is_connection_dropped() || error.is_connection_refusal())
}

/// Whether trying again later may succeed: no connection, a timeout, Redis
/// still loading its data, or a consumer group that a restarted Redis lost
/// (the caller recreates it).
pub fn is_transient(error: &RedisError) -> bool {
    match error.code() {
        Some("LOADING" | "TRYAGAIN" | "MASTERDOWN" | "NOGROUP") => true,
        Some(_) => false,
        None => broken(error) || error.kind() == ErrorKind::Parse,
    }
}

fn name_of(command: &Cmd) -> String {
    command.args_iter().next().map_or_else(String::new, |arg| match arg {
        redis::Arg::Simple(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        _ => String::new(),
    })
}

/// `url` with its password replaced by `***`.
fn shown_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}
