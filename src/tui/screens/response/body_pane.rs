//! One view of a body text as the Response pane shows it: a cursor, scrolling, folds and a
//! search, all in terms of visible rows (body lines minus folded ones). The Body tab, the Raw
//! tab, a filter's result and one NDJSON record each get their own.

use std::collections::BTreeSet;

use crate::view_body::{
    BodyKind, BodyText, FoldMap, FoldRegions, LazyHighlighter, Match, SearchOptions, find_all,
};

/// At most this many matches are collected (a one-letter search in a big body).
pub const MAX_MATCHES: usize = 100_000;
/// Rows kept above a search hit or a jump target.
const CONTEXT: usize = 3;

/// Matches of a search in the body, and which one is current.
pub struct BodySearch {
    pub needle: String,
    pub matches: Vec<Match>,
    pub current: usize,
    /// The search stopped at this many matches.
    pub capped: bool,
}

pub struct BodyPane {
    pub text: BodyText,
    pub kind: BodyKind,
    pub highlighter: LazyHighlighter,
    /// The cursor (folding acts on its row) and the visible rows.
    pub view: super::viewport::Viewport,
    pub hscroll: usize,
    pub search: Option<BodySearch>,
    /// Foldable blocks, found the first time something is folded.
    regions: Option<FoldRegions>,
    /// Start lines of the folded blocks.
    folded: BTreeSet<usize>,
    map: FoldMap,
}

impl BodyPane {
    pub fn new(text: BodyText, kind: BodyKind) -> Self {
        let map = FoldMap::identity(text.line_count());
        BodyPane {
            highlighter: LazyHighlighter::new(kind),
            text,
            kind,
            view: Default::default(),
            hscroll: 0,
            search: None,
            regions: None,
            folded: BTreeSet::new(),
            map,
        }
    }

    /// Swaps in a new text (the whole body after its preview), keeping the position.
    pub fn replace_text(&mut self, text: BodyText) {
        let line = self.cursor_line();
        let top_line = self.line_for_row(self.view.top).unwrap_or(0);
        *self = BodyPane {
            view: super::viewport::Viewport {
                top: 0,
                cursor: 0,
                height: self.view.height,
            },
            hscroll: self.hscroll,
            ..BodyPane::new(text, self.kind)
        };
        self.view.top = top_line.min(self.row_count().saturating_sub(1));
        self.view.cursor = line.min(self.row_count().saturating_sub(1));
        self.keep_cursor_visible();
    }

    pub fn row_count(&self) -> usize {
        self.map.row_count()
    }

    pub fn line_for_row(&self, row: usize) -> Option<usize> {
        self.map.line_for_row(row)
    }

    /// Body line under the cursor.
    pub fn cursor_line(&self) -> usize {
        self.line_for_row(self.view.cursor).unwrap_or(0)
    }

    pub fn is_folded_header(&self, line: usize) -> bool {
        !self.folded.is_empty() && self.map.is_folded_header(line)
    }

    /// `… 3 items ],` for a folded header line.
    pub fn fold_summary(&self, line: usize) -> Option<String> {
        if !self.is_folded_header(line) {
            return None;
        }
        let r = self.regions.as_ref()?.region_at(line)?;
        let opener = self.text.line(line).trim_end().chars().last();
        let noun = match (opener, r.children) {
            (Some('['), 1) => "item",
            (Some('['), _) => "items",
            (_, 1) => "key",
            _ => "keys",
        };
        let close = self.text.line(r.end);
        let close = close.trim();
        Some(format!(" … {} {noun} {close}", group_digits(r.children)))
    }

    // ----- moving ---------------------------------------------------------------------------

    fn last_row(&self) -> usize {
        self.row_count().saturating_sub(1)
    }

    /// Moves the cursor by `delta` rows, scrolling to keep it in view.
    pub fn move_cursor(&mut self, delta: isize) {
        let last = self.last_row();
        self.view.move_cursor(delta, last);
    }

    /// Pages by one screen, the cursor staying at the same place on the screen.
    pub fn page(&mut self, down: bool) {
        let last = self.last_row();
        self.view.page(down, last);
    }

    pub fn to_top(&mut self) {
        self.view.cursor = 0;
        self.view.top = 0;
    }

    pub fn to_bottom(&mut self) {
        let last = self.last_row();
        self.view.to_bottom(last);
    }

    /// Scrolls (without moving the cursor past the screen) — the mouse wheel.
    pub fn scroll(&mut self, delta: isize) {
        let max_top = self.row_count().saturating_sub(self.view.height.max(1));
        self.view.top = self.view.top.saturating_add_signed(delta).min(max_top);
        let bottom = self.view.top + self.view.height.max(1) - 1;
        self.view.cursor = self
            .view
            .cursor
            .clamp(self.view.top, bottom.min(self.last_row()));
    }

    pub fn keep_cursor_visible(&mut self) {
        self.view.keep_cursor_visible();
    }

    /// Puts the cursor on body line `line` (0-based), unfolding what hides it, with a few
    /// rows of context above.
    pub fn goto_line(&mut self, line: usize) {
        let line = line.min(self.text.line_count().saturating_sub(1));
        self.reveal(line);
        self.view.cursor = self.map.row_for_line(line);
        self.view.top = self.view.cursor.saturating_sub(CONTEXT);
        self.keep_cursor_visible();
    }

    // ----- folding --------------------------------------------------------------------------

    fn regions(&mut self) -> &FoldRegions {
        self.regions
            .get_or_insert_with(|| FoldRegions::compute(&self.text))
    }

    fn rebuild_map(&mut self, keep_line: usize) {
        let total = self.text.line_count();
        self.map = match &self.regions {
            Some(r) if !self.folded.is_empty() => {
                FoldMap::new(r, self.folded.iter().copied(), total)
            }
            _ => FoldMap::identity(total),
        };
        self.view.cursor = self.map.row_for_line(keep_line);
        self.keep_cursor_visible();
    }

    /// Folds the object or array the cursor is on (or in), or unfolds it if folded. Returns
    /// a sentence when there is nothing to fold.
    pub fn toggle_fold(&mut self) -> Result<(), String> {
        let line = self.cursor_line();
        if self.folded.contains(&line) {
            self.folded.remove(&line);
            self.rebuild_map(line);
            return Ok(());
        }
        let target = {
            let regions = self.regions();
            regions
                .region_at(line)
                .filter(|r| r.end > r.start)
                .or_else(|| regions.innermost_containing(line))
                .map(|r| r.start)
        };
        match target {
            Some(start) => {
                self.folded.insert(start);
                self.rebuild_map(start);
                Ok(())
            }
            None => {
                Err("Nothing to fold here: the cursor is not inside an object or array.".into())
            }
        }
    }

    /// Folds every block at nesting `depth` (1 = the top-level members); 0 unfolds all.
    /// Returns how many blocks are folded.
    pub fn fold_depth(&mut self, depth: usize) -> usize {
        let line = self.cursor_line();
        self.folded.clear();
        if depth > 0 {
            let starts = self.regions().fold_all_at_depth(depth);
            self.folded.extend(starts);
        }
        // The cursor goes to the header of the fold that now hides it.
        self.rebuild_map(line);
        self.folded.len()
    }

    pub fn fold_count(&self) -> usize {
        self.folded.len()
    }

    /// Unfolds every folded block that hides `line`.
    fn reveal(&mut self, line: usize) {
        if self.folded.is_empty() || !self.map.is_hidden(line) {
            return;
        }
        let keep = self.cursor_line();
        if let Some(regions) = &self.regions {
            self.folded.retain(|&s| {
                !regions
                    .region_at(s)
                    .is_some_and(|r| s < line && line <= r.end)
            });
        }
        self.rebuild_map(keep);
    }

    // ----- search ---------------------------------------------------------------------------

    /// Finds `needle` (ignoring ASCII case; non-ASCII also as `\uXXXX` escapes) and goes to the first match at or after the
    /// cursor. Returns the sentence for the status bar.
    pub fn search_for(&mut self, needle: &str) -> String {
        let opts = SearchOptions {
            case_insensitive: true,
            max_matches: MAX_MATCHES,
        };
        let mut matches = find_all(&self.text, needle, opts);
        // `Müller` also finds `M\u00fcller`, as servers that escape non-ASCII send it.
        if let Some(escaped) = crate::view_body::escaped_spelling(needle) {
            matches.extend(find_all(&self.text, &escaped, opts));
            matches.sort_by_key(|m| (m.line, m.range.start));
            matches.dedup_by_key(|m| (m.line, m.range.start));
            matches.truncate(MAX_MATCHES);
        }
        let capped = matches.len() >= MAX_MATCHES;
        let from = self.cursor_line();
        let current = matches.iter().position(|m| m.line >= from).unwrap_or(0);
        let found = !matches.is_empty();
        self.search = Some(BodySearch {
            needle: needle.to_string(),
            matches,
            current,
            capped,
        });
        if found {
            self.go_to_current();
        }
        self.search_status()
    }

    /// `n` / `N`: the next or previous match, wrapping. `None` when nothing was searched.
    pub fn step_search(&mut self, forward: bool) -> Option<String> {
        let s = self.search.as_mut().filter(|s| !s.matches.is_empty())?;
        let n = s.matches.len();
        s.current = if forward {
            (s.current + 1) % n
        } else {
            (s.current + n - 1) % n
        };
        self.go_to_current();
        Some(self.search_status())
    }

    fn go_to_current(&mut self) {
        if let Some(line) = self
            .search
            .as_ref()
            .and_then(|s| s.matches.get(s.current))
            .map(|m| m.line)
        {
            self.goto_line(line);
        }
    }

    pub fn search_status(&self) -> String {
        match &self.search {
            Some(s) if !s.matches.is_empty() => format!(
                "'{}': match {} of {}{}",
                s.needle,
                s.current + 1,
                group_digits(s.matches.len()),
                if s.capped { "+" } else { "" }
            ),
            Some(s) => format!("No match for '{}'.", s.needle),
            None => String::new(),
        }
    }
}

/// `3400` → `3,400`.
pub fn group_digits(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view_body::pretty_json_body;

    fn pane(json: &str) -> BodyPane {
        BodyPane::new(pretty_json_body(json.as_bytes()).unwrap(), BodyKind::Json)
    }

    fn visible(p: &BodyPane) -> Vec<String> {
        (0..p.row_count())
            .filter_map(|r| p.line_for_row(r))
            .map(|l| {
                format!(
                    "{}{}",
                    p.text.line(l),
                    p.fold_summary(l).unwrap_or_default()
                )
            })
            .collect()
    }

    const DOC: &str = r#"{"a":[1,{"b":2}],"c":{},"d":{"e":[]}}"#;

    #[test]
    fn toggle_fold_at_the_cursor() {
        let mut p = pane(DOC);
        p.move_cursor(2); // "1," inside "a": [
        p.toggle_fold().unwrap();
        assert_eq!(
            visible(&p),
            [
                "{",
                "  \"a\": [ … 2 items ],",
                "  \"c\": {},",
                "  \"d\": {",
                "    \"e\": []",
                "  }",
                "}"
            ]
        );
        assert_eq!(p.view.cursor, 1, "the cursor moves to the folded header");
        p.toggle_fold().unwrap();
        assert_eq!(visible(&p).len(), 12);
        // On a header line, that block folds.
        p.goto_line(8);
        p.toggle_fold().unwrap();
        assert_eq!(visible(&p)[8], "  \"d\": { … 1 key }");
        // A line outside any block has nothing to fold.
        let mut flat = BodyPane::new(BodyText::new("plain".into()), BodyKind::Text);
        assert!(flat.toggle_fold().is_err());
    }

    #[test]
    fn fold_all_at_a_depth_and_unfold_all() {
        let text = crate::view_body::generate_searchset(3);
        let mut p = BodyPane::new(pretty_json_body(text.as_bytes()).unwrap(), BodyKind::Json);
        let n = p.fold_depth(2);
        assert_eq!(n, 3 + 2, "each entry, and the two link objects");
        let rows = visible(&p);
        let folded: Vec<&String> = rows.iter().filter(|l| l.starts_with("    { …")).collect();
        assert_eq!(folded.len(), 5, "{rows:#?}");
        assert_eq!(folded[2], "    { … 3 keys },", "the first entry");
        assert_eq!(folded[4], "    { … 3 keys }", "the last entry");
        p.fold_depth(1);
        assert!(
            visible(&p)
                .iter()
                .any(|l| l == "  \"entry\": [ … 3 items ]"),
            "{:#?}",
            visible(&p)
        );
        p.fold_depth(0);
        assert_eq!(p.row_count(), p.text.line_count());
        assert_eq!(p.fold_count(), 0);
    }

    #[test]
    fn scrolling_goes_through_folds() {
        let mut p = pane(DOC);
        p.view.height = 3;
        p.goto_line(1);
        p.toggle_fold().unwrap(); // "a" folded: rows are 0,1,7,8,9,10,11
        p.to_top();
        let mut lines = vec![p.cursor_line()];
        for _ in 0..10 {
            p.move_cursor(1);
            lines.push(p.cursor_line());
        }
        assert_eq!(lines, [0, 1, 7, 8, 9, 10, 11, 11, 11, 11, 11]);
        assert!(p.view.top + p.view.height > p.view.cursor && p.view.top <= p.view.cursor);
        p.to_bottom();
        assert_eq!(p.cursor_line(), 11);
        p.page(false);
        assert_eq!(
            p.cursor_line(),
            9,
            "two rows up, the cursor keeping its place on screen"
        );
    }

    #[test]
    fn search_and_goto_unfold_what_hides_the_target() {
        let mut p = pane(DOC);
        p.fold_depth(1);
        assert!(p.row_count() < 12);
        let msg = p.search_for("\"B\"");
        assert_eq!(msg, "'\"B\"': match 1 of 1");
        assert_eq!(p.cursor_line(), 4);
        assert!(!p.map.is_hidden(4));
        assert!(p.fold_count() < 2, "the fold around the match opened");
        p.fold_depth(1);
        p.goto_line(9);
        assert_eq!(p.cursor_line(), 9);
        assert_eq!(p.search_for("zzz"), "No match for 'zzz'.");
        assert_eq!(p.step_search(true), None);
    }

    #[test]
    fn replacing_the_text_keeps_the_place() {
        let mut p = pane(DOC);
        p.view.height = 4;
        p.goto_line(5);
        let line = p.cursor_line();
        p.replace_text(pretty_json_body(DOC.as_bytes()).unwrap());
        assert_eq!(p.cursor_line(), line);
    }

    #[test]
    fn digits() {
        assert_eq!(group_digits(0), "0");
        assert_eq!(group_digits(999), "999");
        assert_eq!(group_digits(3400), "3,400");
        assert_eq!(group_digits(1234567), "1,234,567");
    }
}
