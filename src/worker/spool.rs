//! Bodies too large for memory: received into a temporary file (created 0600, removed when
//! the last response holding it is dropped) and shown from there, a few lines at a time.

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use super::RequestId;

/// Default size above which a body goes to a temporary file instead of memory.
pub const DEFAULT_SPOOL_ABOVE: usize = 256 * 1024 * 1024;
/// Spooled bodies larger than this are refused (the disk is not endless either).
pub const MAX_SPOOL_BYTES: u64 = 16 * 1024 * 1024 * 1024;
/// Environment variable overriding the threshold, in MiB (`settings.toml`: `spool_above_mb`).
pub const SPOOL_ENV: &str = "FHIRSIDE_SPOOL_ABOVE_MB";

static SPOOL_ABOVE: AtomicUsize = AtomicUsize::new(DEFAULT_SPOOL_ABOVE);

/// Default limit of a compressed body once decoded (its size is not announced, and a few MB
/// on the wire can decode to gigabytes): 4 GiB.
pub const DEFAULT_MAX_DECODED: u64 = 4 * 1024 * 1024 * 1024;
/// Environment variable overriding it, in MiB (`settings.toml`: `max_decoded_mb`).
pub const MAX_DECODED_ENV: &str = "FHIRSIDE_MAX_DECODED_MB";

static MAX_DECODED: AtomicU64 = AtomicU64::new(DEFAULT_MAX_DECODED);

/// Compressed bodies may decode to at most `bytes` (at least 1 MB, never above the spool cap).
pub fn set_max_decoded(bytes: u64) {
    MAX_DECODED.store(bytes.clamp(1 << 20, MAX_SPOOL_BYTES), Ordering::Relaxed);
}

pub fn max_decoded() -> u64 {
    MAX_DECODED.load(Ordering::Relaxed)
}

/// Bodies above `bytes` are spooled to disk from now on.
pub fn set_spool_above(bytes: usize) {
    SPOOL_ABOVE.store(bytes.max(1), Ordering::Relaxed);
}

pub fn spool_above() -> usize {
    SPOOL_ABOVE.load(Ordering::Relaxed)
}

/// Sets the spooling threshold from `FHIRSIDE_SPOOL_ABOVE_MB` or else the setting (MiB), and the
/// decoded-size limit from `FHIRSIDE_MAX_DECODED_MB`; returns a sentence for each variable
/// that is not a number.
pub fn configure(setting_mb: Option<u64>) -> Option<String> {
    configure_limits(setting_mb, None).into_iter().next()
}

/// [`configure`] with every body setting of `settings.toml`.
pub fn configure_from(settings: &crate::workspace::settings::Settings) -> Vec<String> {
    configure_limits(settings.spool_above_mb, settings.max_decoded_mb)
}

fn configure_limits(spool_above_mb: Option<u64>, max_decoded_mb: Option<u64>) -> Vec<String> {
    let mut problems = Vec::new();
    let mut mb =
        |var: &str, setting: Option<u64>| match std::env::var(var).ok().as_deref().map(str::trim) {
            Some(v) => match v.parse::<u64>() {
                Ok(n) => Some(n),
                Err(_) => {
                    problems.push(format!(
                        "{var} is '{v}', not a number of MiB; using the default."
                    ));
                    setting
                }
            },
            None => setting,
        };
    let megabytes = |n: u64| n.saturating_mul(1024 * 1024);
    if let Some(n) = mb(SPOOL_ENV, spool_above_mb) {
        set_spool_above(usize::try_from(megabytes(n)).unwrap_or(usize::MAX));
    }
    if let Some(n) = mb(MAX_DECODED_ENV, max_decoded_mb) {
        set_max_decoded(megabytes(n));
    }
    problems
}

/// Progress of the bodies arriving now, by request (the UI reads them while drawing; no
/// event is sent for them).
fn registry() -> &'static Mutex<HashMap<RequestId, Arc<ReceiveProgress>>> {
    static REG: OnceLock<Mutex<HashMap<RequestId, Arc<ReceiveProgress>>>> = OnceLock::new();
    REG.get_or_init(Default::default)
}

/// A new progress for request `id`, readable with [`receiving`] until [`unregister`].
pub fn register(id: RequestId) -> Arc<ReceiveProgress> {
    let p = Arc::new(ReceiveProgress::new());
    if let Ok(mut reg) = registry().lock() {
        reg.insert(id, p.clone());
    }
    p
}

pub fn unregister(id: RequestId) {
    if let Ok(mut reg) = registry().lock() {
        reg.remove(&id);
    }
}

/// How much of request `id`'s body has arrived, while it arrives.
pub fn receiving(id: RequestId) -> Option<Arc<ReceiveProgress>> {
    registry().lock().ok()?.get(&id).cloned()
}

/// Bytes received so far and the announced total, read by the UI while a body arrives.
#[derive(Debug, Default)]
pub struct ReceiveProgress {
    received: AtomicUsize,
    /// `usize::MAX` until known.
    total: AtomicUsize,
    spooling: std::sync::atomic::AtomicBool,
    /// The first bytes of a large body, set once as soon as they are in: the UI shows their
    /// top lines while the rest arrives.
    head: OnceLock<bytes::Bytes>,
    head_ready: tokio::sync::Notify,
}

impl ReceiveProgress {
    pub fn new() -> Self {
        ReceiveProgress {
            received: AtomicUsize::new(0),
            total: AtomicUsize::new(usize::MAX),
            spooling: Default::default(),
            head: OnceLock::new(),
            head_ready: tokio::sync::Notify::new(),
        }
    }

    /// Keeps a copy of `head`, the body's first bytes (the first call only).
    pub fn set_head(&self, head: &[u8]) {
        if self.head.set(bytes::Bytes::copy_from_slice(head)).is_ok() {
            self.head_ready.notify_one();
        }
    }

    pub fn head(&self) -> Option<bytes::Bytes> {
        self.head.get().cloned()
    }

    /// Resolves once the head is set.
    pub async fn head_ready(&self) {
        if self.head.get().is_none() {
            self.head_ready.notified().await;
        }
    }

    pub fn received(&self) -> usize {
        self.received.load(Ordering::Relaxed)
    }

    pub fn total(&self) -> Option<usize> {
        Some(self.total.load(Ordering::Relaxed)).filter(|t| *t != usize::MAX)
    }

    /// True once the body goes to a temporary file.
    pub fn spooling(&self) -> bool {
        self.spooling.load(Ordering::Relaxed)
    }

    /// A new exchange starts (a retry after 401 starts over).
    pub fn set_total(&self, total: Option<u64>) {
        self.received.store(0, Ordering::Relaxed);
        let t = total
            .and_then(|t| usize::try_from(t).ok())
            .unwrap_or(usize::MAX);
        self.total.store(t, Ordering::Relaxed);
    }

    pub fn add(&self, n: usize) {
        self.received.fetch_add(n, Ordering::Relaxed);
    }

    pub fn set_spooling(&self) {
        self.spooling.store(true, Ordering::Relaxed);
    }
}

/// A body on disk. The file is removed when this is dropped.
#[derive(Debug)]
pub struct SpoolFile {
    file: tempfile::NamedTempFile,
    len: u64,
}

/// Two spooled bodies are equal when they are the same file.
impl PartialEq for SpoolFile {
    fn eq(&self, other: &Self) -> bool {
        self.path() == other.path()
    }
}

impl Eq for SpoolFile {}

impl SpoolFile {
    /// A new empty temporary file, readable and writable by this user only.
    pub fn create() -> std::io::Result<Self> {
        let file = tempfile::Builder::new()
            .prefix("fhirside-body-")
            .tempfile()?;
        Ok(SpoolFile { file, len: 0 })
    }

    pub fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.file.as_file_mut().write_all(bytes)?;
        self.len += bytes.len() as u64;
        Ok(())
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        self.file.as_file_mut().flush()
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Where the file is (tests check its mode and that it goes away).
    pub fn path(&self) -> &std::path::Path {
        self.file.path()
    }

    /// Reads up to `buf.len()` bytes at `offset`.
    pub fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
        let mut done = 0;
        while done < buf.len() {
            let Some(rest) = buf.get_mut(done..) else {
                break;
            };
            match self.file.as_file().read_at(rest, offset + done as u64) {
                Ok(0) => break,
                Ok(n) => done += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(done)
    }

    /// Copies the whole body to `out` (the command line prints it).
    pub fn copy_to(&self, out: &mut dyn Write) -> std::io::Result<u64> {
        let mut f = self.file.reopen()?;
        f.seek(SeekFrom::Start(0))?;
        let mut buf = vec![0u8; 1 << 20];
        let mut total = 0;
        loop {
            let n = f.read(&mut buf)?;
            if n == 0 {
                return Ok(total);
            }
            out.write_all(buf.get(..n).unwrap_or(&[]))?;
            total += n as u64;
        }
    }
}

/// A spooled body's lines: the offset where each starts (8 bytes a line), so any line is
/// one positioned read away.
#[derive(Debug)]
pub struct SpoolText {
    file: Arc<SpoolFile>,
    starts: Vec<u64>,
}

impl SpoolText {
    /// Scans the file once for line breaks.
    pub fn index(file: Arc<SpoolFile>) -> std::io::Result<Self> {
        let len = file.len();
        let mut starts = Vec::new();
        if len > 0 {
            starts.push(0);
        }
        let mut buf = vec![0u8; 1 << 20];
        let mut offset = 0u64;
        while offset < len {
            let n = file.read_at(&mut buf, offset)?;
            if n == 0 {
                break;
            }
            let chunk = buf.get(..n).unwrap_or(&[]);
            crate::view_body::scan_newlines(chunk, |i| {
                let next = offset + i as u64 + 1;
                if next < len {
                    starts.push(next);
                }
            });
            offset += n as u64;
        }
        starts.shrink_to_fit();
        Ok(SpoolText { file, starts })
    }

    pub fn line_count(&self) -> usize {
        self.starts.len()
    }

    pub fn file(&self) -> &Arc<SpoolFile> {
        &self.file
    }

    /// Line `n` without its terminator, at most `max_bytes` of it (a cut character is
    /// dropped; invalid UTF-8 shows as U+FFFD). Empty if out of range or unreadable.
    pub fn line(&self, n: usize, max_bytes: usize) -> String {
        let Some(&start) = self.starts.get(n) else {
            return String::new();
        };
        let end = self.starts.get(n + 1).copied().unwrap_or(self.file.len());
        let want = (end - start).min(max_bytes as u64) as usize;
        let mut buf = vec![0u8; want];
        let got = self.file.read_at(&mut buf, start).unwrap_or(0);
        buf.truncate(got);
        if (end - start) as usize == got {
            while matches!(buf.last(), Some(b'\n' | b'\r')) {
                buf.pop();
            }
        }
        match String::from_utf8(buf) {
            Ok(s) => s,
            Err(e) => {
                // A character cut by the cap is dropped; anything else invalid is replaced.
                let valid = e.utf8_error().valid_up_to();
                let bytes = e.into_bytes();
                let tail_cut = bytes.len() - valid < 4 && got < (end - start) as usize;
                if tail_cut {
                    String::from_utf8_lossy(bytes.get(..valid).unwrap_or(&[])).into_owned()
                } else {
                    String::from_utf8_lossy(&bytes).into_owned()
                }
            }
        }
    }

    /// The first `max` bytes of the body (to tell what kind it is).
    pub fn head(&self, max: usize) -> Vec<u8> {
        let want = (self.file.len().min(max as u64)) as usize;
        let mut buf = vec![0u8; want];
        let got = self.file.read_at(&mut buf, 0).unwrap_or(0);
        buf.truncate(got);
        buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spooled(text: &[u8]) -> SpoolText {
        let mut f = SpoolFile::create().unwrap();
        f.write_all(text).unwrap();
        f.flush().unwrap();
        SpoolText::index(Arc::new(f)).unwrap()
    }

    #[test]
    fn lines_from_the_file() {
        let t = spooled(b"{\"a\":1}\r\n{\"b\":2}\n\nlast");
        assert_eq!(t.line_count(), 4);
        assert_eq!(t.line(0, 100), "{\"a\":1}");
        assert_eq!(t.line(1, 100), "{\"b\":2}");
        assert_eq!(t.line(2, 100), "");
        assert_eq!(t.line(3, 100), "last");
        assert_eq!(t.line(9, 100), "");
        assert_eq!(t.line(0, 3), "{\"a");
        let t = spooled("é\n".as_bytes());
        assert_eq!(t.line_count(), 1);
        assert_eq!(t.line(0, 1), "", "a cut character is dropped");
        let t = spooled(b"a\xffb\n");
        assert_eq!(t.line(0, 100), "a\u{fffd}b");
        assert_eq!(spooled(b"").line_count(), 0);
    }

    #[test]
    fn the_file_is_private_and_removed_with_the_body() {
        use std::os::unix::fs::PermissionsExt;
        let t = spooled(b"x\n");
        let path = t.file().path().to_path_buf();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let mut out = Vec::new();
        assert_eq!(t.file().copy_to(&mut out).unwrap(), 2);
        assert_eq!(out, b"x\n");
        drop(t);
        assert!(!path.exists());
    }

    #[test]
    fn threshold_from_the_environment_or_the_setting() {
        // (The variable is not set in tests; the setting applies.)
        if std::env::var(SPOOL_ENV).is_err() {
            let before = spool_above();
            assert_eq!(configure(Some(300)), None);
            assert_eq!(spool_above(), 300 * 1024 * 1024);
            set_spool_above(before);
        }
    }
}
