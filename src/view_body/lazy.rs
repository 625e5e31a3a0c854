//! Lazy highlighting of any window of lines of a (possibly huge) body.
//!
//! * JSON / NDJSON: the hand-written tokenizer. Line states are checkpointed
//!   every [`CHECKPOINT_EVERY`] lines, computed incrementally, so highlighting
//!   line `k` costs at most `CHECKPOINT_EVERY` cheap state scans plus the
//!   visible lines. Bodies made by [`super::pretty_json_body`] need no
//!   checkpoints at all (no string spans a line break).
//! * XML / HTML up to [`SYNTECT_MAX_BYTES`]: syntect with the default syntax
//!   set, scopes mapped to [`TokenKind`]; parse states are checkpointed too and
//!   highlighted lines are cached (syntect runs at well under 1 MB/s).
//! * Everything else: one [`TokenKind::Plain`] span per line.

use super::BodyKind;
use super::highlight_json::{
    JsonLineState, Span, TokenKind, advance_json_state, highlight_json_line_capped,
};
use super::text::BodyText;
use std::collections::HashMap;
use std::ops::Range;
use std::sync::OnceLock;
use syntect::parsing::{ParseState, Scope, ScopeStack, SyntaxReference, SyntaxSet};

/// Lines between two JSON state checkpoints.
pub const CHECKPOINT_EVERY: usize = 128;
/// Lines between two syntect state checkpoints.
pub(super) const SYNTECT_CHECKPOINT_EVERY: usize = 32;
/// Non-JSON bodies larger than this are not highlighted.
pub const SYNTECT_MAX_BYTES: usize = 256 * 1024;
/// Non-JSON bodies with a line longer than this are not highlighted.
pub(super) const SYNTECT_MAX_LINE_BYTES: usize = 16 * 1024;
/// Default cap on the highlighted prefix of one JSON line.
pub const DEFAULT_MAX_LINE_BYTES: usize = 64 * 1024;

/// The default syntax set, loaded once (takes some milliseconds; call early
/// from a background thread to hide it).
pub fn syntax_set() -> &'static SyntaxSet {
    static SET: OnceLock<SyntaxSet> = OnceLock::new();
    SET.get_or_init(SyntaxSet::load_defaults_newlines)
}

pub struct LazyHighlighter {
    kind: BodyKind,
    max_line_bytes: usize,
    /// (text length, line count) of the body the caches belong to.
    fingerprint: Option<(usize, usize)>,
    mode: Mode,
}

enum Mode {
    Json(JsonLazy),
    Syntect(Box<SyntectLazy>),
    Plain,
}

#[derive(Default)]
struct JsonLazy {
    /// `checkpoints[j]` = state at the start of line `j * CHECKPOINT_EVERY`.
    checkpoints: Vec<JsonLineState>,
}

impl LazyHighlighter {
    pub fn new(kind: BodyKind) -> Self {
        LazyHighlighter {
            kind,
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
            fingerprint: None,
            mode: Mode::Plain,
        }
    }

    /// Only the first `n` bytes of a JSON line are tokenized; the rest is one
    /// [`TokenKind::Plain`] span (a compact 50 MB body is a single line).
    pub fn with_max_line_bytes(mut self, n: usize) -> Self {
        self.max_line_bytes = n;
        self
    }

    pub fn kind(&self) -> BodyKind {
        self.kind
    }

    fn reset_for(&mut self, body: &BodyText) {
        let fp = (body.len(), body.line_count());
        if self.fingerprint == Some(fp) {
            return;
        }
        self.fingerprint = Some(fp);
        self.mode = match self.kind {
            BodyKind::Json | BodyKind::NdJson => Mode::Json(JsonLazy {
                checkpoints: vec![JsonLineState::default()],
            }),
            BodyKind::Xml | BodyKind::Html => match SyntectLazy::new(self.kind, body) {
                Some(s) => Mode::Syntect(Box::new(s)),
                None => Mode::Plain,
            },
            BodyKind::Text | BodyKind::Binary => Mode::Plain,
        };
    }

    /// Spans for each line of `range` (clamped to the body). Each inner
    /// vector covers its line completely, in order, without gaps.
    pub fn spans_for_lines(&mut self, body: &BodyText, range: Range<usize>) -> Vec<Vec<Span>> {
        self.reset_for(body);
        let end = range.end.min(body.line_count());
        let start = range.start.min(end);
        let max_line_bytes = self.max_line_bytes;
        match &mut self.mode {
            Mode::Json(j) => {
                let mut st = j.state_at(body, start);
                (start..end)
                    .map(|l| {
                        if l.is_multiple_of(CHECKPOINT_EVERY)
                            && l / CHECKPOINT_EVERY == j.checkpoints.len()
                        {
                            j.checkpoints.push(st);
                        }
                        let mut v = Vec::new();
                        highlight_json_line_capped(&body.line(l), &mut st, max_line_bytes, &mut v);
                        v
                    })
                    .collect()
            }
            Mode::Syntect(s) => s.spans_for_lines(body, start..end),
            Mode::Plain => (start..end).map(|l| plain_line(&body.line(l))).collect(),
        }
    }

    /// Extend the checkpoints by scanning at most `max_lines` further lines;
    /// returns true once the whole body is covered. Lets a UI warm the
    /// highlighter in idle frames so a later jump is cheap.
    pub fn warm(&mut self, body: &BodyText, max_lines: usize) -> bool {
        self.reset_for(body);
        match &mut self.mode {
            Mode::Json(j) => j.warm(body, max_lines),
            Mode::Syntect(s) => s.warm(body, max_lines),
            Mode::Plain => true,
        }
    }
}

fn plain_line(line: &str) -> Vec<Span> {
    if line.is_empty() {
        Vec::new()
    } else {
        vec![Span {
            range: 0..line.len(),
            kind: TokenKind::Plain,
        }]
    }
}

impl JsonLazy {
    fn warm(&mut self, body: &BodyText, max_lines: usize) -> bool {
        if body.is_pretty_json() {
            return true;
        }
        let target = body.line_count() / CHECKPOINT_EVERY;
        let steps = (max_lines / CHECKPOINT_EVERY).max(1);
        for _ in 0..steps {
            if self.checkpoints.len() > target {
                return true;
            }
            self.extend_one(body);
        }
        self.checkpoints.len() > target
    }

    fn extend_one(&mut self, body: &BodyText) {
        let j = self.checkpoints.len() - 1;
        let mut st = self.checkpoints.last().copied().unwrap_or_default();
        for l in j * CHECKPOINT_EVERY..(j + 1) * CHECKPOINT_EVERY {
            st = advance_json_state(&body.line(l), st);
        }
        self.checkpoints.push(st);
    }

    fn state_at(&mut self, body: &BodyText, line: usize) -> JsonLineState {
        if body.is_pretty_json() {
            return JsonLineState::default();
        }
        if self.checkpoints.is_empty() {
            self.checkpoints.push(JsonLineState::default());
        }
        let j = line / CHECKPOINT_EVERY;
        while self.checkpoints.len() <= j {
            self.extend_one(body);
        }
        let mut st = self.checkpoints.get(j).copied().unwrap_or_default();
        for l in j * CHECKPOINT_EVERY..line {
            st = advance_json_state(&body.line(l), st);
        }
        st
    }
}

// ---------------------------------------------------------------------------
// syntect

type SynState = (ParseState, ScopeStack);

struct SyntectLazy {
    syntax: &'static SyntaxReference,
    /// `checkpoints[j]` = state at the start of line `j * SYNTECT_CHECKPOINT_EVERY`.
    checkpoints: Vec<SynState>,
    /// State at the start of line `.0` (just after the last highlighted line).
    cursor: Option<(usize, SynState)>,
    cache: HashMap<usize, Vec<Span>>,
    broken: bool,
}

const CACHE_MAX: usize = 8192;

impl SyntectLazy {
    fn new(kind: BodyKind, body: &BodyText) -> Option<Self> {
        if body.len() > SYNTECT_MAX_BYTES {
            return None;
        }
        if (0..body.line_count()).any(|l| body.line(l).len() > SYNTECT_MAX_LINE_BYTES) {
            return None;
        }
        let set = syntax_set();
        let syntax = match kind {
            BodyKind::Html => set.find_syntax_by_extension("html"),
            _ => set.find_syntax_by_extension("xml"),
        }?;
        Some(SyntectLazy {
            syntax,
            checkpoints: vec![(ParseState::new(syntax), ScopeStack::new())],
            cursor: None,
            cache: HashMap::new(),
            broken: false,
        })
    }

    /// Best known state at or before `line`: (its line, state).
    fn start_state(&self, line: usize) -> (usize, SynState) {
        let j = (line / SYNTECT_CHECKPOINT_EVERY).min(self.checkpoints.len().saturating_sub(1));
        let cp_line = j * SYNTECT_CHECKPOINT_EVERY;
        if let Some((cl, st)) = &self.cursor
            && *cl <= line
            && *cl >= cp_line
        {
            return (*cl, st.clone());
        }
        match self.checkpoints.get(j) {
            Some(st) => (cp_line, st.clone()),
            None => (0, (ParseState::new(self.syntax), ScopeStack::new())),
        }
    }

    /// Parse line `l` from `st`, returning its spans and advancing `st`;
    /// records checkpoints passed on the way.
    fn step(&mut self, body: &BodyText, l: usize, st: &mut SynState) -> Vec<Span> {
        if l.is_multiple_of(SYNTECT_CHECKPOINT_EVERY)
            && l / SYNTECT_CHECKPOINT_EVERY == self.checkpoints.len()
        {
            self.checkpoints.push(st.clone());
        }
        let line = body.line(l);
        if self.broken {
            return plain_line(&line);
        }
        match syntect_line(&line, st) {
            Some(spans) => spans,
            None => {
                self.broken = true;
                plain_line(&line)
            }
        }
    }

    fn spans_for_lines(&mut self, body: &BodyText, range: Range<usize>) -> Vec<Vec<Span>> {
        if range.clone().all(|l| self.cache.contains_key(&l)) {
            return range
                .map(|l| self.cache.get(&l).cloned().unwrap_or_default())
                .collect();
        }
        let (mut l, mut st) = self.start_state(range.start);
        while l < range.start {
            self.step(body, l, &mut st);
            l += 1;
        }
        let mut out = Vec::with_capacity(range.len());
        for l in range.clone() {
            let spans = self.step(body, l, &mut st);
            out.push(spans);
        }
        self.cursor = Some((range.end, st));
        if self.cache.len() + out.len() > CACHE_MAX {
            self.cache.clear();
        }
        for (l, spans) in range.zip(out.iter()) {
            self.cache.insert(l, spans.clone());
        }
        out
    }

    fn warm(&mut self, body: &BodyText, max_lines: usize) -> bool {
        let total = body.line_count();
        let from = (self.checkpoints.len() - 1) * SYNTECT_CHECKPOINT_EVERY;
        let to = from.saturating_add(max_lines).min(total);
        let mut st = match self.checkpoints.last() {
            Some(s) => s.clone(),
            None => return true,
        };
        for l in from..to {
            self.step(body, l, &mut st);
        }
        to >= total
    }
}

fn scope_table() -> &'static [(Scope, TokenKind)] {
    static TABLE: OnceLock<Vec<(Scope, TokenKind)>> = OnceLock::new();
    TABLE.get_or_init(|| {
        use TokenKind::*;
        [
            ("punctuation.definition.string", String),
            ("punctuation.definition.comment", Comment),
            ("comment", Comment),
            ("string", String),
            ("entity.name.tag", Key),
            ("entity.other.attribute-name", Key),
            ("constant.character.entity", Number),
            ("constant.numeric", Number),
            ("constant.language", Boolean),
            ("invalid", Error),
            ("punctuation", Punctuation),
            ("keyword", Key),
            ("entity.name", Key),
        ]
        .into_iter()
        .filter_map(|(s, k)| Scope::new(s).ok().map(|s| (s, k)))
        .collect()
    })
}

fn kind_of(stack: &ScopeStack) -> TokenKind {
    let table = scope_table();
    for scope in stack.as_slice().iter().rev() {
        for (prefix, kind) in table {
            if prefix.is_prefix_of(*scope) {
                return *kind;
            }
        }
    }
    TokenKind::Plain
}

fn push_merged(out: &mut Vec<Span>, range: Range<usize>, kind: TokenKind) {
    if range.is_empty() {
        return;
    }
    if let Some(last) = out.last_mut()
        && last.kind == kind
        && last.range.end == range.start
    {
        last.range.end = range.end;
        return;
    }
    out.push(Span { range, kind });
}

/// Highlight one line with syntect; `None` on a syntect error.
fn syntect_line(line: &str, st: &mut SynState) -> Option<Vec<Span>> {
    let (ps, stack) = st;
    let mut with_nl = String::with_capacity(line.len() + 1);
    with_nl.push_str(line);
    with_nl.push('\n');
    let ops = ps.parse_line(&with_nl, syntax_set()).ok()?;
    let n = line.len();
    let mut out = Vec::new();
    let mut cur = 0;
    let mut kind = kind_of(stack);
    for (pos, op) in ops {
        let pos = pos.min(n);
        if pos > cur {
            push_merged(&mut out, cur..pos, kind);
            cur = pos;
        }
        stack.apply(&op).ok()?;
        kind = kind_of(stack);
    }
    if n > cur {
        push_merged(&mut out, cur..n, kind);
    }
    // Syntect offsets are char boundaries, but be defensive.
    if out.iter().any(|s| !line.is_char_boundary(s.range.start)) {
        return Some(plain_line(line));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view_body::highlight_json::highlight_json_line;

    fn reference(body: &BodyText) -> Vec<Vec<Span>> {
        let mut st = JsonLineState::default();
        (0..body.line_count())
            .map(|l| highlight_json_line(&body.line(l), &mut st))
            .collect()
    }

    #[test]
    fn lazy_json_matches_reference_at_any_window() {
        let mut text = String::new();
        for i in 0..1000 {
            if i % 97 == 0 {
                text.push_str("  \"multi\": \"starts here\n and continues\n\" : 1,\n");
            } else {
                text.push_str(&format!("  \"k{i}\": [{i}, \"v\\\"{i}\", true],\n"));
            }
        }
        let body = BodyText::new(text);
        let want = reference(&body);
        for (a, b) in [
            (0, 10),
            (500, 560),
            (130, 140),
            (2000, 2100),
            (1, 1),
            (995, 1200),
        ] {
            let mut h = LazyHighlighter::new(BodyKind::Json);
            let got = h.spans_for_lines(&body, a..b);
            let b2 = b.min(body.line_count());
            let a2 = a.min(b2);
            assert_eq!(got, want[a2..b2].to_vec(), "window {a}..{b}");
        }
        let mut h = LazyHighlighter::new(BodyKind::Json);
        assert!(h.warm(&body, 1_000_000));
        assert_eq!(h.spans_for_lines(&body, 0..body.line_count()), want);
    }

    #[test]
    fn xml_is_highlighted_with_shared_kinds() {
        let xml = "<?xml version=\"1.0\"?>\n<Patient xmlns=\"http://hl7.org/fhir\">\n  <!-- c -->\n  <id value=\"a&amp;b\"/>\n</Patient>\n";
        let body = BodyText::new(xml.to_string());
        let mut h = LazyHighlighter::new(BodyKind::Xml);
        let spans = h.spans_for_lines(&body, 0..body.line_count());
        assert_eq!(spans.len(), 5);
        for (l, s) in spans.iter().enumerate() {
            let line = body.line(l);
            let mut pos = 0;
            for sp in s {
                assert_eq!(sp.range.start, pos);
                pos = sp.range.end;
            }
            assert_eq!(pos, line.len());
        }
        let line1 = body.line(1);
        let kinds: Vec<(&str, TokenKind)> = spans[1]
            .iter()
            .map(|s| (&line1[s.range.clone()], s.kind))
            .collect();
        assert!(kinds.contains(&("Patient", TokenKind::Key)), "{kinds:?}");
        assert!(
            kinds
                .iter()
                .any(|(t, k)| t.contains("hl7.org") && *k == TokenKind::String)
        );
        assert!(spans[2].iter().any(|s| s.kind == TokenKind::Comment));
        // Same result when starting cold in the middle, and from the cache.
        let mut h2 = LazyHighlighter::new(BodyKind::Xml);
        assert_eq!(h2.spans_for_lines(&body, 3..5), spans[3..5].to_vec());
        assert_eq!(h2.spans_for_lines(&body, 3..5), spans[3..5].to_vec());
    }

    #[test]
    fn plain_and_binary() {
        let body = BodyText::new("hello\n\nworld".into());
        let mut h = LazyHighlighter::new(BodyKind::Text);
        let s = h.spans_for_lines(&body, 0..10);
        assert_eq!(s.len(), 3);
        assert_eq!(s[1], vec![]);
        assert_eq!(s[2][0].kind, TokenKind::Plain);
    }
}
