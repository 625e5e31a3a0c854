//! A small Azure Blob Storage stand-in for the storage download tests, answering like the
//! service does ("Authorize with Microsoft Entra ID" and "Blob service error codes",
//! learn.microsoft.com/rest/api/storageservices): `GET /{container}/{blob…}` with
//! `Authorization: Bearer` and `x-ms-version`, `Range` answered with `206`, refusals as a status,
//! an `x-ms-error-code` header and an XML `<Error>` body, throttling as `429` with
//! `x-ms-retry-after-ms`. Built on the logging [`super::listen`], so tests see every request.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::{Listener, Seen, listen};

/// How the stand-in behaves.
#[derive(Debug, Clone, Default)]
pub(crate) struct BlobOptions {
    /// The token it accepts (anything else is refused as another audience).
    pub token: String,
    /// The principal lacks "Storage Blob Data Reader".
    pub no_role: bool,
    /// The account does not allow public access: requests without a token get 409.
    pub public_access_off: bool,
    /// The first this many requests are answered 429 (`x-ms-retry-after-ms: 40`,
    /// `Retry-After: 30`).
    pub throttle_first: u32,
}

/// The stand-in: its listener and the blobs it holds (`container/blob` → bytes).
pub(crate) struct BlobStore {
    pub listener: Listener,
    pub blobs: Arc<Mutex<HashMap<String, Vec<u8>>>>,
}

fn error(status: StatusCode, code: &str, message: &str, detail: Option<&str>) -> Response {
    let detail = detail
        .map(|d| format!("<AuthenticationErrorDetail>{d}</AuthenticationErrorDetail>"))
        .unwrap_or_default();
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>{code}</Code><Message>{message}\nRequestId:00000000-0000-0000-0000-000000000000\nTime:2025-01-01T00:00:00.0000000Z</Message>{detail}</Error>"
    );
    (
        status,
        [
            ("x-ms-error-code", code.to_string()),
            ("content-type", "application/xml".to_string()),
        ],
        body,
    )
        .into_response()
}

fn answer(
    o: &BlobOptions,
    blobs: &HashMap<String, Vec<u8>>,
    throttled: &AtomicU32,
    seen: &Seen,
) -> Response {
    if throttled.fetch_add(1, Ordering::SeqCst) < o.throttle_first {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [("x-ms-retry-after-ms", "40"), ("retry-after", "30")],
            "",
        )
            .into_response();
    }
    let (path, query) = seen.target.split_once('?').unwrap_or((&seen.target, ""));
    let key = path.trim_start_matches('/').to_string();
    let is_sas = query.split('&').any(|p| p.starts_with("sig="));
    if is_sas {
        // A SAS whose expiry (se=) has passed: the only kind this stand-in knows.
        return error(
            StatusCode::FORBIDDEN,
            "AuthenticationFailed",
            "Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.",
            Some(
                "Signed expiry time [Wed, 01 Jan 2020 00:00:00 GMT] has to be after signed start time",
            ),
        );
    }
    match seen.header("authorization") {
        None if o.public_access_off => {
            return error(
                StatusCode::CONFLICT,
                "PublicAccessNotPermitted",
                "Public access is not permitted on this storage account.",
                None,
            );
        }
        None => {
            return error(
                StatusCode::UNAUTHORIZED,
                "NoAuthenticationInformation",
                "Server failed to authenticate the request. Please refer to the information in the www-authenticate header.",
                None,
            );
        }
        Some(auth) => {
            if seen.header("x-ms-version").is_none() {
                return error(
                    StatusCode::FORBIDDEN,
                    "AuthenticationFailed",
                    "Server failed to authenticate the request.",
                    Some("Authentication scheme Bearer is not supported in this version."),
                );
            }
            if auth.strip_prefix("Bearer ") != Some(o.token.as_str()) {
                return error(
                    StatusCode::UNAUTHORIZED,
                    "InvalidAuthenticationInfo",
                    "Server failed to authenticate the request.",
                    Some("Audience validation failed. Audience did not match."),
                );
            }
        }
    }
    if o.no_role {
        return error(
            StatusCode::FORBIDDEN,
            "AuthorizationPermissionMismatch",
            "This request is not authorized to perform this operation using this permission.",
            None,
        );
    }
    let container = key.split('/').next().unwrap_or("");
    if !blobs.keys().any(|k| k.split('/').next() == Some(container)) {
        return error(
            StatusCode::NOT_FOUND,
            "ContainerNotFound",
            "The specified container does not exist.",
            None,
        );
    }
    let Some(bytes) = blobs.get(&key) else {
        return error(
            StatusCode::NOT_FOUND,
            "BlobNotFound",
            "The specified blob does not exist.",
            None,
        );
    };
    let start = seen
        .header("range")
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|n| n.parse::<usize>().ok());
    match start {
        Some(s) if s < bytes.len() => (
            StatusCode::PARTIAL_CONTENT,
            [(
                "content-range",
                format!("bytes {s}-{}/{}", bytes.len() - 1, bytes.len()),
            )],
            bytes[s..].to_vec(),
        )
            .into_response(),
        _ => (
            StatusCode::OK,
            [("content-type", "application/octet-stream".to_string())],
            bytes.clone(),
        )
            .into_response(),
    }
}

/// Starts the stand-in holding `blobs`.
pub(crate) async fn blob_store(options: BlobOptions, blobs: HashMap<String, Vec<u8>>) -> BlobStore {
    let blobs = Arc::new(Mutex::new(blobs));
    let throttled = Arc::new(AtomicU32::new(0));
    let listener = listen({
        let blobs = blobs.clone();
        move |_| {
            Arc::new(move |seen: &Seen| {
                let blobs = blobs.lock().map(|b| b.clone()).unwrap_or_default();
                answer(&options, &blobs, &throttled, seen)
            })
        }
    })
    .await;
    BlobStore { listener, blobs }
}
