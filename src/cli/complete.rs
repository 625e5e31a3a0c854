//! Shell completion: `fhirside completions SHELL` prints a small registration script that calls
//! fhirside back at each Tab (clap_complete's dynamic completion), so request paths,
//! environment and collection names come from the workspace the command line names, as it is
//! now — a static script could not know them.

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;

use clap_complete::engine::CompletionCandidate;
use clap_complete::env::{EnvCompleter, Shells};

use crate::workspace::Store;
use crate::workspace::location::resolve_workspace_dir;

/// The variable that switches the binary into completion mode.
pub const COMPLETE_VAR: &str = "COMPLETE";

/// Writes the registration script for `shell` (bash, zsh, fish, elvish, powershell).
pub fn registration(shell: &str, out: &mut dyn std::io::Write) -> Result<(), String> {
    let shells = Shells::builtins();
    let completer: &dyn EnvCompleter = shells
        .completer(shell)
        .ok_or_else(|| format!("unknown shell '{shell}'"))?;
    // The script calls back the binary by the name it was started with, as clap_complete's
    // own `COMPLETE=bash fhirside` does.
    let me = std::env::args_os()
        .next()
        .map(|a| a.to_string_lossy().into_owned())
        .unwrap_or_else(|| "fhirside".into());
    completer
        .write_registration(COMPLETE_VAR, "fhirside", "fhirside", &me, out)
        .map_err(|e| e.to_string())
}

/// Saved requests as `Collection/Folder/Request`.
pub fn requests(current: &OsStr) -> Vec<CompletionCandidate> {
    let names = with_workspace(|_, ws| {
        ws.all_requests()
            .iter()
            .map(|(p, _)| p.display())
            .collect::<Vec<_>>()
    });
    candidates(current, names)
}

/// Environment names.
pub fn environments(current: &OsStr) -> Vec<CompletionCandidate> {
    let names = with_workspace(|_, ws| ws.environments.iter().map(|e| e.name.clone()).collect());
    candidates(current, names)
}

/// Collection names.
pub fn collections(current: &OsStr) -> Vec<CompletionCandidate> {
    let names =
        with_workspace(|_, ws| ws.collections.iter().map(|c| c.root.name.clone()).collect());
    candidates(current, names)
}

fn with_workspace(f: impl Fn(&Store, &crate::workspace::Workspace) -> Vec<String>) -> Vec<String> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let given = workspace_in(std::env::args_os());
    let dir = resolve_workspace_dir(given.as_deref(), &cwd);
    if !dir.is_dir() {
        return Vec::new();
    }
    let (store, ws, _) = Store::load(&dir);
    f(&store, &ws)
}

/// The `--workspace DIR` (or `--workspace=DIR`) on the command line being completed.
fn workspace_in(args: impl IntoIterator<Item = OsString>) -> Option<PathBuf> {
    let mut found = None;
    let mut args = args.into_iter();
    while let Some(a) = args.next() {
        let s = a.to_string_lossy();
        if s == "--workspace" {
            found = args
                .next()
                .map(|v| PathBuf::from(unescape(&v.to_string_lossy()).1));
        } else if let Some(v) = s.strip_prefix("--workspace=") {
            found = Some(PathBuf::from(unescape(v).1));
        }
    }
    found
}

/// Candidates that start with what was typed. Bash inserts candidates as they are, so there
/// they come back escaped (`Azure\ FHIR\ service/…`, or inside the quote the user opened);
/// zsh, fish and the others quote by themselves.
fn candidates(current: &OsStr, names: Vec<String>) -> Vec<CompletionCandidate> {
    let bash = std::env::var_os("_CLAP_IFS").is_some();
    let typed = current.to_string_lossy();
    let (quote, wanted) = if bash {
        unescape(&typed)
    } else {
        (None, typed.to_string())
    };
    names
        .into_iter()
        .filter(|n| n.starts_with(&wanted))
        .map(|n| {
            let shown = match (bash, quote) {
                (false, _) => n,
                (true, Some(q)) => format!("{q}{n}{q}"),
                (true, None) => escape_for_bash(&n),
            };
            CompletionCandidate::new(shown)
        })
        .collect()
}

/// What a bash word means: an opening quote, if any, and the text without escapes.
fn unescape(word: &str) -> (Option<char>, String) {
    let (quote, rest) = match word.chars().next() {
        Some(q @ ('"' | '\'')) => (Some(q), &word[1..]),
        _ => (None, word),
    };
    if quote.is_some() {
        let rest = rest.strip_suffix(quote.unwrap_or('"')).unwrap_or(rest);
        return (quote, rest.to_string());
    }
    let mut out = String::with_capacity(rest.len());
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            c => out.push(c),
        }
    }
    (None, out)
}

fn escape_for_bash(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 8);
    for c in name.chars() {
        if matches!(
            c,
            ' ' | '\''
                | '"'
                | '\\'
                | '$'
                | '`'
                | '('
                | ')'
                | '&'
                | ';'
                | '|'
                | '<'
                | '>'
                | '*'
                | '?'
                | '['
                | ']'
                | '#'
                | '!'
                | '{'
                | '}'
                | '~'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn workspace_for(args: &[&str], cwd: &Path) -> PathBuf {
        let given = workspace_in(args.iter().map(OsString::from));
        resolve_workspace_dir(given.as_deref(), cwd)
    }

    #[test]
    fn the_workspace_comes_from_the_line_being_completed() {
        let cwd = Path::new("/nowhere");
        assert_eq!(
            workspace_for(
                &["fhirside", "--", "fhirside", "--workspace", "/w", "run"],
                cwd
            ),
            PathBuf::from("/w")
        );
        assert_eq!(
            workspace_for(&["fhirside", "run", "--workspace=/a\\ b"], cwd),
            PathBuf::from("/a b")
        );
    }

    #[test]
    fn bash_words_are_unescaped_and_candidates_escaped() {
        assert_eq!(unescape("Azure\\ FH"), (None, "Azure FH".into()));
        assert_eq!(unescape("\"Azure FH"), (Some('"'), "Azure FH".into()));
        assert_eq!(
            escape_for_bash("Azure FHIR service/List (all)"),
            "Azure\\ FHIR\\ service/List\\ \\(all\\)"
        );
    }
}
