//! Large bodies end to end: the real binary in a pseudo-terminal receives a generated ~30 MB
//! searchset from a local server (127.0.0.1 only), shows its top at once, keeps answering keys
//! while the whole body is pretty-printed in the background, then scrolls all of it.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use support::{Pty, write_env, write_request};

const T: Duration = Duration::from_secs(10);

fn ok<T>(r: Result<T, String>) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("{e}"),
    }
}

/// A local server with fixed bodies, stopped when dropped.
struct BodyServer {
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for BodyServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Serves each `(path, content type, body)` with GET.
fn serve(routes: Vec<(&'static str, &'static str, Arc<Vec<u8>>)>) -> BodyServer {
    use axum::Router;
    use axum::http::header;
    use axum::routing::get;

    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut app = Router::new();
    for (path, content_type, body) in routes {
        app = app.route(
            path,
            get(move || {
                let body = body.clone();
                async move {
                    (
                        [(header::CONTENT_TYPE, content_type)],
                        body.as_ref().clone(),
                    )
                }
            }),
        );
    }
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            tokio::select! {
                r = axum::serve(listener, app) => { r.expect("server"); }
                _ = rx => {}
            }
        });
    });
    BodyServer {
        addr,
        shutdown: Some(tx),
        thread: Some(thread),
    }
}

/// The number after `line N/` in the Response pane's tab row.
fn cursor_line(screen: &str) -> Option<usize> {
    let i = screen.find("line ")?;
    let rest = &screen[i + 5..];
    let end = rest.find('/')?;
    rest[..end].replace(',', "").parse().ok()
}

#[test]
fn a_30_mb_body_keeps_keys_working_while_it_is_prepared() {
    let big = fhirside::view_body::generate_searchset(12_000).into_bytes();
    let size_mb = big.len() / (1024 * 1024);
    assert!(size_mb >= 28, "the body is {size_mb} MB");
    let mut ndjson = Vec::new();
    for i in 0..3_400 {
        ndjson.extend_from_slice(
            format!("{{\"resourceType\":\"Patient\",\"id\":\"p{i}\",\"active\":true}}\n")
                .as_bytes(),
        );
    }
    let server = serve(vec![
        ("/big", "application/fhir+json", Arc::new(big)),
        ("/records", "application/fhir+ndjson", Arc::new(ndjson)),
    ]);
    let dir = tempfile::tempdir().unwrap();
    write_env(
        dir.path(),
        "local",
        &[("fhirurl", &format!("http://{}", server.addr))],
    );
    write_request(dir.path(), "Test", "Big", "GET", "{{fhirurl}}/big");
    write_request(dir.path(), "Test", "Records", "GET", "{{fhirurl}}/records");

    let mut pty = Pty::spawn_workspace(dir.path(), 140, 40);
    ok(pty.wait_for_text_within("Collections", T));
    pty.send("2");
    pty.send("g");
    pty.send("j");
    pty.enter();
    ok(pty.wait_for_text_within("{{fhirurl}}/big", T));
    pty.ctrl_r();
    // The top of the body shows while the rest is prepared, with progress.
    ok(pty.wait_for_text_within("preparing the whole body", Duration::from_secs(30)));
    assert!(pty.screen_text().contains("\"resourceType\": \"Bundle\""));
    // Keys are handled meanwhile: focus the Response pane and move the cursor…
    pty.send("4");
    pty.send("jjj");
    ok(
        pty.wait_for_within(T, "the cursor on line 4 while preparing", |s| {
            let text = s.contents();
            cursor_line(&text) == Some(4) && text.contains("preparing the whole body")
        }),
    );
    // …and open and close the help (it lists the Response pane's keys first).
    pty.send("?");
    ok(pty.wait_for_text_within("next tab: Body / Headers / Raw", T));
    pty.esc();
    // Once prepared, the whole body scrolls: G goes to its last line.
    ok(
        pty.wait_for_within(Duration::from_secs(60), "the body prepared", |s| {
            !s.contents().contains("preparing the whole body")
        }),
    );
    let before = pty.screen_text();
    assert_eq!(
        cursor_line(&before),
        Some(4),
        "the place is kept:\n{before}"
    );
    pty.send("G");
    ok(pty.wait_for_within(T, "the last line", |s| {
        let text = s.contents();
        let Some(i) = text.find("line ") else {
            return false;
        };
        let rest = &text[i + 5..];
        let (a, b) = rest.split_once('/').unwrap_or(("", ""));
        let b: String = b
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == ',')
            .filter(|c| *c != ',')
            .collect();
        // Both numbers are written with thousands separators.
        a.replace(',', "") == b && b.parse::<usize>().is_ok_and(|n| n > 1_000_000)
    }));
    // Fold every entry (Z 2).
    pty.send("g");
    pty.send("Z2");
    ok(pty.wait_for_text_within("12,002 blocks folded at depth 2", Duration::from_secs(20)));
    ok(pty.wait_for_text_within("{ … 2 keys },", T));

    // NDJSON: one record a line, the position in the title, Enter opens one.
    pty.send("2");
    pty.send("g");
    pty.send("jj");
    pty.enter();
    ok(pty.wait_for_text_within("{{fhirurl}}/records", T));
    pty.ctrl_r();
    ok(pty.wait_for_text_within("record 1 of 3,400", T));
    pty.send("4");
    pty.send("}}");
    ok(pty.wait_for_text_within("record 3 of 3,400", T));
    pty.enter();
    ok(pty.wait_for_text_within("\"id\": \"p2\",", T));
    pty.send("}");
    ok(pty.wait_for_text_within("\"id\": \"p3\",", T));
    // A jq filter over every record, shown as its own view until Esc.
    pty.esc();
    ok(pty.wait_for_text_within("record 4 of 3,400", T));
    pty.send("F");
    ok(pty.wait_for_text_within("Filter with jq", T));
    pty.send("select(.id == \"p7\") | .active\r");
    ok(pty.wait_for_text_within("· 1 result · Esc back", T));
    pty.esc();
    ok(pty.wait_for_text_gone("1 result"));
    pty.ctrl_c();
    assert!(pty.wait_exit(Duration::from_secs(5)).is_some());
    pty.assert_terminal_restored();
}

#[test]
fn a_body_above_the_threshold_is_shown_from_a_temporary_file() {
    // About 3 MB of NDJSON, with the threshold lowered to 1 MB for this run.
    let mut export = Vec::new();
    let mut n = 0;
    while export.len() < 3 * 1024 * 1024 {
        export.extend_from_slice(
            format!("{{\"resourceType\":\"Observation\",\"id\":\"o{n}\",\"status\":\"final\",\"valueQuantity\":{{\"value\":{n},\"unit\":\"mg\"}}}}\n").as_bytes(),
        );
        n += 1;
    }
    let server = serve(vec![(
        "/export",
        "application/fhir+ndjson",
        Arc::new(export),
    )]);
    let dir = tempfile::tempdir().unwrap();
    write_env(
        dir.path(),
        "local",
        &[("fhirurl", &format!("http://{}", server.addr))],
    );
    write_request(dir.path(), "Test", "Export", "GET", "{{fhirurl}}/export");
    let dir_arg = dir.path().to_str().unwrap();
    let mut pty = Pty::spawn_with_env(
        &["--workspace", dir_arg],
        140,
        40,
        &[("FHIRSIDE_SPOOL_ABOVE_MB", "1")],
    );
    ok(pty.wait_for_text_within("Collections", T));
    pty.send("2");
    pty.send("g");
    pty.send("j");
    pty.enter();
    ok(pty.wait_for_text_within("{{fhirurl}}/export", T));
    pty.ctrl_r();
    ok(pty.wait_for_text_within("kept in a temporary file", T));
    let total = format!("record 1 of {}", group(n));
    ok(pty.wait_for_text_within(&total, T));
    assert!(pty.screen_text().contains("\"id\":\"o0\""));
    // The records are navigable and open pretty-printed, read from the file.
    pty.send("4");
    pty.send("G");
    ok(pty.wait_for_text_within(&format!("record {} of", group(n)), T));
    ok(pty.wait_for_text_within(&format!("\"id\":\"o{}\"", n - 1), T));
    pty.send(":");
    pty.send("100\r");
    ok(pty.wait_for_text_within("record 100 of", T));
    pty.enter();
    ok(pty.wait_for_text_within("\"id\": \"o99\",", T));
    pty.send("}");
    ok(pty.wait_for_text_within("\"id\": \"o100\",", T));
    pty.esc();
    // Search and filters need the body in memory, and say so.
    pty.send("/");
    ok(pty.wait_for_text_within("need it in memory", T));
    pty.ctrl_c();
    assert!(pty.wait_exit(Duration::from_secs(5)).is_some());
    pty.assert_terminal_restored();
}

/// `3400` → `3,400`.
fn group(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
