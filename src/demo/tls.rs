//! The demo's https mode (`--tls`): a certificate authority made at start,
//! a server certificate for `localhost` / `127.0.0.1` signed by it, and a
//! listener that hands axum finished TLS connections. The CA certificate is
//! written to a private temporary folder so a client can be pointed at it
//! (or told `insecure`), as real `.http` files use `https://{{hostname}}`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tokio_rustls::server::TlsStream;

/// A handshake that takes longer than this is dropped (a stalled client
/// must not hold a connection slot).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Finished handshakes waiting for axum to take them.
const QUEUE: usize = 64;

/// The CA certificate on disk (removed with the value) and the server config.
pub(super) struct DemoTls {
    dir: tempfile::TempDir,
    config: Arc<rustls::ServerConfig>,
}

impl DemoTls {
    /// Makes the CA and the server certificate, and writes `ca.pem`.
    pub(super) fn generate() -> std::io::Result<DemoTls> {
        let fail = |e: rcgen::Error| std::io::Error::other(format!("certificate: {e}"));
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(fail)?;
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "fhirside demo CA");
        let ca = rcgen::CertifiedIssuer::self_signed(
            ca_params,
            rcgen::KeyPair::generate().map_err(fail)?,
        )
        .map_err(fail)?;
        let leaf_key = rcgen::KeyPair::generate().map_err(fail)?;
        let mut leaf_params =
            rcgen::CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
                .map_err(fail)?;
        leaf_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "fhirside demo server");
        let leaf = leaf_params.signed_by(&leaf_key, &ca).map_err(fail)?;
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into());
        let chain = vec![leaf.der().clone(), ca.as_ref().der().clone()];
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| std::io::Error::other(format!("tls: {e}")))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| std::io::Error::other(format!("tls: {e}")))?;
        let dir = tempfile::Builder::new()
            .prefix("fhirside-demo-tls-")
            .tempdir()?;
        std::fs::write(dir.path().join("ca.pem"), ca.as_ref().pem())?;
        Ok(DemoTls {
            dir,
            config: Arc::new(config),
        })
    }

    /// Path of the CA certificate (PEM) that signed the server certificate.
    pub(super) fn ca_path(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// Wraps a bound listener: connections come out of `accept` already
    /// through their handshake, which runs in its own task per connection.
    pub(super) fn listener(&self, tcp: TcpListener) -> std::io::Result<TlsListener> {
        let addr = tcp.local_addr()?;
        let acceptor = TlsAcceptor::from(self.config.clone());
        let (tx, rx) = mpsc::channel(QUEUE);
        let task = tokio::spawn(async move {
            loop {
                let Ok((sock, peer)) = tcp.accept().await else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let acceptor = acceptor.clone();
                let tx = tx.clone();
                tokio::spawn(async move {
                    if let Ok(Ok(tls)) =
                        tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(sock)).await
                    {
                        let _ = tx.send((tls, peer)).await;
                    }
                });
            }
        });
        Ok(TlsListener { rx, addr, task })
    }
}

/// An axum listener yielding TLS connections.
pub(super) struct TlsListener {
    rx: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.rx.recv().await {
            Some(conn) => conn,
            // The accept task is gone: nothing more will arrive.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.addr)
    }
}
