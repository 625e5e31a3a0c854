//! The worker against real local HTTP servers on 127.0.0.1: answers, failures as sentences,
//! cancellation, redirects.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use fhirside::worker::{self, HttpError, HttpRequest, RequestId, WorkerCommand, WorkerEvent};
use tokio::sync::mpsc;

async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

fn router(other: SocketAddr) -> Router {
    Router::new()
        .route(
            "/json",
            get(|| async {
                (
                    [("content-type", "application/fhir+json")],
                    r#"{"resourceType":"Patient","id":"1"}"#,
                )
            }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                "late"
            }),
        )
        .route(
            "/html500",
            get(|| async {
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    [("content-type", "text/html")],
                    "<html><body><h1>Server Error</h1></body></html>",
                )
            }),
        )
        .route(
            "/notjson",
            get(|| async { ([("content-type", "application/json")], "{not json") }),
        )
        .route(
            "/echo-auth",
            get(|headers: HeaderMap| async move {
                headers
                    .get("authorization")
                    .map(|v| v.to_str().unwrap_or("").to_string())
                    .unwrap_or_else(|| "none".into())
            }),
        )
        .route(
            "/same-host-redirect",
            get(|| async { Redirect::temporary("/echo-auth") }),
        )
        .route(
            "/other-host-redirect",
            get(move || async move {
                Redirect::temporary(&format!("http://localhost:{}/echo-auth", other.port()))
                    .into_response()
            }),
        )
        .route("/loop", get(|| async { Redirect::temporary("/loop") }))
}

fn req(url: String, timeout: Duration) -> HttpRequest {
    HttpRequest {
        method: "GET".into(),
        url,
        headers: vec![("Authorization".into(), "Bearer secret-token".into())],
        body: None,
        timeout,
        insecure: false,
    }
}

async fn exchange(url: String, timeout: Duration) -> Result<Box<worker::Received>, HttpError> {
    exchange_as(url, timeout, false).await
}

/// [`exchange`], with the answer also read for the FHIR browser when `read_fhir`.
async fn exchange_as(
    url: String,
    timeout: Duration,
    read_fhir: bool,
) -> Result<Box<worker::Received>, HttpError> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let handle = worker::spawn(tx);
    handle.send(WorkerCommand::Send {
        id: RequestId(1),
        request: req(url, timeout),
        auth: None,
        record: None,
        read_fhir,
    });
    match tokio::time::timeout(Duration::from_secs(20), rx.recv())
        .await
        .expect("worker answered")
    {
        Some(WorkerEvent::Response { id, result }) => {
            assert_eq!(id, RequestId(1));
            result
        }
        Some(WorkerEvent::Auth(ev)) => panic!("no sign-in was asked for: {ev:?}"),
        Some(other) => panic!("unexpected event: {other:?}"),
        None => panic!("worker stopped"),
    }
}

async fn servers() -> SocketAddr {
    let other = serve(router("127.0.0.1:1".parse().unwrap())).await;
    serve(router(other)).await
}

#[tokio::test]
async fn json_answer_is_prepared_pretty() {
    let addr = servers().await;
    let r = exchange(format!("http://{addr}/json"), Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(r.response.status, 200);
    assert_eq!(r.body.pretty.line(1), "  \"resourceType\": \"Patient\",");
    assert!(r.body.note.is_none());
}

/// The browser's parse happens here, on the worker, and only when asked for.
#[tokio::test]
async fn the_answer_is_read_for_the_browser_only_when_asked() {
    let addr = servers().await;
    let url = format!("http://{addr}/json");
    let r = exchange_as(url.clone(), Duration::from_secs(5), true)
        .await
        .unwrap();
    let page = r.fhir.expect("read for the browser");
    assert_eq!(
        page.json.as_ref().and_then(|j| j.get("id")),
        Some(&"1".into())
    );
    assert!(page.patient.is_some());
    let r = exchange(url, Duration::from_secs(5)).await.unwrap();
    assert!(r.fhir.is_none());
}

#[tokio::test]
async fn html_500_is_a_response_not_an_error() {
    let addr = servers().await;
    let r = exchange(format!("http://{addr}/html500"), Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(r.response.status, 500);
    assert!(r.body.pretty.line(0).contains("Server Error"));
}

#[tokio::test]
async fn json_that_is_not_json_is_shown_as_received_with_a_note() {
    let addr = servers().await;
    let r = exchange(format!("http://{addr}/notjson"), Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(r.body.pretty.line(0), "{not json");
    let note = r.body.note.unwrap();
    assert!(
        note.contains("not valid JSON") && note.contains("line 1"),
        "{note}"
    );
}

#[tokio::test]
async fn refused_connection_is_a_sentence() {
    // Bind then drop, so the port is very likely closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = exchange(format!("http://127.0.0.1:{port}/"), Duration::from_secs(5))
        .await
        .err()
        .unwrap();
    assert!(matches!(err, HttpError::ConnectionRefused(_)), "{err:?}");
    assert!(err.to_string().contains("is the server running"));
}

#[tokio::test]
async fn timeout_is_reported() {
    let addr = servers().await;
    let err = exchange(format!("http://{addr}/slow"), Duration::from_millis(300))
        .await
        .err()
        .unwrap();
    assert_eq!(err, HttpError::Timeout(Duration::from_millis(300)));
    assert_eq!(
        err.to_string(),
        "No answer within 300 ms: the request timed out."
    );
}

#[tokio::test]
async fn cancel_answers_at_once() {
    let addr = servers().await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let handle = worker::spawn(tx);
    handle.send(WorkerCommand::Send {
        id: RequestId(7),
        request: req(format!("http://{addr}/slow"), Duration::from_secs(60)),
        auth: None,
        record: None,
        read_fhir: false,
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = std::time::Instant::now();
    handle.send(WorkerCommand::Cancel { id: RequestId(7) });
    let ev = tokio::time::timeout(Duration::from_secs(2), rx.recv())
        .await
        .expect("cancel is prompt")
        .unwrap();
    let WorkerEvent::Response { id, result } = ev else {
        panic!("expected a response, got {ev:?}")
    };
    assert_eq!(id, RequestId(7));
    assert_eq!(result.err(), Some(HttpError::Cancelled));
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[tokio::test]
async fn redirects_keep_authorization_only_on_the_same_host() {
    let addr = servers().await;
    let same = exchange(
        format!("http://{addr}/same-host-redirect"),
        Duration::from_secs(5),
    )
    .await
    .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&same.response.body),
        "Bearer secret-token"
    );
    let other = exchange(
        format!("http://{addr}/other-host-redirect"),
        Duration::from_secs(5),
    )
    .await
    .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&other.response.body),
        "none",
        "Authorization leaked to another host"
    );
}

#[tokio::test]
async fn redirect_loops_stop() {
    let addr = servers().await;
    let err = exchange(format!("http://{addr}/loop"), Duration::from_secs(5))
        .await
        .err()
        .unwrap();
    assert!(matches!(err, HttpError::TooManyRedirects(_)), "{err:?}");
}
