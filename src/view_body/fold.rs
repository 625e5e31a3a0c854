//! Foldable regions of pretty JSON and the visible-row ↔ body-line mapping.

use super::text::BodyText;

/// A foldable block: `start` ends with `{`/`[`, `end` holds the matching
/// close. Folding hides lines `start + 1 ..= end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FoldRegion {
    pub start: usize,
    pub end: usize,
    /// 0 for the outermost block.
    pub depth: usize,
    /// Index (into [`FoldRegions::regions`]) of the enclosing region.
    pub parent: Option<usize>,
    /// Members or items directly inside (lines that start one), for the folded summary.
    pub children: usize,
}

/// A region as stored: 20 bytes instead of 48 (a 50 MB searchset has a million regions).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Packed {
    start: u32,
    end: u32,
    depth: u32,
    /// `u32::MAX`: none.
    parent: u32,
    children: u32,
}

impl Packed {
    fn unpack(self) -> FoldRegion {
        FoldRegion {
            start: self.start as usize,
            end: self.end as usize,
            depth: self.depth as usize,
            parent: (self.parent != u32::MAX).then_some(self.parent as usize),
            children: self.children as usize,
        }
    }
}

/// All foldable regions of a body, sorted by start line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FoldRegions {
    regions: Vec<Packed>,
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl FoldRegions {
    /// One pass over the lines: a line whose last non-blank byte is `{` or
    /// `[` opens a block, a line whose first non-blank byte is `}` or `]`
    /// closes the innermost one. Exact for pretty-printer output; a harmless
    /// heuristic for other text. Unclosed blocks extend to the last line.
    pub fn compute(body: &BodyText) -> Self {
        let mut regions: Vec<Packed> = Vec::new();
        let mut stack: Vec<usize> = Vec::new();
        let n = body.line_count();
        // Lines beyond u32 are not foldable (a 4-billion-line body).
        let n = n.min(u32::MAX as usize - 1);
        for l in 0..n {
            let (first, last) = body.line_edges(l);
            if let Some(b'}' | b']') = first {
                if let Some(i) = stack.pop()
                    && let Some(r) = regions.get_mut(i)
                {
                    r.end = to_u32(l);
                }
            } else if first.is_some()
                && let Some(&i) = stack.last()
                && let Some(r) = regions.get_mut(i)
            {
                r.children = r.children.saturating_add(1);
            }
            if let Some(b'{' | b'[') = last {
                regions.push(Packed {
                    start: to_u32(l),
                    end: to_u32(n.saturating_sub(1)),
                    depth: to_u32(stack.len()),
                    parent: stack.last().map_or(u32::MAX, |&p| to_u32(p)),
                    children: 0,
                });
                stack.push(regions.len() - 1);
            }
        }
        regions.shrink_to_fit();
        FoldRegions { regions }
    }

    /// Number of regions.
    pub fn len(&self) -> usize {
        self.regions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.regions.is_empty()
    }

    /// All regions, in start order.
    pub fn regions(&self) -> impl Iterator<Item = FoldRegion> + '_ {
        self.regions.iter().map(|p| p.unpack())
    }

    /// Index of the region starting at `line`, searching from index `from` (galloping, so
    /// ascending look-ups stay in cache).
    fn index_from(&self, from: usize, line: usize) -> Option<usize> {
        let line = u32::try_from(line).ok()?;
        let tail = self.regions.get(from..)?;
        let mut hi = 1;
        while hi < tail.len() && tail.get(hi).is_some_and(|r| r.start < line) {
            hi *= 2;
        }
        let lo = hi / 2;
        let hi = hi.min(tail.len());
        let i = lo
            + tail
                .get(lo..hi)
                .map_or(0, |s| s.partition_point(|r| r.start < line));
        tail.get(i).filter(|r| r.start == line).map(|_| from + i)
    }

    /// The region starting at `line`, if any.
    pub fn region_at(&self, line: usize) -> Option<FoldRegion> {
        let l = u32::try_from(line).ok()?;
        let i = self.regions.partition_point(|r| r.start < l);
        self.regions
            .get(i)
            .filter(|r| r.start == l)
            .map(|p| p.unpack())
    }

    /// The innermost region containing `line` (start ≤ line ≤ end).
    pub fn innermost_containing(&self, line: usize) -> Option<FoldRegion> {
        let l = u32::try_from(line).ok()?;
        let i = self.regions.partition_point(|r| r.start <= l);
        let mut cur = i.checked_sub(1);
        while let Some(k) = cur {
            let r = self.regions.get(k)?;
            if r.end >= l {
                return Some(r.unpack());
            }
            cur = (r.parent != u32::MAX).then_some(r.parent as usize);
        }
        None
    }

    /// Start lines of all regions at nesting depth `d` (0 = outermost), e.g.
    /// `fold_all_at_depth(2)` on a searchset Bundle folds every entry.
    pub fn fold_all_at_depth(&self, d: usize) -> Vec<usize> {
        self.regions
            .iter()
            .filter(|r| r.depth as usize == d && r.end > r.start)
            .map(|r| r.start as usize)
            .collect()
    }
}

/// Maps visible rows to body lines given a set of folded region starts.
/// Rebuild it whenever the folded set changes (O(f log f) for f folds);
/// lookups are O(log f).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FoldMap {
    /// Hidden line ranges `(first, last)` inclusive, sorted and disjoint.
    hidden: Vec<(usize, usize)>,
    /// `cum[i]` = hidden lines in `hidden[..i]` (len = hidden.len() + 1).
    cum: Vec<usize>,
    /// `vrow[i] = hidden[i].0 - cum[i]`, non-decreasing.
    vrow: Vec<usize>,
    total_lines: usize,
}

impl FoldMap {
    /// Starts that are not region starts are ignored; folds nested inside a
    /// folded region have no further effect.
    pub fn new(
        regions: &FoldRegions,
        folded_starts: impl IntoIterator<Item = usize>,
        total_lines: usize,
    ) -> Self {
        let mut starts: Vec<usize> = folded_starts.into_iter().collect();
        starts.sort_unstable();
        starts.dedup();
        let mut hidden: Vec<(usize, usize)> = Vec::new();
        let mut cum = vec![0];
        let mut vrow = Vec::new();
        let mut from = 0;
        for s in starts {
            let Some(i) = regions.index_from(from, s) else {
                continue;
            };
            from = i;
            let Some(r) = regions.regions.get(i).map(|p| p.unpack()) else {
                continue;
            };
            let end = r.end.min(total_lines.saturating_sub(1));
            if end <= s {
                continue;
            }
            if hidden.last().is_some_and(|&(_, b)| s <= b) {
                continue; // inside an already folded region
            }
            hidden.push((s + 1, end));
            let before = cum.last().copied().unwrap_or(0);
            vrow.push(s + 1 - before);
            cum.push(before + (end - s));
        }
        FoldMap {
            hidden,
            cum,
            vrow,
            total_lines,
        }
    }

    /// No folds.
    pub fn identity(total_lines: usize) -> Self {
        FoldMap {
            hidden: Vec::new(),
            cum: vec![0],
            vrow: Vec::new(),
            total_lines,
        }
    }

    fn total_hidden(&self) -> usize {
        self.cum.last().copied().unwrap_or(0)
    }

    /// Number of visible rows.
    pub fn row_count(&self) -> usize {
        self.total_lines.saturating_sub(self.total_hidden())
    }

    /// Body line shown at visible `row`.
    pub fn line_for_row(&self, row: usize) -> Option<usize> {
        if row >= self.row_count() {
            return None;
        }
        // vrow[i] is the row the first line after hidden range i lands on.
        let k = self.vrow.partition_point(|&v| v <= row);
        Some(row + self.cum.get(k).copied().unwrap_or(0))
    }

    /// Visible row of `line`; a hidden line maps to the row of its fold
    /// header. Lines past the end map past the last row.
    pub fn row_for_line(&self, line: usize) -> usize {
        let k = self.hidden.partition_point(|&(a, _)| a <= line);
        if k > 0
            && let Some(&(a, b)) = self.hidden.get(k - 1)
            && line <= b
        {
            let c = self.cum.get(k - 1).copied().unwrap_or(0);
            return (a - 1).saturating_sub(c);
        }
        line.saturating_sub(self.cum.get(k).copied().unwrap_or(0))
    }

    /// True if `line` is the header of a folded region (the UI shows `{…}`).
    pub fn is_folded_header(&self, line: usize) -> bool {
        let k = self.hidden.partition_point(|&(a, _)| a <= line + 1);
        k > 0 && self.hidden.get(k - 1).is_some_and(|&(a, _)| a == line + 1)
    }

    /// True if `line` is hidden inside a fold.
    pub fn is_hidden(&self, line: usize) -> bool {
        let k = self.hidden.partition_point(|&(a, _)| a <= line);
        k > 0 && self.hidden.get(k - 1).is_some_and(|&(_, b)| line <= b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view_body::pretty::pretty_json_body;

    #[test]
    fn regions_of_pretty_json() {
        let body = pretty_json_body(br#"{"a":[1,{"b":2}],"c":{},"d":{"e":[]}}"#).unwrap();
        // {            0
        //   "a": [     1
        //     1,       2
        //     {        3
        //       "b": 2 4
        //     }        5
        //   ],         6
        //   "c": {},   7
        //   "d": {     8
        //     "e": []  9
        //   }          10
        // }            11
        let fr = FoldRegions::compute(&body);
        let rs: Vec<(usize, usize, usize)> =
            fr.regions().map(|r| (r.start, r.end, r.depth)).collect();
        assert_eq!(rs, vec![(0, 11, 0), (1, 6, 1), (3, 5, 2), (8, 10, 1)]);
        let children: Vec<usize> = fr.regions().map(|r| r.children).collect();
        assert_eq!(fr.region_at(3).unwrap().parent, Some(1));
        assert_eq!(fr.index_from(0, 8), Some(3));
        assert_eq!(fr.index_from(2, 8), Some(3));
        assert_eq!(fr.index_from(0, 7), None);
        assert_eq!(children, vec![3, 2, 1, 1]);
        assert_eq!(fr.fold_all_at_depth(1), vec![1, 8]);
        assert_eq!(fr.innermost_containing(4).unwrap().start, 3);
        assert_eq!(fr.innermost_containing(7).unwrap().start, 0);
        assert_eq!(fr.innermost_containing(6).unwrap().start, 1);

        let fm = FoldMap::new(&fr, [1, 3, 8, 5], body.line_count());
        let rows: Vec<usize> = (0..fm.row_count())
            .filter_map(|r| fm.line_for_row(r))
            .collect();
        assert_eq!(rows, vec![0, 1, 7, 8, 11]);
        for (r, &l) in rows.iter().enumerate() {
            assert_eq!(fm.row_for_line(l), r);
        }
        assert_eq!(fm.row_for_line(4), 1);
        assert_eq!(fm.row_for_line(10), 3);
        assert!(fm.is_folded_header(1) && fm.is_folded_header(8) && !fm.is_folded_header(3));
        assert!(fm.is_hidden(2) && !fm.is_hidden(7));
        assert_eq!(fm.line_for_row(5), None);
        let id = FoldMap::identity(12);
        assert_eq!(id.line_for_row(11), Some(11));
        assert_eq!(id.row_for_line(11), 11);
    }
}
