//! `keys.toml`: the user's key bindings, one table per context with `action = keys` lines.
//!
//! ```toml
//! [global]
//! send = ["ctrl-r", "f5"]
//! [response]
//! search = "/"
//! ```
//!
//! fhirside reads the user-level file (`~/.config/fhirside/keys.toml`) and then the
//! workspace's, the workspace winning. A file with any mistake is reported with its line and
//! column and skipped as a whole (the defaults stay), and it is never written to.

use std::borrow::Cow;
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::action::Action;
use super::bindings::{BINDINGS, Ctx, parse_key};
use super::keymap::{Keymap, Origin, Override};
use crate::tui::style::theme_file::{closest, shown};
use crate::workspace::LoadProblem;
use crate::workspace::store::line_col;

pub const KEYS_FILE: &str = "keys.toml";

const KEY_HINT: &str = "write keys like ctrl-r, alt-x, G, f5, enter, space or pagedown";

/// What is wrong with one entry of a keys file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeysFileError {
    #[error("not valid TOML: {0}")]
    Syntax(String),
    #[error("{0} is not a section: start one with a line like [global] or [response]")]
    NotASection(String),
    #[error("unknown section [{name}] ({hint})")]
    UnknownContext { name: String, hint: String },
    #[error("unknown action {name} in [{ctx}] ({hint})")]
    UnknownAction {
        ctx: &'static str,
        name: String,
        hint: String,
    },
    #[error("{action} has no key in [{ctx}]; it can be bound in {places}")]
    NotInContext {
        ctx: &'static str,
        action: String,
        places: String,
    },
    #[error("[{ctx}] {action}: '{text}' is not a key ({KEY_HINT})")]
    BadKey {
        ctx: &'static str,
        action: String,
        text: String,
    },
    #[error("[{ctx}] {action}: expected a key like \"ctrl-r\" or a list like [\"ctrl-r\", \"f5\"]")]
    WrongType { ctx: &'static str, action: String },
    #[error("cannot read: {0}")]
    Read(String),
}

/// A mistake in a keys file and where it is (line and column are 1-based, in characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeysProblem {
    pub file: PathBuf,
    pub position: Option<(usize, usize)>,
    pub error: KeysFileError,
}

impl std::fmt::Display for KeysProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some((l, c)) = self.position {
            write!(f, ":{l}:{c}")?;
        }
        write!(f, ": {}", self.error)
    }
}

impl From<KeysProblem> for LoadProblem {
    fn from(p: KeysProblem) -> Self {
        LoadProblem {
            path: p.file,
            line: p.position.map(|(l, _)| l),
            column: p.position.map(|(_, c)| c),
            message: p.error.to_string(),
        }
    }
}

struct Reader<'a> {
    file: &'a Path,
    text: &'a str,
    problems: Vec<KeysProblem>,
}

impl Reader<'_> {
    fn report(&mut self, span: Range<usize>, error: KeysFileError) {
        self.problems.push(KeysProblem {
            file: self.file.to_path_buf(),
            position: Some(line_col(self.text, span.start)),
            error,
        });
    }
}

type Entry<'t, 'i> = (&'t Spanned<Cow<'i, str>>, &'t Spanned<DeValue<'i>>);

/// Table entries in file order, so problems are listed top to bottom.
fn in_file_order<'t, 'i>(table: &'t DeTable<'i>) -> Vec<Entry<'t, 'i>> {
    let mut entries: Vec<_> = table.iter().collect();
    entries.sort_by_key(|(k, _)| k.span().start);
    entries
}

/// Parses a keys file. `layer` orders files for conflicts (0 user-level, 1 workspace). Returns
/// every problem found, in file order, when there is any.
pub fn parse_keys(
    file: &Path,
    layer: usize,
    text: &str,
) -> Result<Vec<Override>, Vec<KeysProblem>> {
    let root = match DeTable::parse(text) {
        Ok(root) => root,
        Err(e) => {
            return Err(vec![KeysProblem {
                file: file.to_path_buf(),
                position: Some(line_col(text, e.span().map(|s| s.start).unwrap_or(0))),
                error: KeysFileError::Syntax(e.message().trim().to_string()),
            }]);
        }
    };
    let mut r = Reader {
        file,
        text,
        problems: Vec::new(),
    };
    let mut overrides = Vec::new();
    for (section, value) in in_file_order(root.get_ref()) {
        let name: &str = section.get_ref();
        let DeValue::Table(table) = value.get_ref() else {
            r.report(section.span(), KeysFileError::NotASection(shown(name)));
            continue;
        };
        let Some(ctx) = Ctx::ALL.into_iter().find(|c| c.name() == name) else {
            let hint = match closest(name, Ctx::ALL.iter().map(|c| c.name())) {
                Some(k) => format!("did you mean [{k}]?"),
                None => format!(
                    "sections are {}",
                    Ctx::ALL
                        .iter()
                        .map(|c| format!("[{}]", c.name()))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            r.report(
                section.span(),
                KeysFileError::UnknownContext {
                    name: shown(name),
                    hint,
                },
            );
            continue;
        };
        for (action_key, keys) in in_file_order(table) {
            if let Some(o) = read_entry(&mut r, ctx, action_key, keys, layer) {
                overrides.push(o);
            }
        }
    }
    if r.problems.is_empty() {
        Ok(overrides)
    } else {
        Err(r.problems)
    }
}

/// The actions bound somewhere in the default table, each once, in table order.
fn known_actions() -> Vec<(Action, String)> {
    let mut out: Vec<(Action, String)> = Vec::new();
    for b in BINDINGS {
        if !out.iter().any(|(a, _)| *a == b.action) {
            out.push((b.action, b.action.name()));
        }
    }
    out
}

fn read_entry(
    r: &mut Reader<'_>,
    ctx: Ctx,
    action_key: &Spanned<Cow<'_, str>>,
    keys: &Spanned<DeValue<'_>>,
    layer: usize,
) -> Option<Override> {
    let name: &str = action_key.get_ref();
    let actions = known_actions();
    let Some(action) = actions.iter().find(|(_, n)| n == name).map(|(a, _)| *a) else {
        let hint = match closest(name, actions.iter().map(|(_, n)| n.as_str())) {
            Some(k) => format!("did you mean {k}?"),
            None => "the README lists the action names under Remapping keys".into(),
        };
        r.report(
            action_key.span(),
            KeysFileError::UnknownAction {
                ctx: ctx.name(),
                name: shown(name),
                hint,
            },
        );
        return None;
    };
    if !BINDINGS.iter().any(|b| b.ctx == ctx && b.action == action) {
        let places: Vec<String> = Ctx::ALL
            .iter()
            .filter(|c| BINDINGS.iter().any(|b| b.ctx == **c && b.action == action))
            .map(|c| format!("[{}]", c.name()))
            .collect();
        r.report(
            action_key.span(),
            KeysFileError::NotInContext {
                ctx: ctx.name(),
                action: name.to_string(),
                places: places.join(", "),
            },
        );
        return None;
    }
    let items: Vec<&Spanned<DeValue<'_>>> = match keys.get_ref() {
        DeValue::String(_) => vec![keys],
        DeValue::Array(items) => items.iter().collect(),
        _ => {
            r.report(
                keys.span(),
                KeysFileError::WrongType {
                    ctx: ctx.name(),
                    action: name.to_string(),
                },
            );
            return None;
        }
    };
    let mut parsed = Vec::new();
    let mut ok = true;
    for item in items {
        let DeValue::String(text) = item.get_ref() else {
            r.report(
                item.span(),
                KeysFileError::WrongType {
                    ctx: ctx.name(),
                    action: name.to_string(),
                },
            );
            ok = false;
            continue;
        };
        match parse_key(text) {
            Some(k) => parsed.push(k),
            None => {
                r.report(
                    item.span(),
                    KeysFileError::BadKey {
                        ctx: ctx.name(),
                        action: name.to_string(),
                        text: shown(text),
                    },
                );
                ok = false;
            }
        }
    }
    let (line, column) = line_col(r.text, action_key.span().start);
    ok.then(|| Override {
        ctx,
        action,
        keys: parsed,
        origin: Origin {
            file: r.file.to_path_buf(),
            line,
            column,
            layer,
        },
    })
}

/// Reads `keys.toml` from each folder in order (later folders win) and builds the keymap. A
/// missing file is fine; a broken one is reported and skipped. A folder given twice is read once.
pub fn load_keymap(dirs: &[PathBuf]) -> (Keymap, Vec<KeysProblem>) {
    let mut overrides = Vec::new();
    let mut problems = Vec::new();
    let mut seen: Vec<PathBuf> = Vec::new();
    for (layer, dir) in dirs.iter().enumerate() {
        let file = dir.join(KEYS_FILE);
        let same = std::fs::canonicalize(&file).unwrap_or_else(|_| file.clone());
        if seen.contains(&same) {
            continue;
        }
        seen.push(same);
        let text = match std::fs::read_to_string(&file) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                problems.push(KeysProblem {
                    file,
                    position: None,
                    error: KeysFileError::Read(e.to_string()),
                });
                continue;
            }
        };
        match parse_keys(&file, layer, &text) {
            Ok(o) => overrides.extend(o),
            Err(p) => problems.extend(p),
        }
    }
    (Keymap::build(&overrides), problems)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(text: &str) -> Result<Vec<Override>, Vec<String>> {
        parse_keys(Path::new("ws/keys.toml"), 1, text)
            .map_err(|ps| ps.iter().map(|p| p.to_string()).collect())
    }

    #[test]
    fn sections_actions_and_keys_are_read() {
        let o =
            parse("[global]\nsend = [\"ctrl-r\", \"F9\"]\n[response]\nsearch = \"/\"\n").unwrap();
        assert_eq!(o.len(), 2);
        assert_eq!((o[0].ctx, o[0].action), (Ctx::Global, Action::Send));
        assert_eq!(o[0].keys, vec!["ctrl-r", "f9"]);
        assert_eq!((o[0].origin.line, o[0].origin.column), (2, 1));
        assert_eq!((o[1].ctx, o[1].action), (Ctx::Response, Action::Search));
        assert_eq!(o[1].keys, vec!["/"]);
        assert_eq!(o[1].origin.line, 4);
        assert!(parse("").unwrap().is_empty());
        assert!(parse("[global]\n").unwrap().is_empty());
    }

    #[test]
    fn every_context_and_bound_action_can_be_written() {
        for b in BINDINGS {
            let text = format!("[{}]\n{} = {:?}\n", b.ctx.name(), b.action.name(), b.keys);
            let o = parse(&text).unwrap_or_else(|e| panic!("{text}: {e:?}"));
            assert_eq!(o[0].action, b.action);
            assert_eq!(o[0].keys, b.keys);
        }
    }

    #[test]
    fn syntax_errors_name_file_line_and_column() {
        let e = parse("[global]\nsend = \"ctrl-r\n").unwrap_err();
        assert_eq!(e.len(), 1);
        assert!(e[0].starts_with("ws/keys.toml:2:"), "{e:?}");
        assert!(e[0].contains("not valid TOML"), "{e:?}");
        let dup = parse("[global]\nsend = \"x\"\nsend = \"y\"\n").unwrap_err();
        assert!(dup[0].starts_with("ws/keys.toml:3:1:"), "{dup:?}");
    }

    #[test]
    fn unknown_sections_actions_and_keys_are_explained_where_they_are() {
        let e = parse("[globl]\nsend = \"x\"\n").unwrap_err();
        assert_eq!(
            e,
            vec!["ws/keys.toml:1:2: unknown section [globl] (did you mean [global]?)"]
        );
        let e = parse("[global]\n  sned = \"x\"\n").unwrap_err();
        assert_eq!(
            e,
            vec!["ws/keys.toml:2:3: unknown action sned in [global] (did you mean send?)"]
        );
        let e = parse("[response]\nsend = \"x\"\n").unwrap_err();
        assert_eq!(
            e,
            vec![
                "ws/keys.toml:2:1: send has no key in [response]; it can be bound in [global], [export_form]"
            ]
        );
        let e = parse("[global]\nsend = [\"ctrl-r\", \"ctrl+s\"]\n").unwrap_err();
        assert_eq!(
            e,
            vec![format!(
                "ws/keys.toml:2:19: [global] send: 'ctrl+s' is not a key ({KEY_HINT})"
            )]
        );
        let e = parse("[global]\nsend = 5\nsave = [true]\n").unwrap_err();
        assert_eq!(e.len(), 2);
        assert!(e[0].starts_with("ws/keys.toml:2:8: [global] send: expected a key"));
        assert!(e[1].starts_with("ws/keys.toml:3:9: [global] save: expected a key"));
        let e = parse("send = \"x\"\n").unwrap_err();
        assert!(
            e[0].starts_with("ws/keys.toml:1:1: send is not a section"),
            "{e:?}"
        );
    }

    #[test]
    fn problems_become_load_problems_with_positions() {
        let p: LoadProblem = parse_keys(Path::new("k.toml"), 0, "[x]\n")
            .unwrap_err()
            .remove(0)
            .into();
        assert_eq!((p.line, p.column), (Some(1), Some(2)));
        assert!(p.to_string().starts_with("k.toml:1:2: unknown section [x]"));
    }

    #[test]
    fn a_broken_file_is_skipped_whole_and_left_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let text = "[global]\nsend = \"f9\"\nsave = \"nonsense-key\"\n";
        std::fs::write(dir.path().join(KEYS_FILE), text).unwrap();
        let (map, problems) = load_keymap(&[dir.path().to_path_buf()]);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].position, Some((3, 8)));
        assert_eq!(map, Keymap::default(), "nothing of a broken file is used");
        assert_eq!(
            std::fs::read_to_string(dir.path().join(KEYS_FILE)).unwrap(),
            text
        );
    }

    #[test]
    fn the_workspace_file_is_read_after_the_user_level_one() {
        let user = tempfile::tempdir().unwrap();
        let ws = tempfile::tempdir().unwrap();
        std::fs::write(
            user.path().join(KEYS_FILE),
            "[global]\nsend = \"f7\"\nsave = \"f8\"\n",
        )
        .unwrap();
        std::fs::write(ws.path().join(KEYS_FILE), "[global]\nsend = \"f9\"\n").unwrap();
        let (map, problems) = load_keymap(&[user.path().to_path_buf(), ws.path().to_path_buf()]);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(map.lookup_name(Ctx::Global, "f9"), Some(Action::Send));
        assert_eq!(map.lookup_name(Ctx::Global, "f7"), None);
        assert_eq!(map.lookup_name(Ctx::Global, "f8"), Some(Action::Save));
        // The same folder twice (the workspace is the user folder) is read once: no conflicts.
        let (_, problems) = load_keymap(&[ws.path().to_path_buf(), ws.path().to_path_buf()]);
        assert!(problems.is_empty());
    }

    /// The README's remapping section is generated from the table and its example works.
    mod readme {
        use super::*;

        const README: &str = include_str!("../../../README.md");

        #[test]
        fn readme_lists_every_action_name_by_section() {
            for ctx in Ctx::ALL {
                let mut names: Vec<String> = Vec::new();
                for b in BINDINGS.iter().filter(|b| b.ctx == ctx) {
                    let name = format!("`{}`", b.action.name());
                    if !names.contains(&name) {
                        names.push(name);
                    }
                }
                let line = format!("| `[{}]` | {} |", ctx.name(), names.join(", "));
                assert!(
                    README.contains(&line),
                    "README.md lacks {line} (run python3 scripts/gen_readme_keys.py)"
                );
            }
        }

        #[test]
        fn the_readme_example_loads_without_problems_or_conflicts() {
            let section = &README[README.find("### Remapping keys").unwrap()..];
            let start = section.find("```toml\n").unwrap() + "```toml\n".len();
            let example = &section[start..start + section[start..].find("```").unwrap()];
            let overrides = parse_keys(Path::new("keys.toml"), 1, example).unwrap();
            let map = Keymap::build(&overrides);
            assert!(map.conflicts().is_empty(), "{:?}", map.conflicts());
            assert_eq!(map.lookup_name(Ctx::Global, "f9"), Some(Action::Send));
            assert_eq!(map.lookup_name(Ctx::Global, "f5"), None);
            assert_eq!(map.lookup_name(Ctx::Global, "q"), None);
            assert_eq!(
                map.lookup_name(Ctx::Response, "ctrl-f"),
                Some(Action::Search)
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn any_text_loads_without_panicking(text in "\\PC*") {
            let _ = parse_keys(Path::new("keys.toml"), 1, &text);
        }

        #[test]
        fn toml_shaped_text_loads_without_panicking(
            lines in proptest::collection::vec(
                prop_oneof![
                    "\\[[a-z_]{0,12}\\]",
                    "[a-z_]{0,16} = \"[ -~]{0,10}\"",
                    "[a-z_]{0,16} = \\[(\"[ -~]{0,8}\", ?){0,3}\\]",
                    "[a-z_]{0,16} = [0-9a-z\\[\\]{}\"=., ]{0,12}",
                    "\\PC{0,20}",
                ],
                0..12,
            )
        ) {
            let text = lines.join("\n");
            if let Ok(overrides) = parse_keys(Path::new("keys.toml"), 1, &text) {
                // Whatever was accepted builds a keymap that answers lookups.
                let map = Keymap::build(&overrides);
                for ctx in Ctx::ALL {
                    let _ = map.hints(ctx);
                    let _ = map.lookup_name(ctx, "x");
                }
            }
        }
    }
}
