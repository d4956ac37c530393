//! Classes of IP addresses that matter to the URL policy.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What kind of target an IP address is, as far as request forgery goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressClass {
    /// A globally routable unicast address.
    Public,
    /// `127.0.0.0/8`, `::1`.
    Loopback,
    /// `10.0.0.0/8`, `172.16.0.0/12`, `192.168.0.0/16`, `fc00::/7`.
    Private,
    /// `0.0.0.0/8`, `::` (on Linux, `0.0.0.0` reaches the local host).
    Unspecified,
    /// `169.254.0.0/16`, `fe80::/10`.
    LinkLocal,
    /// Cloud instance-metadata endpoints: `169.254.169.254`,
    /// `fd00:ec2::254`, `100.100.100.200`.
    Metadata,
    /// Multicast and broadcast: never an HTTP server.
    NonUnicast,
}

impl AddressClass {
    /// The class of `ip`. IPv4-mapped (`::ffff:a.b.c.d`) and NAT64
    /// (`64:ff9b::a.b.c.d`) IPv6 addresses are classed by their IPv4 address.
    pub fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => Self::of_v4(v4),
            IpAddr::V6(v6) => Self::of_v6(v6),
        }
    }

    fn of_v4(ip: Ipv4Addr) -> Self {
        const METADATA: [Ipv4Addr; 2] = [
            Ipv4Addr::new(169, 254, 169, 254),
            Ipv4Addr::new(100, 100, 100, 200),
        ];
        if METADATA.contains(&ip) {
            Self::Metadata
        } else if ip.octets()[0] == 0 {
            Self::Unspecified
        } else if ip.is_link_local() {
            Self::LinkLocal
        } else if ip.is_loopback() {
            Self::Loopback
        } else if ip.is_private() {
            Self::Private
        } else if ip.is_multicast() || ip.is_broadcast() {
            Self::NonUnicast
        } else {
            Self::Public
        }
    }

    fn of_v6(ip: Ipv6Addr) -> Self {
        const METADATA: Ipv6Addr = Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254);
        if let Some(v4) = ip.to_ipv4_mapped().or_else(|| nat64_embedded(ip)) {
            return Self::of_v4(v4);
        }
        let first = ip.segments()[0];
        if ip == METADATA {
            Self::Metadata
        } else if ip.is_unspecified() {
            Self::Unspecified
        } else if ip.is_loopback() {
            Self::Loopback
        } else if first & 0xffc0 == 0xfe80 {
            Self::LinkLocal
        } else if first & 0xfe00 == 0xfc00 {
            Self::Private
        } else if ip.is_multicast() {
            Self::NonUnicast
        } else {
            Self::Public
        }
    }
}

/// The IPv4 address inside a NAT64 well-known-prefix address (`64:ff9b::/96`).
fn nat64_embedded(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    (s[..6] == [0x64, 0xff9b, 0, 0, 0, 0]).then(|| {
        let [a, b] = s[6].to_be_bytes();
        let [c, d] = s[7].to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    })
}

impl fmt::Display for AddressClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Public => "public",
            Self::Loopback => "loopback",
            Self::Private => "private",
            Self::Unspecified => "unspecified",
            Self::LinkLocal => "link-local",
            Self::Metadata => "cloud-metadata",
            Self::NonUnicast => "multicast or broadcast",
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::net::IpAddr;

    use super::AddressClass::{self, *};

    fn class(ip: &str) -> AddressClass {
        AddressClass::of(ip.parse::<IpAddr>().unwrap())
    }

    #[test]
    fn classes_ipv4() {
        let cases = [
            ("8.8.8.8", Public),
            ("127.0.0.1", Loopback),
            ("127.1.2.3", Loopback),
            ("10.0.0.5", Private),
            ("172.16.0.1", Private),
            ("172.31.255.255", Private),
            ("172.32.0.1", Public),
            ("192.168.1.1", Private),
            ("0.0.0.0", Unspecified),
            ("0.1.2.3", Unspecified),
            ("169.254.169.254", Metadata),
            ("100.100.100.200", Metadata),
            ("169.254.1.1", LinkLocal),
            ("224.0.0.1", NonUnicast),
            ("255.255.255.255", NonUnicast),
        ];
        for (ip, expected) in cases {
            assert_eq!(class(ip), expected, "{ip}");
        }
    }

    #[test]
    fn classes_ipv6() {
        let cases = [
            ("2606:4700::1111", Public),
            ("::1", Loopback),
            ("::", Unspecified),
            ("fd00:ec2::254", Metadata),
            ("fd12:3456::1", Private),
            ("fc00::1", Private),
            ("fe80::1", LinkLocal),
            ("febf::1", LinkLocal),
            ("ff02::1", NonUnicast),
            ("::ffff:127.0.0.1", Loopback),
            ("::ffff:169.254.169.254", Metadata),
            ("::ffff:10.1.1.1", Private),
            ("64:ff9b::a9fe:a9fe", Metadata),
            ("64:ff9b::808:808", Public),
        ];
        for (ip, expected) in cases {
            assert_eq!(class(ip), expected, "{ip}");
        }
    }
}
