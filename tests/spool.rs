//! Bodies above the spooling threshold go to a temporary file while they arrive (announced
//! by Content-Length, or found too large while streaming), with progress; the file is private
//! and removed with the response. A local server on 127.0.0.1 only; the threshold set low.

use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use std::time::Duration;

use fhirside::worker::body::prepare_for_view;
use fhirside::worker::http::{HttpRequest, client, send_observed};
use fhirside::worker::spool::{ReceiveProgress, set_spool_above};

const BODY_BYTES: usize = 3 * 1024 * 1024;

fn ndjson() -> Vec<u8> {
    let mut v = Vec::with_capacity(BODY_BYTES + 200);
    let mut i = 0;
    while v.len() < BODY_BYTES {
        v.extend_from_slice(
            format!("{{\"resourceType\":\"Observation\",\"id\":\"o{i}\",\"status\":\"final\",\"valueQuantity\":{{\"value\":{i}}}}}\n").as_bytes(),
        );
        i += 1;
    }
    v
}

/// `/sized` answers with a Content-Length, `/streamed` in chunks without one.
fn serve(body: Arc<Vec<u8>>) -> (String, tokio::runtime::Runtime) {
    use axum::Router;
    use axum::body::Body;
    use axum::http::header;
    use axum::routing::get;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let (b1, b2) = (body.clone(), body);
    let app = Router::new()
        .route(
            "/sized",
            get(move || {
                let b = b1.clone();
                async move {
                    (
                        [(header::CONTENT_TYPE, "application/fhir+ndjson")],
                        b.as_ref().clone(),
                    )
                }
            }),
        )
        .route(
            "/streamed",
            get(move || {
                let b = b2.clone();
                async move {
                    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
                        b.chunks(64 * 1024).map(|c| Ok(c.to_vec())).collect();
                    (
                        [(header::CONTENT_TYPE, "application/fhir+ndjson")],
                        Body::from_stream(futures::stream::iter(chunks)),
                    )
                }
            }),
        );
    rt.spawn(async move {
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), rt)
}

#[test]
fn large_bodies_go_to_a_private_temporary_file() {
    set_spool_above(1024 * 1024);
    let body = Arc::new(ndjson());
    let (base, rt) = serve(body.clone());
    let http = client();
    for path in ["/sized", "/streamed"] {
        let req = HttpRequest {
            method: "GET".into(),
            url: format!("{base}{path}"),
            headers: vec![],
            body: None,
            timeout: Duration::from_secs(20),
            insecure: false,
        };
        let progress = ReceiveProgress::new();
        let resp = rt
            .block_on(send_observed(&http, &req, Some(&progress)))
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        assert!(resp.body.is_empty(), "{path}: nothing kept in memory");
        let file = resp.spool.clone().expect("spooled");
        assert_eq!(file.len() as usize, body.len(), "{path}");
        assert_eq!(progress.received(), body.len(), "{path}");
        assert!(progress.spooling(), "{path}");
        if path == "/sized" {
            assert_eq!(progress.total(), Some(body.len()));
        }
        let mut copy = Vec::new();
        file.copy_to(&mut copy).unwrap();
        assert!(copy == *body, "{path}: the file holds the body");
        let where_ = file.path().to_path_buf();
        let mode = std::fs::metadata(&where_).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{path}: only the user may read it");
        // The viewer reads it line by line.
        let prepared = prepare_for_view(&resp);
        let text = prepared.spooled.clone().expect("shown from the file");
        let lines = body.iter().filter(|b| **b == b'\n').count();
        assert_eq!(text.line_count(), lines);
        assert!(
            text.line(lines - 1, 1 << 20)
                .contains(&format!("\"o{}\"", lines - 1))
        );
        drop(file);
        drop(prepared);
        drop(text);
        assert!(where_.exists(), "still held by the response");
        drop(resp);
        assert!(!where_.exists(), "{path}: removed with the response");
    }
    // Below the threshold the body stays in memory.
    set_spool_above(64 * 1024 * 1024);
    let req = HttpRequest {
        method: "GET".into(),
        url: format!("{base}/sized"),
        headers: vec![],
        body: None,
        timeout: Duration::from_secs(20),
        insecure: false,
    };
    let resp = rt.block_on(send_observed(&http, &req, None)).unwrap();
    assert!(resp.spool.is_none());
    assert_eq!(resp.body.len(), body.len());
}
