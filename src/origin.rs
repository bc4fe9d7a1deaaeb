//! Which web pages may open a WebSocket to this server: the browser's
//! `Origin` must be a host the operator configured (`public_url`,
//! `allowed_origins`) or the address the server listens on. The `Host`
//! header alone is never enough: a DNS-rebinding page (`evil.example`
//! resolving to 127.0.0.1) sends a matching `Host` and `Origin`; only IP
//! literals and `localhost`, which no outside page can rebind, are accepted
//! as "same origin" through `Host`, and only on the port we listen on.
//!
//! Pure: no I/O, no logging (origins can carry personal host names).

use std::net::{IpAddr, SocketAddr};

use axum::http::{header, HeaderMap};

use crate::app_state::AppState;

/// May the request with these headers open a WebSocket? See the module docs.
pub fn allowed(state: &AppState, headers: &HeaderMap) -> bool {
    origin_allowed(
        &state.settings.allowed_origins,
        &state.base_url,
        state.bound,
        headers,
    )
}

/// [`allowed`] with its inputs spelled out: the configured origins, the
/// public base URL and the address the server is bound to.
pub fn origin_allowed(
    allowed_origins: &[String],
    base_url: &str,
    bound: SocketAddr,
    headers: &HeaderMap,
) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        // Not a browser: nothing to check.
        return true;
    };
    let origin = origin.trim().trim_end_matches('/');
    if allowed_origins
        .iter()
        .any(|o| o == "*" || o.trim().trim_end_matches('/').eq_ignore_ascii_case(origin))
    {
        return true;
    }
    if base_url.trim_end_matches('/').eq_ignore_ascii_case(origin) {
        return true;
    }
    // Same origin through `Host`: only for hosts no page can rebind.
    let Some(authority) = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
    else {
        return false;
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    if !host.is_some_and(|h| h.trim().eq_ignore_ascii_case(authority)) {
        return false;
    }
    listen_authority(authority, bound)
}

/// Is `authority` (`host[:port]` from an `http://` origin) an address this
/// server listens on: an IP literal it is bound to (any, when bound to all
/// interfaces) or `localhost` when bound to loopback, on the bound port?
fn listen_authority(authority: &str, bound: SocketAddr) -> bool {
    let (host, port) = split_authority(authority);
    if port != Some(bound.port()) {
        return false;
    }
    if host.eq_ignore_ascii_case("localhost") {
        return bound.ip().is_loopback() || bound.ip().is_unspecified();
    }
    let Ok(ip) = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    else {
        return false;
    };
    bound.ip().is_unspecified() || ip.to_canonical() == bound.ip().to_canonical()
}

/// `host:port`, `[v6]:port` or a bare host.
fn split_authority(authority: &str) -> (&str, Option<u16>) {
    if let Some(rest) = authority.strip_prefix('[') {
        return match rest.split_once(']') {
            Some((host, tail)) => (host, tail.strip_prefix(':').and_then(|p| p.parse().ok())),
            None => (authority, None),
        };
    }
    match authority.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => (host, port.parse().ok()),
        _ => (authority, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(origin: Option<&str>, host: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(o) = origin {
            h.insert(header::ORIGIN, HeaderValue::from_str(o).expect("origin"));
        }
        if let Some(v) = host {
            h.insert(header::HOST, HeaderValue::from_str(v).expect("host"));
        }
        h
    }

    fn local() -> SocketAddr {
        "127.0.0.1:8080".parse().expect("addr")
    }

    fn check(allowed: &[&str], base: &str, bound: SocketAddr, o: &str, host: &str) -> bool {
        let allowed: Vec<String> = allowed.iter().map(|s| s.to_string()).collect();
        origin_allowed(&allowed, base, bound, &headers(Some(o), Some(host)))
    }

    #[test]
    fn no_origin_is_not_a_browser_and_passes() {
        assert!(origin_allowed(
            &[],
            "http://127.0.0.1:8080",
            local(),
            &headers(None, None)
        ));
    }

    #[test]
    fn the_listen_address_and_localhost_are_same_origin() {
        let base = "http://127.0.0.1:8080";
        assert!(check(
            &[],
            base,
            local(),
            "http://127.0.0.1:8080",
            "127.0.0.1:8080"
        ));
        assert!(check(
            &[],
            base,
            local(),
            "http://localhost:8080",
            "localhost:8080"
        ));
        assert!(!check(
            &[],
            base,
            local(),
            "http://localhost:9999",
            "localhost:9999"
        ));
        let v6: SocketAddr = "[::1]:8080".parse().expect("addr");
        assert!(check(
            &[],
            "http://[::1]:8080",
            v6,
            "http://[::1]:8080",
            "[::1]:8080"
        ));
    }

    #[test]
    fn a_rebound_host_name_is_refused_even_with_a_matching_host_header() {
        // evil.example resolves to 127.0.0.1: Origin and Host agree, and still no.
        let base = "http://127.0.0.1:8080";
        assert!(!check(
            &[],
            base,
            local(),
            "http://evil.example:8080",
            "evil.example:8080"
        ));
        assert!(!check(
            &[],
            base,
            local(),
            "http://evil.example",
            "evil.example"
        ));
        assert!(!check(&[], base, local(), "null", "127.0.0.1:8080"));
        // Another page on this machine (another port) is another origin.
        assert!(!check(
            &[],
            base,
            local(),
            "http://127.0.0.1:3000",
            "127.0.0.1:8080"
        ));
    }

    #[test]
    fn bound_to_all_interfaces_any_local_ip_literal_on_our_port_passes() {
        let any: SocketAddr = "0.0.0.0:8080".parse().expect("addr");
        let base = "http://0.0.0.0:8080";
        assert!(check(
            &[],
            base,
            any,
            "http://192.168.1.20:8080",
            "192.168.1.20:8080"
        ));
        assert!(!check(&[], base, any, "http://pc.lan:8080", "pc.lan:8080"));
        assert!(!check(
            &[],
            base,
            any,
            "http://192.168.1.20:8080",
            "192.168.1.21:8080"
        ));
        // Bound to one address: another IP literal is not us.
        let one: SocketAddr = "192.168.1.20:8080".parse().expect("addr");
        assert!(!check(
            &[],
            base,
            one,
            "http://10.0.0.1:8080",
            "10.0.0.1:8080"
        ));
    }

    #[test]
    fn configured_hosts_pass_whatever_the_host_header_says() {
        let base = "https://circle.example.org";
        assert!(check(
            &[],
            base,
            local(),
            "https://circle.example.org",
            "127.0.0.1:8080"
        ));
        assert!(check(
            &[],
            base,
            local(),
            "https://CIRCLE.example.org/",
            "x"
        ));
        assert!(!check(
            &[],
            base,
            local(),
            "https://other.example.org",
            "other.example.org"
        ));
        let allowed = ["https://app.example.org"];
        assert!(check(
            &allowed,
            base,
            local(),
            "https://app.example.org",
            "x"
        ));
        assert!(check(
            &["*"],
            base,
            local(),
            "https://anything.example",
            "x"
        ));
    }
}
