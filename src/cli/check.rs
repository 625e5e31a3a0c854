//! `fhirside check`: a CI lint for a workspace kept in git. Every file is read by the same code
//! that reads it for real (environments, requests, collections, secrets, settings, keys.toml,
//! themes, jobs, the session), and each problem is printed as `file:line:column: message`.
//!
//! The keys and theme parsers live with the TUI (`app::keys_file`, `ui::theme_file`); they
//! are pure functions, called here so the lint cannot disagree with what fhirside does.

use std::path::Path;

use super::exit::{CliResult, Exit};
use super::out::{self, Stdout};
use crate::workspace::Store;

/// Every problem of the workspace at `root`, as lines.
pub fn problems(root: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let (store, ws, problems) = Store::load(root);
    found.extend(problems.iter().map(ToString::to_string));
    let (settings, problem) = crate::workspace::settings::load_settings(root);
    found.extend(problem);
    let (_, keys) = crate::tui::keys::file::load_keymap(&[root.to_path_buf()]);
    found.extend(keys.iter().map(ToString::to_string));
    let (themes, theme_problems) = crate::tui::style::theme_file::load_themes(&root.join("themes"));
    found.extend(theme_problems);
    if let Some(name) = &settings.theme
        && !themes.iter().any(|t| &t.name == name)
    {
        found.push(format!(
            "{}: theme '{name}' is neither built in nor in themes/",
            root.join(crate::workspace::settings::SETTINGS_FILE)
                .display()
        ));
    }
    let (_, _, jobs) = crate::workspace::jobs::JobStore::load(root);
    found.extend(jobs.iter().map(ToString::to_string));
    if let Err(e) = crate::tui::session::load_session(root) {
        found.push(e);
    }
    // Requests whose method is not an HTTP token (an import or a hand edit can put anything
    // there): sending them fails, and their name can hold escape sequences.
    for (path, r) in ws.all_requests() {
        if !is_token(&r.spec.method) {
            found.push(format!(
                "{}: method '{}' is not an HTTP method name",
                store.request_path(&path).display(),
                out::field(&r.spec.method)
            ));
        }
    }
    found
}

/// RFC 9110 `token`: the characters an HTTP method may have.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

pub fn run(root: &Path, stdout: &mut Stdout) -> CliResult {
    let found = problems(root);
    for p in &found {
        stdout.line(out::field(p))?;
    }
    stdout.flush()?;
    if found.is_empty() {
        out::note(format_args!("fhirside: {} has no problems", root.display()));
        Ok(Exit::Ok)
    } else {
        out::note(format_args!(
            "fhirside: {} problem{} in {}",
            found.len(),
            if found.len() == 1 { "" } else { "s" },
            root.display()
        ));
        Ok(Exit::Failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_are_tokens() {
        assert!(is_token("GET") && is_token("M-SEARCH"));
        assert!(!is_token("GET\u{1b}[2J") && !is_token("") && !is_token("GE T"));
    }
}
