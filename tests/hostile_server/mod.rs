//! A hostile server for the trust tests, on 127.0.0.1:0: every listener logs exactly what it
//! received (method, target, headers, body), so a test can assert that no token, secret header,
//! secret body or `Referer` arrived where it must not. Two listeners are two origins.
//!
//! The answers are whatever the test's closure returns: a kick-off with a foreign
//! `Content-Location`, a manifest with foreign `requiresAccessToken` URLs, redirects to another
//! origin, a gzip bomb that counts how much of itself was sent.
#![allow(dead_code)]

pub(crate) mod blob;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

/// One request as it arrived.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    pub method: String,
    /// Path and query.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Seen {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The whole request as text, for "does this appear anywhere" checks.
    pub(crate) fn text(&self) -> String {
        let mut s = format!("{} {}\n", self.method, self.target);
        for (k, v) in &self.headers {
            s.push_str(&format!("{k}: {v}\n"));
        }
        s.push('\n');
        s.push_str(&String::from_utf8_lossy(&self.body));
        s
    }
}

/// What a listener received, in order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Log(Arc<Mutex<Vec<Seen>>>);

impl Log {
    pub(crate) fn all(&self) -> Vec<Seen> {
        self.0.lock().map(|l| l.clone()).unwrap_or_default()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.all().is_empty()
    }

    /// Whether `needle` appears anywhere in anything received (target, headers, body).
    pub(crate) fn contains(&self, needle: &str) -> bool {
        self.all().iter().any(|s| s.text().contains(needle))
    }

    /// Everything received, for assertion messages.
    pub(crate) fn dump(&self) -> String {
        self.all()
            .iter()
            .map(Seen::text)
            .collect::<Vec<_>>()
            .join("\n----\n")
    }

    fn push(&self, s: Seen) {
        if let Ok(mut l) = self.0.lock() {
            l.push(s);
        }
    }
}

/// Makes the answer to a request.
pub(crate) type Handler = Arc<dyn Fn(&Seen) -> Response + Send + Sync>;

/// A listener: its address and what it received.
#[derive(Debug, Clone)]
pub(crate) struct Listener {
    pub addr: SocketAddr,
    pub log: Log,
}

impl Listener {
    /// `http://127.0.0.1:PORT`: this listener's origin.
    pub(crate) fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.addr.port())
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin())
    }

    /// `127.0.0.1:PORT`, as sentences name it.
    pub(crate) fn host_port(&self) -> String {
        format!("127.0.0.1:{}", self.addr.port())
    }
}

/// Starts a listener whose answers come from `make(its own origin)`.
pub(crate) async fn listen(make: impl FnOnce(String) -> Handler) -> Listener {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let handler = make(format!("http://127.0.0.1:{}", addr.port()));
    let log = Log::default();
    let app = {
        let log = log.clone();
        Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let (log, handler) = (log.clone(), handler.clone());
                async move {
                    let seen = Seen {
                        method: method.to_string(),
                        target: uri
                            .path_and_query()
                            .map(|p| p.to_string())
                            .unwrap_or_default(),
                        headers: headers
                            .iter()
                            .map(|(k, v)| {
                                (
                                    k.to_string(),
                                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                                )
                            })
                            .collect(),
                        body: body.to_vec(),
                    };
                    log.push(seen.clone());
                    handler(&seen)
                }
            },
        )
    };
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Listener { addr, log }
}

/// Another origin that answers every request with `200 landed` and logs it.
pub(crate) async fn bystander() -> Listener {
    listen(|_| Arc::new(|_: &Seen| (StatusCode::OK, "landed").into_response())).await
}

/// A redirect with `status` to `location`.
pub(crate) fn redirect(status: u16, location: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::FOUND);
    (status, [("location", location.to_string())], "").into_response()
}

/// `202 Accepted` with a `Content-Location`.
pub(crate) fn accepted(content_location: &str) -> Response {
    (
        StatusCode::ACCEPTED,
        [("content-location", content_location.to_string())],
        "",
    )
        .into_response()
}

/// A completed export's manifest.
pub(crate) fn manifest(requires_access_token: bool, outputs: &[(&str, String, u64)]) -> Response {
    let output: Vec<serde_json::Value> = outputs
        .iter()
        .map(|(t, url, count)| serde_json::json!({"type": t, "url": url, "count": count}))
        .collect();
    let body = serde_json::json!({
        "transactionTime": "2025-01-01T00:00:00Z",
        "request": "http://x/$export",
        "requiresAccessToken": requires_access_token,
        "output": output,
        "error": [],
    });
    (
        StatusCode::OK,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// `n` NDJSON lines.
pub(crate) fn ndjson(n: u64) -> Response {
    let body: String = (0..n)
        .map(|i| format!("{{\"resourceType\":\"Patient\",\"id\":\"p{i}\"}}\n"))
        .collect();
    (
        StatusCode::OK,
        [("content-type", "application/fhir+ndjson")],
        body,
    )
        .into_response()
}

/// A gzip bomb like the one a reviewer sent: one gzip stream of `total_mb` MB of zeros
/// (about 1,030:1), compressed lazily as the client reads, so a client that stops early costs
/// little; `sent` counts the compressed bytes handed to the connection.
pub(crate) fn gzip_bomb(total_mb: usize, sent: Arc<AtomicU64>) -> Response {
    lazy_gzip(
        Bytes::from(vec![0u8; 1 << 20]),
        total_mb,
        flate2::Compression::best(),
        sent,
    )
}

/// `chunk` repeated `times` times as one `Content-Encoding: gzip` stream, compressed while it
/// is sent. Once a chunk compresses to the same bytes as the one before (the window is the
/// same), those bytes are sent again without compressing, so a bomb costs the server nothing.
pub(crate) fn lazy_gzip(
    chunk: Bytes,
    times: usize,
    level: flate2::Compression,
    sent: Arc<AtomicU64>,
) -> Response {
    use std::io::Write as _;
    struct State {
        enc: flate2::write::GzEncoder<Vec<u8>>,
        crc: flate2::Crc,
        last: Bytes,
        repeating: bool,
        i: usize,
    }
    let start = State {
        enc: flate2::write::GzEncoder::new(Vec::new(), level),
        crc: flate2::Crc::new(),
        last: Bytes::new(),
        repeating: false,
        i: 0,
    };
    let stream = futures::stream::unfold(start, move |mut st| {
        let chunk = chunk.clone();
        let sent = sent.clone();
        async move {
            if st.i > times {
                return None;
            }
            let out = if st.i == times {
                // A final empty block after the sync flush, then CRC-32 and size.
                let mut tail = vec![0x03, 0x00];
                tail.extend_from_slice(&st.crc.sum().to_le_bytes());
                tail.extend_from_slice(&st.crc.amount().to_le_bytes());
                Bytes::from(tail)
            } else if st.repeating {
                st.last.clone()
            } else {
                st.enc.write_all(&chunk).unwrap();
                st.enc.flush().unwrap();
                let out = Bytes::from(std::mem::take(st.enc.get_mut()));
                st.repeating = out == st.last;
                st.last = out.clone();
                out
            };
            if st.i < times {
                st.crc.update(&chunk);
            }
            st.i += 1;
            sent.fetch_add(out.len() as u64, Ordering::Relaxed);
            Some((Ok::<_, std::io::Error>(out), st))
        }
    });
    (
        StatusCode::OK,
        [
            ("content-type", "application/fhir+json"),
            ("content-encoding", "gzip"),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}

/// An Entra-like token endpoint (`POST /{tenant}/oauth2/token` and `/oauth2/v2.0/token`):
/// `storage_token` for a request for Azure Storage (v1 `resource=https://storage.azure.com/`,
/// v2 `scope=https://storage.azure.com/.default`), `fhir_token` for anything else.
pub(crate) async fn idp(fhir_token: &'static str, storage_token: &'static str) -> Listener {
    listen(move |_| {
        Arc::new(move |seen: &Seen| {
            let form = String::from_utf8_lossy(&seen.body).into_owned();
            let pairs: Vec<(String, String)> = url::form_urlencoded::parse(form.as_bytes())
                .into_owned()
                .collect();
            let asks_storage = pairs.iter().any(|(k, v)| {
                (k == "resource" && v == "https://storage.azure.com/")
                    || (k == "scope" && v.split(' ').any(|s| s == "https://storage.azure.com/.default"))
            });
            let token = if asks_storage { storage_token } else { fhir_token };
            (
                StatusCode::OK,
                [("content-type", "application/json")],
                serde_json::json!({"token_type": "Bearer", "expires_in": 3600, "access_token": token})
                    .to_string(),
            )
                .into_response()
        })
    })
    .await
}
