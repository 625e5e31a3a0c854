//! The loopback redirect listener for user sign-in: waits on `localhost:PORT` for the browser to
//! come back with `code` and `state`, checks the state, and answers the browser with a page.

use std::collections::HashMap;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::resolve::AuthError;

/// Binds the redirect port before the browser is sent off, so a busy port is reported at once.
pub async fn bind(port: u16) -> Result<TcpListener, AuthError> {
    TcpListener::bind(("127.0.0.1", port)).await.map_err(|e| {
        AuthError::Flow(format!(
            "Could not listen on localhost:{port} for the sign-in redirect ({e}); set redirect_port to a free port registered in the app."
        ))
    })
}

/// Waits for the redirect and returns the authorization code.
pub async fn wait_for_code(
    listener: TcpListener,
    path: &str,
    expected_state: &str,
    timeout: Duration,
) -> Result<String, AuthError> {
    let wait = async {
        loop {
            let (mut socket, _) = listener.accept().await.map_err(|e| {
                AuthError::Flow(format!("The sign-in redirect listener failed: {e}."))
            })?;
            let mut buf = vec![0u8; 16 * 1024];
            let mut len = 0;
            // Read the request head (up to the blank line or the buffer's end).
            while len < buf.len() {
                match tokio::time::timeout(Duration::from_secs(5), socket.read(&mut buf[len..]))
                    .await
                {
                    Ok(Ok(0)) | Err(_) => break,
                    Ok(Ok(n)) => {
                        len += n;
                        if buf[..len].windows(4).any(|w| w == b"\r\n\r\n") {
                            break;
                        }
                    }
                    Ok(Err(_)) => break,
                }
            }
            let head = String::from_utf8_lossy(&buf[..len]).into_owned();
            let target = head.split_whitespace().nth(1).unwrap_or("/").to_string();
            let (req_path, query) = target.split_once('?').unwrap_or((&target, ""));
            if req_path != path {
                // Browsers also ask for /favicon.ico: answer and keep waiting.
                let _ = socket
                    .write_all(
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    )
                    .await;
                continue;
            }
            let params: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect();
            let outcome = if let Some(err) = params.get("error") {
                let desc = params
                    .get("error_description")
                    .map(|d| format!(": {d}"))
                    .unwrap_or_default();
                Err(AuthError::Flow(format!(
                    "Sign-in was not completed ({err}{desc})."
                )))
            } else if params.get("state").map(String::as_str) != Some(expected_state) {
                Err(AuthError::Flow("The sign-in redirect carried the wrong state; it was ignored (possible forgery).".into()))
            } else if let Some(code) = params.get("code") {
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
            let body =
                format!("<!doctype html><title>{title}</title><h1>{title}</h1><p>{text}</p>");
            let resp = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(resp.as_bytes()).await;
            return outcome;
        }
    };
    tokio::time::timeout(timeout, wait).await.map_err(|_| {
        AuthError::Flow("No sign-in arrived within the time allowed; start again.".into())
    })?
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

    #[tokio::test]
    async fn refuses_a_wrong_state() {
        let l = bind(0).await.unwrap();
        let port = l.local_addr().unwrap().port();
        let waiter = tokio::spawn(wait_for_code(l, "/", "good", Duration::from_secs(5)));
        hit(port, "/?code=abc&state=evil").await;
        let err = waiter.await.unwrap().unwrap_err();
        assert!(err.to_string().contains("wrong state"));
    }
}
