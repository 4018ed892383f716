//! PostgreSQL over TLS: rustls (ring) under tokio-postgres, configured by
//! libpq's own URL parameters so that `psql`, `pg_dump` and `pg_restore`
//! read the very same URL:
//!
//! | `sslmode` | TLS | server certificate |
//! |---|---|---|
//! | `disable` | never | — |
//! | `prefer` | if the server offers it, else plain | not checked |
//! | `require` | always; a server without TLS is refused | not checked: protects against eavesdroppers, not against an impostor |
//! | `verify-full` | always | chain checked against the CA file (`sslrootcert`), and the host name (or IP) against the certificate |
//!
//! Without `sslmode`, a database on loopback (127.0.0.0/8, `::1`,
//! `localhost`, or a Unix socket) gets `prefer` and any other host gets
//! `verify-full`: a remote database is never reached in clear or without
//! checking whose certificate it is, unless the URL says so.
//!
//! `sslrootcert` (a PEM file of CA certificates) is used by `verify-full`
//! only; naming it with another mode is refused rather than ignored.
//!
//! The handshake itself is `tokio-postgres-rustls`'s connector (which also
//! gives SCRAM its `tls-server-end-point` channel binding); this file only
//! turns libpq's parameters into the rustls configuration it is given.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use tokio_postgres::tls::MakeTlsConnect;
use tokio_postgres_rustls::MakeRustlsConnect;

use okaz_core::ports::StoreError;

/// How a connection to PostgreSQL uses TLS (libpq's `sslmode` values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// Plain TCP only.
    Disable,
    /// TLS when the server offers it, certificate unchecked.
    Prefer,
    /// TLS always, certificate unchecked.
    Require,
    /// TLS always, chain and host name checked against the CA file.
    VerifyFull,
}

impl SslMode {
    /// Parses libpq's spelling.
    pub fn parse(s: &str) -> Result<SslMode, StoreError> {
        match s {
            "disable" => Ok(SslMode::Disable),
            "prefer" => Ok(SslMode::Prefer),
            "require" => Ok(SslMode::Require),
            "verify-full" => Ok(SslMode::VerifyFull),
            other => Err(StoreError::Unavailable(format!(
                "database sslmode {other:?} is not supported: use disable, prefer, require or verify-full"
            ))),
        }
    }

    /// libpq's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// A parsed PostgreSQL URL: the driver's configuration and the TLS to use.
pub struct Target {
    /// The driver's configuration (its `ssl_mode` set from [`Target::mode`]).
    pub config: tokio_postgres::Config,
    /// The mode in force (given, or the default for the host).
    pub mode: SslMode,
    /// The connector for the driver.
    pub tls: MakeRustlsConnect,
}

/// Parses a `postgres://` URL with libpq's `sslmode` and `sslrootcert`.
pub fn target(url: &str) -> Result<Target, StoreError> {
    let invalid = |e: String| StoreError::Unavailable(format!("database URL: {e}"));
    let mut parsed = url::Url::parse(url).map_err(|e| invalid(e.to_string()))?;
    let mut mode = None;
    let mut root = None;
    let mut rest = Vec::new();
    for (k, v) in parsed.query_pairs() {
        match k.as_ref() {
            "sslmode" => mode = Some(SslMode::parse(&v)?),
            "sslrootcert" => root = Some(PathBuf::from(v.as_ref())),
            _ => rest.push((k.into_owned(), v.into_owned())),
        }
    }
    if rest.is_empty() {
        parsed.set_query(None);
    } else {
        parsed.query_pairs_mut().clear().extend_pairs(rest);
    }
    let mut config: tokio_postgres::Config = parsed
        .as_str()
        .parse()
        .map_err(|e: tokio_postgres::Error| invalid(e.to_string()))?;
    let mode = mode.unwrap_or_else(|| default_mode(&config));
    config.ssl_mode(match mode {
        SslMode::Disable => tokio_postgres::config::SslMode::Disable,
        SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
        SslMode::Require | SslMode::VerifyFull => tokio_postgres::config::SslMode::Require,
    });
    let tls = match (mode, root) {
        (SslMode::VerifyFull, Some(ca)) => verifying(&ca)?,
        (SslMode::VerifyFull, None) => {
            return Err(StoreError::Unavailable(
                "database sslmode verify-full needs a CA file ([database] ca_file, or sslrootcert in the URL)"
                    .to_string(),
            ))
        }
        (_, Some(_)) => {
            return Err(StoreError::Unavailable(format!(
                "database CA file given but sslmode is {}: the certificate would not be checked; use verify-full",
                mode.as_str()
            )))
        }
        (_, None) => unverified()?,
    };
    Ok(Target { config, mode, tls })
}

/// `prefer` on loopback and Unix sockets, `verify-full` anywhere else.
fn default_mode(config: &tokio_postgres::Config) -> SslMode {
    let hosts_local = config.get_hosts().iter().all(|h| match h {
        tokio_postgres::config::Host::Tcp(name) => is_loopback_name(name),
        #[cfg(unix)]
        tokio_postgres::config::Host::Unix(_) => true,
    });
    let addrs_local = config.get_hostaddrs().iter().all(IpAddr::is_loopback);
    if hosts_local && addrs_local {
        SslMode::Prefer
    } else {
        SslMode::VerifyFull
    }
}

fn is_loopback_name(name: &str) -> bool {
    let bare = name.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Adds `[database] sslmode` and `ca_file` to a PostgreSQL URL as libpq
/// parameters; the URL's own value wins only if it is the same, since two
/// different answers to "is the certificate checked" must not be guessed
/// between.
pub fn with_settings(
    url: &str,
    sslmode: Option<&str>,
    ca_file: Option<&Path>,
) -> Result<String, StoreError> {
    if sslmode.is_none() && ca_file.is_none() {
        return Ok(url.to_string());
    }
    let mut parsed =
        url::Url::parse(url).map_err(|e| StoreError::Unavailable(format!("database URL: {e}")))?;
    let given: Vec<(String, String)> = parsed
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut add = Vec::new();
    for (key, value) in [
        ("sslmode", sslmode.map(str::to_string)),
        ("sslrootcert", ca_file.map(|p| p.display().to_string())),
    ] {
        let Some(value) = value else { continue };
        match given.iter().find(|(k, _)| k == key) {
            Some((_, v)) if *v == value => {}
            Some((_, v)) => {
                return Err(StoreError::Unavailable(format!(
                    "database: the URL says {key}={v} but [database] says {value}"
                )))
            }
            None => add.push((key, value)),
        }
    }
    parsed.query_pairs_mut().extend_pairs(add);
    Ok(parsed.to_string())
}

/// Connects one client (the test kit, tools); the store uses a pool.
pub async fn connect(
    url: &str,
) -> Result<
    (
        tokio_postgres::Client,
        tokio_postgres::Connection<
            tokio_postgres::Socket,
            <MakeRustlsConnect as MakeTlsConnect<tokio_postgres::Socket>>::Stream,
        >,
    ),
    StoreError,
> {
    let t = target(url)?;
    t.config
        .connect(t.tls)
        .await
        .map_err(|e| StoreError::Unavailable(error_chain(&e)))
}

/// The driver's error with its sources ("error performing TLS handshake:
/// invalid peer certificate: …"), since the top line alone hides why.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Checks the chain against the CAs in `ca` (PEM) and the host name.
pub fn verifying(ca: &Path) -> Result<MakeRustlsConnect, StoreError> {
    let bad = |e: String| StoreError::Unavailable(format!("database CA {}: {e}", ca.display()));
    let pem = std::fs::read(ca).map_err(|e| bad(e.to_string()))?;
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls_pemfile::certs(&mut pem.as_slice()) {
        roots
            .add(c.map_err(|e| bad(e.to_string()))?)
            .map_err(|e| bad(e.to_string()))?;
    }
    if roots.is_empty() {
        return Err(bad("no certificate found".to_string()));
    }
    let config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

/// Encrypts without checking whose certificate it is (`require`,
/// `prefer`); the handshake's signatures are still verified.
pub fn unverified() -> Result<MakeRustlsConnect, StoreError> {
    let provider = provider();
    let config = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| StoreError::Unavailable(format!("database TLS: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

/// `require`'s verifier: any certificate, as libpq does in that mode.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_defaults_to_prefer_and_remote_to_verify_full() {
        let mode = |u: &str| target(u).map(|t| t.mode);
        assert_eq!(
            mode("postgres://postgres@127.0.0.1:5432/x").unwrap(),
            SslMode::Prefer
        );
        assert_eq!(
            mode("postgres://postgres@localhost/x").unwrap(),
            SslMode::Prefer
        );
        assert_eq!(
            mode("postgres://postgres@[::1]/x").unwrap(),
            SslMode::Prefer
        );
        // Remote without a CA: refused, never silently unchecked.
        let e = target("postgres://db.example/x").err().unwrap();
        assert!(e.to_string().contains("verify-full"), "{e}");
        assert_eq!(
            mode("postgres://db.example/x?sslmode=require").unwrap(),
            SslMode::Require
        );
        assert_eq!(
            mode("postgres://db.example/x?sslmode=disable&application_name=okaz").unwrap(),
            SslMode::Disable
        );
    }

    #[test]
    fn sslmode_and_ca_must_agree() {
        assert!(SslMode::parse("verify-ca").is_err());
        let e = target("postgres://h/x?sslmode=require&sslrootcert=/nonexistent")
            .err()
            .unwrap();
        assert!(e.to_string().contains("use verify-full"), "{e}");
        let e = target("postgres://h/x?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem")
            .err()
            .unwrap();
        assert!(e.to_string().contains("/nonexistent/ca.pem"), "{e}");
    }

    #[test]
    fn settings_join_the_url_and_conflicts_are_refused() {
        assert_eq!(
            with_settings("postgres://h/x", None, None).unwrap(),
            "postgres://h/x"
        );
        let u = with_settings(
            "postgres://h/x",
            Some("verify-full"),
            Some(Path::new("/etc/okaz/db-ca.pem")),
        )
        .unwrap();
        assert_eq!(
            u,
            "postgres://h/x?sslmode=verify-full&sslrootcert=%2Fetc%2Fokaz%2Fdb-ca.pem"
        );
        assert_eq!(
            with_settings("postgres://h/x?sslmode=require", Some("require"), None).unwrap(),
            "postgres://h/x?sslmode=require"
        );
        let e =
            with_settings("postgres://h/x?sslmode=require", Some("verify-full"), None).unwrap_err();
        assert!(e.to_string().contains("sslmode=require"), "{e}");
    }
}
