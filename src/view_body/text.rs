//! A body text held once, plus the byte offsets where its lines start.

use std::borrow::Cow;
use std::sync::Arc;

use bytes::Bytes;

use super::pretty_lines::PrettyLines;
use super::swar::{eq_lanes, word_at};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Starts {
    /// Texts shorter than 4 GiB (always, in practice): half the memory.
    Small(Vec<u32>),
    Large(Vec<usize>),
}

/// Line start offsets of a text. Lines are separated by `\n`; a trailing
/// `\r` is not part of the line. A final `\n` does not start an extra empty
/// line, and the empty text has zero lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineIndex {
    starts: Starts,
    text_len: usize,
}

impl Default for LineIndex {
    fn default() -> Self {
        LineIndex {
            starts: Starts::Small(Vec::new()),
            text_len: 0,
        }
    }
}

impl LineIndex {
    /// Build the index in one word-at-a-time pass over the text.
    pub fn new(text: &str) -> Self {
        let bytes = text.as_bytes();
        let len = bytes.len();
        if len == 0 {
            return LineIndex::default();
        }
        if u32::try_from(len).is_ok() {
            let mut v: Vec<u32> = Vec::with_capacity(len / 32 + 1);
            v.push(0);
            scan_newlines(bytes, |i| {
                // `i < len <= u32::MAX`, so `i + 1` fits.
                if i + 1 < len {
                    v.push((i + 1) as u32);
                }
            });
            LineIndex {
                starts: Starts::Small(v),
                text_len: len,
            }
        } else {
            let mut v: Vec<usize> = Vec::with_capacity(len / 32 + 1);
            v.push(0);
            scan_newlines(bytes, |i| {
                if i + 1 < len {
                    v.push(i + 1);
                }
            });
            LineIndex {
                starts: Starts::Large(v),
                text_len: len,
            }
        }
    }

    /// From starts produced by the pretty-printer: `0` followed by the
    /// offset after each newline.
    pub(crate) fn from_u32_starts(mut starts: Vec<u32>, text_len: usize) -> Self {
        if text_len == 0 {
            return LineIndex::default();
        }
        // Drop a start equal to text_len (text ending with '\n').
        while starts.len() > 1 && starts.last().is_some_and(|&s| s as usize >= text_len) {
            starts.pop();
        }
        if starts.is_empty() {
            starts.push(0);
        }
        LineIndex {
            starts: Starts::Small(starts),
            text_len,
        }
    }

    /// Number of lines.
    pub fn len(&self) -> usize {
        match &self.starts {
            Starts::Small(v) => v.len(),
            Starts::Large(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Length of the text this index was built for.
    pub fn text_len(&self) -> usize {
        self.text_len
    }

    /// Byte offset where line `n` starts (`text_len` if out of range).
    #[inline]
    pub fn line_start(&self, n: usize) -> usize {
        match &self.starts {
            Starts::Small(v) => v.get(n).map_or(self.text_len, |&s| s as usize),
            Starts::Large(v) => v.get(n).copied().unwrap_or(self.text_len),
        }
    }

    /// Byte range of line `n` without its `\n` / `\r\n` terminator.
    #[inline]
    pub fn line_range(&self, text: &str, n: usize) -> std::ops::Range<usize> {
        self.line_range_bytes(text.as_bytes(), n)
    }

    /// [`line_range`](Self::line_range) over the text's bytes.
    #[inline]
    pub fn line_range_bytes(&self, bytes: &[u8], n: usize) -> std::ops::Range<usize> {
        if n >= self.len() {
            return self.text_len..self.text_len;
        }
        let start = self.line_start(n);
        let (mut end, had_newline) = if n + 1 < self.len() {
            (self.line_start(n + 1).saturating_sub(1), true)
        } else if self.text_len > 0 && bytes.get(self.text_len - 1) == Some(&b'\n') {
            (self.text_len - 1, true)
        } else {
            (self.text_len, false)
        };
        // Like `str::lines`: "\r\n" ends a line, a lone trailing '\r' stays.
        if had_newline && end > start && bytes.get(end - 1) == Some(&b'\r') {
            end -= 1;
        }
        start..end.max(start)
    }

    /// Line `n` of `text` (which must be the text the index was built for;
    /// otherwise the result is unspecified but never panics). Empty for
    /// out-of-range `n`.
    pub fn line<'a>(&self, text: &'a str, n: usize) -> &'a str {
        text.get(self.line_range(text, n)).unwrap_or("")
    }

    /// Line containing byte `offset` (the last line for offsets past the end).
    pub fn line_of_offset(&self, offset: usize) -> usize {
        let n = match &self.starts {
            Starts::Small(v) => {
                let o = u32::try_from(offset).unwrap_or(u32::MAX);
                v.partition_point(|&s| s <= o)
            }
            Starts::Large(v) => v.partition_point(|&s| s <= offset),
        };
        n.saturating_sub(1)
    }

    /// Like [`line_of_offset`](Self::line_of_offset) but searching only lines
    /// `>= hint` (for monotonically increasing offsets).
    pub(crate) fn line_of_offset_from(&self, hint: usize, offset: usize) -> usize {
        let n = match &self.starts {
            Starts::Small(v) => {
                let o = u32::try_from(offset).unwrap_or(u32::MAX);
                let tail = v.get(hint..).unwrap_or(&[]);
                hint + gallop(tail, |&s| s <= o)
            }
            Starts::Large(v) => {
                let tail = v.get(hint..).unwrap_or(&[]);
                hint + gallop(tail, |&s| s <= offset)
            }
        };
        n.saturating_sub(1)
            .max(hint.min(self.len().saturating_sub(1)))
    }
}

/// `partition_point` that first probes exponentially from the front: cheap
/// when the answer is near the start (consecutive search matches).
pub(super) fn gallop<T>(v: &[T], pred: impl Fn(&T) -> bool) -> usize {
    let mut hi = 1;
    while hi < v.len() && v.get(hi).is_some_and(&pred) {
        hi *= 2;
    }
    let lo = hi / 2;
    let hi = hi.min(v.len());
    lo + v.get(lo..hi).map_or(0, |s| s.partition_point(&pred))
}

/// Call `f(i)` for each index `i` with `bytes[i] == b'\n'`, in order.
#[inline]
pub(crate) fn scan_newlines(bytes: &[u8], mut f: impl FnMut(usize)) {
    let mut i = 0;
    while let Some(w) = word_at(bytes, i) {
        let mut m = eq_lanes(w, b'\n');
        while m != 0 {
            let lane = (m.trailing_zeros() / 8) as usize;
            f(i + lane);
            m &= m - 1;
        }
        i += 8;
    }
    while let Some(&b) = bytes.get(i) {
        if b == b'\n' {
            f(i);
        }
        i += 1;
    }
}

/// Where a [`BodyText`]'s bytes live.
#[derive(Debug, Clone)]
enum Store {
    Owned(Arc<String>),
    /// The received bytes themselves, checked to be UTF-8 when the text was made: the Raw
    /// view of a 50 MB body costs no copy.
    Shared(Bytes),
    /// Pretty-printer output without its indentation (see [`PrettyLines`]); `index` is empty.
    Pretty(Arc<PrettyLines>),
}

/// A response body's text, held once, with its line index. Cloning is cheap (shared).
#[derive(Debug, Clone)]
pub struct BodyText {
    store: Store,
    index: Arc<LineIndex>,
    /// Set when the text is known to be output of the pretty-printer: no JSON
    /// string spans a line break, so every line can be highlighted from the
    /// default state without checkpoints.
    pretty_json: bool,
}

impl Default for BodyText {
    fn default() -> Self {
        BodyText::new(String::new())
    }
}

impl PartialEq for BodyText {
    fn eq(&self, other: &Self) -> bool {
        if let (Store::Pretty(a), Store::Pretty(b)) = (&self.store, &other.store)
            && Arc::ptr_eq(a, b)
        {
            return true;
        }
        self.pretty_json == other.pretty_json
            && self.len() == other.len()
            && self.as_bytes() == other.as_bytes()
    }
}

impl Eq for BodyText {}

impl BodyText {
    pub fn new(text: String) -> Self {
        let index = LineIndex::new(&text);
        BodyText {
            store: Store::Owned(Arc::new(text)),
            index: Arc::new(index),
            pretty_json: false,
        }
    }

    /// The text of `bytes` without copying them; `Err` gives them back if they are not UTF-8.
    pub fn from_utf8_bytes(bytes: Bytes) -> Result<Self, Bytes> {
        let index = match std::str::from_utf8(&bytes) {
            Ok(t) => LineIndex::new(t),
            Err(_) => return Err(bytes),
        };
        Ok(BodyText {
            store: Store::Shared(bytes),
            index: Arc::new(index),
            pretty_json: false,
        })
    }

    pub(crate) fn from_parts_pretty_json(text: String, index: LineIndex) -> Self {
        BodyText {
            store: Store::Owned(Arc::new(text)),
            index: Arc::new(index),
            pretty_json: true,
        }
    }

    /// Pretty-printer output held as [`PrettyLines`] (indentation written when read).
    pub(crate) fn from_pretty_lines(lines: PrettyLines) -> Self {
        BodyText {
            store: Store::Pretty(Arc::new(lines)),
            index: Arc::new(LineIndex::default()),
            pretty_json: true,
        }
    }

    /// Line `n` without its terminator; empty if out of range. Borrowed, except for a
    /// pretty-printed body, whose line is built with its indentation (a screenful of lines
    /// costs microseconds; passes over every line use [`line_into`](Self::line_into)).
    pub fn line(&self, n: usize) -> Cow<'_, str> {
        match &self.store {
            Store::Owned(t) => Cow::Borrowed(self.index.line(t, n)),
            Store::Shared(b) => {
                // Lines of UTF-8 text end at '\n', so each line is UTF-8 on its own.
                let r = self.index.line_range_bytes(b, n);
                Cow::Borrowed(
                    b.get(r)
                        .and_then(|l| std::str::from_utf8(l).ok())
                        .unwrap_or(""),
                )
            }
            Store::Pretty(p) => p.line(n),
        }
    }

    /// Line `n`'s bytes in `buf` (cleared first), without allocating once `buf` is grown.
    pub(crate) fn line_into(&self, n: usize, buf: &mut Vec<u8>) {
        buf.clear();
        match &self.store {
            Store::Pretty(p) => p.line_into(n, buf),
            _ => buf.extend_from_slice(self.line(n).as_bytes()),
        }
    }

    /// The first and last non-blank bytes of line `n` (what folding looks at).
    pub(crate) fn line_edges(&self, n: usize) -> (Option<u8>, Option<u8>) {
        if let Store::Pretty(p) = &self.store {
            return p.edges(n);
        }
        let line = self.line(n);
        let b = line.as_bytes();
        (
            b.iter().find(|c| !c.is_ascii_whitespace()).copied(),
            b.iter().rev().find(|c| !c.is_ascii_whitespace()).copied(),
        )
    }

    pub fn line_count(&self) -> usize {
        match &self.store {
            Store::Pretty(p) => p.line_count(),
            _ => self.index.len(),
        }
    }

    /// The whole text. O(1) for owned text; for shared bytes this re-checks UTF-8, and a
    /// pretty-printed body is built whole: use [`line`](Self::line) on hot paths.
    pub fn text(&self) -> Cow<'_, str> {
        match &self.store {
            Store::Owned(t) => Cow::Borrowed(t),
            Store::Shared(b) => Cow::Borrowed(std::str::from_utf8(b).unwrap_or("")),
            Store::Pretty(p) => Cow::Owned(p.text()),
        }
    }

    /// The whole text's bytes (built for a pretty-printed body, as [`text`](Self::text)).
    pub fn as_bytes(&self) -> Cow<'_, [u8]> {
        match self.contiguous() {
            Some(b) => Cow::Borrowed(b),
            None => match self.text() {
                Cow::Borrowed(t) => Cow::Borrowed(t.as_bytes()),
                Cow::Owned(t) => Cow::Owned(t.into_bytes()),
            },
        }
    }

    /// The text's bytes when they are held in one piece, lines separated by newlines as
    /// [`index`](Self::index) describes (not for a pretty-printed body).
    pub(crate) fn contiguous(&self) -> Option<&[u8]> {
        match &self.store {
            Store::Owned(t) => Some(t.as_bytes()),
            Store::Shared(b) => Some(b),
            Store::Pretty(_) => None,
        }
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        match &self.store {
            Store::Owned(t) => t.len(),
            Store::Shared(b) => b.len(),
            Store::Pretty(p) => p.text_len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The line index of a [`contiguous`](Self::contiguous) text (empty for a
    /// pretty-printed body, whose lines are held apart).
    pub fn index(&self) -> &LineIndex {
        &self.index
    }

    /// The pretty lines, when the text is held as [`PrettyLines`].
    pub(crate) fn pretty_lines(&self) -> Option<&PrettyLines> {
        match &self.store {
            Store::Pretty(p) => Some(p),
            _ => None,
        }
    }

    /// The pretty lines' content bytes (tests: is a compact body borrowed?).
    #[cfg(test)]
    pub(crate) fn pretty_content(&self) -> Option<&[u8]> {
        self.pretty_lines().map(PrettyLines::content)
    }

    /// True if produced by [`super::pretty_json_body`].
    pub fn is_pretty_json(&self) -> bool {
        self.pretty_json
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(t: &str) -> Vec<&str> {
        let idx = LineIndex::new(t);
        (0..idx.len()).map(|n| idx.line(t, n)).collect()
    }

    #[test]
    fn line_splitting() {
        assert_eq!(lines(""), Vec::<&str>::new());
        assert_eq!(lines("a"), vec!["a"]);
        assert_eq!(lines("a\n"), vec!["a"]);
        assert_eq!(lines("a\r\n"), vec!["a"]);
        assert_eq!(lines("a\n\n"), vec!["a", ""]);
        assert_eq!(lines("\n"), vec![""]);
        assert_eq!(
            lines("a\r\nbb\ncc\r\n\r\nd"),
            vec!["a", "bb", "cc", "", "d"]
        );
        let long = "0123456789abcdef\n".repeat(10) + "é\r\nx";
        let l = lines(&long);
        assert_eq!(l.len(), 12);
        assert_eq!(l[10], "é");
        let idx = LineIndex::new("x");
        assert_eq!(idx.line("x", 5), "");
        assert_eq!(idx.line("", 0), "");
    }

    #[test]
    fn matches_str_lines() {
        let t = "{\n  \"a\": 1,\r\n\n  \"b\": [\n    2\n  ]\n}\nlast line without newline";
        let ours = lines(t);
        let std: Vec<&str> = t.lines().collect();
        assert_eq!(ours, std);
    }

    #[test]
    fn offset_to_line() {
        let t = "ab\ncd\n\nef";
        let idx = LineIndex::new(t);
        let expect = [0, 0, 0, 1, 1, 1, 2, 3, 3, 3, 3];
        for (off, &l) in expect.iter().enumerate() {
            assert_eq!(idx.line_of_offset(off), l, "off {off}");
            for hint in 0..=l {
                assert_eq!(
                    idx.line_of_offset_from(hint, off),
                    l,
                    "off {off} hint {hint}"
                );
            }
        }
    }
}
