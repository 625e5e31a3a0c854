//! Comparing two response bodies: both pretty-printed the same way (so a compact and an
//! indented copy of the same JSON do not differ), then a line diff with context, bounded in
//! time so two huge bodies cannot stall anything.

use std::time::Duration;

use similar::{ChangeTag, TextDiff};

/// One line of a unified diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiffLine {
    /// `@@ -a,b +c,d @@`
    Hunk(String),
    Same(String),
    Removed(String),
    Added(String),
}

/// A diff ready to show.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BodyDiff {
    pub lines: Vec<DiffLine>,
    pub added: usize,
    pub removed: usize,
}

impl BodyDiff {
    pub fn identical(&self) -> bool {
        self.added == 0 && self.removed == 0
    }
}

/// The body as text to compare: pretty JSON when it parses, else the text as it is.
pub fn comparable(body: &[u8]) -> String {
    match crate::view_body::pretty_json(body) {
        Ok(p) => p,
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    }
}

/// A unified diff of `old` against `new` with three lines of context.
pub fn diff_bodies(old: &[u8], new: &[u8]) -> BodyDiff {
    let (a, b) = (comparable(old), comparable(new));
    let diff = TextDiff::configure()
        .timeout(Duration::from_secs(2))
        .diff_lines(&a, &b);
    let mut out = BodyDiff::default();
    for group in diff.grouped_ops(3) {
        let (Some(first), Some(last)) = (group.first(), group.last()) else {
            continue;
        };
        let old_start = first.old_range().start;
        let new_start = first.new_range().start;
        let old_len = last.old_range().end - old_start;
        let new_len = last.new_range().end - new_start;
        out.lines.push(DiffLine::Hunk(format!(
            "@@ -{},{} +{},{} @@",
            old_start + 1,
            old_len,
            new_start + 1,
            new_len
        )));
        for op in &group {
            for change in diff.iter_changes(op) {
                let text = change.value().trim_end_matches(['\n', '\r']).to_string();
                match change.tag() {
                    ChangeTag::Equal => out.lines.push(DiffLine::Same(text)),
                    ChangeTag::Delete => {
                        out.removed += 1;
                        out.lines.push(DiffLine::Removed(text));
                    }
                    ChangeTag::Insert => {
                        out.added += 1;
                        out.lines.push(DiffLine::Added(text));
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting_differences_are_not_changes() {
        let d = diff_bodies(
            br#"{"a":1,"b":[1,2]}"#,
            b"{\n  \"a\": 1,\n  \"b\": [1, 2]\n}",
        );
        assert!(d.identical(), "{d:?}");
        assert!(d.lines.is_empty());
    }

    #[test]
    fn changed_values_show_as_removed_and_added_with_context() {
        let old =
            br#"{"resourceType":"Patient","id":"1","name":[{"family":"Smith"}],"gender":"female"}"#;
        let new =
            br#"{"resourceType":"Patient","id":"1","name":[{"family":"Smyth"}],"gender":"female"}"#;
        let d = diff_bodies(old, new);
        assert_eq!((d.removed, d.added), (1, 1));
        assert!(matches!(&d.lines[0], DiffLine::Hunk(h) if h.starts_with("@@ -")));
        assert!(
            d.lines
                .contains(&DiffLine::Removed(r#"      "family": "Smith""#.into())),
            "{d:?}"
        );
        assert!(
            d.lines
                .contains(&DiffLine::Added(r#"      "family": "Smyth""#.into())),
            "{d:?}"
        );
        assert!(d.lines.iter().any(|l| matches!(l, DiffLine::Same(_))));
    }

    #[test]
    fn text_bodies_are_compared_as_text() {
        let d = diff_bodies(b"one\ntwo\nthree\n", b"one\n2\nthree\n");
        assert_eq!((d.removed, d.added), (1, 1));
    }
}
