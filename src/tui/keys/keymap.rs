//! The effective keymap: the defaults of [`BINDINGS`] with the user's `keys.toml` overrides laid
//! over them. Key dispatch, the help overlay and the status-bar hints all read this one value,
//! so what the screen says is what the keys do.
//!
//! Conflicts are settled the same way every time and reported, never refused:
//! - two actions with one key in one context: a key the user set beats a default one; between
//!   two keys the user set, the later file (workspace over user-level) and then the earlier line
//!   wins. The loser keeps its other keys.
//! - a pane key shadowing a `Global` key where the user set either of them: the pane key wins in
//!   that pane (as it always does); the global key still works everywhere else.

use std::fmt;
use std::path::PathBuf;

use crossterm::event::KeyEvent;

use super::action::Action;
use super::bindings::{BINDINGS, Binding, Ctx, key_name};

/// Where a user binding was written: the file and the 1-based line and column of its action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    /// 0 for the user-level file, 1 for the workspace's: the later layer wins.
    pub layer: usize,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

/// One `action = keys` entry of a keys file, already checked: the action is bound in `ctx` by
/// default and every key is in canonical form (see [`super::bindings::parse_key`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    pub ctx: Ctx,
    pub action: Action,
    pub keys: Vec<String>,
    pub origin: Origin,
}

/// A key wanted by two actions, and how it was settled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conflict {
    /// Two actions of one context bound to one key: `winner` keeps it, `loser` lost it.
    Clash {
        ctx: Ctx,
        key: String,
        winner: Action,
        winner_origin: Option<Origin>,
        loser: Action,
        loser_origin: Option<Origin>,
        /// The keys the loser still has (empty: it is now unbound in that context).
        loser_keys: Vec<String>,
    },
    /// A pane key hides a `Global` key while that pane has focus.
    Shadow {
        pane: Ctx,
        key: String,
        pane_action: Action,
        pane_origin: Option<Origin>,
        global_action: Action,
        global_origin: Option<Origin>,
    },
}

fn from(origin: &Option<Origin>) -> String {
    match origin {
        Some(o) => format!("set at {o}"),
        None => "default".into(),
    }
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Conflict::Clash {
                ctx,
                key,
                winner,
                winner_origin,
                loser,
                loser_origin,
                loser_keys,
            } => {
                write!(
                    f,
                    "[{}] {key} is bound to both {} ({}) and {} ({}): {} wins; ",
                    ctx.name(),
                    winner.name(),
                    from(winner_origin),
                    loser.name(),
                    from(loser_origin),
                    winner.name(),
                )?;
                if loser_keys.is_empty() {
                    write!(f, "{} has no key left there", loser.name())
                } else {
                    write!(f, "{} keeps {}", loser.name(), loser_keys.join(", "))
                }
            }
            Conflict::Shadow {
                pane,
                key,
                pane_action,
                pane_origin,
                global_action,
                global_origin,
            } => write!(
                f,
                "{key} is {} in [{}] ({}) and {} in [global] ({}): in the {} the pane's {} wins",
                pane_action.name(),
                pane.name(),
                from(pane_origin),
                global_action.name(),
                from(global_origin),
                pane.title(),
                pane_action.name(),
            ),
        }
    }
}

/// The keys in force for every row of [`BINDINGS`], and the conflicts met building them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    /// Parallel to `BINDINGS`.
    rows: Vec<Row>,
    conflicts: Vec<Conflict>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Row {
    keys: Vec<String>,
    /// `None`: the default keys.
    set_by: Option<Origin>,
}

impl Default for Keymap {
    fn default() -> Self {
        Keymap::build(&[])
    }
}

/// Which of two bindings of one key keeps it: user-set over default, then the later layer, then
/// the earlier line. `true` when `a` wins over `b`.
fn beats(a: &Option<Origin>, b: &Option<Origin>) -> bool {
    match (a, b) {
        (Some(_), None) => true,
        (None, _) => false,
        (Some(a), Some(b)) => {
            a.layer > b.layer || (a.layer == b.layer && (a.line, a.column) < (b.line, b.column))
        }
    }
}

impl Keymap {
    /// The defaults with `overrides` applied in order (a later override of the same action in
    /// the same context replaces an earlier one), then conflicts settled and recorded.
    pub fn build(overrides: &[Override]) -> Keymap {
        let mut rows: Vec<Row> = BINDINGS
            .iter()
            .map(|b| Row {
                keys: b.keys.iter().map(|k| k.to_string()).collect(),
                set_by: None,
            })
            .collect();
        for o in overrides {
            if let Some(i) = BINDINGS
                .iter()
                .position(|b| b.ctx == o.ctx && b.action == o.action)
            {
                let mut keys: Vec<String> = Vec::new();
                for k in &o.keys {
                    if !keys.contains(k) {
                        keys.push(k.clone());
                    }
                }
                rows[i] = Row {
                    keys,
                    set_by: Some(o.origin.clone()),
                };
            }
        }
        let mut conflicts = Vec::new();
        settle_clashes(&mut rows, &mut conflicts);
        find_shadows(&rows, &mut conflicts);
        Keymap { rows, conflicts }
    }

    /// What was settled while building, in a stable order, for the start-up report.
    pub fn conflicts(&self) -> &[Conflict] {
        &self.conflicts
    }

    /// Every binding with the keys in force for it, in table order.
    pub fn bindings(&self) -> impl Iterator<Item = (&'static Binding, &[String])> {
        BINDINGS
            .iter()
            .zip(&self.rows)
            .map(|(b, r)| (b, r.keys.as_slice()))
    }

    /// The action `key` triggers in `ctx`, falling back to the global bindings.
    pub fn lookup(&self, ctx: Ctx, key: &KeyEvent) -> Option<Action> {
        self.lookup_name(ctx, &key_name(key))
    }

    /// Like [`Keymap::lookup`], for a key already named by [`key_name`].
    pub fn lookup_name(&self, ctx: Ctx, name: &str) -> Option<Action> {
        let find = |c: Ctx| {
            self.bindings()
                .find(|(b, keys)| b.ctx == c && keys.iter().any(|k| k == name))
                .map(|(b, _)| b.action)
        };
        find(ctx).or_else(|| {
            if ctx.falls_back_to_global() {
                find(Ctx::Global)
            } else {
                None
            }
        })
    }

    /// The global action of a key pressed while the URL or body is being edited. Only keys that
    /// do not type text (ctrl- chords and function keys) act there, so a letter bound to an
    /// action still types that letter into the field.
    pub fn in_text_editor(&self, name: &str) -> Option<Action> {
        let function_key = name
            .strip_prefix('f')
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        if name.starts_with("ctrl-") || function_key {
            self.lookup_name(Ctx::Global, name)
        } else {
            None
        }
    }

    /// The first key in force for `action` in `ctx` (for messages that name a key).
    pub fn first_key(&self, ctx: Ctx, action: Action) -> Option<&str> {
        self.bindings()
            .find(|(b, _)| b.ctx == ctx && b.action == action)
            .and_then(|(_, keys)| keys.first())
            .map(String::as_str)
    }

    /// The first key of `action` in `ctx` itself, named as hints name it (`Ctrl-N`): for
    /// comparing with [`Keymap::hints`] and showing beside a command.
    pub fn label(&self, ctx: Ctx, action: Action) -> Option<String> {
        self.first_key(ctx, action).map(key_label)
    }

    /// The first key in force for `action` in `ctx` as a message names it (`Ctrl-R`, `Esc`,
    /// `J`), looked up as a key press is (the context, the one it falls back to, global);
    /// "the palette" when the action was left without a key.
    pub fn say(&self, ctx: Ctx, action: Action) -> String {
        match self.key_in_force(ctx, action) {
            Some(k) => key_label(k),
            None => "the palette (Ctrl-P)".into(),
        }
    }

    /// The first key in force for each of `actions` as messages name them, joined by `/`
    /// (`j/k`); actions left without a key are skipped, so a hint never names a dead key.
    pub fn labels(&self, ctx: Ctx, actions: &[Action]) -> String {
        actions
            .iter()
            .filter_map(|a| self.key_in_force(ctx, *a))
            .map(key_label)
            .collect::<Vec<_>>()
            .join("/")
    }

    /// The key a press of which would reach `action` in `ctx`, as [`Keymap::lookup`] and the
    /// input loop's fallback find it.
    fn key_in_force(&self, ctx: Ctx, action: Action) -> Option<&str> {
        self.first_key(ctx, action)
            .or_else(|| {
                ctx.falls_back_to()
                    .and_then(|c| self.key_in_force(c, action))
            })
            .or_else(|| {
                ctx.falls_back_to_global()
                    .then(|| self.first_key(Ctx::Global, action))
                    .flatten()
            })
    }

    /// Short hints for the status bar: the context's hinted bindings, then global ones, each
    /// with its first key in force, named as messages name it (`Ctrl-R`, `PgDn`); an action
    /// left without keys is not hinted.
    pub fn hints(&self, ctx: Ctx) -> Vec<(String, &'static str)> {
        let hinted = |c: Ctx| {
            self.bindings()
                .filter(move |(b, keys)| !b.hint.is_empty() && b.ctx == c && !keys.is_empty())
                .map(|(b, keys)| (key_label(&keys[0]), b.hint))
        };
        let mut out: Vec<_> = hinted(ctx).collect();
        if ctx.falls_back_to_global() {
            out.extend(hinted(Ctx::Global));
        }
        out
    }
}

/// Gives each key of a context to one action, recording who lost it.
fn settle_clashes(rows: &mut [Row], conflicts: &mut Vec<Conflict>) {
    for ctx in Ctx::ALL {
        let in_ctx: Vec<usize> = (0..rows.len())
            .filter(|&i| BINDINGS[i].ctx == ctx)
            .collect();
        let mut keys: Vec<String> = Vec::new();
        for &i in &in_ctx {
            for k in &rows[i].keys {
                if !keys.contains(k) {
                    keys.push(k.clone());
                }
            }
        }
        for key in keys {
            let holders: Vec<usize> = in_ctx
                .iter()
                .copied()
                .filter(|&i| rows[i].keys.contains(&key))
                .collect();
            let Some(&first) = holders.first() else {
                continue;
            };
            let winner = holders.iter().copied().fold(first, |w, i| {
                if beats(&rows[i].set_by, &rows[w].set_by) {
                    i
                } else {
                    w
                }
            });
            for &loser in holders.iter().filter(|&&i| i != winner) {
                rows[loser].keys.retain(|k| k != &key);
                conflicts.push(Conflict::Clash {
                    ctx,
                    key: key.clone(),
                    winner: BINDINGS[winner].action,
                    winner_origin: rows[winner].set_by.clone(),
                    loser: BINDINGS[loser].action,
                    loser_origin: rows[loser].set_by.clone(),
                    loser_keys: rows[loser].keys.clone(),
                });
            }
        }
    }
}

/// Records pane keys that hide a global key, when the user set either of the two.
fn find_shadows(rows: &[Row], conflicts: &mut Vec<Conflict>) {
    let global: Vec<usize> = (0..rows.len())
        .filter(|&i| BINDINGS[i].ctx == Ctx::Global)
        .collect();
    for pane in Ctx::ALL.into_iter().filter(|c| c.falls_back_to_global()) {
        for (i, row) in rows.iter().enumerate() {
            if BINDINGS[i].ctx != pane {
                continue;
            }
            for key in &row.keys {
                for &g in &global {
                    let user_set = row.set_by.is_some() || rows[g].set_by.is_some();
                    if user_set
                        && BINDINGS[g].action != BINDINGS[i].action
                        && rows[g].keys.contains(key)
                    {
                        conflicts.push(Conflict::Shadow {
                            pane,
                            key: key.clone(),
                            pane_action: BINDINGS[i].action,
                            pane_origin: row.set_by.clone(),
                            global_action: BINDINGS[g].action,
                            global_origin: rows[g].set_by.clone(),
                        });
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyCode, KeyModifiers};

    fn press(code: KeyCode, m: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, m)
    }

    fn set(ctx: Ctx, action: Action, keys: &[&str], layer: usize, line: usize) -> Override {
        Override {
            ctx,
            action,
            keys: keys.iter().map(|k| k.to_string()).collect(),
            origin: Origin {
                file: PathBuf::from("keys.toml"),
                line,
                column: 1,
                layer,
            },
        }
    }

    #[test]
    fn defaults_have_no_conflicts_and_pane_keys_win_over_global_ones() {
        let map = Keymap::default();
        assert!(map.conflicts().is_empty(), "{:?}", map.conflicts());
        let enter = press(KeyCode::Enter, KeyModifiers::NONE);
        assert_eq!(map.lookup(Ctx::Collections, &enter), Some(Action::Activate));
        assert_eq!(map.lookup(Ctx::Request, &enter), Some(Action::Edit));
        let j = press(KeyCode::Char('j'), KeyModifiers::NONE);
        assert_eq!(map.lookup(Ctx::Response, &j), Some(Action::Down));
        assert_eq!(map.lookup(Ctx::EnvEditor, &j), Some(Action::Down));
        let r = press(KeyCode::Char('r'), KeyModifiers::NONE);
        assert_eq!(
            map.lookup(Ctx::EnvEditor, &r),
            None,
            "the variables editor has its own keys"
        );
    }

    #[test]
    fn each_action_is_listed_once_per_context() {
        for (i, a) in BINDINGS.iter().enumerate() {
            for b in &BINDINGS[i + 1..] {
                assert!(
                    !(a.ctx == b.ctx && a.action == b.action),
                    "{:?} is listed twice in {:?}: keys.toml could not say which",
                    a.action,
                    a.ctx
                );
            }
        }
    }

    #[test]
    fn an_override_replaces_the_keys_of_that_action_only() {
        let map = Keymap::build(&[set(Ctx::Global, Action::Send, &["f9"], 1, 2)]);
        assert_eq!(map.lookup_name(Ctx::Request, "f9"), Some(Action::Send));
        assert_eq!(map.lookup_name(Ctx::Request, "ctrl-r"), None);
        assert_eq!(map.lookup_name(Ctx::Request, "f5"), None);
        assert_eq!(map.lookup_name(Ctx::Request, "ctrl-s"), Some(Action::Save));
        assert_eq!(map.first_key(Ctx::Global, Action::Send), Some("f9"));
        assert!(map.conflicts().is_empty());
        let hints = map.hints(Ctx::Collections);
        assert!(hints.contains(&("F9".to_string(), "send")), "{hints:?}");
    }

    #[test]
    fn an_empty_list_unbinds_and_drops_the_hint() {
        let map = Keymap::build(&[set(Ctx::Global, Action::Quit, &[], 1, 2)]);
        assert_eq!(map.lookup_name(Ctx::Collections, "q"), None);
        assert!(
            !map.hints(Ctx::Collections)
                .iter()
                .any(|(_, h)| *h == "quit")
        );
    }

    #[test]
    fn a_user_key_beats_a_default_one_and_the_loser_keeps_the_rest() {
        let map = Keymap::build(&[set(Ctx::Global, Action::Send, &["ctrl-s"], 1, 3)]);
        assert_eq!(
            map.lookup_name(Ctx::Collections, "ctrl-s"),
            Some(Action::Send)
        );
        assert_eq!(map.first_key(Ctx::Global, Action::Save), None);
        let [
            Conflict::Clash {
                ctx,
                key,
                winner,
                loser,
                loser_keys,
                ..
            },
        ] = map.conflicts()
        else {
            panic!("{:?}", map.conflicts())
        };
        assert_eq!(
            (*ctx, key.as_str(), *winner, *loser),
            (Ctx::Global, "ctrl-s", Action::Send, Action::Save)
        );
        assert!(loser_keys.is_empty());
        let text = map.conflicts()[0].to_string();
        assert!(text.contains("send (set at keys.toml:3:1)"), "{text}");
        assert!(text.contains("save (default)"), "{text}");
        assert!(text.contains("send wins"), "{text}");
        assert!(text.contains("save has no key left there"), "{text}");
    }

    #[test]
    fn between_two_user_keys_the_workspace_then_the_earlier_line_wins() {
        let same_file = Keymap::build(&[
            set(Ctx::Global, Action::Send, &["x"], 1, 5),
            set(Ctx::Global, Action::Save, &["x", "ctrl-s"], 1, 2),
        ]);
        assert_eq!(same_file.lookup_name(Ctx::Global, "x"), Some(Action::Save));
        assert_eq!(same_file.first_key(Ctx::Global, Action::Send), None);
        assert!(
            same_file.conflicts()[0]
                .to_string()
                .contains("send has no key left")
        );
        let layered = Keymap::build(&[
            set(Ctx::Global, Action::Save, &["x", "ctrl-s"], 0, 1),
            set(Ctx::Global, Action::Send, &["x"], 1, 9),
        ]);
        assert_eq!(layered.lookup_name(Ctx::Global, "x"), Some(Action::Send));
        assert!(
            layered.conflicts()[0]
                .to_string()
                .contains("save keeps ctrl-s")
        );
    }

    #[test]
    fn the_workspace_file_replaces_a_user_level_binding_of_the_same_action() {
        let map = Keymap::build(&[
            set(Ctx::Global, Action::Send, &["f7"], 0, 1),
            set(Ctx::Global, Action::Send, &["f8"], 1, 1),
        ]);
        assert_eq!(map.lookup_name(Ctx::Global, "f8"), Some(Action::Send));
        assert_eq!(map.lookup_name(Ctx::Global, "f7"), None);
        assert!(map.conflicts().is_empty());
    }

    #[test]
    fn a_pane_key_hiding_a_global_key_the_user_set_is_reported() {
        // `e` edits in the Request pane; sending with it still works elsewhere.
        let map = Keymap::build(&[set(Ctx::Global, Action::Send, &["e"], 1, 2)]);
        assert_eq!(map.lookup_name(Ctx::Request, "e"), Some(Action::Edit));
        assert_eq!(map.lookup_name(Ctx::Response, "e"), Some(Action::Send));
        let shadows: Vec<String> = map.conflicts().iter().map(|c| c.to_string()).collect();
        assert!(
            shadows
                .iter()
                .any(|s| s.contains("[request]") && s.contains("edit") && s.contains("send")),
            "{shadows:?}"
        );
        // Environments binds e too; Response and Collections do not, so nothing there.
        assert!(shadows.iter().any(|s| s.contains("[environments]")));
        assert!(
            shadows
                .iter()
                .all(|s| !s.contains("[response]") && !s.contains("[collections]"))
        );
    }

    #[test]
    fn a_user_pane_key_hiding_a_default_global_key_is_reported_too() {
        let map = Keymap::build(&[set(Ctx::Response, Action::Search, &["f"], 1, 2)]);
        assert_eq!(map.lookup_name(Ctx::Response, "f"), Some(Action::Search));
        assert_eq!(map.lookup_name(Ctx::Collections, "f"), Some(Action::Lookup));
        let [
            Conflict::Shadow {
                global_action,
                pane_action,
                ..
            },
        ] = map.conflicts()
        else {
            panic!("{:?}", map.conflicts())
        };
        assert_eq!(
            (*pane_action, *global_action),
            (Action::Search, Action::Lookup)
        );
    }

    #[test]
    fn the_variables_editor_does_not_fall_back_so_nothing_is_shadowed_there() {
        let map = Keymap::build(&[set(Ctx::Global, Action::Send, &["v"], 1, 2)]);
        assert_eq!(map.lookup_name(Ctx::EnvEditor, "v"), Some(Action::Reveal));
        assert!(map.conflicts().is_empty(), "{:?}", map.conflicts());
    }

    #[test]
    fn building_is_deterministic_whatever_the_order_of_clashing_lines() {
        let a = set(Ctx::Global, Action::Send, &["x"], 1, 4);
        let b = set(Ctx::Global, Action::Save, &["x"], 1, 7);
        let one = Keymap::build(&[a.clone(), b.clone()]);
        let two = Keymap::build(&[b, a]);
        assert_eq!(one.lookup_name(Ctx::Global, "x"), Some(Action::Send));
        assert_eq!(two.lookup_name(Ctx::Global, "x"), Some(Action::Send));
    }
}

/// A key as people write it in a sentence: `ctrl-r` → `Ctrl-R`, `esc` → `Esc`, `f5` → `F5`.
pub fn key_label(key: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut rest = key;
    for (prefix, label) in [("ctrl-", "Ctrl-"), ("alt-", "Alt-")] {
        if rest.len() > prefix.len() && rest.starts_with(prefix) {
            parts.push(label.into());
            rest = &rest[prefix.len()..];
        }
    }
    let modified = !parts.is_empty();
    let base = match rest {
        "esc" => "Esc".into(),
        "enter" => "Enter".into(),
        "tab" => "Tab".into(),
        "backtab" => "Shift-Tab".into(),
        "space" => "Space".into(),
        "backspace" => "Backspace".into(),
        "delete" => "Delete".into(),
        "pageup" => "PgUp".into(),
        "pagedown" => "PgDn".into(),
        "home" => "Home".into(),
        "end" => "End".into(),
        "up" | "down" | "left" | "right" => rest.into(),
        f if f.len() > 1 && f.starts_with('f') => f.to_uppercase(),
        c if modified => c.to_uppercase(),
        c => c.into(),
    };
    parts.push(base);
    parts.concat()
}

#[cfg(test)]
mod label_tests {
    use super::*;

    #[test]
    fn keys_are_named_as_in_a_sentence_and_follow_remaps() {
        assert_eq!(key_label("ctrl-r"), "Ctrl-R");
        assert_eq!(key_label("esc"), "Esc");
        assert_eq!(key_label("J"), "J");
        assert_eq!(key_label("f9"), "F9");
        let map = Keymap::default();
        assert_eq!(map.say(Ctx::Global, Action::Send), "Ctrl-R");
        let remapped = Keymap::build(&[Override {
            ctx: Ctx::Global,
            action: Action::Send,
            keys: vec!["f9".into()],
            origin: Origin {
                file: PathBuf::from("keys.toml"),
                layer: 1,
                line: 1,
                column: 1,
            },
        }]);
        assert_eq!(remapped.say(Ctx::Global, Action::Send), "F9");
        // A pane's action falls back to the global key.
        assert_eq!(map.say(Ctx::Request, Action::Save), "Ctrl-S");
    }
}
