//! Tokens from a command (`az account get-access-token …`): runs it with a timeout and reads the
//! token from its output, plain or JSON (`accessToken` / `expiresOn` / `expires_on`).

use std::time::{Duration, SystemTime};

use tokio::process::Command;

use super::Token;
use super::resolve::AuthError;

/// Runs a command that prints a secret; its first line is the secret (never shown in errors).
pub async fn run_secret(command: &str, timeout: Duration) -> Result<String, AuthError> {
    let out = output(command, timeout, "client secret command").await?;
    let secret = out.lines().next().unwrap_or("").trim().to_string();
    if secret.is_empty() {
        return Err(AuthError::Flow(
            "The client secret command printed nothing.".into(),
        ));
    }
    Ok(secret)
}

/// Runs a command and returns all it printed (a PEM key); never quoted in errors.
pub async fn run_full(command: &str, timeout: Duration, what: &str) -> Result<String, AuthError> {
    let out = output(command, timeout, what).await?;
    if out.trim().is_empty() {
        return Err(AuthError::Flow(format!("The {what} printed nothing.")));
    }
    Ok(out)
}

pub async fn run(command: &str, timeout: Duration) -> Result<Token, AuthError> {
    parse_output(&output(command, timeout, "token command").await?)
}

async fn output(command: &str, timeout: Duration, what: &str) -> Result<String, AuthError> {
    let mut cmd = if cfg!(windows) {
        let mut c = Command::new("cmd");
        c.arg("/C").arg(command);
        c
    } else {
        let mut c = Command::new("sh");
        c.arg("-c").arg(command);
        c
    };
    cmd.stdin(std::process::Stdio::null()).kill_on_drop(true);
    let output = tokio::time::timeout(timeout, cmd.output())
        .await
        .map_err(|_| {
            AuthError::Flow(format!(
                "The {what} did not finish within {} s.",
                timeout.as_secs()
            ))
        })?
        .map_err(|e| AuthError::Flow(format!("The {what} could not be started: {e}.")))?;
    if !output.status.success() {
        let err = String::from_utf8_lossy(&output.stderr);
        let first = err
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim();
        return Err(AuthError::Flow(format!(
            "The {what} failed ({}): {first}",
            output.status
        )));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Reads a token from a command's standard output.
pub fn parse_output(stdout: &str) -> Result<Token, AuthError> {
    let text = stdout.trim();
    let now = SystemTime::now();
    if text.starts_with('{') {
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            AuthError::Flow(format!(
                "The token command printed JSON that does not parse: {e}."
            ))
        })?;
        let token = ["accessToken", "access_token", "token"]
            .iter()
            .find_map(|k| v.get(*k).and_then(|t| t.as_str()))
            .ok_or_else(|| {
                AuthError::Flow("The token command's JSON has no accessToken.".into())
            })?;
        let expires_at = v
            .get("expires_on")
            .and_then(|e| {
                e.as_u64()
                    .or_else(|| e.as_str().and_then(|s| s.parse().ok()))
            })
            .map(crate::worker::time::from_unix_secs)
            .or_else(|| {
                v.get("expiresOn").and_then(|e| e.as_str()).and_then(|s| {
                    // az prints local time without a zone: "2026-11-29 06:00:00.000000".
                    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f")
                        .ok()
                        .and_then(|n| n.and_local_timezone(chrono::Local).single())
                        .map(|t| crate::worker::time::from_unix_secs(t.timestamp().max(0) as u64))
                })
            });
        return Ok(Token {
            access_token: token.to_string(),
            expires_at,
            refresh_token: None,
            obtained_at: now,
        });
    }
    let token = text.lines().next().unwrap_or("").trim();
    if token.is_empty() || token.contains(char::is_whitespace) {
        return Err(AuthError::Flow(
            "The token command printed no token (expected one line, or JSON with accessToken)."
                .into(),
        ));
    }
    Ok(Token {
        access_token: token.to_string(),
        expires_at: super::jwt::expiry(token),
        refresh_token: None,
        obtained_at: now,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn plain_and_json_outputs() {
        assert_eq!(
            parse_output("abc.def.ghi\n").unwrap().access_token,
            "abc.def.ghi"
        );
        let t =
            parse_output(r#"{"accessToken":"tok","expires_on":4102444800,"tokenType":"Bearer"}"#)
                .unwrap();
        assert_eq!(t.access_token, "tok");
        assert_eq!(
            t.expires_at,
            Some(UNIX_EPOCH + Duration::from_secs(4102444800))
        );
        let t = parse_output(r#"{"accessToken":"tok","expiresOn":"2099-01-01 00:00:00.000000"}"#)
            .unwrap();
        assert!(t.expires_at.is_some());
        assert!(parse_output("").is_err());
        assert!(parse_output("{\"nope\":1}").is_err());
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn secret_commands_give_their_first_line_and_never_echo_it_in_errors() {
        assert_eq!(
            run_secret("printf 's3cr3t\\nrest'", Duration::from_secs(5))
                .await
                .unwrap(),
            "s3cr3t"
        );
        let err = run_secret("true", Duration::from_secs(5))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("printed nothing"));
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn runs_with_a_timeout() {
        assert_eq!(
            run("echo tok-123", Duration::from_secs(5))
                .await
                .unwrap()
                .access_token,
            "tok-123"
        );
        let err = run("sleep 5", Duration::from_millis(200))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("did not finish"), "{err}");
        let err = run("echo oops >&2; exit 3", Duration::from_secs(5))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("oops"), "{err}");
    }
}
