//! Pretty-printer output held without its indentation and newlines.
//!
//! Measured on a 46.7 MiB compact searchset (109,000 Observations, 3.27 million pretty lines):
//! the pretty text was 83.0 MB, of which 28.6 MB (34 %) indentation and 3.3 MB newlines, held
//! beside the 49.0 MB body — 1.69× the body before its line index. Here each line is its
//! content (offset into `bytes`) and its depth (2 bytes), and the indentation is written only
//! when a line is asked for. When the body is compact JSON (no whitespace between tokens, as
//! most servers send it), the line contents *are* the body's bytes, apart from the space the
//! printer puts after each key's `:`; then `bytes` is the received body itself and the pretty
//! view costs 6 bytes a line (1.6× the body in all, instead of 3.5×).

use std::borrow::Cow;

use bytes::Bytes;

/// Set in a line's `meta` when the line starts with an object key whose `": "` is held as
/// `":"` (the body's own bytes): the space is inserted when the line is read.
pub(crate) const KEY_SPACE: u16 = 0x8000;
/// The depth bits of `meta` (depth ≤ [`super::MAX_DEPTH`] + 1 fits).
const DEPTH: u16 = 0x7FFF;

/// Spaces for the indentation of one line, copied in chunks.
static SPACES: [u8; 128] = [b' '; 128];

/// The lines of a pretty-printed JSON text.
#[derive(Debug)]
pub(crate) struct PrettyLines {
    /// Line contents, concatenated (UTF-8: validated by the printer; lines start and end
    /// at JSON token boundaries, so each line is UTF-8 on its own).
    bytes: Bytes,
    /// Offset in `bytes` where each line's content starts; the first is 0.
    starts: Vec<u32>,
    /// Per line: indentation depth (2 spaces each), and [`KEY_SPACE`].
    meta: Vec<u16>,
    /// Length of the pretty text these lines stand for (indentation and newlines included).
    text_len: usize,
}

impl PrettyLines {
    /// `starts` and `meta` have one entry per line (at least one line).
    pub(crate) fn new(bytes: Bytes, starts: Vec<u32>, meta: Vec<u16>) -> Self {
        let lines = starts.len().min(meta.len());
        let extra: usize = meta
            .iter()
            .take(lines)
            .map(|&m| usize::from(m & DEPTH) * 2 + usize::from(m & KEY_SPACE != 0))
            .sum();
        let text_len = bytes.len() + extra + lines.saturating_sub(1);
        let mut starts = starts;
        let mut meta = meta;
        starts.truncate(lines);
        meta.truncate(lines);
        starts.shrink_to_fit();
        meta.shrink_to_fit();
        PrettyLines {
            bytes,
            starts,
            meta,
            text_len,
        }
    }

    /// All lines' contents, concatenated (no indentation, no newlines, and key spaces
    /// missing where [`KEY_SPACE`] is set).
    pub(crate) fn content(&self) -> &[u8] {
        &self.bytes
    }

    /// The line whose content holds offset `off` of [`content`](Self::content), searching
    /// lines `>= hint` (for ascending offsets).
    pub(crate) fn line_of_content(&self, hint: usize, off: usize) -> usize {
        let o = u32::try_from(off).unwrap_or(u32::MAX);
        let tail = self.starts.get(hint..).unwrap_or(&[]);
        (hint + super::text::gallop(tail, |&s| s <= o)).saturating_sub(1)
    }

    /// Where line `n`'s content ends in [`content`](Self::content).
    pub(crate) fn content_end(&self, n: usize) -> usize {
        self.starts
            .get(n + 1)
            .map_or(self.bytes.len(), |&e| e as usize)
    }

    /// The column in built line `n` of the content range `r` (which starts in that line);
    /// `None` if `r` spans the line's end or its inserted key space (then the built line
    /// does not hold those bytes together).
    pub(crate) fn columns(&self, n: usize, r: std::ops::Range<usize>) -> Option<usize> {
        let start = self.starts.get(n).map_or(0, |&s| s as usize);
        if r.end > self.content_end(n) {
            return None;
        }
        let (indent, head, tail) = self.parts(n);
        let (rel, rel_end) = (r.start.saturating_sub(start), r.end.saturating_sub(start));
        match tail {
            Some(_) if rel >= head.len() => Some(indent + rel + 1),
            Some(_) if rel_end > head.len() => None,
            _ => Some(indent + rel),
        }
    }

    pub(crate) fn line_count(&self) -> usize {
        self.starts.len()
    }

    /// Length of the whole pretty text in bytes.
    pub(crate) fn text_len(&self) -> usize {
        self.text_len
    }

    /// Line `n` as (indentation in spaces, content before the inserted key space, content
    /// after it — `None` when no space is inserted). Empty for out-of-range `n`.
    pub(crate) fn parts(&self, n: usize) -> (usize, &[u8], Option<&[u8]>) {
        let (Some(&s), Some(&m)) = (self.starts.get(n), self.meta.get(n)) else {
            return (0, &[], None);
        };
        let end = self
            .starts
            .get(n + 1)
            .map_or(self.bytes.len(), |&e| e as usize);
        let content = self.bytes.get(s as usize..end).unwrap_or(&[]);
        let indent = usize::from(m & DEPTH) * 2;
        if m & KEY_SPACE == 0 {
            return (indent, content, None);
        }
        match after_key_colon(content) {
            Some(k) => {
                let (head, tail) = content.split_at(k);
                (indent, head, Some(tail))
            }
            None => (indent, content, None),
        }
    }

    /// Line `n` appended to `out` as bytes, indentation included.
    pub(crate) fn line_into(&self, n: usize, out: &mut Vec<u8>) {
        let (indent, head, tail) = self.parts(n);
        out.reserve(indent + head.len() + tail.map_or(0, |t| t.len() + 1));
        let mut left = indent;
        while left > 0 {
            let k = left.min(SPACES.len());
            out.extend_from_slice(&SPACES[..k]);
            left -= k;
        }
        out.extend_from_slice(head);
        if let Some(t) = tail {
            out.push(b' ');
            out.extend_from_slice(t);
        }
    }

    /// Line `n`, indentation included (empty when out of range).
    pub(crate) fn line(&self, n: usize) -> Cow<'_, str> {
        let mut out = Vec::new();
        self.line_into(n, &mut out);
        Cow::Owned(String::from_utf8(out).unwrap_or_default())
    }

    /// The first and last non-blank bytes of line `n`, without building it.
    pub(crate) fn edges(&self, n: usize) -> (Option<u8>, Option<u8>) {
        let (_, head, tail) = self.parts(n);
        let first = head
            .iter()
            .chain(tail.unwrap_or(&[]))
            .find(|c| !c.is_ascii_whitespace())
            .copied();
        let last = tail
            .unwrap_or(&[])
            .iter()
            .rev()
            .chain(head.iter().rev())
            .find(|c| !c.is_ascii_whitespace())
            .copied();
        (first, last)
    }

    /// The whole pretty text (built: for tests and small bodies).
    pub(crate) fn text(&self) -> String {
        let mut out = Vec::with_capacity(self.text_len);
        for n in 0..self.line_count() {
            if n > 0 {
                out.push(b'\n');
            }
            self.line_into(n, &mut out);
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

/// Offset just after the `:` that ends the object key at the start of `b` (`"key":…`).
fn after_key_colon(b: &[u8]) -> Option<usize> {
    if b.first() != Some(&b'"') {
        return None;
    }
    let mut i = 1;
    loop {
        match b.get(i)? {
            b'\\' => i += 2,
            b'"' => break,
            _ => i += 1,
        }
    }
    (b.get(i + 1) == Some(&b':')).then_some(i + 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_colon_is_found_past_escapes() {
        assert_eq!(after_key_colon(br#""a":1"#), Some(4));
        assert_eq!(after_key_colon(br#""a\":b":1"#), Some(8));
        assert_eq!(after_key_colon(br#""a\\":1"#), Some(6));
        assert_eq!(after_key_colon(br#""a""#), None);
        assert_eq!(after_key_colon(b"1"), None);
    }

    #[test]
    fn lines_are_rebuilt_with_indentation_and_key_space() {
        // `{"a":[1,{}]}` as the printer splits a compact body.
        let body = Bytes::from_static(br#"{"a":[1,{}]}"#);
        let starts = vec![0, 1, 6, 8, 10, 11];
        let meta = vec![0, 1 | KEY_SPACE, 2, 2, 1, 0];
        let p = PrettyLines::new(body, starts, meta);
        assert_eq!(p.text(), "{\n  \"a\": [\n    1,\n    {}\n  ]\n}");
        assert_eq!(p.text_len(), p.text().len());
        assert_eq!(p.line(1), "  \"a\": [");
        assert_eq!(p.edges(1), (Some(b'"'), Some(b'[')));
        assert_eq!(p.edges(4), (Some(b']'), Some(b']')));
        assert_eq!(p.line(9), "");
    }
}
