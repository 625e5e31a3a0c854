//! The history database: one SQLite file in the workspace, bounded by count and size with the
//! oldest entries dropped first. Everything written has already been redacted.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params, params_from_iter};
use thiserror::Error;

use super::{Entry, Exchange, Filter, Limits, Outcome, Source, Summary};

#[derive(Debug, Error)]
pub enum HistoryError {
    #[error("The history file {path} could not be opened: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error(
        "The history file {path} was written by a newer fhirside (schema {found}); it is left alone."
    )]
    NewerSchema { path: PathBuf, found: i64 },
    #[error("History: {0}")]
    Sql(#[from] rusqlite::Error),
}

const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS exchange (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms INTEGER NOT NULL,
    source TEXT NOT NULL,
    env TEXT,
    saved TEXT,
    method TEXT NOT NULL,
    url TEXT NOT NULL,
    request_headers TEXT NOT NULL,
    request_body BLOB,
    status INTEGER,
    reason TEXT NOT NULL DEFAULT '',
    error TEXT,
    response_headers TEXT NOT NULL DEFAULT '[]',
    elapsed_ms INTEGER NOT NULL,
    size INTEGER NOT NULL,
    body BLOB NOT NULL,
    truncated INTEGER NOT NULL,
    stored_bytes INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS exchange_saved ON exchange(saved, id);
";

/// The open history file.
pub struct HistoryStore {
    conn: Connection,
    limits: Limits,
    path: PathBuf,
}

fn headers_json(h: &[(String, String)]) -> String {
    serde_json::to_string(h).unwrap_or_else(|_| "[]".into())
}

fn headers_from(text: &str) -> Vec<(String, String)> {
    serde_json::from_str(text).unwrap_or_default()
}

impl HistoryStore {
    /// Opens (or creates, 0600) the history file.
    pub fn open(path: &Path, limits: Limits) -> Result<Self, HistoryError> {
        let open_err = |source| HistoryError::Open {
            path: path.to_path_buf(),
            source,
        };
        let existed = path.exists();
        let conn = Connection::open(path).map_err(open_err)?;
        if !existed {
            restrict_permissions(path);
        }
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(open_err)?;
        // WAL lets `fhirside history` read while the TUI writes.
        let _: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(open_err)?;
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(open_err)?;
        if version > SCHEMA_VERSION {
            return Err(HistoryError::NewerSchema {
                path: path.to_path_buf(),
                found: version,
            });
        }
        conn.execute_batch(SCHEMA).map_err(open_err)?;
        conn.execute_batch(&format!("PRAGMA user_version = {SCHEMA_VERSION}"))
            .map_err(open_err)?;
        Ok(Self {
            conn,
            limits,
            path: path.to_path_buf(),
        })
    }

    /// An in-memory store, for tests.
    pub fn in_memory(limits: Limits) -> Result<Self, HistoryError> {
        let conn = Connection::open_in_memory()?;
        conn.execute_batch(SCHEMA)?;
        Ok(Self {
            conn,
            limits,
            path: PathBuf::from(":memory:"),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Records an exchange (already redacted), cutting its body to the limit, then drops the
    /// oldest entries beyond the bounds. Returns the new entry's id.
    pub fn record(&mut self, x: &Exchange) -> Result<i64, HistoryError> {
        let max_body = self.limits.max_body_bytes();
        let (status, reason, error, headers, elapsed, size, body, truncated) = match &x.outcome {
            Outcome::Answered {
                status,
                reason,
                headers,
                elapsed_ms,
                size,
                body,
                truncated,
            } => {
                let cut = body.len() > max_body;
                let kept = if cut { &body[..max_body] } else { &body[..] };
                (
                    Some(*status),
                    reason.as_str(),
                    None,
                    headers_json(headers),
                    *elapsed_ms,
                    *size,
                    kept,
                    *truncated || cut,
                )
            }
            Outcome::Failed { error, elapsed_ms } => (
                None,
                "",
                Some(error.as_str()),
                "[]".to_string(),
                *elapsed_ms,
                0,
                &[][..],
                false,
            ),
        };
        let req_headers = headers_json(&x.request_headers);
        let stored = (body.len()
            + x.request_body.as_ref().map_or(0, Vec::len)
            + x.url.len()
            + req_headers.len()
            + headers.len()) as i64;
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO exchange (at_ms, source, env, saved, method, url, request_headers,
                request_body, status, reason, error, response_headers, elapsed_ms, size, body,
                truncated, stored_bytes)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
            params![
                x.at_ms,
                x.source.as_str(),
                x.env,
                x.saved,
                x.method,
                x.url,
                req_headers,
                x.request_body,
                status,
                reason,
                error,
                headers,
                elapsed as i64,
                size as i64,
                body,
                truncated,
                stored,
            ],
        )?;
        let id = tx.last_insert_rowid();
        evict(&tx, &self.limits)?;
        tx.commit()?;
        Ok(id)
    }

    /// Newest first, at most `limit` rows.
    pub fn list(&self, filter: &Filter, limit: usize) -> Result<Vec<Summary>, HistoryError> {
        let (cond, mut params) = filter.to_sql();
        params.push(rusqlite::types::Value::Integer(limit as i64));
        let sql = format!(
            "SELECT id, at_ms, source, env, saved, method, url, status, error, elapsed_ms, size
             FROM exchange WHERE {cond} ORDER BY id DESC LIMIT ?"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(params_from_iter(params), summary_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Earlier answers to the same saved request, newest first.
    pub fn for_saved(&self, saved: &str, limit: usize) -> Result<Vec<Summary>, HistoryError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, at_ms, source, env, saved, method, url, status, error, elapsed_ms, size
             FROM exchange WHERE saved = ?1 ORDER BY id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![saved, limit as i64], summary_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn get(&self, id: i64) -> Result<Option<Entry>, HistoryError> {
        Ok(self
            .conn
            .query_row(
                "SELECT id, at_ms, source, env, saved, method, url, status, error, elapsed_ms,
                    size, request_headers, request_body, reason, response_headers, body, truncated
                 FROM exchange WHERE id = ?1",
                [id],
                |r| {
                    Ok(Entry {
                        summary: summary_from_row(r)?,
                        request_headers: headers_from(&r.get::<_, String>(11)?),
                        request_body: r.get(12)?,
                        reason: r.get(13)?,
                        response_headers: headers_from(&r.get::<_, String>(14)?),
                        body: r.get(15)?,
                        truncated: r.get(16)?,
                    })
                },
            )
            .optional()?)
    }

    /// How many entries and bytes are kept.
    pub fn usage(&self) -> Result<(u64, u64), HistoryError> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*), IFNULL(SUM(stored_bytes), 0) FROM exchange",
            [],
            |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
        )?)
    }

    /// Deletes every entry.
    pub fn clear(&mut self) -> Result<(), HistoryError> {
        self.conn.execute("DELETE FROM exchange", [])?;
        // Give the space back, so cleared bodies do not linger in free pages.
        self.conn.execute_batch("VACUUM")?;
        Ok(())
    }
}

fn summary_from_row(r: &rusqlite::Row) -> rusqlite::Result<Summary> {
    Ok(Summary {
        id: r.get(0)?,
        at_ms: r.get(1)?,
        source: Source::parse(&r.get::<_, String>(2)?),
        env: r.get(3)?,
        saved: r.get(4)?,
        method: r.get(5)?,
        url: r.get(6)?,
        status: r.get::<_, Option<i64>>(7)?.map(|s| s as u16),
        error: r.get(8)?,
        elapsed_ms: r.get::<_, i64>(9)? as u64,
        size: r.get::<_, i64>(10)? as u64,
    })
}

/// Drops the oldest entries until both bounds hold (the newest entry always stays).
fn evict(conn: &Connection, limits: &Limits) -> rusqlite::Result<()> {
    conn.execute(
        "DELETE FROM exchange WHERE id NOT IN (SELECT id FROM exchange ORDER BY id DESC LIMIT ?1)",
        [i64::from(limits.max_entries.max(1))],
    )?;
    let max_total = limits.max_total_bytes() as i64;
    let total: i64 = conn.query_row(
        "SELECT IFNULL(SUM(stored_bytes), 0) FROM exchange",
        [],
        |r| r.get(0),
    )?;
    if total > max_total {
        // Walk from the newest, keeping entries while they fit; drop everything older.
        let mut stmt = conn.prepare("SELECT id, stored_bytes FROM exchange ORDER BY id DESC")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))?;
        let mut kept = 0i64;
        let mut cut_below = None;
        for (i, row) in rows.enumerate() {
            let (id, bytes) = row?;
            kept += bytes;
            if kept > max_total && i > 0 {
                cut_below = Some(id);
                break;
            }
        }
        if let Some(id) = cut_below {
            conn.execute("DELETE FROM exchange WHERE id <= ?1", [id])?;
        }
    }
    Ok(())
}

#[cfg(unix)]
fn restrict_permissions(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
}

#[cfg(not(unix))]
fn restrict_permissions(_: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn exchange(url: &str, status: u16, body: &str) -> Exchange {
        Exchange {
            at_ms: 1_000,
            source: Source::Request,
            env: Some("demo".into()),
            saved: Some("Azure / Patients".into()),
            method: "GET".into(),
            url: url.into(),
            request_headers: vec![("Accept".into(), "application/fhir+json".into())],
            request_body: None,
            outcome: Outcome::Answered {
                status,
                reason: "OK".into(),
                headers: vec![("Content-Type".into(), "application/json".into())],
                elapsed_ms: 12,
                size: body.len() as u64,
                body: body.as_bytes().to_vec(),
                truncated: false,
            },
        }
    }

    #[test]
    fn records_and_reads_back() {
        let mut s = HistoryStore::in_memory(Limits::default()).unwrap();
        let id = s.record(&exchange("http://x/Patient", 200, "{}")).unwrap();
        let e = s.get(id).unwrap().unwrap();
        assert_eq!(e.summary.url, "http://x/Patient");
        assert_eq!(e.summary.status, Some(200));
        assert_eq!(e.body, b"{}");
        assert_eq!(e.response_headers[0].0, "Content-Type");
        assert!(s.get(id + 1).unwrap().is_none());
    }

    #[test]
    fn failures_are_kept_without_a_status() {
        let mut s = HistoryStore::in_memory(Limits::default()).unwrap();
        let mut x = exchange("http://x/", 0, "");
        x.outcome = Outcome::Failed {
            error: "Connection refused".into(),
            elapsed_ms: 3,
        };
        s.record(&x).unwrap();
        let f = Filter::parse("err", 0).unwrap();
        let rows = s.list(&f, 10).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].status, None);
        assert_eq!(rows[0].error.as_deref(), Some("Connection refused"));
    }

    #[test]
    fn count_bound_drops_the_oldest() {
        let limits = Limits {
            max_entries: 3,
            ..Limits::default()
        };
        let mut s = HistoryStore::in_memory(limits).unwrap();
        for i in 0..5 {
            s.record(&exchange(&format!("http://x/{i}"), 200, "{}"))
                .unwrap();
        }
        let rows = s.list(&Filter::default(), 10).unwrap();
        let urls: Vec<_> = rows.iter().map(|r| r.url.as_str()).collect();
        assert_eq!(urls, vec!["http://x/4", "http://x/3", "http://x/2"]);
    }

    #[test]
    fn size_bound_drops_the_oldest_and_bodies_are_cut() {
        let limits = Limits {
            max_entries: 100,
            max_total_mb: 1,
            max_body_kb: 400,
            ..Limits::default()
        };
        let mut s = HistoryStore::in_memory(limits).unwrap();
        let big = "x".repeat(600 * 1024);
        for i in 0..4 {
            s.record(&exchange(&format!("http://x/{i}"), 200, &big))
                .unwrap();
        }
        let (count, bytes) = s.usage().unwrap();
        assert!(bytes <= 1024 * 1024, "{bytes}");
        assert_eq!(count, 2, "two 400 KB bodies fit in 1 MB");
        let newest = s.list(&Filter::default(), 1).unwrap();
        let e = s.get(newest[0].id).unwrap().unwrap();
        assert!(e.truncated);
        assert_eq!(e.body.len(), 400 * 1024);
        assert_eq!(e.summary.size, 600 * 1024, "the full size is kept");
    }

    #[test]
    fn filters_select_rows() {
        let mut s = HistoryStore::in_memory(Limits::default()).unwrap();
        s.record(&exchange(
            "http://x/Patient?name=smith",
            200,
            r#"{"a":"Smith"}"#,
        ))
        .unwrap();
        s.record(&exchange("http://x/Observation", 404, "{}"))
            .unwrap();
        let mut post = exchange("http://x/Patient", 201, "{}");
        post.method = "POST".into();
        post.env = Some("prod".into());
        post.at_ms = 5_000;
        s.record(&post).unwrap();
        let q = |text: &str| -> Vec<String> {
            let f = Filter::parse(text, 10_000).unwrap();
            s.list(&f, 10)
                .unwrap()
                .into_iter()
                .map(|r| format!("{} {}", r.method, r.url))
                .collect()
        };
        assert_eq!(q("4xx"), vec!["GET http://x/Observation"]);
        assert_eq!(q("post"), vec!["POST http://x/Patient"]);
        assert_eq!(q("env:prod"), vec!["POST http://x/Patient"]);
        assert_eq!(q("smith"), vec!["GET http://x/Patient?name=smith"]);
        assert_eq!(q("GET 2xx"), vec!["GET http://x/Patient?name=smith"]);
        assert_eq!(q("since:2026-01-01").len(), 0);
        assert_eq!(q("100%_").len(), 0, "LIKE wildcards are literal");
        assert_eq!(q("").len(), 3);
    }

    #[test]
    fn previous_answers_of_a_saved_request() {
        let mut s = HistoryStore::in_memory(Limits::default()).unwrap();
        s.record(&exchange("http://x/1", 200, "{}")).unwrap();
        let mut other = exchange("http://x/2", 200, "{}");
        other.saved = Some("Other".into());
        s.record(&other).unwrap();
        s.record(&exchange("http://x/3", 200, "{}")).unwrap();
        let rows = s.for_saved("Azure / Patients", 10).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].url, "http://x/3");
    }

    #[test]
    fn file_is_private_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.sqlite3");
        {
            let mut s = HistoryStore::open(&path, Limits::default()).unwrap();
            s.record(&exchange("http://x/1", 200, "{}")).unwrap();
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let s = HistoryStore::open(&path, Limits::default()).unwrap();
        assert_eq!(s.usage().unwrap().0, 1);
    }

    #[test]
    fn a_file_that_is_not_a_database_is_reported_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.sqlite3");
        std::fs::write(
            &path,
            "this is not sqlite, and it is long enough to have a header....",
        )
        .unwrap();
        let before = std::fs::read(&path).unwrap();
        let Err(e) = HistoryStore::open(&path, Limits::default()) else {
            panic!("opened a non-database");
        };
        assert!(e.to_string().contains("could not be opened"), "{e}");
        assert_eq!(std::fs::read(&path).unwrap(), before);
    }
}
