//! Azure Blob Storage stand-in, served on its own port (another origin, as
//! `https://ACCOUNT.blob.core.windows.net` is for the real service). Export
//! outputs, import inputs and import error files live here as blobs at
//! `/{container}/{blob path}`.
//!
//! It refuses requests the way Azure Storage does, so that clients learn to
//! send a storage-audience Entra token with `x-ms-version`:
//! - no `Authorization` → 401 `NoAuthenticationInformation` with a
//!   `WWW-Authenticate: Bearer authorization_uri=… resource_id=https://storage.azure.com`
//!   challenge (Azure doc "Common REST API error codes");
//! - a Bearer token without `x-ms-version` (or older than 2017-11-09) → 403
//!   `AuthenticationFailed`, detail "Authentication scheme Bearer is not
//!   supported in this version." (Azure doc "Versioning for Azure Storage":
//!   Entra requests need 2017-11-09 or later; the detail is the one Azure
//!   returns, as reported at blog.stigok.com 2022-03-09);
//! - a token that fails validation (audience, signature, lifetime, issuer) →
//!   401 `InvalidAuthenticationInfo` with an `AuthenticationErrorDetail`;
//! - a principal without a data role on the account → 403
//!   `AuthorizationPermissionMismatch` (Azure doc "Authorize access to blobs
//!   using Microsoft Entra ID": reads need Storage Blob Data Reader);
//! - unknown container / blob → 404 `ContainerNotFound` / `BlobNotFound`.
//!
//! With [`DemoOptions::storage_public_read`](super::DemoOptions) the
//! containers have the public access level "Blob" (Azure doc "Configure
//! anonymous read access for containers and blobs"): blobs can be read
//! without credentials, as clients that do not fetch storage tokens need.
//!
//! Every error carries `x-ms-error-code` and Azure's XML body
//! (`<Error><Code/><Message/></Error>`). `Range` / `x-ms-range` reads answer
//! 206 with `Content-Range` (Azure doc "Specify the range header for Blob
//! service operations").
//!
//! Role assignments are checked here (Azure RBAC is evaluated by the storage
//! service, not carried in the token): the demo app and the demo user hold
//! Storage Blob Data Contributor (which includes Reader), the no-role app
//! holds nothing, and `--faults storage-forbidden` removes every assignment.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use percent_encoding::percent_decode_str;
use serde_json::Value;

use super::util::{http_date, new_guid, unix_now};
use super::{AppState, DEMO_CLIENT_ID, DEMO_TENANT_ID, DEMO_USER_OID, auth};

/// The storage resource every Entra storage token is issued for.
pub const STORAGE_RESOURCE: &str = "https://storage.azure.com";
/// Oldest `x-ms-version` that accepts Entra bearer tokens.
const MIN_BEARER_VERSION: &str = "2017-11-09";
/// The version the stand-in answers with when the client names none.
const SERVICE_VERSION: &str = "2021-08-06";
/// Role names as Azure RBAC spells them.
pub const BLOB_READER: &str = "Storage Blob Data Reader";
pub const BLOB_CONTRIBUTOR: &str = "Storage Blob Data Contributor";
/// Largest blob the stand-in accepts in one Put Blob.
const MAX_PUT_BYTES: usize = 256 * 1024 * 1024;

/// One stored blob.
#[derive(Debug, Clone)]
pub struct Blob {
    pub data: Bytes,
    pub content_type: String,
    pub etag: String,
    pub last_modified: DateTime<Utc>,
}

/// Containers and their blobs (path inside the container → blob).
#[derive(Debug, Default)]
pub struct Blobs {
    containers: BTreeMap<String, BTreeMap<String, Blob>>,
    serial: u64,
}

impl Blobs {
    pub fn create_container(&mut self, name: &str) -> bool {
        if self.containers.contains_key(name) {
            return false;
        }
        self.containers.insert(name.to_string(), BTreeMap::new());
        true
    }

    /// Writes a blob, creating its container (the FHIR service's export and
    /// import create their containers themselves).
    pub fn put(&mut self, container: &str, path: &str, data: Vec<u8>, content_type: &str) {
        self.serial += 1;
        let blob = Blob {
            data: Bytes::from(data),
            content_type: content_type.to_string(),
            etag: format!("\"0x8DC{:012X}\"", self.serial),
            last_modified: Utc::now(),
        };
        self.containers
            .entry(container.to_string())
            .or_default()
            .insert(path.to_string(), blob);
    }

    pub fn get(&self, container: &str, path: &str) -> Option<&Blob> {
        self.containers.get(container)?.get(path)
    }

    pub fn has_container(&self, container: &str) -> bool {
        self.containers.contains_key(container)
    }

    /// Blob names of a container in lexicographic order (List Blobs).
    fn list(&self, container: &str, prefix: &str) -> Option<Vec<(&String, &Blob)>> {
        Some(
            self.containers
                .get(container)?
                .iter()
                .filter(|(k, _)| k.starts_with(prefix))
                .collect(),
        )
    }
}

/// Azure's container naming rule: 3-63 of lowercase letters, digits and
/// single dashes, starting and ending with a letter or digit.
pub fn container_name_ok(name: &str) -> bool {
    let b = name.as_bytes();
    (3..=63).contains(&b.len())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
        && !name.contains("--")
}

/// A refusal in Azure Storage's shape.
#[derive(Debug)]
pub struct StorageError {
    status: StatusCode,
    code: &'static str,
    message: String,
    detail: Option<String>,
    headers: Vec<(header::HeaderName, String)>,
}

fn refuse(status: StatusCode, code: &'static str, message: impl Into<String>) -> StorageError {
    StorageError {
        status,
        code,
        message: message.into(),
        detail: None,
        headers: Vec::new(),
    }
}

impl StorageError {
    fn detail(mut self, d: impl Into<String>) -> Self {
        self.detail = Some(d.into());
        self
    }
    fn header(mut self, name: header::HeaderName, v: impl Into<String>) -> Self {
        self.headers.push((name, v.into()));
        self
    }
}

fn xml_escape(s: &str) -> String {
    super::util::html_escape(s)
}

/// Azure's timestamp in error messages, e.g. `2024-03-09T18:54:24.3070933Z`.
fn azure_time(t: DateTime<Utc>) -> String {
    format!(
        "{}{:07}Z",
        t.format("%Y-%m-%dT%H:%M:%S."),
        t.timestamp_subsec_nanos() / 100
    )
}

fn error_response(e: StorageError, request_id: &str, head: bool) -> Response {
    let mut xml = format!(
        "\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>{}</Code><Message>{}\nRequestId:{request_id}\nTime:{}</Message>",
        e.code,
        xml_escape(&e.message),
        azure_time(Utc::now())
    );
    if let Some(d) = &e.detail {
        xml.push_str(&format!(
            "<AuthenticationErrorDetail>{}</AuthenticationErrorDetail>",
            xml_escape(d)
        ));
    }
    xml.push_str("</Error>");
    let mut resp = if head {
        let mut r = Response::new(Body::empty());
        *r.status_mut() = e.status;
        r
    } else {
        (e.status, xml).into_response()
    };
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    if let Ok(v) = HeaderValue::from_str(e.code) {
        h.insert("x-ms-error-code", v);
    }
    for (name, value) in e.headers {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.append(name, v);
        }
    }
    resp
}

/// Audiences Azure Storage accepts: the resource with or without the
/// trailing slash (v1 tokens keep the spelling that was requested, v2 drop
/// it), or the account's own URL.
fn storage_audience(aud: &str, account_base: &str) -> bool {
    let a = aud.trim_end_matches('/');
    a.eq_ignore_ascii_case(STORAGE_RESOURCE) || a.eq_ignore_ascii_case(account_base)
}

/// Object ids holding a data role on the demo account, unless the fault
/// switch takes them away.
/// User tokens (`scp`) are matched by the user's object id, app tokens by
/// the application id (`appid` in v1, `azp` in v2).
fn role_of(st: &AppState, claims: &Value) -> Option<&'static str> {
    if st.opts.faults.storage_forbidden {
        return None;
    }
    let s = |k: &str| claims.get(k).and_then(Value::as_str);
    let holder = if s("scp").is_some() {
        s("oid") == Some(DEMO_USER_OID)
    } else {
        s("appid").or(s("azp")) == Some(DEMO_CLIENT_ID)
    };
    holder.then_some(BLOB_CONTRIBUTOR)
}

fn challenge(st: &AppState) -> String {
    format!(
        "Bearer authorization_uri={}/{DEMO_TENANT_ID}/oauth2/authorize resource_id={STORAGE_RESOURCE}",
        st.authority
    )
}

/// The caller's role on the account, or the refusal Azure would send.
/// `anonymous_read`: the request may read without credentials (a container
/// whose public access level is "Blob").
fn authorize(
    st: &AppState,
    headers: &HeaderMap,
    anonymous_read: bool,
) -> Result<&'static str, StorageError> {
    let Some(raw) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        if anonymous_read {
            return Ok(BLOB_READER);
        }
        return Err(refuse(
            StatusCode::UNAUTHORIZED,
            "NoAuthenticationInformation",
            "Server failed to authenticate the request. Please refer to the information in the www-authenticate header.",
        )
        .header(header::WWW_AUTHENTICATE, challenge(st)));
    };
    let token = match raw.split_once(' ') {
        Some((scheme, tok)) if scheme.eq_ignore_ascii_case("bearer") => tok.trim(),
        _ => {
            return Err(refuse(
                StatusCode::FORBIDDEN,
                "AuthenticationFailed",
                "Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.",
            )
            .detail("The demo storage account accepts only Microsoft Entra bearer tokens (no shared key)."));
        }
    };
    let version_ok = headers
        .get("x-ms-version")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() >= MIN_BEARER_VERSION);
    if !version_ok {
        return Err(refuse(
            StatusCode::FORBIDDEN,
            "AuthenticationFailed",
            "Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.",
        )
        .detail("Authentication scheme Bearer is not supported in this version."));
    }
    let invalid = |detail: &str| {
        refuse(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationInfo",
            "Server failed to authenticate the request. Please refer to the information in the www-authenticate header.",
        )
        .detail(detail.to_string())
        .header(header::WWW_AUTHENTICATE, challenge(st))
    };
    let claims = match auth::verify(&st.key, token, unix_now()) {
        Ok(c) => c,
        Err(auth::JwtError::Expired) => {
            return Err(invalid("Lifetime validation failed. The token is expired."));
        }
        Err(auth::JwtError::NotYetValid) => {
            return Err(invalid(
                "Lifetime validation failed. The token is not yet valid.",
            ));
        }
        Err(_) => {
            return Err(invalid(
                "Signature validation failed. Signature is improperly formatted.",
            ));
        }
    };
    let aud = claims.get("aud").and_then(Value::as_str).unwrap_or("");
    if !storage_audience(aud, &st.storage_base) {
        return Err(invalid(
            "Audience validation failed. Audience did not match.",
        ));
    }
    if claims.get("tid").and_then(Value::as_str) != Some(DEMO_TENANT_ID) {
        return Err(invalid("Issuer validation failed. Issuer did not match."));
    }
    role_of(st, &claims).ok_or_else(|| {
        refuse(
            StatusCode::FORBIDDEN,
            "AuthorizationPermissionMismatch",
            "This request is not authorized to perform this operation using this permission.",
        )
    })
}

fn segments(path: &str) -> Option<(String, String)> {
    let p = path.trim_start_matches('/');
    let (c, rest) = p.split_once('/').unwrap_or((p, ""));
    let dec = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
    Some((dec(c), dec(rest)))
}

/// Parses `bytes=N-` / `bytes=N-M` / `bytes=-N` for a body of `len` bytes.
/// `None`: no usable range (serve the whole blob); `Some(Err)`: unsatisfiable.
pub fn parse_range(v: &str, len: usize) -> Option<Result<(usize, usize), ()>> {
    let spec = v.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let result = if a.is_empty() {
        let n: usize = b.parse().ok()?;
        if n == 0 || len == 0 {
            Err(())
        } else {
            Ok((len.saturating_sub(n), len - 1))
        }
    } else {
        let start: usize = a.parse().ok()?;
        let end: usize = if b.is_empty() {
            len.saturating_sub(1)
        } else {
            b.parse::<usize>().ok()?.min(len.saturating_sub(1))
        };
        if start >= len || end < start {
            Err(())
        } else {
            Ok((start, end))
        }
    };
    Some(result)
}

fn set(h: &mut HeaderMap, name: &'static str, v: &str) {
    if let Ok(v) = HeaderValue::from_str(v) {
        h.insert(name, v);
    }
}

fn blob_response(blob: &Blob, headers: &HeaderMap, head: bool) -> Result<Response, StorageError> {
    let len = blob.data.len();
    // x-ms-range wins over Range when both are sent (Azure doc on the range header).
    let range = headers
        .get("x-ms-range")
        .or_else(|| headers.get(header::RANGE))
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_range(v, len));
    let (status, body, content_range) = match range {
        None => (StatusCode::OK, blob.data.clone(), None),
        Some(Ok((s, e))) => (
            StatusCode::PARTIAL_CONTENT,
            blob.data.slice(s..=e),
            Some(format!("bytes {s}-{e}/{len}")),
        ),
        Some(Err(())) => {
            return Err(refuse(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "InvalidRange",
                "The range specified is invalid for the current size of the resource.",
            )
            .header(header::CONTENT_RANGE, format!("bytes */{len}")));
        }
    };
    let body_len = body.len();
    let mut resp = if head {
        Response::new(Body::empty())
    } else {
        Response::new(Body::from(body))
    };
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    set(h, "content-type", &blob.content_type);
    set(h, "content-length", &body_len.to_string());
    set(h, "etag", &blob.etag);
    set(h, "last-modified", &http_date(blob.last_modified));
    set(h, "accept-ranges", "bytes");
    set(h, "x-ms-blob-type", "BlockBlob");
    set(h, "x-ms-lease-status", "unlocked");
    set(h, "x-ms-lease-state", "available");
    set(h, "x-ms-server-encrypted", "true");
    if let Some(cr) = content_range {
        set(h, "content-range", &cr);
    }
    Ok(resp)
}

fn list_xml(st: &AppState, container: &str, items: &[(&String, &Blob)]) -> String {
    let mut out = format!(
        "\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults ServiceEndpoint=\"{}/\" ContainerName=\"{}\"><Blobs>",
        xml_escape(&st.storage_base),
        xml_escape(container)
    );
    for (name, b) in items {
        out.push_str(&format!(
            "<Blob><Name>{}</Name><Properties><Last-Modified>{}</Last-Modified><Etag>{}</Etag><Content-Length>{}</Content-Length><Content-Type>{}</Content-Type><BlobType>BlockBlob</BlobType></Properties></Blob>",
            xml_escape(name),
            http_date(b.last_modified),
            xml_escape(&b.etag),
            b.data.len(),
            xml_escape(&b.content_type)
        ));
    }
    out.push_str("</Blobs><NextMarker /></EnumerationResults>");
    out
}

fn route(
    st: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Response, StorageError> {
    let (container, blob) = segments(uri.path()).unwrap_or_default();
    let anonymous_read = st.opts.storage_public_read
        && !blob.is_empty()
        && matches!(*method, Method::GET | Method::HEAD);
    let role = authorize(st, headers, anonymous_read)?;
    let query = super::util::parse_query(uri.query().unwrap_or(""));
    let q = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let container_missing = || {
        refuse(
            StatusCode::NOT_FOUND,
            "ContainerNotFound",
            "The specified container does not exist.",
        )
    };
    if container.is_empty() {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "InvalidUri",
            "The requested URI does not represent any resource on the server.",
        ));
    }
    let is_container_op = blob.is_empty() && q("restype") == Some("container");
    match *method {
        Method::GET | Method::HEAD => {
            let head = *method == Method::HEAD;
            let blobs = st.blobs.read().unwrap_or_else(|e| e.into_inner());
            if is_container_op && q("comp") == Some("list") {
                let items = blobs
                    .list(&container, q("prefix").unwrap_or(""))
                    .ok_or_else(container_missing)?;
                let mut resp = (StatusCode::OK, list_xml(st, &container, &items)).into_response();
                set(resp.headers_mut(), "content-type", "application/xml");
                return Ok(resp);
            }
            if is_container_op {
                if !blobs.has_container(&container) {
                    return Err(container_missing());
                }
                return Ok(StatusCode::OK.into_response());
            }
            if !blobs.has_container(&container) {
                return Err(container_missing());
            }
            let b = blobs.get(&container, &blob).ok_or_else(|| {
                refuse(
                    StatusCode::NOT_FOUND,
                    "BlobNotFound",
                    "The specified blob does not exist.",
                )
            })?;
            blob_response(b, headers, head)
        }
        Method::PUT => {
            if role != BLOB_CONTRIBUTOR {
                return Err(refuse(
                    StatusCode::FORBIDDEN,
                    "AuthorizationPermissionMismatch",
                    "This request is not authorized to perform this operation using this permission.",
                ));
            }
            let mut blobs = st.blobs.write().unwrap_or_else(|e| e.into_inner());
            if is_container_op {
                if !container_name_ok(&container) {
                    return Err(refuse(
                        StatusCode::BAD_REQUEST,
                        "InvalidResourceName",
                        "The specifed resource name contains invalid characters.",
                    ));
                }
                if !blobs.create_container(&container) {
                    return Err(refuse(
                        StatusCode::CONFLICT,
                        "ContainerAlreadyExists",
                        "The specified container already exists.",
                    ));
                }
                return Ok(StatusCode::CREATED.into_response());
            }
            if !blobs.has_container(&container) {
                return Err(container_missing());
            }
            if headers.get("x-ms-blob-type").and_then(|v| v.to_str().ok()) != Some("BlockBlob") {
                return Err(refuse(
                    StatusCode::BAD_REQUEST,
                    "MissingRequiredHeader",
                    "An HTTP header that's mandatory for this request is not specified.",
                )
                .header(
                    header::HeaderName::from_static("x-ms-missing-header"),
                    "x-ms-blob-type",
                ));
            }
            if body.len() > MAX_PUT_BYTES {
                return Err(refuse(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "RequestBodyTooLarge",
                    "The request body is too large and exceeds the maximum permissible limit.",
                ));
            }
            let ctype = headers
                .get("x-ms-blob-content-type")
                .or_else(|| headers.get(header::CONTENT_TYPE))
                .and_then(|v| v.to_str().ok())
                .unwrap_or("application/octet-stream")
                .to_string();
            blobs.put(&container, &blob, body.to_vec(), &ctype);
            let mut resp = StatusCode::CREATED.into_response();
            if let Some(b) = blobs.get(&container, &blob) {
                set(resp.headers_mut(), "etag", &b.etag);
                set(
                    resp.headers_mut(),
                    "last-modified",
                    &http_date(b.last_modified),
                );
            }
            set(resp.headers_mut(), "x-ms-request-server-encrypted", "true");
            Ok(resp)
        }
        _ => Err(refuse(
            StatusCode::METHOD_NOT_ALLOWED,
            "UnsupportedHttpVerb",
            "The resource doesn't support specified Http Verb.",
        )),
    }
}

/// The storage origin's only handler.
pub(crate) async fn dispatch(
    State(st): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request_id = new_guid();
    let head = method == Method::HEAD;
    let mut resp = match route(&st, &method, &uri, &headers, body) {
        Ok(r) => r,
        Err(e) => error_response(e, &request_id, head),
    };
    let version = headers
        .get("x-ms-version")
        .and_then(|v| v.to_str().ok())
        .unwrap_or(SERVICE_VERSION)
        .to_string();
    let h = resp.headers_mut();
    set(h, "x-ms-request-id", &request_id);
    set(h, "x-ms-version", &version);
    set(h, "server", "Windows-Azure-Blob/1.0 Microsoft-HTTPAPI/2.0");
    set(h, "date", &http_date(Utc::now()));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_names() {
        assert_eq!(parse_range("bytes=5-", 10), Some(Ok((5, 9))));
        assert_eq!(parse_range("bytes=2-4", 10), Some(Ok((2, 4))));
        assert_eq!(parse_range("bytes=-3", 10), Some(Ok((7, 9))));
        assert_eq!(parse_range("bytes=10-", 10), Some(Err(())));
        assert_eq!(parse_range("items=1-", 10), None);
        assert!(container_name_ok("fhir-export"));
        assert!(!container_name_ok("Bad_Name"));
        assert!(!container_name_ok("ab"));
        assert!(storage_audience("https://storage.azure.com/", "http://x"));
        assert!(storage_audience("https://storage.azure.com", "http://x"));
        assert!(!storage_audience(
            "https://management.azure.com/",
            "http://x"
        ));
    }

    #[test]
    fn error_times_have_seven_decimals() {
        let t = DateTime::parse_from_rfc3339("2024-03-09T18:54:24.307093300Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        assert_eq!(azure_time(t), "2024-03-09T18:54:24.3070933Z");
    }
}
