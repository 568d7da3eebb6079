//! What the node checks in the HTTP(S) URLs of its configuration (peers, issuers' key sets),
//! parsed by `url` (WHATWG URL rules, as the HTTP client parses them) rather than by hand.

use std::net::IpAddr;

use url::{Host, Url};

/// An `http://` or `https://` URL, parsed; `None` for anything else.
pub fn parse_http_url(text: &str) -> Option<Url> {
    Url::parse(text).ok().filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
}

/// Whether a URL names this machine (`localhost`, 127.0.0.0/8, `[::1]`), where plain `http://`
/// is allowed. A URL with credentials (`user@host`) never counts: refuse rather than trust them.
pub fn is_loopback_url(text: &str) -> bool {
    let Some(url) = parse_http_url(text) else { return false };
    if !url.username().is_empty() || url.password().is_some() {
        return false;
    }
    match url.host() {
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_means_this_machine_and_nothing_dressed_up_as_it() {
        for url in [
            "http://127.0.0.1:7001",
            "http://localhost:8080/",
            "http://LOCALHOST/",
            "http://[::1]:7001",
            "http://127.1.2.3/",
        ] {
            assert!(is_loopback_url(url), "{url}");
        }
        for url in [
            "http://gms.se:7001",
            "http://10.0.0.5",
            "http://127.0.0.1.evil.test/",
            "http://localhost:80@evil.com/",
            "http://user@127.0.0.1/",
            "ftp://127.0.0.1/",
            "127.0.0.1:7001",
            "http://",
        ] {
            assert!(!is_loopback_url(url), "{url}");
        }
    }

    #[test]
    fn only_http_and_https_urls_with_a_host_parse() {
        assert!(parse_http_url("https://gms.se/beacon").is_some());
        assert!(parse_http_url("mailto:x@gms.se").is_none());
        assert!(parse_http_url("gms.se:7001").is_none());
    }
}
