//! The loopback asset server: serves the page folder at `/`, the plugins at
//! `/plugins/` and an optional font directory at `/fonts/` to the headless
//! browser, over plain HTTP/1.1 on 127.0.0.1, GET and HEAD only, one request
//! per connection.
//!
//! `/plugins/` is the bundled pack (the page folder's `plugins/`) with the
//! configured plugin directory added on top: a plugin folder
//! `<name>@<version>/` present in the directory is served from there (the
//! directory takes precedence for the same name and version), any other from
//! the pack; `/plugins/index.json` is the union of both lists.
//!
//! Paths are confined to their root: `..` segments, backslashes and NUL are
//! refused, and the file found is canonicalized and must still lie under the
//! canonical root (no escape through symlinks).

use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, Semaphore};
use tokio::task::JoinHandle;

use super::BrowserError;

/// Largest request head accepted; a browser's GET is far smaller.
const MAX_REQUEST_HEAD: usize = 16 * 1024;
/// How long a connection may take to send its request head.
const REQUEST_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections served at once; more wait for a permit.
const MAX_CONNECTIONS: usize = 64;

/// A running asset server. Dropping it (or calling [`AssetServer::shutdown`])
/// stops accepting connections.
#[derive(Debug)]
pub struct AssetServer {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

#[derive(Debug)]
struct Roots {
    page: PathBuf,
    plugins: Option<PathBuf>,
    fonts: Option<PathBuf>,
}

/// Which folder a request target names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Area {
    Page,
    Plugins,
    Fonts,
}

impl AssetServer {
    /// Binds 127.0.0.1 on a free port and serves `page_dir` at `/` and
    /// `plugin_dir` (when given) at `/plugins/`. Must run inside a tokio runtime.
    pub async fn start(page_dir: &Path, plugin_dir: Option<&Path>) -> Result<Self, BrowserError> {
        Self::start_with_fonts(page_dir, plugin_dir, None).await
    }

    /// Like [`AssetServer::start`], and serves `font_dir` (when given) at `/fonts/`.
    pub async fn start_with_fonts(
        page_dir: &Path,
        plugin_dir: Option<&Path>,
        font_dir: Option<&Path>,
    ) -> Result<Self, BrowserError> {
        let page = canonical_dir(page_dir, "page directory")?;
        let plugins = plugin_dir
            .map(|d| canonical_dir(d, "plugin directory"))
            .transpose()?;
        let fonts = font_dir
            .map(|d| canonical_dir(d, "font directory"))
            .transpose()?;
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|source| BrowserError::Io {
                context: "binding the asset server to 127.0.0.1".into(),
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| BrowserError::Io {
            context: "reading the asset server's address".into(),
            source,
        })?;
        let (stop, stopped) = oneshot::channel();
        let roots = Arc::new(Roots { page, plugins, fonts });
        let task = tokio::spawn(serve(listener, roots, stopped));
        tracing::debug!(%addr, "asset server started");
        Ok(Self {
            addr,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The socket address served (always on 127.0.0.1).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The origin the page is served from, e.g. `http://127.0.0.1:41234`
    /// (no trailing slash).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting connections and waits for the accept loop to end.
    /// Requests already being answered finish on their own.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for AssetServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

fn canonical_dir(dir: &Path, what: &str) -> Result<PathBuf, BrowserError> {
    let canonical = dir.canonicalize().map_err(|source| BrowserError::Io {
        context: format!("{what} {}", dir.display()),
        source,
    })?;
    if !canonical.is_dir() {
        return Err(BrowserError::Io {
            context: format!("{what} {}", dir.display()),
            source: std::io::Error::new(std::io::ErrorKind::NotADirectory, "not a directory"),
        });
    }
    Ok(canonical)
}

async fn serve(listener: TcpListener, roots: Arc<Roots>, mut stopped: oneshot::Receiver<()>) {
    let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let permit = tokio::select! {
            _ = &mut stopped => break,
            permit = permits.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let accepted = tokio::select! {
            _ = &mut stopped => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, _)) => {
                let roots = roots.clone();
                tokio::spawn(async move {
                    if let Err(e) = answer(stream, &roots).await {
                        tracing::debug!(error = %e, "asset server connection failed");
                    }
                    drop(permit);
                });
            }
            Err(e) => {
                tracing::warn!(error = %e, "asset server accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    tracing::debug!("asset server stopped");
}

/// Reads one request and writes one response, then closes the connection.
async fn answer(mut stream: TcpStream, roots: &Roots) -> std::io::Result<()> {
    let head = match tokio::time::timeout(REQUEST_READ_TIMEOUT, read_head(&mut stream)).await {
        Ok(Ok(Some(head))) => head,
        Ok(Ok(None)) => return respond_status(&mut stream, 400, "Bad Request", false).await,
        Ok(Err(e)) => return Err(e),
        Err(_) => return Ok(()),
    };
    let mut parts = head.lines().next().unwrap_or("").split(' ');
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let head_only = match method {
        "GET" => false,
        "HEAD" => true,
        _ => return respond_status(&mut stream, 405, "Method Not Allowed", false).await,
    };
    let (area, segments) = match resolve(target) {
        Resolved::Path(area, segments) => (area, segments),
        Resolved::BadRequest => {
            return respond_status(&mut stream, 400, "Bad Request", head_only).await
        }
        Resolved::NotFound => {
            return respond_status(&mut stream, 404, "Not Found", head_only).await
        }
    };
    let found = match (area, &roots.plugins) {
        (Area::Plugins, Some(_)) if segments == ["index.json"] => {
            merged_pack_index(roots).await.map(|body| (PathBuf::from("index.json"), body))
        }
        _ => match locate(roots, area, &segments).await {
            Some(file) => tokio::fs::read(&file).await.ok().map(|body| (file, body)),
            None => None,
        },
    };
    let Some((file, body)) = found else {
        return respond_status(&mut stream, 404, "Not Found", head_only).await;
    };
    let header = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {}\r\nContent-Length: {}\r\nX-Content-Type-Options: nosniff\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n",
        content_type(&file),
        body.len()
    );
    stream.write_all(header.as_bytes()).await?;
    if !head_only {
        stream.write_all(&body).await?;
    }
    stream.shutdown().await
}

/// Reads up to the end of the request head; `None` when it is too long or
/// the peer closed early.
async fn read_head(stream: &mut TcpStream) -> std::io::Result<Option<String>> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = find(&buf, b"\r\n\r\n") {
            buf.truncate(end);
            return Ok(String::from_utf8(buf).ok());
        }
        if buf.len() > MAX_REQUEST_HEAD {
            return Ok(None);
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

async fn respond_status(
    stream: &mut TcpStream,
    code: u16,
    reason: &str,
    head_only: bool,
) -> std::io::Result<()> {
    let body = format!("{code} {reason}\n");
    let mut out = format!(
        "HTTP/1.1 {code} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    if !head_only {
        out.push_str(&body);
    }
    stream.write_all(out.as_bytes()).await?;
    stream.shutdown().await
}

enum Resolved {
    /// A file path below an area's root, as plain path segments.
    Path(Area, Vec<String>),
    BadRequest,
    NotFound,
}

/// Maps a request target to an area and plain path segments, refusing
/// anything that could leave the area's root. The file found still has to
/// pass [`confine`].
fn resolve(target: &str) -> Resolved {
    let path = target.split(['?', '#']).next().unwrap_or("");
    if !path.starts_with('/') {
        return Resolved::BadRequest;
    }
    let Some(decoded) = percent_decode(path) else {
        return Resolved::BadRequest;
    };
    if decoded.contains('\\') || decoded.contains('\0') {
        return Resolved::BadRequest;
    }
    let (area, rest) = if let Some(rest) = decoded.strip_prefix("/plugins/") {
        (Area::Plugins, rest)
    } else if let Some(rest) = decoded.strip_prefix("/fonts/") {
        (Area::Fonts, rest)
    } else {
        (Area::Page, &decoded[1..])
    };
    let mut segments = Vec::new();
    for segment in rest.split('/') {
        match segment {
            "" | "." => continue,
            ".." => return Resolved::BadRequest,
            s => {
                // A segment must be one plain path component.
                let mut comps = Path::new(s).components();
                match (comps.next(), comps.next()) {
                    (Some(Component::Normal(_)), None) => segments.push(s.to_owned()),
                    _ => return Resolved::BadRequest,
                }
            }
        }
    }
    if segments.is_empty() {
        return Resolved::NotFound;
    }
    Resolved::Path(area, segments)
}

/// The file an area's path names: fonts from the font directory; plugins
/// from the plugin directory when it has that plugin folder, else from the
/// bundled pack; everything else from the page folder.
async fn locate(roots: &Roots, area: Area, segments: &[String]) -> Option<PathBuf> {
    let join = |root: &Path, segments: &[String]| segments.iter().fold(root.to_path_buf(), |p, s| p.join(s));
    let bundled = roots.page.join("plugins");
    match area {
        Area::Page => confine(&roots.page, &join(&roots.page, segments)).await,
        Area::Fonts => {
            let root = roots.fonts.as_ref()?;
            confine(root, &join(root, segments)).await
        }
        Area::Plugins => {
            if let Some(dir) = &roots.plugins {
                let folder = dir.join(&segments[0]);
                if tokio::fs::metadata(&folder).await.is_ok_and(|m| m.is_dir()) {
                    return confine(dir, &join(dir, segments)).await;
                }
            }
            confine(&roots.page, &join(&bundled, segments)).await
        }
    }
}

/// Canonicalizes `file` and checks it is a regular file still under `root`.
async fn confine(root: &Path, file: &Path) -> Option<PathBuf> {
    let canonical = tokio::fs::canonicalize(file).await.ok()?;
    let meta = tokio::fs::metadata(&canonical).await.ok()?;
    (canonical.starts_with(root) && meta.is_file()).then_some(canonical)
}

/// `/plugins/index.json` with a plugin directory: the pack's list and the
/// directory's (its own `index.json` if any, plus its `<name>@<version>`
/// folders), versions merged per name.
async fn merged_pack_index(roots: &Roots) -> Option<Vec<u8>> {
    let mut merged: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> = Default::default();
    let mut add_index = |text: &[u8]| {
        if let Ok(serde_json::Value::Object(map)) = serde_json::from_slice::<serde_json::Value>(text) {
            for (name, versions) in map {
                let list = versions.as_array().into_iter().flatten().filter_map(|v| v.as_str().map(str::to_owned));
                merged.entry(name).or_default().extend(list);
            }
        }
    };
    if let Some(file) = confine(&roots.page, &roots.page.join("plugins").join("index.json")).await {
        add_index(&tokio::fs::read(&file).await.ok()?);
    }
    let dir = roots.plugins.as_ref()?;
    if let Some(file) = confine(dir, &dir.join("index.json")).await {
        if let Ok(text) = tokio::fs::read(&file).await {
            add_index(&text);
        }
    }
    if let Ok(mut entries) = tokio::fs::read_dir(dir).await {
        while let Ok(Some(entry)) = entries.next_entry().await {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some((id, version)) = name.rsplit_once('@') {
                if !id.is_empty() && entry.path().join("manifest.json").is_file() {
                    merged.entry(id.to_owned()).or_default().insert(version.to_owned());
                }
            }
        }
    }
    serde_json::to_vec(&merged).ok()
}

/// Decodes `%XX` escapes; `None` for a malformed escape or non-UTF-8 result.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn content_type(path: &Path) -> &'static str {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("html" | "htm") => "text/html; charset=utf-8",
        Some("json" | "map") => "application/json",
        Some("css") => "text/css; charset=utf-8",
        Some("woff2") => "font/woff2",
        Some("woff") => "font/woff",
        Some("ttf") => "font/ttf",
        Some("otf") => "font/otf",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("webp") => "image/webp",
        Some("gif") => "image/gif",
        Some("svg") => "image/svg+xml",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segments(r: Resolved) -> Option<(Area, Vec<String>)> {
        match r {
            Resolved::Path(area, segments) => Some((area, segments)),
            _ => None,
        }
    }

    #[test]
    fn resolves_under_the_right_area() {
        assert_eq!(segments(resolve("/index.html?x=1")), Some((Area::Page, vec!["index.html".to_owned()])));
        assert_eq!(
            segments(resolve("/plugins/fadeIn@1.0.0/manifest.json")),
            Some((Area::Plugins, vec!["fadeIn@1.0.0".to_owned(), "manifest.json".to_owned()]))
        );
        assert_eq!(segments(resolve("/fonts/Brand/a.ttf")), Some((Area::Fonts, vec!["Brand".to_owned(), "a.ttf".to_owned()])));
    }

    #[test]
    fn refuses_traversal_in_any_spelling() {
        for bad in [
            "/../Cargo.toml",
            "/%2e%2e/Cargo.toml",
            "/a/%2E%2E/%2e%2e/x",
            "/plugins/../x",
            "/fonts/../x",
            "/a%5c..%5cx",
            "/%zz",
            "x",
        ] {
            assert!(segments(resolve(bad)).is_none(), "{bad} must be refused");
        }
    }
}
