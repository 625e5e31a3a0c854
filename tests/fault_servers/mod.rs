//! Small servers on 127.0.0.1 for the fault tests: a plain axum one, one that answers with raw
//! bytes (for answers no server library would send) and an https one with a self-signed
//! certificate made at test time.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

pub(crate) async fn serve(app: Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// A server that answers every connection with `raw` bytes and then closes it: for answers
/// no well-behaved server library would send.
pub(crate) async fn raw_server(raw: Vec<u8>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let raw = raw.clone();
            tokio::spawn(async move {
                read_head(&mut sock).await;
                let _ = sock.write_all(&raw).await;
                let _ = sock.flush().await;
                let _ = sock.shutdown().await;
            });
        }
    });
    addr
}

/// Reads a request head (up to the blank line; the bodies here are empty) and returns it.
pub(crate) async fn read_head<S: tokio::io::AsyncRead + Unpin>(sock: &mut S) -> String {
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
        match sock.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&seen).into_owned()
}

/// An https server on 127.0.0.1 with a certificate made now and signed by nobody, answering
/// every request with `body` as FHIR JSON.
pub(crate) async fn self_signed_server(body: &'static str) -> SocketAddr {
    self_signed_with(Arc::new(move |_: &str, _: u16| {
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    }))
    .await
}

/// Makes a whole HTTP answer from the request's path and the server's port.
pub(crate) type Answer = Arc<dyn Fn(&str, u16) -> String + Send + Sync>;

/// The self-signed https server with answers of the test's choosing.
pub(crate) async fn self_signed_with(answer: Answer) -> SocketAddr {
    use tokio_rustls::rustls;
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let cert = certified.cert.der().clone();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![cert], key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((sock, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            let answer = answer.clone();
            tokio::spawn(async move {
                // A client that refuses the certificate ends the handshake here.
                let Ok(mut tls) = acceptor.accept(sock).await else {
                    return;
                };
                let head = read_head(&mut tls).await;
                let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
                let _ = tls.write_all(answer(&path, addr.port()).as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    addr
}
