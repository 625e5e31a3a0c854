//! One HTTP exchange with reqwest, with every failure turned into a sentence a person can act on.

use std::error::Error as _;
use std::time::{Duration, Instant};

use futures::StreamExt;
use thiserror::Error;

/// A fully resolved request, ready for the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    pub timeout: Duration,
    /// Accept invalid TLS certificates: set only from an environment's `insecure` opt-in.
    pub insecure: bool,
}

/// What came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub reason: String,
    pub version: String,
    pub headers: Vec<(String, String)>,
    /// Shared, so the viewer and a background pretty-print can hold it without copies.
    /// Empty when the body went to a temporary file (`spool`).
    pub body: bytes::Bytes,
    /// A body above the spooling threshold, on disk instead of in memory.
    pub spool: Option<std::sync::Arc<super::spool::SpoolFile>>,
    pub elapsed: Duration,
    /// The URL finally answered (after redirects).
    pub final_url: String,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn content_type(&self) -> Option<&str> {
        self.header("content-type")
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Bodies are never held in memory above this size; larger ones go to a temporary file
/// (see [`super::spool`]), as do bodies above the spooling threshold.
pub const MAX_BODY_BYTES: usize = 512 * 1024 * 1024;

#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum HttpError {
    #[error("The URL is not valid: {0}.")]
    InvalidUrl(String),
    #[error("The URL has no scheme: start it with http:// or https://.")]
    NoScheme,
    #[error("'{0}' is not a valid HTTP method.")]
    InvalidMethod(String),
    #[error("Header '{0}' is not valid (names and values must be visible ASCII).")]
    InvalidHeader(String),
    #[error("Connection refused by {0}: is the server running, and is the port right?")]
    ConnectionRefused(String),
    #[error("The host name {0} could not be resolved: check the URL, or your network and DNS.")]
    Dns(String),
    #[error("Secure connection to {host} failed: {detail}.")]
    Tls { host: String, detail: String },
    #[error("No answer within {}: the request timed out.", human_duration(.0))]
    Timeout(Duration),
    #[error("The connection to {host} failed: {detail}.")]
    Connection { host: String, detail: String },
    #[error(
        "The connection dropped while the body was arriving ({received} bytes received): {detail}."
    )]
    BodyDropped { received: usize, detail: String },
    #[error("The response body is larger than {} GB; fhirside stopped reading it.", super::spool::MAX_SPOOL_BYTES >> 30)]
    BodyTooLarge,
    #[error("Too many redirects (more than {0}).")]
    TooManyRedirects(usize),
    #[error("Request cancelled.")]
    Cancelled,
    #[error("{0}")]
    Other(String),
}

pub const MAX_REDIRECTS: usize = 10;

fn human_duration(d: &Duration) -> String {
    if d.as_millis() < 1000 {
        format!("{} ms", d.as_millis())
    } else {
        format!("{} s", d.as_secs_f32())
    }
}

/// The settings every client shares; public so tests can add a resolver of their own.
pub fn client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::limited(MAX_REDIRECTS))
        .user_agent(concat!("fhirside/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(15))
}

/// The client every request goes through. reqwest drops `Authorization` on redirects to another host.
pub fn client() -> reqwest::Client {
    client_builder().build().unwrap_or_default()
}

/// The client for environments with `insecure = true`: any certificate is accepted. Should it
/// fail to build, the checking client is used instead, so a failure never weakens security.
pub fn insecure_client() -> reqwest::Client {
    client_builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap_or_else(|_| client())
}

/// Checks the parts of a request that can be checked without a network.
pub fn validate(req: &HttpRequest) -> Result<(reqwest::Method, url::Url), HttpError> {
    let method = reqwest::Method::from_bytes(req.method.trim().to_ascii_uppercase().as_bytes())
        .map_err(|_| HttpError::InvalidMethod(req.method.clone()))?;
    let url = url::Url::parse(req.url.trim()).map_err(|e| match e {
        url::ParseError::RelativeUrlWithoutBase => HttpError::NoScheme,
        e => HttpError::InvalidUrl(e.to_string()),
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(HttpError::InvalidUrl(format!(
            "the scheme '{}' is not http or https",
            url.scheme()
        )));
    }
    for (k, v) in &req.headers {
        if reqwest::header::HeaderName::from_bytes(k.as_bytes()).is_err()
            || reqwest::header::HeaderValue::from_str(v).is_err()
        {
            return Err(HttpError::InvalidHeader(k.clone()));
        }
    }
    Ok((method, url))
}

/// Sends `req` and reads the whole body.
pub async fn send(client: &reqwest::Client, req: &HttpRequest) -> Result<HttpResponse, HttpError> {
    send_observed(client, req, None).await
}

/// [`send`], reporting the bytes received to `progress`. A body larger than the spooling
/// threshold (announced, or found while reading) is written to a temporary file.
pub async fn send_observed(
    client: &reqwest::Client,
    req: &HttpRequest,
    progress: Option<&super::spool::ReceiveProgress>,
) -> Result<HttpResponse, HttpError> {
    let (method, url) = validate(req)?;
    let host = url.host_str().unwrap_or("").to_string();
    let started = Instant::now();
    let mut builder = client.request(method, url).timeout(req.timeout);
    for (k, v) in &req.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    if let Some(body) = &req.body {
        builder = builder.body(body.clone());
    }
    let resp = builder
        .send()
        .await
        .map_err(|e| classify(&e, &host, req.timeout))?;
    let status = resp.status();
    let version = format!("{:?}", resp.version());
    let final_url = resp.url().to_string();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let announced = resp.content_length();
    if let Some(p) = progress {
        p.set_total(announced);
    }
    let in_memory_limit = super::spool::spool_above().min(MAX_BODY_BYTES);
    let announced = announced.map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX));
    let mut spool = None;
    if announced > in_memory_limit {
        spool = Some(start_spool(&[], progress)?);
    }
    // Reserve what the server announced (within the limit), so a large body is not copied
    // while it grows.
    let mut body = Vec::with_capacity(if spool.is_some() {
        0
    } else {
        announced.min(in_memory_limit)
    });
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(bytes) => {
                if let Some(p) = progress {
                    p.add(bytes.len());
                }
                if spool.is_none() && body.len() + bytes.len() > in_memory_limit {
                    spool = Some(start_spool(&body, progress)?);
                    body = Vec::new();
                }
                match spool.as_mut() {
                    Some(f) => {
                        if f.len() + bytes.len() as u64 > super::spool::MAX_SPOOL_BYTES {
                            return Err(HttpError::BodyTooLarge);
                        }
                        f.write_all(&bytes).map_err(spool_failed)?;
                    }
                    None => body.extend_from_slice(&bytes),
                }
            }
            Err(e) if e.is_timeout() => return Err(HttpError::Timeout(req.timeout)),
            Err(e) => {
                return Err(HttpError::BodyDropped {
                    received: body.len(),
                    detail: root_cause(&e),
                });
            }
        }
    }
    let spool = match spool {
        Some(mut f) => {
            f.flush().map_err(spool_failed)?;
            Some(std::sync::Arc::new(f))
        }
        None => None,
    };
    Ok(HttpResponse {
        spool,
        status: status.as_u16(),
        reason: status.canonical_reason().unwrap_or("").to_string(),
        version,
        headers,
        body: body.into(),
        elapsed: started.elapsed(),
        final_url,
    })
}

/// A temporary file for a large body, holding what was received so far.
fn start_spool(
    so_far: &[u8],
    progress: Option<&super::spool::ReceiveProgress>,
) -> Result<super::spool::SpoolFile, HttpError> {
    let mut f = super::spool::SpoolFile::create().map_err(spool_failed)?;
    f.write_all(so_far).map_err(spool_failed)?;
    if let Some(p) = progress {
        p.set_spooling();
    }
    Ok(f)
}

fn spool_failed(e: std::io::Error) -> HttpError {
    HttpError::Other(format!(
        "The body is too large for memory and saving it to a temporary file failed: {e}."
    ))
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut last = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        last = s.to_string();
        cur = s.source();
    }
    last
}

fn chain_text(e: &reqwest::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        parts.push(s.to_string());
        cur = s.source();
    }
    parts.join(": ")
}

fn classify(e: &reqwest::Error, host: &str, timeout: Duration) -> HttpError {
    let text = chain_text(e).to_ascii_lowercase();
    if e.is_timeout() {
        return HttpError::Timeout(timeout);
    }
    if e.is_redirect() {
        return HttpError::TooManyRedirects(MAX_REDIRECTS);
    }
    if text.contains("dns error")
        || text.contains("failed to lookup address")
        || text.contains("name or service not known")
    {
        return HttpError::Dns(host.to_string());
    }
    if text.contains("connection refused") {
        return HttpError::ConnectionRefused(host.to_string());
    }
    if text.contains("certificate")
        || text.contains("tls")
        || text.contains("handshake")
        || text.contains("corrupt message")
    {
        return HttpError::Tls {
            host: host.to_string(),
            detail: tls_detail(&root_cause(e)),
        };
    }
    if e.is_connect() || e.is_request() {
        return HttpError::Connection {
            host: host.to_string(),
            detail: root_cause(e),
        };
    }
    HttpError::Other(format!("The request failed: {}.", root_cause(e)))
}

/// What a rustls certificate error means, with the way out when the user trusts the server.
fn tls_detail(cause: &str) -> String {
    const OPT_IN: &str = "if you trust this server, `insecure = true` in the environment's file skips the check for that environment only";
    let reason = if cause.contains("UnknownIssuer") {
        "the server's certificate is not signed by an authority this machine trusts (self-signed or a private CA)"
    } else if cause.contains("NotValidForName") {
        "the server's certificate is not issued for this host name"
    } else if cause.contains("Expired") {
        "the server's certificate has expired"
    } else if cause.contains("NotValidYet") {
        "the server's certificate is not valid yet (check this machine's clock)"
    } else if cause.contains("certificate") {
        return format!("the server's certificate was refused ({cause}); {OPT_IN}");
    } else if cause.contains("InvalidContentType") {
        return "the server did not answer in TLS (is it an https server? A plain http one needs http://)".into();
    } else {
        return format!("{cause} (is it an https server?)");
    };
    format!("{reason}; {OPT_IN}")
}

/// When a `429` or `503` carries `Retry-After`, the sentence saying when the server wants the
/// request again (in seconds or at a date, as the server put it).
pub fn retry_after_note(resp: &HttpResponse) -> Option<String> {
    if !matches!(resp.status, 429 | 503) {
        return None;
    }
    let why = if resp.status == 429 {
        "The server is limiting requests (429 Too Many Requests)"
    } else {
        "The server is unavailable (503 Service Unavailable)"
    };
    let value = resp.header("retry-after")?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        let unit = if secs == 1 { "second" } else { "seconds" };
        return Some(format!(
            "{why} and asked to retry after {secs} {unit}; Ctrl-R sends again."
        ));
    }
    match chrono::DateTime::parse_from_rfc2822(value) {
        Ok(at) => {
            let wait = (at.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_seconds();
            let local = at.with_timezone(&chrono::Local).format("%H:%M:%S");
            Some(if wait > 0 {
                format!("{why} and asked to retry at {local} (in {wait} s); Ctrl-R sends again.")
            } else {
                format!(
                    "{why} and asked to retry at {local}, which has passed; Ctrl-R sends again."
                )
            })
        }
        Err(_) => Some(format!(
            "{why}; its Retry-After '{value}' is neither seconds nor a date."
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(url: &str) -> HttpRequest {
        HttpRequest {
            method: "GET".into(),
            url: url.into(),
            headers: vec![],
            body: None,
            timeout: Duration::from_secs(5),
            insecure: false,
        }
    }

    #[test]
    fn validation_explains_bad_urls() {
        assert_eq!(
            validate(&req("localhost/x")).unwrap_err(),
            HttpError::NoScheme
        );
        assert!(matches!(
            validate(&req("ftp://x")).unwrap_err(),
            HttpError::InvalidUrl(_)
        ));
        assert!(matches!(
            validate(&req("http://")).unwrap_err(),
            HttpError::InvalidUrl(_)
        ));
        let mut r = req("http://x");
        r.headers.push(("Bad Header".into(), "v".into()));
        assert_eq!(
            validate(&r).unwrap_err(),
            HttpError::InvalidHeader("Bad Header".into())
        );
        r.headers.clear();
        r.method = "G E T".into();
        assert!(matches!(
            validate(&r).unwrap_err(),
            HttpError::InvalidMethod(_)
        ));
    }

    fn answer(status: u16, retry_after: &str) -> HttpResponse {
        HttpResponse {
            status,
            reason: String::new(),
            version: "HTTP/1.1".into(),
            headers: vec![("Retry-After".into(), retry_after.into())],
            body: Default::default(),
            spool: None,
            elapsed: Duration::ZERO,
            final_url: "http://x/".into(),
        }
    }

    #[test]
    fn retry_after_is_read_only_on_429_and_503() {
        assert_eq!(retry_after_note(&answer(200, "5")), None);
        assert_eq!(retry_after_note(&answer(500, "5")), None);
        assert!(
            retry_after_note(&answer(503, "1"))
                .unwrap()
                .contains("retry after 1 second;")
        );
        let past = retry_after_note(&answer(429, "Wed, 21 Oct 2015 07:28:00 GMT")).unwrap();
        assert!(past.contains("which has passed"), "{past}");
        let odd = retry_after_note(&answer(429, "soon")).unwrap();
        assert!(
            odd.contains("'soon' is neither seconds nor a date"),
            "{odd}"
        );
    }

    #[test]
    fn tls_causes_become_sentences() {
        assert!(
            tls_detail("invalid peer certificate: NotValidForName")
                .starts_with("the server's certificate is not issued for this host name;")
        );
        assert!(tls_detail("invalid peer certificate: Expired").contains("has expired"));
    }
}
