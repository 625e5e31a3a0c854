//! One HTTP exchange with reqwest, with every failure turned into a sentence a person can act on.

use std::error::Error as _;
use std::time::{Duration, Instant};

use futures::StreamExt;
use thiserror::Error;

use super::credentials::{Origin, forwardable_across_origins};

mod receive;

use receive::{BodySink, Encoding, read_decoded};
pub use receive::{MAX_RATIO, RATIO_CHECK_ABOVE};

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
    /// A redirect fhirside will not follow (another origin with a body, a scheme other than
    /// http(s), a Location that is not a URL), as the sentence.
    #[error("{0}")]
    RedirectRefused(String),
    /// The environment's sign-in failed and the request was told not to go out without a
    /// token (`fhirside run` without `--allow-unsigned`; the TUI until the user says yes).
    #[error("Not sent, because signing in failed: {0}")]
    SignInFailed(String),
    #[error(
        "The server at {from} redirected to {to}, from https down to plain http; fhirside does not follow that, since the request would travel unencrypted."
    )]
    Downgrade { from: String, to: String },
    #[error(
        "The server's {encoding} body decodes to more than {limit_mb} MiB, the limit for compressed bodies (max_decoded_mb in settings.toml, or FHIRSIDE_MAX_DECODED_MB); fhirside stopped reading it and kept nothing of it."
    )]
    DecodedTooLarge {
        encoding: &'static str,
        limit_mb: u64,
    },
    #[error(
        "The server's {encoding} body expands more than 1,000 times ({} decoded from {} received): fhirside stopped reading it as a likely decompression bomb and kept nothing of it.",
        crate::text::human_size(usize::try_from(*.decoded).unwrap_or(usize::MAX)),
        crate::text::human_size(usize::try_from(*.compressed).unwrap_or(usize::MAX))
    )]
    DecompressionBomb {
        encoding: &'static str,
        decoded: u64,
        compressed: u64,
    },
    #[error(
        "The body is not valid {encoding}, although the server said so (Content-Encoding): {detail}."
    )]
    BadEncoding {
        encoding: &'static str,
        detail: String,
    },
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
/// Redirects are followed by [`open`], not by reqwest (which would forward custom secret headers
/// and re-send bodies to another origin), and no `Referer` is ever sent.
pub fn client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .referer(false)
        .user_agent(concat!("fhirside/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(15))
}

/// The client every request goes through.
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

/// One redirect that was followed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    pub status: u16,
    pub from: String,
    pub to: String,
    /// Request headers not sent on, because the hop left the origin they were written for.
    pub dropped: Vec<String>,
}

/// A response whose head has arrived (its body not read yet), after any redirects.
pub struct Opened {
    pub response: reqwest::Response,
    /// The redirects followed, in order (the last `to` is the URL that answered).
    pub hops: Vec<Hop>,
}

/// Asked for when the request does not say: the encodings [`send_observed`] decodes.
const ACCEPT_ENCODING: &str = "gzip, br";

/// Text a server wrote, fit to quote in a sentence: its first 200 characters, escaped.
pub fn quoted(text: &str) -> String {
    text.chars()
        .take(200)
        .collect::<String>()
        .escape_debug()
        .to_string()
}

/// A URL in a sentence: the server wrote it, so only its (already escaped) first 200 characters.
fn shown(url: &url::Url) -> String {
    url.as_str().chars().take(200).collect()
}

/// Sends `req` and follows up to [`MAX_REDIRECTS`] redirects by RFC 9110's rules: 303 (and 301/302
/// after a POST) become a GET without the body, 307/308 keep the method and body. A hop to
/// another origin carries only the headers [`forwardable_across_origins`] allows (never
/// `Authorization`, cookies or anything holding a secret) and never a body; a hop from https
/// down to http is refused. `req.timeout` bounds the whole chain.
pub async fn open(client: &reqwest::Client, req: &HttpRequest) -> Result<Opened, HttpError> {
    let (mut method, mut url) = validate(req)?;
    let started = Instant::now();
    let mut headers = req.headers.clone();
    let mut body = req.body.clone();
    let mut hops: Vec<Hop> = Vec::new();
    loop {
        let host = url.host_str().unwrap_or("").to_string();
        let remaining = req.timeout.saturating_sub(started.elapsed());
        if remaining.is_zero() {
            return Err(HttpError::Timeout(req.timeout));
        }
        let mut builder = client
            .request(method.clone(), url.clone())
            .timeout(remaining);
        if !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("accept-encoding"))
        {
            builder = builder.header("Accept-Encoding", ACCEPT_ENCODING);
        }
        for (k, v) in &headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        if let Some(b) = &body {
            builder = builder.body(b.clone());
        }
        let response = builder
            .send()
            .await
            .map_err(|e| classify(&e, &host, req.timeout))?;
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_string());
        let (true, Some(location)) = (matches!(status, 301 | 302 | 303 | 307 | 308), location)
        else {
            return Ok(Opened { response, hops });
        };
        if hops.len() >= MAX_REDIRECTS {
            return Err(HttpError::TooManyRedirects(MAX_REDIRECTS));
        }
        let next = url.join(&location).map_err(|e| {
            HttpError::RedirectRefused(format!(
                "The server redirected ({status}) to '{}', which is not a usable URL: {e}.",
                quoted(&location)
            ))
        })?;
        if !matches!(next.scheme(), "http" | "https") {
            return Err(HttpError::RedirectRefused(format!(
                "The server redirected ({status}) to {}, which is not http or https; fhirside does not follow it.",
                shown(&next)
            )));
        }
        if url.scheme() == "https" && next.scheme() == "http" {
            return Err(HttpError::Downgrade {
                from: shown(&url),
                to: shown(&next),
            });
        }
        let cross_origin = Origin::of_url(&url) != Origin::of_url(&next);
        let to_get =
            status == 303 || (matches!(status, 301 | 302) && method == reqwest::Method::POST);
        if to_get {
            if method != reqwest::Method::HEAD {
                method = reqwest::Method::GET;
            }
            body = None;
            headers.retain(|(k, _)| {
                !["content-type", "content-length", "content-encoding"]
                    .iter()
                    .any(|h| k.eq_ignore_ascii_case(h))
            });
        }
        if cross_origin && body.as_ref().is_some_and(|b| !b.is_empty()) {
            let other = Origin::of_url(&next).map_or_else(|| shown(&next), |o| o.host_port());
            return Err(HttpError::RedirectRefused(format!(
                "The server redirected this {method} ({status}) to {other}, another origin; fhirside does not send the request body anywhere but where it was addressed. If you trust {other}, send the request to {} yourself.",
                shown(&next)
            )));
        }
        let mut dropped = Vec::new();
        if cross_origin {
            headers.retain(|(k, _)| {
                let keep = forwardable_across_origins(k);
                if !keep {
                    dropped.push(k.clone());
                }
                keep
            });
        }
        hops.push(Hop {
            status,
            from: url.to_string(),
            to: next.to_string(),
            dropped,
        });
        url = next;
    }
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
    send_traced(client, req, progress).await.map(|(r, _)| r)
}

/// [`send_observed`], with the redirects that were followed.
pub async fn send_traced(
    client: &reqwest::Client,
    req: &HttpRequest,
    progress: Option<&super::spool::ReceiveProgress>,
) -> Result<(HttpResponse, Vec<Hop>), HttpError> {
    let started = Instant::now();
    let Opened {
        response: resp,
        hops,
    } = open(client, req).await?;
    let status = resp.status();
    let version = format!("{:?}", resp.version());
    let final_url = resp.url().to_string();
    let encoding = Encoding::of(
        resp.headers()
            .get(reqwest::header::CONTENT_ENCODING)
            .and_then(|v| v.to_str().ok()),
    );
    let headers = resp
        .headers()
        .iter()
        // The decoder takes the encoding (and the encoded length) away with it.
        .filter(|(k, _)| {
            encoding == Encoding::Identity
                || !matches!(k.as_str(), "content-encoding" | "content-length")
        })
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let announced = match encoding {
        Encoding::Identity => resp.content_length(),
        _ => None,
    };
    if let Some(p) = progress {
        p.set_total(announced);
    }
    let mut sink = BodySink::new(announced, progress)?;
    match encoding {
        Encoding::Identity => {
            let mut stream = resp.bytes_stream();
            while let Some(chunk) = stream.next().await {
                match chunk {
                    Ok(bytes) => sink.push(&bytes)?,
                    Err(e) => return Err(sink.dropped(&e, req.timeout)),
                }
            }
        }
        coding => read_decoded(resp, coding, &mut sink, req.timeout).await?,
    }
    let (body, spool) = sink.finish()?;
    Ok((
        HttpResponse {
            spool,
            status: status.as_u16(),
            reason: status.canonical_reason().unwrap_or("").to_string(),
            version,
            headers,
            body,
            elapsed: started.elapsed(),
            final_url,
        },
        hops,
    ))
}

/// The innermost cause's sentence (reqwest's own text names only the outer layer).
pub(crate) fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
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
mod tests;
