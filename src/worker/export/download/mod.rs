//! Downloading a manifest's files into a folder: a few at a time, with per-file and total
//! progress, resuming `.part` files with `Range`, finishing each with a rename, then counting
//! NDJSON lines against the manifest's `count`.
//!
//! File names come from the last segment of each URL, reduced to `[A-Za-z0-9._-]` (never a path,
//! never `.`/`..`), made unique within the manifest; nothing is written outside the folder.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use futures::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::sync::Semaphore;

use super::job::{Manifest, ManifestOutput};
use super::progress::retry_hint;

use crate::worker::credentials::{Credential, CredentialPolicy, Permit};
use crate::worker::http::{self, HttpError, HttpRequest};
use crate::worker::storage;

mod files;
mod lines;
mod names;

pub use files::{create_private_dirs, make_private};
use files::{open_private, part_len, read_capped};
use lines::count_file;
pub use lines::{LineCounter, count_lines};
pub use names::{file_name_for, plan};

/// A whole-file download has no overall deadline (files can be gigabytes); an attempt ends when
/// no bytes arrive for [`DownloadOptions::idle_timeout`].
const NO_DEADLINE: Duration = Duration::from_secs(7 * 24 * 3600);

/// What downloads may send: the environment's credential policy and the tokens in hand. Each
/// file gets the token its [`Permit`] names, or none.
#[derive(Debug, Clone, Copy)]
pub struct DownloadCredentials<'a> {
    pub policy: &'a CredentialPolicy,
    pub fhir_token: Option<&'a str>,
    pub storage_token: Option<&'a str>,
    /// Why no storage token could be had, for the sentence of a storage refusal.
    pub storage_unavailable: Option<&'a str>,
}

impl<'a> DownloadCredentials<'a> {
    /// No tokens: files are fetched without `Authorization` (and those that need the token say so).
    pub fn without_tokens(policy: &'a CredentialPolicy) -> Self {
        DownloadCredentials {
            policy,
            fhir_token: None,
            storage_token: None,
            storage_unavailable: None,
        }
    }

    /// The FHIR token in hand, and the outcome of asking for a storage token (if one was asked).
    pub fn with(
        policy: &'a CredentialPolicy,
        fhir_token: Option<&'a str>,
        storage: Option<&'a Result<String, String>>,
    ) -> Self {
        DownloadCredentials {
            policy,
            fhir_token,
            storage_token: storage.and_then(|r| r.as_deref().ok()),
            storage_unavailable: storage.and_then(|r| r.as_ref().err()).map(String::as_str),
        }
    }

    fn token_for(&self, credential: Credential) -> Option<&'a str> {
        match credential {
            Credential::FhirToken => self.fhir_token,
            Credential::StorageToken => self.storage_token,
        }
    }
}

/// The tokens the manifest's files need under `policy`, from `tokens`: the FHIR token (if any
/// file may have it) and the outcome of asking for a storage token (if any file is on a
/// storage host). Nobody is asked to sign in for a token no file will get.
pub async fn tokens_for<T: super::job::TokenSource>(
    tokens: &mut T,
    policy: &CredentialPolicy,
    manifest: &Manifest,
    include_error_files: bool,
) -> (Option<String>, Option<Result<String, String>>) {
    let (needs_fhir, needs_storage) = credentials_needed(policy, manifest, include_error_files);
    let fhir = match needs_fhir {
        true => tokens.token(None).await.ok().flatten(),
        false => None,
    };
    let storage = match needs_storage {
        true => Some(tokens.storage_token().await),
        false => None,
    };
    (fhir, storage)
}

/// The credentials the manifest's files will need under `policy` (so a caller signs in only for
/// those): `(FHIR token, storage token)`.
pub fn credentials_needed(
    policy: &CredentialPolicy,
    manifest: &Manifest,
    include_error_files: bool,
) -> (bool, bool) {
    let mut needs = (false, false);
    for (o, _, _) in plan(manifest, include_error_files) {
        match policy.output_file(&o.url, manifest.requires_access_token) {
            Ok(Some(p)) if p.credential() == Credential::FhirToken => needs.0 = true,
            Ok(Some(_)) => needs.1 = true,
            _ => {}
        }
    }
    needs
}

/// Files downloaded at once by default.
pub const DEFAULT_CONCURRENCY: usize = 4;
/// Longest pause between attempts at one file (a server's hint up to 60 s wins).
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub struct DownloadOptions {
    /// Files at once (at least 1).
    pub concurrency: usize,
    /// Further attempts per file after a dropped connection or a transient answer (each resumes).
    pub retries: u32,
    /// Pause before the first such attempt, doubled for each further one (with jitter) up to
    /// [`MAX_BACKOFF`]; a server's `x-ms-retry-after-ms` or `Retry-After` (up to 60 s) wins.
    pub retry_delay: Duration,
    /// Give up on an attempt when no bytes arrive for this long.
    pub idle_timeout: Duration,
    /// Also download the manifest's `error` files (OperationOutcomes).
    pub include_error_files: bool,
}

impl Default for DownloadOptions {
    fn default() -> Self {
        DownloadOptions {
            concurrency: DEFAULT_CONCURRENCY,
            retries: 4,
            retry_delay: Duration::from_millis(500),
            idle_timeout: Duration::from_secs(60),
            include_error_files: true,
        }
    }
}

/// Progress of one file and of the whole download.
#[derive(Debug, Clone, PartialEq)]
pub struct DownloadProgress {
    /// Position of the file in the download (outputs first, then error files).
    pub index: usize,
    pub name: String,
    /// Bytes of this file on disk so far (a resumed part counts).
    pub file_done: u64,
    /// Its full size, once the server said.
    pub file_total: Option<u64>,
    /// Bytes on disk across all files.
    pub all_done: u64,
    /// Sum of the sizes known so far.
    pub all_total: u64,
    /// Whether every file's size is known (then `all_total` is the real total).
    pub all_total_known: bool,
    /// Bytes received in this run per second since it started.
    pub bytes_per_sec: f64,
}

/// How one file ended.
#[derive(Debug, Clone, PartialEq)]
pub struct FileReport {
    pub index: usize,
    /// The manifest's `type`.
    pub type_: String,
    pub url: String,
    /// Where it was written (the final name; the `.part` is next to it while incomplete).
    pub path: PathBuf,
    /// From the manifest's `error` list.
    pub is_error_file: bool,
    /// Bytes in the file.
    pub bytes: u64,
    /// Non-blank NDJSON lines, when the file is complete.
    pub lines: Option<u64>,
    /// The manifest's `count`.
    pub expected: Option<u64>,
    /// Bytes of a `.part` that were kept (resumed with `Range`), over all attempts.
    pub resumed_bytes: u64,
    /// Answers `429 Too Many Requests` received for this file.
    pub throttled: u32,
    /// The server ignored `Range` (200) and the file was started over.
    pub restarted: bool,
    pub attempts: u32,
    /// Why the file is not complete (the `.part` stays for a later resume).
    pub error: Option<String>,
}

impl FileReport {
    /// The line count differs from the manifest's `count`.
    pub fn count_mismatch(&self) -> bool {
        matches!((self.lines, self.expected), (Some(l), Some(e)) if l != e)
    }

    /// A sentence for a mismatch, if any.
    pub fn mismatch_note(&self) -> Option<String> {
        match (self.lines, self.expected) {
            (Some(l), Some(e)) if l != e => Some(format!(
                "{}: {l} lines, but the manifest says {e} resources",
                self.path.file_name().unwrap_or_default().to_string_lossy()
            )),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum DownloadEvent {
    Progress(DownloadProgress),
    FileDone(FileReport),
}

/// The whole download.
#[derive(Debug, Clone, PartialEq)]
pub struct DownloadReport {
    pub dir: PathBuf,
    pub files: Vec<FileReport>,
    /// Bytes received in this run.
    pub bytes_received: u64,
    pub elapsed: Duration,
}

impl DownloadReport {
    pub fn failures(&self) -> impl Iterator<Item = &FileReport> {
        self.files.iter().filter(|f| f.error.is_some())
    }

    /// `429` answers across all files.
    pub fn throttled(&self) -> u32 {
        self.files.iter().map(|f| f.throttled).sum()
    }

    pub fn mismatches(&self) -> impl Iterator<Item = &FileReport> {
        self.files.iter().filter(|f| f.count_mismatch())
    }

    /// Every file downloaded and matching its count.
    pub fn all_good(&self) -> bool {
        self.failures().next().is_none() && self.mismatches().next().is_none()
    }
}

struct Shared<'a> {
    client: &'a reqwest::Client,
    dir: PathBuf,
    creds: DownloadCredentials<'a>,
    requires_access_token: bool,
    opts: &'a DownloadOptions,
    on_event: &'a (dyn Fn(DownloadEvent) + Send + Sync),
    started: Instant,
    all_done: AtomicU64,
    all_total: AtomicU64,
    unknown_totals: AtomicU64,
    received: AtomicU64,
}

impl Shared<'_> {
    fn emit(&self, index: usize, name: &str, file_done: u64, file_total: Option<u64>) {
        let secs = self.started.elapsed().as_secs_f64();
        let received = self.received.load(Ordering::Relaxed);
        (self.on_event)(DownloadEvent::Progress(DownloadProgress {
            index,
            name: name.to_string(),
            file_done,
            file_total,
            all_done: self.all_done.load(Ordering::Relaxed),
            all_total: self.all_total.load(Ordering::Relaxed),
            all_total_known: self.unknown_totals.load(Ordering::Relaxed) == 0,
            bytes_per_sec: if secs > 0.0 {
                received as f64 / secs
            } else {
                0.0
            },
        }));
    }
}

/// Keeps a file's share of the totals right as it grows, restarts or learns its size.
struct FileCounters<'s, 'a> {
    shared: &'s Shared<'a>,
    done: u64,
    total: Option<u64>,
    /// Non-blank lines of what is in the `.part` so far.
    lines: LineCounter,
}

impl FileCounters<'_, '_> {
    fn set_done(&mut self, done: u64) {
        if done >= self.done {
            self.shared
                .all_done
                .fetch_add(done - self.done, Ordering::Relaxed);
        } else {
            self.shared
                .all_done
                .fetch_sub(self.done - done, Ordering::Relaxed);
        }
        self.done = done;
    }

    fn set_total(&mut self, total: Option<u64>) {
        match (self.total, total) {
            (None, Some(t)) => {
                self.shared.all_total.fetch_add(t, Ordering::Relaxed);
                self.shared.unknown_totals.fetch_sub(1, Ordering::Relaxed);
            }
            (Some(old), Some(t)) => {
                self.shared.all_total.fetch_add(t, Ordering::Relaxed);
                self.shared.all_total.fetch_sub(old, Ordering::Relaxed);
            }
            (Some(old), None) => {
                self.shared.all_total.fetch_sub(old, Ordering::Relaxed);
                self.shared.unknown_totals.fetch_add(1, Ordering::Relaxed);
            }
            (None, None) => {}
        }
        self.total = total;
    }
}

/// Downloads the manifest's files into `dir`, `opts.concurrency` at a time. Files hold patient
/// data: each is created 0600, and missing folders 0700. Each file gets the credential
/// `creds.policy` permits for its URL ([`CredentialPolicy::output_file`]); a file that needs the
/// token on an origin that may not have it is refused without a request. Problems with one file
/// are in its report; only a folder that cannot be created is an error.
pub async fn download_all(
    client: &reqwest::Client,
    manifest: &Manifest,
    dir: &Path,
    creds: DownloadCredentials<'_>,
    opts: &DownloadOptions,
    on_event: &(dyn Fn(DownloadEvent) + Send + Sync),
) -> std::io::Result<DownloadReport> {
    create_private_dirs(dir).await?;
    let files = plan(manifest, opts.include_error_files);
    let shared = Shared {
        client,
        dir: dir.to_path_buf(),
        creds,
        requires_access_token: manifest.requires_access_token,
        opts,
        on_event,
        started: Instant::now(),
        all_done: AtomicU64::new(0),
        all_total: AtomicU64::new(0),
        unknown_totals: AtomicU64::new(files.len() as u64),
        received: AtomicU64::new(0),
    };
    let semaphore = Arc::new(Semaphore::new(opts.concurrency.max(1)));
    let reports = futures::future::join_all(files.into_iter().enumerate().map(
        |(index, (out, name, is_err))| {
            let shared = &shared;
            let semaphore = semaphore.clone();
            async move {
                let _permit = semaphore.acquire().await;
                let report = download_one(shared, index, &out, &name, is_err).await;
                (shared.on_event)(DownloadEvent::FileDone(report.clone()));
                report
            }
        },
    ))
    .await;
    Ok(DownloadReport {
        dir: dir.to_path_buf(),
        files: reports,
        bytes_received: shared.received.load(Ordering::Relaxed),
        elapsed: shared.started.elapsed(),
    })
}

/// `bytes START-END/TOTAL` → (START, TOTAL); `bytes */TOTAL` → (None, TOTAL).
fn content_range(v: &str) -> Option<(Option<u64>, Option<u64>)> {
    let spec = v.trim().strip_prefix("bytes")?.trim();
    let (range, total) = spec.split_once('/')?;
    let total = total.trim().parse().ok();
    let start = if range.trim() == "*" {
        None
    } else {
        Some(range.split_once('-')?.0.trim().parse().ok()?)
    };
    Some((start, total))
}

/// What one attempt came to.
enum Attempt {
    /// The whole file is in the `.part`.
    Done,
    /// Try again (resuming), after this long.
    Retry(String, Duration),
    /// Give up.
    Fatal(String),
}

async fn download_one(
    shared: &Shared<'_>,
    index: usize,
    out: &ManifestOutput,
    name: &str,
    is_error_file: bool,
) -> FileReport {
    let final_path = shared.dir.join(name);
    let part = shared.dir.join(format!("{name}.part"));
    let mut report = FileReport {
        index,
        type_: out.type_.clone(),
        url: out.url.clone(),
        path: final_path.clone(),
        is_error_file,
        bytes: 0,
        lines: None,
        expected: out.count,
        resumed_bytes: 0,
        throttled: 0,
        restarted: false,
        attempts: 0,
        error: None,
    };
    let permit = match shared
        .creds
        .policy
        .output_file(&out.url, shared.requires_access_token)
    {
        Ok(p) => p,
        Err(refused) => {
            report.error = Some(format!("{name}: {refused}"));
            return report;
        }
    };
    // A link planted where the part goes would redirect our writes: remove it.
    if let Ok(m) = tokio::fs::symlink_metadata(&part).await
        && !m.is_file()
    {
        let _ = tokio::fs::remove_file(&part).await;
    }
    let mut counters = FileCounters {
        shared,
        done: 0,
        total: None,
        lines: LineCounter::default(),
    };
    counters.set_done(part_len(&part).await);
    loop {
        report.attempts += 1;
        let step = attempt(
            shared,
            index,
            name,
            out,
            permit.as_ref(),
            &part,
            &mut counters,
            &mut report,
        );
        match step.await {
            Attempt::Done => break,
            Attempt::Retry(why, wait) if report.attempts <= shared.opts.retries => {
                report.error = Some(why);
                tokio::time::sleep(wait).await;
            }
            Attempt::Retry(why, _) | Attempt::Fatal(why) => {
                report.error = Some(why);
                report.bytes = part_len(&part).await;
                return report;
            }
        }
    }
    report.error = None;
    if let Err(e) = tokio::fs::rename(&part, &final_path).await {
        report.error = Some(format!(
            "{} could not be renamed to {}: {e}",
            part.display(),
            final_path.display()
        ));
        return report;
    }
    report.bytes = counters.done;
    // Counted while the bytes arrived: no second pass over the file.
    report.lines = Some(counters.lines.total());
    report
}

#[allow(clippy::too_many_arguments)]
async fn attempt(
    shared: &Shared<'_>,
    index: usize,
    name: &str,
    out: &ManifestOutput,
    permit: Option<&Permit>,
    part: &Path,
    counters: &mut FileCounters<'_, '_>,
    report: &mut FileReport,
) -> Attempt {
    let have = part_len(part).await;
    counters.set_done(have);
    let mut req = HttpRequest {
        method: "GET".into(),
        url: out.url.clone(),
        headers: vec![
            (
                "Accept".into(),
                "application/fhir+ndjson, application/ndjson, */*".into(),
            ),
            // Byte ranges must refer to the file itself, not a compressed rendition.
            ("Accept-Encoding".into(), "identity".into()),
        ],
        body: None,
        timeout: NO_DEADLINE,
        insecure: false,
    };
    if have > 0 {
        req.headers.push(("Range".into(), format!("bytes={have}-")));
    }
    let token = permit.and_then(|p| Some((p, shared.creds.token_for(p.credential())?)));
    if let Some((p, t)) = token
        && let Err(e) = p.attach(&mut req, t)
    {
        return Attempt::Fatal(e.to_string());
    }
    let sent_token = token.is_some();
    let on_storage = permit.is_some_and(|p| p.credential() == Credential::StorageToken);
    if on_storage {
        // A bearer token for Azure Storage needs a service version.
        req.headers
            .push(("x-ms-version".into(), storage::X_MS_VERSION.into()));
    }
    let retry_wait = backoff(shared.opts.retry_delay, report.attempts);
    let resp = match tokio::time::timeout(shared.opts.idle_timeout, http::open(shared.client, &req))
        .await
    {
        Err(_) => return Attempt::Retry(format!("No answer from {} in time", out.url), retry_wait),
        Ok(Err(
            e @ (HttpError::RedirectRefused(_)
            | HttpError::Downgrade { .. }
            | HttpError::TooManyRedirects(_)
            | HttpError::InvalidUrl(_)
            | HttpError::NoScheme
            | HttpError::Tls { .. }),
        )) => return Attempt::Fatal(format!("Downloading {} failed: {e}", out.url)),
        Ok(Err(e)) => {
            return Attempt::Retry(format!("Downloading {} failed: {e}", out.url), retry_wait);
        }
        Ok(Ok(opened)) => opened.response,
    };
    let status = resp.status().as_u16();
    let header = |n: &str| {
        resp.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let cr = header("content-range").and_then(|v| content_range(&v));
    let length = resp.content_length();
    let append = match status {
        206 => {
            let start = cr.and_then(|(s, _)| s);
            if start != Some(have) {
                // Not the part we asked for: start over.
                let _ = tokio::fs::remove_file(part).await;
                counters.set_done(0);
                return Attempt::Retry(
                    format!(
                        "The server sent a different byte range than asked ({}); starting {name} over",
                        header("content-range").unwrap_or_default()
                    ),
                    Duration::ZERO,
                );
            }
            report.resumed_bytes += have;
            counters.set_total(cr.and_then(|(_, t)| t).or(length.map(|l| l + have)));
            // The kept part's lines, once (the rest is counted as it arrives).
            counters.lines = match count_part(part).await {
                Ok(l) => l,
                Err(e) => {
                    return Attempt::Fatal(format!("{} could not be read: {e}", part.display()));
                }
            };
            true
        }
        200 => {
            if have > 0 {
                report.restarted = true;
            }
            counters.set_total(length);
            counters.lines = LineCounter::default();
            false
        }
        416 if have > 0 => {
            if cr.and_then(|(_, t)| t) == Some(have) {
                counters.set_total(Some(have));
                return match count_part(part).await {
                    Ok(l) => {
                        counters.lines = l;
                        Attempt::Done
                    }
                    Err(e) => Attempt::Fatal(format!("{} could not be read: {e}", part.display())),
                };
            }
            let _ = tokio::fs::remove_file(part).await;
            counters.set_done(0);
            return Attempt::Retry(
                format!("The server refused to resume {name} (416); starting over"),
                Duration::ZERO,
            );
        }
        429 | 500 | 502 | 503 | 504 => {
            if status == 429 {
                report.throttled = report.throttled.saturating_add(1);
            }
            let wait = retry_hint(
                header("x-ms-retry-after-ms").as_deref(),
                header("retry-after").as_deref(),
                SystemTime::now(),
            )
            .map(|d| d.min(Duration::from_secs(60)))
            .unwrap_or(retry_wait);
            return Attempt::Retry(
                format!("The file server answered {status} for {}", out.url),
                wait,
            );
        }
        _ => {
            let error_code = header("x-ms-error-code");
            let body = read_capped(resp, 64 * 1024).await;
            if let Some(sentence) = storage::explain(
                status,
                error_code.as_deref(),
                &body,
                &out.url,
                sent_token,
                shared.creds.storage_unavailable.filter(|_| on_storage),
            ) {
                return Attempt::Fatal(format!("{name}: {sentence}"));
            }
            let detail: String = body
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect::<String>()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            let detail: String = detail.chars().take(200).collect();
            let hint = match status {
                401 | 403 if !sent_token && !shared.requires_access_token => {
                    " (the manifest says no access token is needed, so none was sent)"
                }
                401 | 403 if !sent_token => " (no token could be had, so none was sent)",
                401 | 403 => " (the token was sent; it may have expired or lack access)",
                _ => "",
            };
            return Attempt::Fatal(if detail.is_empty() {
                format!("The file server answered {status} for {}{hint}", out.url)
            } else {
                format!(
                    "The file server answered {status} for {}{hint}: {detail}",
                    out.url
                )
            });
        }
    };
    // Large writes: each write to a tokio file is a trip to the blocking pool.
    let mut file = match open_private(part, append).await {
        Ok(f) => tokio::io::BufWriter::with_capacity(1 << 20, f),
        Err(e) => return Attempt::Fatal(format!("{} could not be written: {e}", part.display())),
    };
    let mut done = if append { have } else { 0 };
    counters.set_done(done);
    shared.emit(index, name, done, counters.total);
    let mut last_emit = Instant::now();
    let mut stream = resp.bytes_stream();
    let dropped = loop {
        let next = match tokio::time::timeout(shared.opts.idle_timeout, stream.next()).await {
            Err(_) => {
                break Some(format!(
                    "No data from {} for {:?}",
                    out.url, shared.opts.idle_timeout
                ));
            }
            Ok(n) => n,
        };
        match next {
            None => break None,
            Some(Err(e)) => {
                break Some(format!(
                    "The connection dropped while downloading {} ({done} bytes so far): {}",
                    out.url,
                    http::root_cause(&e)
                ));
            }
            Some(Ok(chunk)) => {
                if let Err(e) = file.write_all(&chunk).await {
                    return Attempt::Fatal(format!("{} could not be written: {e}", part.display()));
                }
                done += chunk.len() as u64;
                counters.lines.feed(&chunk);
                shared
                    .received
                    .fetch_add(chunk.len() as u64, Ordering::Relaxed);
                counters.set_done(done);
                if last_emit.elapsed() >= Duration::from_millis(100) {
                    shared.emit(index, name, done, counters.total);
                    last_emit = Instant::now();
                }
            }
        }
    };
    let synced = match file.flush().await {
        Ok(()) => file.get_mut().sync_all().await,
        Err(e) => Err(e),
    };
    drop(file);
    if let Err(e) = synced {
        return Attempt::Fatal(format!("{} could not be written: {e}", part.display()));
    }
    shared.emit(index, name, done, counters.total);
    if let Some(why) = dropped {
        return Attempt::Retry(why, retry_wait);
    }
    match counters.total {
        Some(t) if done < t => Attempt::Retry(
            format!("{name} ended early ({done} of {t} bytes)"),
            retry_wait,
        ),
        _ => {
            counters.set_total(Some(done));
            Attempt::Done
        }
    }
}

/// The pause before attempt `attempt + 1`: `base` doubled per attempt so far, capped at
/// [`MAX_BACKOFF`], between half and all of it ("equal jitter", so files retried together do
/// not return together).
fn backoff(base: Duration, attempt: u32) -> Duration {
    let exp = 2f64.powi(attempt.saturating_sub(1).min(16) as i32);
    let full = base.mul_f64(exp).min(MAX_BACKOFF);
    full.mul_f64(0.5 + 0.5 * rand::random::<f64>())
}

/// The lines of a kept `.part` (only when resuming).
async fn count_part(part: &Path) -> std::io::Result<LineCounter> {
    let part = part.to_path_buf();
    tokio::task::spawn_blocking(move || count_file(&part))
        .await
        .map_err(std::io::Error::other)?
}

#[cfg(test)]
mod tests;
