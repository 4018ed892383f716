//! `okaz-server serve`: the HTTPS API, the operations listener, the
//! background jobs, and a graceful drain on shutdown.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::Args;
use okaz_server::config::Config;
use okaz_server::http;
use okaz_server::metrics::Metrics;
use okaz_server::wiring;

/// `serve`'s flags.
#[derive(Args)]
pub(super) struct Serve {
    /// Use a generated self-signed certificate (development only).
    #[arg(long)]
    dev_self_signed: bool,
    /// Where to write the self-signed certificate for clients to trust.
    #[arg(long, requires = "dev_self_signed")]
    write_cert: Option<PathBuf>,
}

impl Serve {
    /// Serves until SIGTERM or Ctrl-C, then drains.
    pub(super) async fn run(self, cfg: Config) -> Result<()> {
        let Self {
            dev_self_signed,
            write_cert,
        } = self;
        if let Some(key) = &cfg.server.tls_key {
            okaz_server::config::refuse_exposed(key)?;
        }
        let clients = wiring::client_auth(&cfg)?;
        let tls = match (&cfg.server.tls_cert, &cfg.server.tls_key, dev_self_signed) {
        (Some(cert), Some(key), _) => http::server::load_tls(cert, key, clients.as_ref())?,
        (_, _, true) => {
            let (tls, pem) = http::server::self_signed_with_clients(clients.as_ref())?;
            if let Some(path) = write_cert {
                std::fs::write(&path, pem).with_context(|| format!("writing {}", path.display()))?;
            }
            tracing::warn!("serving with a self-signed development certificate");
            tls
        }
        _ => bail!(
            "no TLS material: set server.tls_cert and server.tls_key, or pass --dev-self-signed for development"
        ),
    };
        let metrics = Metrics::default();
        // CRLs (and CAs) are read again on SIGHUP and on a timer, without a restart.
        let tls = tls.reload_from(cfg.server.client_cas.clone());
        let reloads = tls.spawn_reloads(
            (cfg.server.crl_reload_secs > 0)
                .then(|| std::time::Duration::from_secs(cfg.server.crl_reload_secs)),
            metrics.clone(),
        );
        let broker =
            wiring::broker_with_metrics(&cfg, Arc::new(okaz_core::clock::SystemClock), &metrics)
                .await?;
        let app = wiring::app(&cfg, broker, metrics.clone())?;
        let background =
            okaz_server::background::Background::start(&cfg, &app.broker, &app.tlog, &metrics)?;
        let listener = http::server::bind(cfg.server.listen).await?;
        let addr = listener.local_addr()?;
        let ops_listener = http::server::bind(cfg.server.ops_listen)
            .await
            .with_context(|| {
                format!("binding the operations listener {}", cfg.server.ops_listen)
            })?;
        let ops_addr = ops_listener.local_addr()?;
        tracing::info!(%addr, %ops_addr, "okaz broker listening");
        println!("listening on https://{addr}");
        println!("operations on http://{ops_addr}");
        let (ops_stop, ops_stopped) = tokio::sync::oneshot::channel::<()>();
        let ops = tokio::spawn(http::ops::serve(ops_listener, app.clone(), async {
            let _ = ops_stopped.await;
        }));
        let delay = std::time::Duration::from_secs(cfg.server.shutdown_delay_secs);
        let draining = app.clone();
        let shutdown = async move {
            shutdown_signal().await;
            // Readiness fails first and the API keeps serving, so the load
            // balancer moves new connections away before the listener closes.
            draining.start_draining();
            tracing::info!(secs = delay.as_secs(), "draining: readiness now fails");
            tokio::time::sleep(delay).await;
        };
        http::server::serve(listener, tls, app, wiring::limits(&cfg), shutdown).await;
        let _ = ops_stop.send(());
        let _ = ops.await;
        background.stop();
        reloads.abort();
        tracing::info!("stopped");
        Ok(())
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
