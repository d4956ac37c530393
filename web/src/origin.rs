//! The Host and Origin check: a request must name this server by one of its
//! allowed host names (`server.allowed_hosts`), and a request a browser sent
//! from a page must come from a page of those hosts. This stops a web page
//! in an operator's browser from driving a server without a token, whether
//! by a cross-site request or by DNS rebinding (a name of the attacker's that
//! resolves to 127.0.0.1).

use std::net::{IpAddr, SocketAddr};

use actix_web::http::header::{HeaderMap, HOST, ORIGIN};
use actix_web::http::Uri;
use motionrender_actors::ApiError;
use motionrender_config::ServerConfig;

/// The host names requests may use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowedHosts {
    /// Any host: `"*"` configured, or no list and a bind to every interface.
    Any,
    /// These names, lower case, IPv6 addresses without brackets.
    Names(Vec<String>),
}

impl AllowedHosts {
    /// `server.allowed_hosts`, or when it is empty the bind address,
    /// `localhost`, `127.0.0.1` and `::1`.
    pub fn from_config(server: &ServerConfig) -> Self {
        if server.allowed_hosts.iter().any(|host| host == "*") {
            return Self::Any;
        }
        if !server.allowed_hosts.is_empty() {
            return Self::Names(server.allowed_hosts.iter().map(|host| normalized(host)).collect());
        }
        let bind = server.bind.parse::<SocketAddr>().ok().map(|addr| addr.ip());
        if bind.is_some_and(|ip| ip.is_unspecified()) {
            return Self::Any;
        }
        let mut names = vec!["localhost".to_owned(), "127.0.0.1".to_owned(), "::1".to_owned()];
        if let Some(ip) = bind {
            names.push(ip.to_string());
        }
        Self::Names(names)
    }

    fn allows(&self, host: &str) -> bool {
        match self {
            Self::Any => true,
            Self::Names(names) => names.iter().any(|name| *name == normalized(host)),
        }
    }

    /// Refuses a request whose `Host` (or, without one, URI authority) or
    /// `Origin` names a host that is not allowed. A request without an
    /// `Origin` is not from a page's script or form, and passes that part.
    pub fn check(&self, headers: &HeaderMap, uri: &Uri) -> Result<(), ApiError> {
        if *self == Self::Any {
            return Ok(());
        }
        // A Host that is not text names no allowed host (and is refused).
        let host = match headers.get(HOST) {
            Some(value) => Some(host_of_authority(&String::from_utf8_lossy(value.as_bytes()))),
            None => uri.host().map(str::to_owned),
        };
        if let Some(host) = host.filter(|host| !self.allows(host)) {
            return Err(ApiError::new(403, "FORBIDDEN_HOST", format!("requests for host {host:?} are not served here"))
                .suggest("address the server by an allowed name, or add this one to server.allowed_hosts"));
        }
        let Some(origin) = headers.get(ORIGIN) else { return Ok(()) };
        let origin = origin.to_str().unwrap_or_default();
        let allowed = origin.parse::<Uri>().ok().filter(|uri| matches!(uri.scheme_str(), Some("http" | "https"))).and_then(|uri| uri.host().map(str::to_owned));
        match allowed {
            Some(host) if self.allows(&host) => Ok(()),
            _ => Err(ApiError::new(403, "FORBIDDEN_ORIGIN", format!("requests from pages of {origin:?} are not accepted"))
                .suggest("call the API from a server-side client, or add the page's host to server.allowed_hosts")),
        }
    }
}

/// The host of `host[:port]` or `[v6]:port`.
fn host_of_authority(authority: &str) -> String {
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or_default().to_owned();
    }
    match authority.rsplit_once(':') {
        Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => host.to_owned(),
        _ => authority.to_owned(),
    }
}

/// A host name compared without case, trailing dot or IPv6 brackets, and
/// an address in its canonical text.
fn normalized(host: &str) -> String {
    let bare = host.trim_start_matches('[').trim_end_matches(']').trim_end_matches('.').to_ascii_lowercase();
    bare.parse::<IpAddr>().map_or(bare, |ip| ip.to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use actix_web::http::header::{HeaderName, HeaderValue};

    use super::*;

    fn server(bind: &str, allowed: &[&str]) -> ServerConfig {
        ServerConfig { bind: bind.to_owned(), allowed_hosts: allowed.iter().map(|h| (*h).to_owned()).collect(), ..ServerConfig::default() }
    }

    fn headers(pairs: &[(HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(name.clone(), HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn check(hosts: &AllowedHosts, pairs: &[(HeaderName, &str)]) -> Result<(), String> {
        hosts.check(&headers(pairs), &Uri::from_static("/render")).map_err(|e| e.error_code)
    }

    #[test]
    fn loopback_names_pass_and_a_rebound_name_does_not() {
        let hosts = AllowedHosts::from_config(&server("127.0.0.1:8090", &[]));
        for host in ["127.0.0.1:8090", "localhost:8090", "LOCALHOST", "[::1]:8090", "localhost."] {
            assert_eq!(check(&hosts, &[(HOST, host)]), Ok(()), "{host}");
        }
        assert_eq!(check(&hosts, &[(HOST, "attacker.example:8090")]), Err("FORBIDDEN_HOST".to_owned()));
        assert_eq!(check(&hosts, &[]), Ok(()), "no Host: not a browser");
        let mut unreadable = HeaderMap::new();
        unreadable.insert(HOST, HeaderValue::from_bytes(b"\xff\xfe:8090").unwrap());
        assert_eq!(hosts.check(&unreadable, &Uri::from_static("/render")).map_err(|e| e.error_code), Err("FORBIDDEN_HOST".to_owned()), "a Host that is not text");
    }

    #[test]
    fn a_page_of_another_site_is_refused_and_the_servers_own_pages_pass() {
        let hosts = AllowedHosts::from_config(&server("127.0.0.1:8090", &[]));
        let host = (HOST, "127.0.0.1:8090");
        assert_eq!(check(&hosts, &[host.clone(), (ORIGIN, "http://127.0.0.1:8090")]), Ok(()));
        for origin in ["https://attacker.example", "null", "file://", "chrome-extension://abc"] {
            assert_eq!(check(&hosts, &[host.clone(), (ORIGIN, origin)]), Err("FORBIDDEN_ORIGIN".to_owned()), "{origin}");
        }
    }

    #[test]
    fn the_configured_list_replaces_the_defaults_and_a_wildcard_allows_all() {
        let listed = AllowedHosts::from_config(&server("127.0.0.1:8090", &["render.example.com"]));
        assert_eq!(check(&listed, &[(HOST, "render.example.com:443")]), Ok(()));
        assert_eq!(check(&listed, &[(HOST, "localhost")]), Err("FORBIDDEN_HOST".to_owned()));
        assert_eq!(AllowedHosts::from_config(&server("127.0.0.1:8090", &["*"])), AllowedHosts::Any);
        assert_eq!(AllowedHosts::from_config(&server("0.0.0.0:8090", &[])), AllowedHosts::Any);
        let bound = AllowedHosts::from_config(&server("192.168.1.5:8090", &[]));
        assert_eq!(check(&bound, &[(HOST, "192.168.1.5:8090")]), Ok(()));
    }
}
