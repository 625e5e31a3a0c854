//! The loopback redirect listener for user sign-in: waits on `localhost:PORT` for the browser to
//! come back with `code` and `state`, checks the state, and answers the browser with a page.

use std::collections::HashMap;
use std::time::Duration;

use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};

use super::resolve::AuthError;

/// Binds the redirect port before the browser is sent off, so a busy port is reported at once.
pub async fn bind(port: u16) -> Result<TcpListener, AuthError> {
    TcpListener::bind(("127.0.0.1", port)).await.map_err(|e| {
        AuthError::Flow(format!(
            "Could not listen on localhost:{port} for the sign-in redirect ({e}); set redirect_port to a free port registered in the app."
        ))
    })
}

/// How long one connection may take to send its request head.
const HEAD_DEADLINE: Duration = Duration::from_secs(5);
/// Connections served at once; more are closed at once (a flood cannot starve the browser).
const MAX_CONNECTIONS: usize = 16;
/// The longest request head read.
const MAX_HEAD: usize = 16 * 1024;

/// Waits for the redirect and returns the authorization code. Only a redirect to `path`
/// carrying `expected_state` ends the wait (with the code, or with the error the server sent
/// back in it); any other request — a forged state, an `error` without the right state,
/// `/favicon.ico`, a port scanner — gets a short page and is ignored. Each connection is served
/// on its own task with a deadline, so a client that connects and says nothing holds nothing.
pub async fn wait_for_code(
    listener: TcpListener,
    path: &str,
    expected_state: &str,
    timeout: Duration,
) -> Result<String, AuthError> {
    let (tx, mut rx) = mpsc::channel::<Result<String, AuthError>>(1);
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let path: Arc<str> = Arc::from(path);
    let expected: Arc<str> = Arc::from(expected_state);
    let accept = async {
        loop {
            let (socket, _) = listener.accept().await.map_err(|e| {
                AuthError::Flow(format!("The sign-in redirect listener failed: {e}."))
            })?;
            let Ok(permit) = slots.clone().try_acquire_owned() else {
                continue; // dropped: closed at once
            };
            let (tx, path, expected) = (tx.clone(), path.clone(), expected.clone());
            tokio::spawn(async move {
                let _permit = permit;
                if let Some(outcome) = serve_one(socket, &path, &expected).await {
                    let _ = tx.try_send(outcome);
                }
            });
        }
    };
    let wait = async {
        tokio::select! {
            r = accept => r,
            Some(outcome) = rx.recv() => outcome,
        }
    };
    tokio::time::timeout(timeout, wait).await.map_err(|_| {
        AuthError::Flow("No sign-in arrived within the time allowed; start again.".into())
    })?
}

/// Reads one request and answers it; `Some` only for the redirect that ends the sign-in.
async fn serve_one(
    mut socket: TcpStream,
    path: &str,
    expected_state: &str,
) -> Option<Result<String, AuthError>> {
    let head = match tokio::time::timeout(HEAD_DEADLINE, read_head(&mut socket)).await {
        Ok(Some(head)) => head,
        // Too slow, closed, or not HTTP: nothing to answer.
        _ => return None,
    };
    let target = head.split_whitespace().nth(1).unwrap_or("/").to_string();
    let (req_path, query) = target.split_once('?').unwrap_or((&target, ""));
    if req_path != path {
        // Browsers also ask for /favicon.ico.
        reply(
            &mut socket,
            "404 Not Found",
            "Not found",
            "This is fhirside's sign-in listener.",
        )
        .await;
        return None;
    }
    let params: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let state_ok = params
        .get("state")
        .is_some_and(|s| same_secret(s.as_bytes(), expected_state.as_bytes()));
    if !state_ok {
        reply(
            &mut socket,
            "400 Bad Request",
            "Ignored",
            "This request did not come from the sign-in fhirside started (its state does not match), so it was ignored. fhirside is still waiting for the real one.",
        )
        .await;
        return None;
    }
    let outcome = if let Some(err) = params.get("error") {
        let desc = params
            .get("error_description")
            .map(|d| format!(": {}", super::plain(d)))
            .unwrap_or_default();
        Err(AuthError::Flow(format!(
            "Sign-in was not completed ({}{desc}).",
            super::plain(err)
        )))
    } else if let Some(code) = params.get("code").filter(|c| !c.is_empty()) {
        Ok(code.clone())
    } else {
        Err(AuthError::Flow(
            "The sign-in redirect carried no code.".into(),
        ))
    };
    let (title, text) = match &outcome {
        Ok(_) => (
            "Signed in",
            "fhirside has the sign-in. You can close this tab.",
        ),
        Err(_) => (
            "Sign-in failed",
            "fhirside could not complete the sign-in; see the terminal.",
        ),
    };
    reply(&mut socket, "200 OK", title, text).await;
    Some(outcome)
}

/// The request head, up to the blank line (or [`MAX_HEAD`] bytes).
async fn read_head(socket: &mut TcpStream) -> Option<String> {
    let mut buf = vec![0u8; MAX_HEAD];
    let mut len = 0;
    while len < buf.len() {
        match socket.read(&mut buf[len..]).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                len += n;
                if buf[..len].windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
        }
    }
    (len > 0).then(|| String::from_utf8_lossy(&buf[..len]).into_owned())
}

async fn reply(socket: &mut TcpStream, status: &str, title: &str, text: &str) {
    let body = format!("<!doctype html><title>{title}</title><h1>{title}</h1><p>{text}</p>");
    let resp = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(HEAD_DEADLINE, socket.write_all(resp.as_bytes())).await;
}

/// Compares without stopping at the first difference.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Opens `url` in a local browser when one is likely to exist; over SSH this does nothing.
pub fn try_open_browser(url: &str) -> bool {
    let local_display =
        std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some();
    let over_ssh = std::env::var_os("SSH_CONNECTION").is_some();
    let opener = if cfg!(target_os = "macos") && !over_ssh {
        Some("open")
    } else if local_display && !over_ssh {
        Some("xdg-open")
    } else {
        None
    };
    opener.is_some_and(|o| {
        std::process::Command::new(o)
            .arg(url)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn hit(port: u16, target: &str) -> String {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        s.write_all(format!("GET {target} HTTP/1.1\r\nHost: localhost\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        out
    }

    #[tokio::test]
    async fn takes_the_code_when_state_matches() {
        let l = bind(0).await.unwrap();
        let port = l.local_addr().unwrap().port();
        let waiter = tokio::spawn(wait_for_code(l, "/cb", "s1", Duration::from_secs(5)));
        assert!(hit(port, "/favicon.ico").await.contains("404"));
        assert!(
            hit(port, "/cb?code=abc&state=s1")
                .await
                .contains("Signed in")
        );
        assert_eq!(waiter.await.unwrap().unwrap(), "abc");
    }

    /// Before: any GET on the path ended the sign-in, so a forged `state` or a bare `error`
    /// from another page killed it. Now they are answered and ignored, and a silent client
    /// holds nothing; the real redirect still gets through.
    #[tokio::test]
    async fn forged_and_stray_requests_are_ignored_until_the_real_redirect() {
        let l = bind(0).await.unwrap();
        let port = l.local_addr().unwrap().port();
        let waiter = tokio::spawn(wait_for_code(l, "/", "good", Duration::from_secs(8)));
        // A client that connects and never speaks.
        let _silent = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        for forged in [
            "/?code=abc&state=evil",
            "/?error=access_denied&error_description=forged",
            "/?code=abc",
            "/favicon.ico",
        ] {
            let page = hit(port, forged).await;
            assert!(
                page.contains("400") || page.contains("404"),
                "{forged}: {page}"
            );
            assert!(!waiter.is_finished(), "{forged} ended the sign-in");
        }
        assert!(
            hit(port, "/?code=real&state=good")
                .await
                .contains("Signed in")
        );
        assert_eq!(waiter.await.unwrap().unwrap(), "real");
    }

    #[tokio::test]
    async fn an_error_with_the_right_state_ends_the_sign_in() {
        let l = bind(0).await.unwrap();
        let port = l.local_addr().unwrap().port();
        let waiter = tokio::spawn(wait_for_code(l, "/", "good", Duration::from_secs(5)));
        let page = hit(
            port,
            "/?error=access_denied&error_description=No%1b[2J&state=good",
        )
        .await;
        assert!(page.contains("Sign-in failed"), "{page}");
        let err = waiter.await.unwrap().unwrap_err().to_string();
        assert!(
            err.contains("access_denied") && !err.contains('\u{1b}'),
            "{err}"
        );
    }
}
