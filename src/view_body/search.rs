//! Plain substring search over a body: a word-at-a-time byte scan, then
//! offsets are mapped to lines through the [`LineIndex`](super::LineIndex).

use super::swar::{find_byte, find_byte2};
use super::text::BodyText;
use std::ops::Range;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SearchOptions {
    /// ASCII case folding (`é` still only matches `é`).
    pub case_insensitive: bool,
    /// Stop after this many matches (`0` = unlimited). A one-letter search in
    /// a 50 MB body can otherwise produce millions of matches.
    pub max_matches: usize,
}

/// One match: the line it starts on and its byte range within that line.
/// (A needle containing `\n` yields a range extending past the line's end.)
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Match {
    pub line: usize,
    pub range: Range<usize>,
}

/// All non-overlapping matches of `needle`, in text order. In a pretty-printed body (its
/// lines held apart, see `PrettyLines`) a needle never spans a line break; one with a
/// space is looked for line by line, the others in one pass over the lines' contents.
pub fn find_all(body: &BodyText, needle: &str, opts: SearchOptions) -> Vec<Match> {
    let pat = needle.as_bytes();
    let mut out = Vec::new();
    if pat.is_empty() {
        return out;
    }
    let limit = if opts.max_matches == 0 {
        usize::MAX
    } else {
        opts.max_matches
    };
    if let Some(lines) = body.pretty_lines()
        && !pat.contains(&b' ')
    {
        // Without a space the needle lies within one line's content, before or after the
        // inserted key space: one pass over the content, as over a contiguous text.
        let mut line_hint = 0;
        scan(lines.content(), pat, opts, |r| {
            let line = lines.line_of_content(line_hint, r.start);
            line_hint = line;
            let len = r.len();
            if let Some(col) = lines.columns(line, r) {
                out.push(Match {
                    line,
                    range: col..col + len,
                });
            }
            out.len() < limit
        });
        return out;
    }
    let Some(hay) = body.contiguous() else {
        let mut buf = Vec::new();
        for line in 0..body.line_count() {
            body.line_into(line, &mut buf);
            scan(&buf, pat, opts, |range| {
                out.push(Match { line, range });
                out.len() < limit
            });
            if out.len() >= limit {
                break;
            }
        }
        return out;
    };
    let index = body.index();
    let mut line_hint = 0;
    scan(hay, pat, opts, |r| {
        let line = index.line_of_offset_from(line_hint, r.start);
        line_hint = line;
        let ls = index.line_start(line);
        out.push(Match {
            line,
            range: r.start - ls..r.end - ls,
        });
        out.len() < limit
    });
    out
}

/// Calls `hit` with each non-overlapping match of `pat` (not empty) in `hay`, while it
/// returns true.
fn scan(hay: &[u8], pat: &[u8], opts: SearchOptions, mut hit: impl FnMut(Range<usize>) -> bool) {
    let Some(&first) = pat.first() else {
        return;
    };
    let fold = opts.case_insensitive && first.is_ascii_alphabetic();
    let (lo, up) = (first.to_ascii_lowercase(), first.to_ascii_uppercase());
    let mut i = 0;
    loop {
        let cand = if fold {
            find_byte2(hay, i, lo, up)
        } else {
            find_byte(hay, i, first)
        };
        let Some(p) = cand else { break };
        let end = p + pat.len();
        let found = match hay.get(p..end) {
            None => break,
            Some(w) => {
                if opts.case_insensitive {
                    w.eq_ignore_ascii_case(pat)
                } else {
                    w == pat
                }
            }
        };
        if found {
            if !hit(p..end) {
                break;
            }
            i = end;
        } else {
            i = p + 1;
        }
    }
}

/// Index of the first match starting after (`line`, `col`), wrapping to the
/// first match; `None` if there are no matches.
pub fn next_match_after(matches: &[Match], line: usize, col: usize) -> Option<usize> {
    if matches.is_empty() {
        return None;
    }
    let i = matches.partition_point(|m| (m.line, m.range.start) <= (line, col));
    Some(if i < matches.len() { i } else { 0 })
}

/// Index of the last match starting before (`line`, `col`), wrapping to the
/// last match; `None` if there are no matches.
pub fn prev_match_before(matches: &[Match], line: usize, col: usize) -> Option<usize> {
    if matches.is_empty() {
        return None;
    }
    let i = matches.partition_point(|m| (m.line, m.range.start) < (line, col));
    Some(if i > 0 { i - 1 } else { matches.len() - 1 })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(text: &str, needle: &str, ci: bool) -> Vec<(usize, usize)> {
        let (t, n) = if ci {
            (text.to_ascii_lowercase(), needle.to_ascii_lowercase())
        } else {
            (text.to_string(), needle.to_string())
        };
        let mut v = Vec::new();
        let mut i = 0;
        while let Some(p) = t.get(i..).and_then(|s| s.find(&n)) {
            v.push((i + p, i + p + n.len()));
            i += p + n.len().max(1);
            if n.is_empty() {
                break;
            }
        }
        v
    }

    #[test]
    fn agrees_with_naive() {
        let text = "Family family FAMILY\nfam\n\nfamilyfamily é famille\r\nfamily";
        let body = BodyText::new(text.into());
        for ci in [false, true] {
            for needle in ["family", "fam", "y\nf", "é", "x", "amily"] {
                let got = find_all(
                    &body,
                    needle,
                    SearchOptions {
                        case_insensitive: ci,
                        max_matches: 0,
                    },
                );
                let abs: Vec<(usize, usize)> = got
                    .iter()
                    .map(|m| {
                        let s = body.index().line_start(m.line);
                        (s + m.range.start, s + m.range.end)
                    })
                    .collect();
                assert_eq!(abs, naive(text, needle, ci), "{needle} ci={ci}");
                for m in &got {
                    assert!(m.range.start <= body.line(m.line).len());
                }
            }
        }
        assert!(find_all(&body, "", SearchOptions::default()).is_empty());
        let lim = find_all(
            &body,
            "fam",
            SearchOptions {
                case_insensitive: true,
                max_matches: 2,
            },
        );
        assert_eq!(lim.len(), 2);
    }

    #[test]
    fn pretty_bodies_are_searched_line_by_line() {
        let src = br#"{"a":"x","b":{"status":"final","c":["final",1]}}"#;
        let pretty = crate::view_body::pretty_json(src).unwrap();
        let plain = BodyText::new(pretty.clone());
        let shared = bytes::Bytes::from_static(src);
        let bodies = [
            crate::view_body::pretty_json_body(src).unwrap(),
            crate::view_body::pretty_json_body_shared(&shared, None).unwrap(),
        ];
        for needle in [
            "final",
            "\"status\": \"final\"",
            "  ",
            "1",
            ",",
            "\"c\":",
            "b\":{",
        ] {
            for ci in [false, true] {
                for max in [0, 1] {
                    let opts = SearchOptions {
                        case_insensitive: ci,
                        max_matches: max,
                    };
                    let want = find_all(&plain, needle, opts);
                    // These two are only in the compact body, not in the pretty lines.
                    let only_compact = ["b\":{", "x\",\"b"].contains(&needle);
                    assert_eq!(want.is_empty(), only_compact, "{needle}");
                    for body in &bodies {
                        assert_eq!(find_all(body, needle, opts), want, "{needle}");
                    }
                }
            }
        }
    }

    #[test]
    fn next_and_prev() {
        let m = |line, s| Match {
            line,
            range: s..s + 1,
        };
        let ms = vec![m(1, 0), m(1, 5), m(4, 2)];
        assert_eq!(next_match_after(&ms, 0, 0), Some(0));
        assert_eq!(next_match_after(&ms, 1, 0), Some(1));
        assert_eq!(next_match_after(&ms, 1, 5), Some(2));
        assert_eq!(next_match_after(&ms, 9, 0), Some(0));
        assert_eq!(prev_match_before(&ms, 1, 5), Some(0));
        assert_eq!(prev_match_before(&ms, 1, 0), Some(2));
        assert_eq!(prev_match_before(&ms, 5, 0), Some(2));
        assert_eq!(next_match_after(&[], 0, 0), None);
    }
}
