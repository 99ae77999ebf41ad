//! Which destinations the server may call.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use reqwest::Url;

/// Longest URL accepted from a client; real webhook URLs are far shorter.
const MAX_URL_LEN: usize = 2048;

/// IPv4 ranges that are not the public internet (network, prefix length).
const REFUSED_V4: &[(Ipv4Addr, u8)] = &[
    (Ipv4Addr::new(0, 0, 0, 0), 8), // "this network", includes unspecified
    (Ipv4Addr::new(10, 0, 0, 0), 8), // private
    (Ipv4Addr::new(100, 64, 0, 0), 10), // carrier-grade NAT
    (Ipv4Addr::new(127, 0, 0, 0), 8), // loopback
    (Ipv4Addr::new(169, 254, 0, 0), 16), // link-local, cloud metadata endpoints
    (Ipv4Addr::new(172, 16, 0, 0), 12), // private
    (Ipv4Addr::new(192, 0, 0, 0), 24), // IETF protocol assignments
    (Ipv4Addr::new(192, 0, 2, 0), 24), // documentation (TEST-NET-1)
    (Ipv4Addr::new(192, 88, 99, 0), 24), // 6to4 relay anycast (deprecated)
    (Ipv4Addr::new(192, 168, 0, 0), 16), // private
    (Ipv4Addr::new(198, 18, 0, 0), 15), // benchmarking
    (Ipv4Addr::new(198, 51, 100, 0), 24), // documentation (TEST-NET-2)
    (Ipv4Addr::new(203, 0, 113, 0), 24), // documentation (TEST-NET-3)
    (Ipv4Addr::new(224, 0, 0, 0), 4), // multicast
    (Ipv4Addr::new(240, 0, 0, 0), 4), // reserved, includes broadcast
];

/// IPv6 ranges that are not the public internet, or that tunnel to IPv4 addresses we cannot
/// vet (network, prefix length). IPv4-mapped and NAT64 addresses are judged by their IPv4
/// part instead, see [`refused_v6`].
const REFUSED_V6: &[(Ipv6Addr, u8)] = &[
    (Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 0), 96), // unspecified, loopback, IPv4-compatible
    (Ipv6Addr::new(0x64, 0xff9b, 1, 0, 0, 0, 0, 0), 48), // local-use NAT64
    (Ipv6Addr::new(0x100, 0, 0, 0, 0, 0, 0, 0), 64), // discard-only
    (Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0), 32), // Teredo
    (Ipv6Addr::new(0x2001, 2, 0, 0, 0, 0, 0, 0), 48), // benchmarking
    (Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32), // documentation
    (Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0), 16), // 6to4
    (Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0), 20), // documentation (RFC 9637)
    (Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7), // unique-local
    (Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10), // link-local
    (Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0), 10), // site-local (deprecated)
    (Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0), 8), // multicast
];

/// Which destinations the server may call.
///
/// By default, http(s) URLs whose addresses are public. Private, loopback, link-local,
/// unique-local, CGNAT (100.64/10), unspecified, multicast, broadcast, documentation ranges (and
/// a few other special-purpose ones), and IPv4-mapped IPv6 forms of those are refused unless an
/// allowed network contains the address.
#[derive(Debug, Clone, Default)]
pub struct UrlPolicy {
    allowed: Vec<IpNet>,
}

/// An entry of an allow list that is not a network.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid network {entry:?} in the webhook allow list: expected CIDR like 10.0.0.0/8 or ::1/128, or a bare IP address")]
pub struct InvalidAllowList {
    /// The offending entry, trimmed.
    pub entry: String,
}

/// Why a webhook URL given by a client is refused. The messages are meant for that client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlRejected {
    #[error("the URL is longer than {MAX_URL_LEN} characters")]
    TooLong,
    #[error("the URL is not a valid absolute URL: {0}")]
    Malformed(String),
    #[error("the URL scheme must be http or https, not {0:?}")]
    Scheme(String),
    #[error("the URL has no host")]
    NoHost,
    #[error("the URL must not contain credentials (user:password@); authenticate the webhook with its signature instead")]
    Credentials,
    #[error("the URL points to {0}, which is not a public internet address")]
    ForbiddenAddress(IpAddr),
}

impl UrlPolicy {
    /// The default policy, plus the given networks, which are allowed even where the default
    /// would refuse (e.g. `127.0.0.0/8` for local development and tests).
    #[must_use]
    pub fn allowing(networks: Vec<IpNet>) -> Self {
        Self { allowed: networks }
    }

    /// Parses a comma-separated list like `"127.0.0.0/8,::1/128,10.0.0.0/8"` into a policy
    /// allowing those networks. Whitespace around entries is ignored, empty entries are skipped
    /// (so an empty string allows nothing beyond the default), and a bare address means just
    /// that address.
    ///
    /// # Errors
    ///
    /// [`InvalidAllowList`] naming the first entry that is neither a network nor an address.
    pub fn parse_allow_list(list: &str) -> Result<Self, InvalidAllowList> {
        let allowed = list
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| InvalidAllowList {
                        entry: entry.to_owned(),
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { allowed })
    }

    /// Whether the server may connect to `ip`.
    #[must_use]
    pub fn allows_ip(&self, ip: IpAddr) -> bool {
        // `::ffff:a.b.c.d` is the same socket as `a.b.c.d`: judge it (and allow it) as such.
        let canonical = ip.to_canonical();
        if self
            .allowed
            .iter()
            .any(|net| net.contains(&ip) || net.contains(&canonical))
        {
            return true;
        }
        match canonical {
            IpAddr::V4(v4) => !refused_v4(v4),
            IpAddr::V6(v6) => !refused_v6(v6),
        }
    }

    /// Checks a URL given by a client: absolute, scheme http or https, has a host, no userinfo
    /// (`user:pass@`), at most 2048 characters, and if the host is an IP literal it must pass
    /// [`allows_ip`](Self::allows_ip). Host names are not resolved here: that happens at each
    /// delivery, where the resolved addresses are checked again.
    ///
    /// # Errors
    ///
    /// [`UrlRejected`] saying which rule the URL breaks; its message can be shown to the client.
    pub fn check_url(&self, url: &str) -> Result<Url, UrlRejected> {
        // Checked before and after parsing: before so huge inputs are not parsed at all, after
        // because normalisation (percent-encoding, punycode) can lengthen what we would store.
        if url.chars().count() > MAX_URL_LEN {
            return Err(UrlRejected::TooLong);
        }
        let parsed = Url::parse(url).map_err(|e| UrlRejected::Malformed(e.to_string()))?;
        if parsed.as_str().len() > MAX_URL_LEN {
            return Err(UrlRejected::TooLong);
        }
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(UrlRejected::Scheme(parsed.scheme().to_owned()));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(UrlRejected::Credentials);
        }
        let host = parsed.host_str().unwrap_or_default();
        if host.is_empty() {
            return Err(UrlRejected::NoHost);
        }
        // The URL parser has already normalised IP literals, including forms like
        // `http://2130706433/` or `http://0x7f.1/`, to dotted IPv4 or bracketed IPv6; a host that
        // does not parse as one here is a name.
        let ip = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            Some(v6) => v6.parse::<Ipv6Addr>().ok().map(IpAddr::V6),
            None => host.parse::<Ipv4Addr>().ok().map(IpAddr::V4),
        };
        if let Some(ip) = ip {
            if !self.allows_ip(ip) {
                return Err(UrlRejected::ForbiddenAddress(ip));
            }
        }
        Ok(parsed)
    }
}

fn refused_v4(ip: Ipv4Addr) -> bool {
    let bits = u32::from(ip);
    REFUSED_V4.iter().any(|&(net, len)| {
        // checked_shl: a /0 would shift by 32, which overflows.
        let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
        bits & mask == u32::from(net) & mask
    })
}

fn refused_v6(ip: Ipv6Addr) -> bool {
    let segments = ip.segments();
    // NAT64 (64:ff9b::/96) reaches the embedded IPv4 address: judge that one.
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let [.., hi, lo] = segments;
        let v4 = (u32::from(hi) << 16) | u32::from(lo);
        return refused_v4(Ipv4Addr::from(v4));
    }
    let bits = u128::from(ip);
    REFUSED_V6.iter().any(|&(net, len)| {
        let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
        bits & mask == u128::from(net) & mask
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    #[test]
    fn default_refuses_internal_destinations() {
        let policy = UrlPolicy::default();
        for url in [
            "http://127.0.0.1/x",
            "http://[::1]/",
            "http://10.1.2.3",
            "http://169.254.169.254/latest",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:10.0.0.1]:8080/",
            "http://[fd00::1]/",
            "http://[fe80::1]/",
            "http://[64:ff9b::7f00:1]/",
            "http://100.64.0.1/",
            "http://0.0.0.0/",
            "http://255.255.255.255/",
            "http://224.0.0.1/",
            "http://192.0.2.10/",
            "http://2130706433/", // 127.0.0.1 as a single decimal number
            "http://0x7f.1/",
        ] {
            assert!(
                matches!(policy.check_url(url), Err(UrlRejected::ForbiddenAddress(_))),
                "{url} should be refused, got {:?}",
                policy.check_url(url)
            );
        }
    }

    #[test]
    fn default_refuses_malformed_urls() {
        let policy = UrlPolicy::default();
        assert!(matches!(
            policy.check_url("ftp://example.com"),
            Err(UrlRejected::Scheme(s)) if s == "ftp"
        ));
        assert!(matches!(
            policy.check_url("not a url"),
            Err(UrlRejected::Malformed(_))
        ));
        assert!(matches!(
            policy.check_url("/relative/path"),
            Err(UrlRejected::Malformed(_))
        ));
        assert_eq!(
            policy.check_url("http://user:pw@example.com").unwrap_err(),
            UrlRejected::Credentials
        );
        assert_eq!(
            policy.check_url("https://user@example.com/").unwrap_err(),
            UrlRejected::Credentials
        );
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_LEN));
        assert_eq!(policy.check_url(&long).unwrap_err(), UrlRejected::TooLong);
        assert!(policy.check_url("").is_err());
        assert!(policy.check_url("http://").is_err());
    }

    #[test]
    fn default_accepts_public_destinations() {
        let policy = UrlPolicy::default();
        let url = policy.check_url("https://example.com/hook").unwrap();
        assert_eq!(url.as_str(), "https://example.com/hook");
        assert!(policy.check_url("http://93.184.216.34/").is_ok());
        assert!(policy.check_url("http://[2606:2800:220:1::1]/").is_ok());
        assert!(policy.check_url("http://[::ffff:93.184.216.34]/").is_ok());
        assert!(policy.check_url("http://[64:ff9b::5db8:d822]/").is_ok()); // NAT64 of 93.184.216.34
                                                                           // Names are not resolved at this stage.
        assert!(policy.check_url("http://localhost:9000/").is_ok());
    }

    #[test]
    fn allowed_networks_override_the_default() {
        let policy = UrlPolicy::allowing(vec![net("127.0.0.0/8")]);
        let url = policy.check_url("http://127.0.0.1:9000/hook").unwrap();
        assert_eq!(url.port(), Some(9000));
        // The mapped form of an allowed address is the same socket.
        assert!(policy.allows_ip("::ffff:127.0.0.2".parse().unwrap()));
        assert!(!policy.allows_ip("::1".parse().unwrap()));
        assert!(!policy.allows_ip("10.0.0.1".parse().unwrap()));
    }

    #[test]
    fn parse_allow_list_reads_networks_and_addresses() {
        let policy =
            UrlPolicy::parse_allow_list(" 127.0.0.0/8, ::1/128 ,10.0.0.0/8,192.168.1.5,").unwrap();
        assert_eq!(
            policy.allowed,
            vec![
                net("127.0.0.0/8"),
                net("::1/128"),
                net("10.0.0.0/8"),
                net("192.168.1.5/32")
            ]
        );
        assert!(policy.allows_ip("::1".parse().unwrap()));
        assert!(policy.allows_ip("192.168.1.5".parse().unwrap()));
        assert!(!policy.allows_ip("192.168.1.6".parse().unwrap()));

        assert!(UrlPolicy::parse_allow_list("").unwrap().allowed.is_empty());
        assert!(UrlPolicy::parse_allow_list("  ")
            .unwrap()
            .allowed
            .is_empty());
        assert_eq!(
            UrlPolicy::parse_allow_list("10.0.0.0/8, nope").unwrap_err(),
            InvalidAllowList {
                entry: "nope".into()
            }
        );
        assert!(UrlPolicy::parse_allow_list("10.0.0.0/33").is_err());
    }

    #[test]
    fn special_ranges_are_refused_and_public_ones_allowed() {
        let policy = UrlPolicy::default();
        for ip in [
            "172.31.255.255",
            "192.168.0.1",
            "198.18.0.1",
            "203.0.113.7",
            "::",
            "2001:db8::1",
            "2002:7f00:1::",
            "ff02::1",
        ] {
            assert!(
                !policy.allows_ip(ip.parse().unwrap()),
                "{ip} should be refused"
            );
        }
        for ip in ["1.1.1.1", "172.32.0.1", "100.128.0.1", "2a00:1450:4001::1"] {
            assert!(
                policy.allows_ip(ip.parse().unwrap()),
                "{ip} should be allowed"
            );
        }
    }
}
