//! `fhirside run --all-pages`: "get me everything that matches". The saved search is sent, then
//! each Bundle's `next` link, and every entry's resource is written as one NDJSON line (as it
//! came, whitespace removed) to stdout or `--out FILE` (0600, complete or not at all until
//! the end), with progress on stderr.
//!
//! The loop is driven by the server, so it is bounded: at most [`MAX_PAGES`] pages, `--max N`
//! resources, a next link seen before ends it, and pages are requested no faster than one per
//! [`PAGE_FLOOR`]. `next` links are followed only on the first request's origin: the
//! request's headers (and the token) are never sent to another host.

use std::collections::HashSet;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::value::RawValue;

use super::exit::{CliError, CliResult, Exit};
use super::fmt::minify;
use super::out::{self, Stdout, field};
use super::run::{Prepared, Sender, prepare};
use crate::workspace::Workspace;

/// The most pages one run follows.
pub const MAX_PAGES: usize = 10_000;
/// The least time between two page requests.
pub const PAGE_FLOOR: Duration = Duration::from_millis(20);

pub struct PagesArgs {
    pub request: String,
    pub env: Option<String>,
    pub vars: Vec<(String, String)>,
    pub out: Option<PathBuf>,
    pub max: Option<u64>,
    pub history_root: Option<PathBuf>,
}

/// The parts of a Bundle paging needs; resources are kept as the server wrote them.
#[derive(Deserialize)]
struct Page<'a> {
    #[serde(rename = "resourceType")]
    resource_type: Option<String>,
    #[serde(default, borrow)]
    entry: Vec<Entry<'a>>,
    #[serde(default)]
    link: Vec<Link>,
}

#[derive(Deserialize)]
struct Entry<'a> {
    #[serde(borrow)]
    resource: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct Link {
    relation: String,
    url: String,
}

/// Where the NDJSON goes: stdout, or a private temporary file renamed to `--out` at the end.
enum Sink<'a> {
    Stdout(&'a mut Stdout),
    File {
        tmp: tempfile::NamedTempFile,
        writer: std::io::BufWriter<std::fs::File>,
        path: PathBuf,
    },
}

impl Sink<'_> {
    fn write_line(&mut self, line: &[u8]) -> Result<(), CliError> {
        match self {
            Sink::Stdout(s) => {
                s.data(line)?;
                s.data(b"\n")?;
            }
            Sink::File { writer, path, .. } => writer
                .write_all(line)
                .and_then(|()| writer.write_all(b"\n"))
                .map_err(|e| CliError::Failed(format!("{}: {e}", path.display())))?,
        }
        Ok(())
    }

    fn finish(self) -> Result<(), CliError> {
        match self {
            Sink::Stdout(s) => Ok(s.flush()?),
            Sink::File {
                tmp,
                mut writer,
                path,
            } => {
                let failed =
                    |e: std::io::Error| CliError::Failed(format!("{}: {e}", path.display()));
                writer.flush().map_err(failed)?;
                writer.get_ref().sync_all().map_err(failed)?;
                tmp.persist(&path).map_err(|e| failed(e.error))?;
                Ok(())
            }
        }
    }
}

fn open_sink<'a>(out: Option<&PathBuf>, stdout: &'a mut Stdout) -> Result<Sink<'a>, CliError> {
    let Some(path) = out else {
        return Ok(Sink::Stdout(stdout));
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    // NamedTempFile is created 0600: the resources are patient data.
    let tmp = tempfile::Builder::new()
        .prefix(".fhirside-pages-")
        .tempfile_in(dir)
        .map_err(|e| CliError::Failed(format!("{} cannot be written: {e}", path.display())))?;
    let file = tmp
        .reopen()
        .map_err(|e| CliError::Failed(format!("{}: {e}", path.display())))?;
    Ok(Sink::File {
        tmp,
        writer: std::io::BufWriter::new(file),
        path: path.clone(),
    })
}

/// Scheme, host and port.
fn origin(url: &str) -> Option<(String, String, Option<u16>)> {
    let u = url::Url::parse(url).ok()?;
    Some((
        u.scheme().to_string(),
        u.host_str()?.to_string(),
        u.port_or_known_default(),
    ))
}

pub async fn run(ws: &Workspace, args: PagesArgs, stdout: &mut Stdout) -> CliResult {
    let Prepared {
        built,
        plan,
        record,
        ..
    } = prepare(ws, &args.request, args.env.as_deref(), &args.vars)?;
    let first_origin = origin(&built.request.url);
    let mut sink = open_sink(args.out.as_ref(), stdout)?;
    let mut sender = Sender::start(args.history_root.as_deref());
    let max = args.max.unwrap_or(u64::MAX);
    let mut request = built.request.clone();
    let mut seen: HashSet<String> = HashSet::new();
    let mut written: u64 = 0;
    let mut pages = 0usize;
    let mut last_start: Option<Instant> = None;
    let outcome: Result<(), CliError> = loop {
        if let Some(t) = last_start {
            let wait = PAGE_FLOOR.saturating_sub(t.elapsed());
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
        }
        last_start = Some(Instant::now());
        seen.insert(request.url.clone());
        let received = match sender
            .send(request.clone(), plan.clone(), &record, &built.secrets)
            .await
        {
            Ok(r) => r,
            Err(e) => break Err(e),
        };
        let r = &received.response;
        pages += 1;
        if r.status >= 400 {
            break Err(CliError::Failed(format!(
                "page {pages} was answered {} {}",
                r.status,
                field(&r.reason)
            )));
        }
        let page: Page = match serde_json::from_slice(&r.body) {
            Ok(p) => p,
            Err(e) => {
                break Err(CliError::Failed(format!(
                    "page {pages} is not a Bundle: {e}"
                )));
            }
        };
        if page.resource_type.as_deref() != Some("Bundle") {
            break Err(CliError::Failed(format!(
                "page {pages} is a {}, not a Bundle",
                field(page.resource_type.as_deref().unwrap_or("JSON value"))
            )));
        }
        let mut full = false;
        for entry in &page.entry {
            let Some(resource) = entry.resource else {
                continue;
            };
            if written >= max {
                full = true;
                break;
            }
            sink.write_line(&minify(resource.get().as_bytes()))?;
            written += 1;
        }
        out::note(format_args!(
            "page {pages} · {written} resource{}",
            if written == 1 { "" } else { "s" }
        ));
        if full || written >= max {
            out::note(format_args!("fhirside: stopped at --max {max}"));
            break Ok(());
        }
        let Some(next) = page.link.iter().find(|l| l.relation == "next") else {
            break Ok(());
        };
        if seen.contains(&next.url) {
            out::warning(format_args!(
                "page {pages} links to a page already fetched ({}); stopping",
                field(&next.url)
            ));
            break Ok(());
        }
        if origin(&next.url).is_none() || origin(&next.url) != first_origin {
            break Err(CliError::Failed(format!(
                "page {pages}'s next link goes to another server ({}); it is not followed, so the request's credentials stay with their origin",
                field(&next.url)
            )));
        }
        if pages >= MAX_PAGES {
            break Err(CliError::Failed(format!(
                "stopped after {MAX_PAGES} pages; use a larger _count or --max"
            )));
        }
        request.url = next.url.clone();
        // The next link carries the whole query; any body belonged to the first request.
        request.method = "GET".into();
        request.body = None;
    };
    // What came before a failure is kept, and said so.
    let target = args
        .out
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "stdout".into());
    sink.finish()?;
    match outcome {
        Ok(()) => {
            out::note(format_args!(
                "fhirside: {written} resources from {pages} page{} written to {target}",
                if pages == 1 { "" } else { "s" }
            ));
            Ok(Exit::Ok)
        }
        Err(e) => {
            if written > 0 {
                out::note(format_args!(
                    "fhirside: {written} resources from the pages before were written to {target}"
                ));
            }
            Err(e)
        }
    }
}
