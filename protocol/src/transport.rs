//! Which URLs the parts of okaz may speak plain HTTP to: none, except on
//! the machine itself. The broker, the registers, the SMS gateway and the
//! witnesses carry tokens, codes, documents and phone numbers, so anything
//! off loopback must be `https://`; loopback (127.0.0.0/8, `::1`,
//! `localhost`) stays allowed for development, tests and a TLS-terminating
//! proxy on the same host.

use std::net::{Ipv4Addr, Ipv6Addr};

/// Why a configured URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlRefused {
    /// Plain `http://` to a host that is not loopback.
    #[error(
        "{key}: plain http:// to {host} is refused; use https:// (plain HTTP is allowed only on loopback: 127.0.0.0/8, ::1, localhost)"
    )]
    PlainHttp {
        /// The configuration key or option.
        key: String,
        /// The host the URL names.
        host: String,
    },
    /// Neither `https://` nor `http://`, or not a URL at all.
    #[error("{key}: {url:?} is not an https:// URL")]
    NotHttp {
        /// The configuration key or option.
        key: String,
        /// The URL as given.
        url: String,
    },
}

/// Accepts `https://` anywhere and `http://` only to a loopback host;
/// `key` names the setting in the error (e.g. `[sms] sendsms_url`).
pub fn require_tls_off_loopback(key: &str, url: &str) -> Result<(), UrlRefused> {
    let not_http = || UrlRefused::NotHttp {
        key: key.to_string(),
        url: url.to_string(),
    };
    let parsed = url::Url::parse(url).map_err(|_| not_http())?;
    match parsed.scheme() {
        "https" => Ok(()),
        "http" => {
            let loopback = match parsed.host() {
                Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
                Some(url::Host::Ipv4(ip)) => Ipv4Addr::is_loopback(&ip),
                Some(url::Host::Ipv6(ip)) => Ipv6Addr::is_loopback(&ip),
                None => false,
            };
            if loopback {
                Ok(())
            } else {
                Err(UrlRefused::PlainHttp {
                    key: key.to_string(),
                    host: parsed.host_str().unwrap_or_default().to_string(),
                })
            }
        }
        _ => Err(not_http()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_anywhere_http_only_on_loopback() {
        for ok in [
            "https://broker.example:8443",
            "https://10.0.0.5/",
            "http://127.0.0.1:8443",
            "http://127.8.9.10/x",
            "http://[::1]:9000/add-checkpoint",
            "http://localhost:13013/cgi-bin/sendsms",
            "http://LOCALHOST/",
        ] {
            assert_eq!(require_tls_off_loopback("k", ok), Ok(()), "{ok}");
        }
        for plain in [
            "http://broker.example:8443",
            "http://10.0.0.5/",
            "http://128.0.0.1/",
            "http://[::2]/",
            "http://localhost.example/",
            "http://0.0.0.0/",
        ] {
            let e = require_tls_off_loopback("[sms] sendsms_url", plain).unwrap_err();
            assert!(matches!(e, UrlRefused::PlainHttp { .. }), "{plain}: {e:?}");
            assert!(
                e.to_string()
                    .starts_with("[sms] sendsms_url: plain http://"),
                "{e}"
            );
        }
        for odd in ["ftp://x/", "broker.example:8443", ""] {
            assert!(
                matches!(
                    require_tls_off_loopback("--broker", odd),
                    Err(UrlRefused::NotHttp { .. })
                ),
                "{odd}"
            );
        }
    }
}
