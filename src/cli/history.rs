//! `fhirside history`: the recorded exchanges for scripts: a line each, or JSON; one entry in
//! full with `--show ID`.

use std::fmt::Write as _;
use std::path::Path;

use super::exit::{CliError, CliResult, Exit};
use super::out::{Stdout, field};
use crate::history::{Entry, Filter, HISTORY_FILE, HistoryStore, Summary};
use crate::text::sanitize::bytes_for_terminal;

pub struct HistoryArgs {
    pub limit: usize,
    /// Words in the history screen's filter syntax (`GET 4xx env:prod since:2h smith`).
    pub grep: Option<String>,
    pub json: bool,
    pub show: Option<i64>,
}

/// Prints the entries (or one with `--show`). Every field was recorded from a server or a
/// request: lines are sanitised, JSON has its control characters escaped.
pub fn run(root: &Path, args: &HistoryArgs, stdout: &mut Stdout) -> CliResult {
    let path = root.join(HISTORY_FILE);
    if !path.exists() {
        if args.json {
            stdout.data(b"[]\n")?;
        } else {
            stdout.line(format!("No history yet in {}.", root.display()))?;
        }
        stdout.flush()?;
        return Ok(Exit::Ok);
    }
    let (settings, _) = crate::workspace::settings::load_settings(root);
    let failed = |e: crate::history::HistoryError| CliError::Failed(e.to_string());
    let store = HistoryStore::open(&path, settings.history.unwrap_or_default()).map_err(failed)?;
    if let Some(id) = args.show {
        let Some(entry) = store.get(id).map_err(failed)? else {
            return Err(CliError::Usage(format!("no history entry {id}")));
        };
        if args.json {
            stdout.data(&super::json::to_pretty_safe(&entry_json(&entry)))?;
        } else {
            let mut text = String::new();
            write_entry(&entry, &mut text);
            stdout.text(text)?;
        }
        stdout.flush()?;
        return Ok(Exit::Ok);
    }
    let filter = Filter::parse(args.grep.as_deref().unwrap_or(""), crate::history::now_ms())
        .map_err(CliError::Usage)?;
    let rows = store.list(&filter, args.limit).map_err(failed)?;
    if args.json {
        stdout.data(&super::json::to_pretty_safe(&rows))?;
    } else {
        for r in &rows {
            stdout.line(line(r))?;
        }
    }
    stdout.flush()?;
    Ok(Exit::Ok)
}

fn when(at_ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(at_ms)
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        })
        .unwrap_or_default()
}

/// `12  2026-11-29 10:42:01  GET  200  34 ms  4.1 KiB  demo  https://…`
pub fn line(r: &Summary) -> String {
    let status = r
        .status
        .map(|s| s.to_string())
        .unwrap_or_else(|| "ERR".into());
    format!(
        "{:>5}  {}  {:<6} {:>3} {:>7} {:>9}  {:<10} {}",
        r.id,
        when(r.at_ms),
        field(&r.method),
        status,
        format!("{} ms", r.elapsed_ms),
        crate::text::human_size(r.size as usize),
        field(r.env.as_deref().unwrap_or("-")),
        field(&r.url)
    )
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A body for a terminal: control characters escaped.
fn shown(b: &[u8]) -> String {
    bytes_for_terminal(b).into_owned()
}

fn write_entry(e: &Entry, out: &mut String) {
    let s = &e.summary;
    let _ = writeln!(
        out,
        "# {} · {} · {} · env {} · {}",
        s.id,
        when(s.at_ms),
        s.source.as_str(),
        field(s.env.as_deref().unwrap_or("-")),
        field(s.saved.as_deref().unwrap_or("(not saved)"))
    );
    let _ = writeln!(out, "{} {}", field(&s.method), field(&s.url));
    for (k, v) in &e.request_headers {
        let _ = writeln!(out, "{}: {}", field(k), field(v));
    }
    if let Some(b) = &e.request_body {
        let _ = writeln!(out, "\n{}", shown(b));
    }
    out.push('\n');
    match s.status {
        Some(status) => {
            let _ = writeln!(out, "{status} {} ({} ms)", field(&e.reason), s.elapsed_ms);
            for (k, v) in &e.response_headers {
                let _ = writeln!(out, "{}: {}", field(k), field(v));
            }
            out.push('\n');
            out.push_str(&shown(&e.body));
            if !e.body.ends_with(b"\n") {
                out.push('\n');
            }
            if e.truncated {
                let _ = writeln!(out, "[history kept {} of {} bytes]", e.body.len(), s.size);
            }
        }
        None => {
            let _ = writeln!(
                out,
                "no answer: {}",
                field(s.error.as_deref().unwrap_or(""))
            );
        }
    }
}

fn entry_json(e: &Entry) -> serde_json::Value {
    let body = |b: &[u8]| -> serde_json::Value {
        serde_json::from_slice(b).unwrap_or_else(|_| serde_json::Value::String(text(b)))
    };
    serde_json::json!({
        "summary": e.summary,
        "request": {
            "headers": e.request_headers,
            "body": e.request_body.as_deref().map(body),
        },
        "response": {
            "reason": e.reason,
            "headers": e.response_headers,
            "body": body(&e.body),
            "truncated": e.truncated,
        },
    })
}
