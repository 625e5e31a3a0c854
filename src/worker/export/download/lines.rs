//! Counting NDJSON lines while bytes stream by, and in a file on disk.

use std::io::Read;
use std::path::Path;

/// Counts non-blank NDJSON lines as bytes go by, across chunk boundaries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LineCounter {
    complete: u64,
    /// The current line has something besides white space.
    content: bool,
}

impl LineCounter {
    pub fn feed(&mut self, bytes: &[u8]) {
        let blank = |seg: &[u8]| seg.iter().all(u8::is_ascii_whitespace);
        let mut start = 0;
        for nl in memchr::memchr_iter(b'\n', bytes) {
            let seg = bytes.get(start..nl).unwrap_or(&[]);
            self.complete += u64::from(self.content || !blank(seg));
            self.content = false;
            start = nl + 1;
        }
        if !self.content {
            self.content = !blank(bytes.get(start..).unwrap_or(&[]));
        }
    }

    /// Lines so far, counting a last line without a newline.
    pub fn total(&self) -> u64 {
        self.complete + u64::from(self.content)
    }
}

/// Non-blank lines of an NDJSON file.
pub fn count_lines(path: &Path) -> std::io::Result<u64> {
    count_file(path).map(|c| c.total())
}

pub(super) fn count_file(path: &Path) -> std::io::Result<LineCounter> {
    let mut f = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut counter = LineCounter::default();
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok(counter);
        }
        counter.feed(buf.get(..n).unwrap_or(&[]));
    }
}
