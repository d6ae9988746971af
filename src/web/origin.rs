//! The scheme and host a response names (Identify's baseURL, the `request` element, the
//! start page's links). `Forwarded`, `X-Forwarded-Host` and `X-Forwarded-Proto` are
//! believed only from the reverse proxies listed in `server.trusted_proxies`; from any
//! other client they are ignored and the request's own `Host` is used.

use actix_web::http::header::HOST;
use actix_web::HttpRequest;
use std::net::IpAddr;

/// The trusted reverse proxies: (network address, prefix length).
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

impl TrustedProxies {
    /// The proxies of the configuration (checked when it was loaded).
    pub fn new(networks: Vec<(IpAddr, u8)>) -> Self {
        TrustedProxies(networks)
    }

    /// Whether `peer` is one of the trusted proxies.
    pub fn trusts(&self, peer: IpAddr) -> bool {
        let peer = peer.to_canonical();
        self.0
            .iter()
            .any(|(net, prefix)| in_network(peer, *net, *prefix))
    }
}

fn in_network(addr: IpAddr, net: IpAddr, prefix: u8) -> bool {
    match (addr, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// `scheme://host` of the request as the client addressed it.
pub fn origin(req: &HttpRequest, trusted: &TrustedProxies) -> String {
    if req
        .peer_addr()
        .is_some_and(|peer| trusted.trusts(peer.ip()))
    {
        let info = req.connection_info();
        return format!("{}://{}", info.scheme(), info.host());
    }
    let scheme = req
        .uri()
        .scheme_str()
        .unwrap_or(if req.app_config().secure() {
            "https"
        } else {
            "http"
        });
    let host = req
        .headers()
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()))
        .unwrap_or_else(|| req.app_config().host());
    format!("{scheme}://{host}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_match_by_prefix() {
        let proxies = TrustedProxies::new(vec![
            ("10.0.0.0".parse().unwrap(), 8),
            ("192.168.1.7".parse().unwrap(), 32),
            ("::1".parse().unwrap(), 128),
            ("0.0.0.0".parse().unwrap(), 0),
        ]);
        assert!(proxies.trusts("10.200.3.4".parse().unwrap()));
        assert!(proxies.trusts("::1".parse().unwrap()));
        assert!(proxies.trusts("::ffff:10.0.0.1".parse().unwrap()));
        let strict = TrustedProxies::new(vec![("192.168.1.7".parse().unwrap(), 32)]);
        assert!(strict.trusts("192.168.1.7".parse().unwrap()));
        assert!(!strict.trusts("192.168.1.8".parse().unwrap()));
        assert!(!TrustedProxies::default().trusts("127.0.0.1".parse().unwrap()));
    }
}
