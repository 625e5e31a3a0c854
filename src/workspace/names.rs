//! File and directory names for collections, folders and requests.
//!
//! A name shown to the user can be anything (a `/`, `CON`, `_collection`, 100 CJK characters);
//! the file it is stored in must be valid on every OS, must not collide with fhirside's own
//! files, and must not collide with a sibling on a case-insensitive file system. The real name
//! is kept inside the file; only the file name is derived here, deterministically, so the same
//! collection imported twice gets the same file names.

use std::collections::HashSet;

use sha2::{Digest, Sha256};

/// The longest file stem fhirside makes, in bytes. File names are limited to 255 bytes; the
/// rest is left for `.toml`, a ` 12` suffix and the temporary name of an atomic save
/// (`.NAME.toml.tmp-PID-RAND`).
pub const MAX_STEM_BYTES: usize = 180;

/// Stems fhirside uses for its own files inside a collection directory.
const RESERVED_STEMS: [&str; 2] = ["_collection", "_folder"];

/// Names Windows keeps for devices, with or without an extension (`CON`, `nul.txt`, `COM1`).
fn is_windows_device(stem: &str) -> bool {
    let base = stem.split('.').next().unwrap_or(stem).trim_end();
    let upper = base.to_ascii_uppercase();
    match upper.as_str() {
        "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$" => true,
        _ => {
            let digit = |t: &str| {
                (t.len() == 1 && t.as_bytes().first().is_some_and(u8::is_ascii_digit))
                    || matches!(t, "¹" | "²" | "³")
            };
            matches!(upper.get(..3), Some("COM" | "LPT")) && upper.get(3..).is_some_and(digit)
        }
    }
}

/// Whether `stem` must not be used as is: fhirside's own files or a Windows device name.
pub fn is_reserved(stem: &str) -> bool {
    let lower = stem.to_lowercase();
    RESERVED_STEMS.contains(&lower.as_str()) || is_windows_device(stem)
}

/// Turns a display name into a name that is safe as a file or directory on every OS: no path
/// separators or characters Windows refuses, no control characters, no leading or trailing
/// dots and spaces, not a reserved name, at most [`MAX_STEM_BYTES`] bytes (a long name is cut
/// and ends with a short hash of the whole name, so two long names that share a beginning
/// still differ).
pub fn file_safe_name(name: &str) -> String {
    let cleaned: String = name
        .trim()
        .chars()
        .map(|c| match c {
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' => '-',
            c if c.is_control() => '-',
            c => c,
        })
        .collect();
    let cleaned = cleaned
        .trim_matches(|c: char| c == '.' || c.is_whitespace())
        .to_string();
    let mut out = if cleaned.is_empty() {
        "untitled".to_string()
    } else {
        cleaned
    };
    if out.len() > MAX_STEM_BYTES {
        let hash = Sha256::digest(name.as_bytes());
        let tag: String = hash.iter().take(4).map(|b| format!("{b:02x}")).collect();
        let mut cut = MAX_STEM_BYTES - tag.len() - 1;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        let trimmed_len = out.trim_end_matches(['.', ' ']).len();
        out.truncate(trimmed_len);
        out.push('~');
        out.push_str(&tag);
    }
    if is_reserved(&out) {
        // After the part before the first dot: `con.json` is a device name on Windows too.
        let at = out.find('.').unwrap_or(out.len());
        out.insert(at, '_');
    }
    out
}

/// How two sibling names compare on a case-insensitive file system.
pub fn fold_case(name: &str) -> String {
    name.to_lowercase()
}

/// Hands out unique sibling names in one directory: `name`, `name 2`, `name 3`… compared
/// case-insensitively, in O(1) per name (a collection with 23,000 requests in one folder must
/// not cost 23,000² comparisons).
#[derive(Debug, Default, Clone)]
pub struct SiblingNames {
    taken: HashSet<String>,
}

impl SiblingNames {
    pub fn new() -> Self {
        Self::default()
    }

    /// Marks an existing name as used.
    pub fn insert(&mut self, name: &str) {
        self.taken.insert(fold_case(name));
    }

    pub fn contains(&self, name: &str) -> bool {
        self.taken.contains(&fold_case(name))
    }

    /// A free file-safe name derived from `display`, now marked as used.
    pub fn allocate(&mut self, display: &str) -> String {
        let base = file_safe_name(display);
        let name = if self.contains(&base) {
            (2u64..)
                .map(|i| format!("{base} {i}"))
                .find(|n| !self.contains(n))
                .unwrap_or(base)
        } else {
            base
        };
        self.insert(&name);
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators_controls_and_dots() {
        assert_eq!(file_safe_name("a/b: c"), "a-b- c");
        assert_eq!(file_safe_name("  .. "), "untitled");
        assert_eq!(file_safe_name("."), "untitled");
        assert_eq!(file_safe_name(".hidden."), "hidden");
        assert_eq!(file_safe_name("Zoë"), "Zoë");
        assert_eq!(file_safe_name("GET\u{1b}[2J"), "GET-[2J");
    }

    #[test]
    fn reserved_names_get_a_suffix() {
        for name in [
            "_collection",
            "_Folder",
            "CON",
            "con.json",
            "LPT1",
            "nul",
            "COM9",
        ] {
            let safe = file_safe_name(name);
            assert_ne!(safe.to_lowercase(), name.to_lowercase(), "{name}");
            assert!(!is_reserved(&safe), "{name} → {safe}");
        }
        assert_eq!(file_safe_name("CONSENT"), "CONSENT");
        assert_eq!(file_safe_name("COM10"), "COM10");
    }

    #[test]
    fn long_names_are_cut_stably_and_stay_distinct() {
        let a = "患".repeat(100); // 300 bytes
        let b = format!("{}者", "患".repeat(99));
        let sa = file_safe_name(&a);
        assert!(sa.len() <= MAX_STEM_BYTES, "{}", sa.len());
        assert_eq!(sa, file_safe_name(&a), "stable");
        assert_ne!(sa, file_safe_name(&b), "distinct");
        assert!(sa.is_char_boundary(sa.len()));
    }

    #[test]
    fn siblings_differ_case_insensitively() {
        let mut n = SiblingNames::new();
        assert_eq!(n.allocate("Patient"), "Patient");
        assert_eq!(n.allocate("patient"), "patient 2");
        assert_eq!(n.allocate("a/b"), "a-b");
        assert_eq!(n.allocate("a:b"), "a-b 2");
        assert_eq!(n.allocate("_collection"), "_collection_");
    }
}
