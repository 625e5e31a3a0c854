//! A small fuzzy matcher for the command palette: the pattern's characters must appear in order;
//! matches at word starts and runs of consecutive characters score higher.

/// Score of `pattern` against `text` (higher is better), or `None` when it does not match.
pub fn score(pattern: &str, text: &str) -> Option<i64> {
    let pattern: Vec<char> = pattern
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect();
    if pattern.is_empty() {
        return Some(0);
    }
    let chars: Vec<char> = text.chars().collect();
    let mut score = 0i64;
    let mut pi = 0;
    let mut prev_match: Option<usize> = None;
    for (i, c) in chars.iter().enumerate() {
        if pi == pattern.len() {
            break;
        }
        if c.to_lowercase().eq(std::iter::once(pattern[pi])) {
            let word_start = i == 0 || matches!(chars[i - 1], ' ' | '/' | '-' | '_' | '.' | ':');
            score += 1;
            if word_start {
                score += 8;
            }
            if prev_match == Some(i.wrapping_sub(1)) {
                score += 5;
            }
            prev_match = Some(i);
            pi += 1;
        }
    }
    (pi == pattern.len()).then(|| score * 100 - chars.len() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subsequence_matches_and_ranks_word_starts() {
        assert!(score("lp", "List patients").is_some());
        assert!(score("xyz", "List patients").is_none());
        let a = score("pat", "Azure/List patients").unwrap();
        let b = score("pat", "Azure/Capability statement").unwrap_or(i64::MIN);
        assert!(a > b);
        assert_eq!(score("", "anything"), Some(0));
    }
}
