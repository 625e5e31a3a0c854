//! Network faults through the worker, against servers on 127.0.0.1 only: a name that does not
//! resolve (through a resolver hook, so no DNS query leaves the machine), TLS with a self-signed
//! certificate and the per-environment `insecure` opt-in, a connection dropped mid-body,
//! `429`/`503` with `Retry-After`, gzip and brotli bodies, chunked bodies. Each ends in a sentence
//! the user can act on.

mod fault_servers;

use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use fault_servers::{Answer, raw_server, self_signed_server, self_signed_with, serve};
use fhirside::worker::{self, HttpError, HttpRequest, RequestId, WorkerCommand, WorkerEvent};
use tokio::sync::mpsc;

fn get_req(url: String) -> HttpRequest {
    HttpRequest {
        method: "GET".into(),
        url,
        headers: vec![],
        body: None,
        timeout: Duration::from_secs(10),
        insecure: false,
    }
}

/// Sends each request through one worker, in order, and returns the results.
async fn through_worker(
    requests: Vec<HttpRequest>,
) -> Vec<Result<Box<worker::Received>, HttpError>> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let handle = worker::spawn(tx);
    let mut out = Vec::new();
    for (i, request) in requests.into_iter().enumerate() {
        handle.send(WorkerCommand::Send {
            id: RequestId(i as u64),
            request,
            auth: None,
            record: None,
            read_fhir: false,
        });
        match tokio::time::timeout(Duration::from_secs(20), rx.recv())
            .await
            .expect("the worker answered")
        {
            Some(WorkerEvent::Response { id, result }) => {
                assert_eq!(id, RequestId(i as u64));
                out.push(result);
            }
            other => panic!("unexpected event: {other:?}"),
        }
    }
    out
}

async fn one(request: HttpRequest) -> Result<Box<worker::Received>, HttpError> {
    through_worker(vec![request]).await.remove(0)
}

// ----- a name that does not resolve -----------------------------------------------------

/// A resolver that knows no names: stands in for DNS, so nothing is asked of the network.
struct NoSuchHost;

impl reqwest::dns::Resolve for NoSuchHost {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let name = name.as_str().to_string();
        Box::pin(async move {
            let err: Box<dyn std::error::Error + Send + Sync> =
                format!("failed to lookup address information: {name}: Name or service not known")
                    .into();
            Err(err)
        })
    }
}

#[tokio::test]
async fn a_name_that_does_not_resolve_is_a_sentence() {
    let client = worker::http::client_builder()
        .dns_resolver(Arc::new(NoSuchHost))
        .build()
        .unwrap();
    let err = worker::exchange(
        &client,
        &get_req("http://fhir.nowhere.test/metadata".into()),
    )
    .await
    .unwrap_err();
    assert_eq!(err, HttpError::Dns("fhir.nowhere.test".into()));
    assert_eq!(
        err.to_string(),
        "The host name fhir.nowhere.test could not be resolved: check the URL, or your network and DNS."
    );
}

/// The resolver's own wording does not matter: a failed lookup is still named as one.
struct Refusing;

impl reqwest::dns::Resolve for Refusing {
    fn resolve(&self, _: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async {
            let err: Box<dyn std::error::Error + Send + Sync> = "no answer".into();
            Err(err)
        })
    }
}

#[tokio::test]
async fn any_resolver_failure_is_named_as_a_lookup_failure() {
    let client = worker::http::client_builder()
        .dns_resolver(Arc::new(Refusing))
        .build()
        .unwrap();
    let err = worker::exchange(&client, &get_req("https://fhir.nowhere.test/".into()))
        .await
        .unwrap_err();
    assert_eq!(err, HttpError::Dns("fhir.nowhere.test".into()), "{err}");
}

// ----- TLS ------------------------------------------------------------------------------

#[tokio::test]
async fn a_self_signed_certificate_is_refused_with_the_way_out() {
    let addr = self_signed_server(r#"{"resourceType":"Patient"}"#).await;
    let err = one(get_req(format!(
        "https://127.0.0.1:{}/Patient",
        addr.port()
    )))
    .await
    .unwrap_err();
    let HttpError::Tls { host, .. } = &err else {
        panic!("expected a TLS error, got {err:?}");
    };
    assert_eq!(host, "127.0.0.1");
    let text = err.to_string();
    assert!(
        text.starts_with("Secure connection to 127.0.0.1 failed: the server's certificate is not signed by an authority this machine trusts"),
        "{text}"
    );
    assert!(text.contains("`insecure = true`"), "{text}");
}

#[tokio::test]
async fn the_insecure_opt_in_accepts_it_for_that_request_only() {
    let addr = self_signed_server(r#"{"resourceType":"Patient","id":"p1"}"#).await;
    let url = format!("https://127.0.0.1:{}/Patient/p1", addr.port());
    let insecure = HttpRequest {
        insecure: true,
        ..get_req(url.clone())
    };
    // Through one worker: the opted-in request gets through, the next one (same worker, same
    // server, no opt-in) is still checked.
    let results = through_worker(vec![insecure, get_req(url)]).await;
    let ok = results[0].as_ref().expect("accepted with the opt-in");
    assert_eq!(ok.response.status, 200);
    assert_eq!(ok.body.pretty.line(2), "  \"id\": \"p1\"");
    assert!(
        matches!(results[1], Err(HttpError::Tls { .. })),
        "{:?}",
        results[1].as_ref().err()
    );
}

/// A bulk-export server behind a self-signed certificate: kick-off, then a finished manifest.
fn export_answers() -> Answer {
    Arc::new(|path: &str, port: u16| {
        if path.contains("$export") {
            format!(
                "HTTP/1.1 202 Accepted\r\nContent-Location: https://127.0.0.1:{port}/fhir/_status/1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
        } else {
            let body = r#"{"transactionTime":"2025-01-01T00:00:00Z","request":"x","requiresAccessToken":false,"output":[],"error":[]}"#;
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
        }
    })
}

#[tokio::test]
async fn bulk_export_honours_the_insecure_opt_in() {
    use fhirside::worker::export::{ExportParams, JobState};
    let addr = self_signed_with(export_answers()).await;
    let base = format!("https://127.0.0.1:{}/fhir", addr.port());
    let (tx, mut rx) = mpsc::unbounded_channel();
    let handle = worker::spawn(tx);
    let start = |insecure: bool| WorkerCommand::StartExport {
        env: "test".into(),
        base: base.clone(),
        params: Box::new(ExportParams {
            insecure,
            ..ExportParams::default()
        }),
        auth: None,
    };
    let mut next = async || {
        tokio::time::timeout(Duration::from_secs(20), rx.recv())
            .await
            .expect("the worker answered")
            .expect("the worker runs")
    };
    handle.send(start(false));
    match next().await {
        WorkerEvent::ExportRefused(text) => assert!(
            text.contains("certificate is not signed by an authority this machine trusts"),
            "{text}"
        ),
        other => panic!("expected a refusal, got {other:?}"),
    }
    handle.send(start(true));
    loop {
        match next().await {
            WorkerEvent::Job(job) => {
                assert!(job.params.insecure);
                assert!(job.last_error.is_none(), "{:?}", job.last_error);
                if job.state == JobState::Complete {
                    break;
                }
            }
            other => panic!("unexpected event: {other:?}"),
        }
    }
}

#[tokio::test]
async fn plain_http_spoken_to_as_https_is_explained() {
    let addr = serve(Router::new().route("/", get(|| async { "plain" }))).await;
    let err = one(get_req(format!("https://127.0.0.1:{}/", addr.port())))
        .await
        .unwrap_err();
    assert!(
        matches!(err, HttpError::Tls { .. }) && err.to_string().contains("is it an https server?"),
        "{err:?}: {err}"
    );
}

// ----- a connection dropped mid-body ----------------------------------------------------

#[tokio::test]
async fn a_connection_dropped_mid_body_says_how_much_arrived() {
    let mut raw =
        b"HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\nContent-Length: 1000\r\n\r\n"
            .to_vec();
    raw.extend_from_slice(&[b' '; 100]);
    let addr = raw_server(raw).await;
    let err = one(get_req(format!("http://{addr}/Patient")))
        .await
        .unwrap_err();
    assert!(
        matches!(err, HttpError::BodyDropped { received: 100, .. }),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("The connection dropped while the body was arriving (100 bytes received)"),
        "{err}"
    );
}

#[tokio::test]
async fn a_chunked_body_cut_before_its_last_chunk_is_a_drop() {
    let raw = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"a\":\r\n3\r\n 1,\r\n"
        .to_vec();
    let addr = raw_server(raw).await;
    let err = one(get_req(format!("http://{addr}/x"))).await.unwrap_err();
    assert!(
        matches!(err, HttpError::BodyDropped { received: 8, .. }),
        "{err:?}: {err}"
    );
}

// ----- chunked, gzip, brotli --------------------------------------------------------------

#[tokio::test]
async fn a_chunked_body_is_joined_and_shown() {
    let chunks = [r#"{"resourceType":"#, r#""Bundle","total""#, r#":2}"#];
    let mut raw =
        b"HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\nTransfer-Encoding: chunked\r\n\r\n"
            .to_vec();
    for c in chunks {
        write!(raw, "{:x}\r\n{c}\r\n", c.len()).unwrap();
    }
    raw.extend_from_slice(b"0\r\n\r\n");
    let addr = raw_server(raw).await;
    let r = one(get_req(format!("http://{addr}/Patient")))
        .await
        .unwrap();
    assert_eq!(r.response.body, chunks.concat().as_bytes());
    assert_eq!(r.body.pretty.line(1), "  \"resourceType\": \"Bundle\",");
    assert!(r.body.note.is_none());
}

const BUNDLE: &str = r#"{"resourceType":"Bundle","type":"searchset","total":3,"entry":[{"resource":{"resourceType":"Patient","id":"a"}},{"resource":{"resourceType":"Patient","id":"b"}},{"resource":{"resourceType":"Patient","id":"c"}}]}"#;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn brotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
        enc.write_all(bytes).unwrap();
    }
    out
}

fn encoded_router() -> Router {
    Router::new()
        .route(
            "/gzip",
            get(|| async {
                (
                    [
                        ("content-type", "application/fhir+json"),
                        ("content-encoding", "gzip"),
                    ],
                    gzip(BUNDLE.as_bytes()),
                )
            }),
        )
        .route(
            "/br",
            get(|| async {
                (
                    [
                        ("content-type", "application/fhir+json"),
                        ("content-encoding", "br"),
                    ],
                    brotli(BUNDLE.as_bytes()),
                )
            }),
        )
        .route(
            "/bad-gzip",
            get(|| async {
                (
                    [
                        ("content-type", "application/fhir+json"),
                        ("content-encoding", "gzip"),
                    ],
                    b"this is not gzip at all".to_vec(),
                )
            }),
        )
}

#[tokio::test]
async fn gzip_and_brotli_bodies_are_decoded_and_shown_at_their_decoded_size() {
    let addr = serve(encoded_router()).await;
    for path in ["gzip", "br"] {
        let r = one(get_req(format!("http://{addr}/{path}"))).await.unwrap();
        assert_eq!(r.response.status, 200, "{path}");
        // The body kept (and the size shown) is the decoded one.
        assert_eq!(r.response.body, BUNDLE.as_bytes(), "{path}");
        assert_eq!(
            r.body.pretty.line(1),
            "  \"resourceType\": \"Bundle\",",
            "{path}"
        );
        assert!(r.body.note.is_none(), "{path}");
        // The decoder takes the encoding headers away with the encoding.
        assert_eq!(r.response.header("content-encoding"), None, "{path}");
    }
}

#[tokio::test]
async fn a_body_that_is_not_the_encoding_it_claims_is_a_sentence() {
    let addr = serve(encoded_router()).await;
    let err = one(get_req(format!("http://{addr}/bad-gzip")))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            HttpError::BadEncoding {
                encoding: "gzip",
                ..
            }
        ) && err.to_string().contains("not valid gzip"),
        "{err:?}: {err}"
    );
}

#[tokio::test]
async fn the_worker_asks_for_compressed_bodies() {
    let addr = serve(Router::new().route(
        "/enc",
        get(|h: axum::http::HeaderMap| async move {
            h.get("accept-encoding")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string()
        }),
    ))
    .await;
    let r = one(get_req(format!("http://{addr}/enc"))).await.unwrap();
    let asked = String::from_utf8(r.response.body.to_vec()).unwrap();
    assert!(asked.contains("gzip") && asked.contains("br"), "{asked}");
}

// ----- 429 / 503 with Retry-After ----------------------------------------------------------

fn busy_router() -> Router {
    Router::new()
        .route(
            "/429",
            get(|| async {
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    [("retry-after", "7")],
                    "slow down",
                )
            }),
        )
        .route(
            "/503-date",
            get(|| async {
                let at = chrono::Utc::now() + chrono::Duration::seconds(120);
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    [(
                        "retry-after",
                        at.format("%a, %d %b %Y %H:%M:%S GMT").to_string(),
                    )],
                    "maintenance",
                )
            }),
        )
        .route(
            "/503-bare",
            get(|| async { (StatusCode::SERVICE_UNAVAILABLE, "down") }),
        )
}

#[tokio::test]
async fn retry_after_in_seconds_is_said_in_seconds() {
    let addr = serve(busy_router()).await;
    let r = one(get_req(format!("http://{addr}/429"))).await.unwrap();
    assert_eq!(r.response.status, 429);
    assert_eq!(
        worker::http::retry_after_note(&r.response).unwrap(),
        "The server is limiting requests (429 Too Many Requests) and asked to retry after 7 seconds; Ctrl-R sends again."
    );
}

#[tokio::test]
async fn retry_after_as_a_date_is_said_as_a_time() {
    let addr = serve(busy_router()).await;
    let r = one(get_req(format!("http://{addr}/503-date")))
        .await
        .unwrap();
    assert_eq!(r.response.status, 503);
    let note = worker::http::retry_after_note(&r.response).unwrap();
    assert!(
        note.starts_with(
            "The server is unavailable (503 Service Unavailable) and asked to retry at "
        ) && note.contains("(in 1"),
        "{note}"
    );
    // Without the header there is nothing to say beyond the status itself.
    let bare = one(get_req(format!("http://{addr}/503-bare")))
        .await
        .unwrap();
    assert_eq!(worker::http::retry_after_note(&bare.response), None);
}
