//! `url_policy.allow_hosts` / `url_policy.deny_hosts`: host names and IP
//! addresses compared exactly, ignoring ASCII case.

use std::net::IpAddr;

use url::Host;

/// A set of hosts in one normal form: lowercase names without a trailing dot,
/// IP addresses in their canonical text (IPv6 without brackets).
#[derive(Debug, Clone, Default)]
pub(crate) struct HostList(Vec<String>);

impl HostList {
    pub(crate) fn new(entries: &[String]) -> Self {
        Self(entries.iter().map(|entry| normalize(entry)).collect())
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn contains(&self, host: &Host<&str>) -> bool {
        let key = host_key(host);
        self.0.contains(&key)
    }
}

/// The normal form of a URL's host.
pub(crate) fn host_key(host: &Host<&str>) -> String {
    match host {
        Host::Domain(name) => normalize(name),
        Host::Ipv4(ip) => ip.to_string(),
        Host::Ipv6(ip) => ip.to_string(),
    }
}

fn normalize(entry: &str) -> String {
    let trimmed = entry.trim();
    let unbracketed = trimmed
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .unwrap_or(trimmed);
    match unbracketed.parse::<IpAddr>() {
        Ok(ip) => ip.to_string(),
        Err(_) => unbracketed.trim_end_matches('.').to_ascii_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use url::Host;

    use super::HostList;

    #[test]
    fn matches_names_ignoring_case_and_ips_in_any_spelling() {
        let list = HostList::new(&[
            "Backend.Example.COM".to_owned(),
            "[FD00:EC2::0254]".to_owned(),
            "10.0.0.5".to_owned(),
        ]);
        assert!(list.contains(&Host::Domain("backend.example.com")));
        assert!(list.contains(&Host::Domain("backend.example.com.")));
        assert!(!list.contains(&Host::Domain("example.com")));
        assert!(list.contains(&Host::Ipv6(Ipv6Addr::new(
            0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254
        ))));
        assert!(list.contains(&Host::Ipv4(Ipv4Addr::new(10, 0, 0, 5))));
        assert!(!list.contains(&Host::Ipv4(Ipv4Addr::new(10, 0, 0, 6))));
    }
}
