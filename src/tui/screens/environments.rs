//! The Environments pane: which environment is active, and a way into its variables and its
//! sign-in. It owns every change to environments: create, rename, duplicate, delete, variables,
//! sign-in settings, and the choices of a conflict over an environment's file.

use crate::tui::keys::{Action, Ctx};
use std::path::PathBuf;

#[cfg(test)]
mod tests;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{List, ListItem, ListState, Paragraph};

use super::dialogs::confirm::Confirm;
use super::dialogs::conflict::{Choice, ConflictOn};
use super::dialogs::env_editor::EnvEditor;
use super::dialogs::prompt::Prompt;
use super::{Cx, Intent, Pane, View, saved_or_conflict};
use crate::tui::msg::{DiskOp, DiskResult, DiskValue};
use crate::tui::widgets::pane_block;
use crate::workspace::seed::template_environment;
use crate::workspace::{AuthConfig, Environment, Variable, file_safe_name, looks_secret};

/// What the Environments screen is asked to do.
#[allow(clippy::large_enum_variant)] // moved once, never kept (see `tui::msg::Msg`)
pub enum Msg {
    Activate(String),
    Create(String),
    Rename {
        old: String,
        new: String,
    },
    Duplicate {
        src: String,
        name: String,
    },
    Delete(String),
    SetVariable {
        env: String,
        index: Option<usize>,
        key: String,
        value: String,
    },
    ToggleVariable {
        env: String,
        index: usize,
    },
    ToggleSecret {
        env: String,
        index: usize,
    },
    DeleteVariable {
        env: String,
        index: usize,
    },
    SetAuth {
        env: String,
        config: Box<AuthConfig>,
    },
    Resolve {
        name: String,
        file: PathBuf,
        choice: Choice,
    },
    /// Disk work finished: what it was about, and how it went.
    Done(Done, DiskResult),
}

/// Which disk work a result belongs to.
pub enum Done {
    Created {
        env: Box<Environment>,
        note: String,
    },
    Renamed {
        old: String,
        new: String,
    },
    Deleted(String),
    Reloaded {
        name: String,
        file: PathBuf,
        copy: Option<String>,
    },
    Copied {
        name: String,
        file: PathBuf,
        copy: String,
    },
    KeptMine {
        name: String,
        file: PathBuf,
    },
}

#[derive(Debug, Default)]
pub struct Environments {
    pub selected: usize,
}

impl Environments {
    /// The environment under the cursor.
    pub fn selected_name(&self, cx_ws: &crate::workspace::Workspace) -> Option<String> {
        cx_ws
            .environments
            .get(self.selected)
            .map(|e| e.name.clone())
    }

    /// Puts the cursor on `name`.
    pub fn select(&mut self, ws: &crate::workspace::Workspace, name: &str) {
        if let Some(i) = ws.environments.iter().position(|e| e.name == name) {
            self.selected = i;
        }
    }

    /// A key's action while the pane has the focus.
    pub fn on_action(&mut self, action: Action, cx: &mut Cx) -> bool {
        let count = cx.model.ws.environments.len();
        let selected = self.selected_name(&cx.model.ws);
        match action {
            Action::Up => self.selected = self.selected.saturating_sub(1),
            Action::Down => self.selected = (self.selected + 1).min(count.saturating_sub(1)),
            Action::Top => self.selected = 0,
            Action::Bottom => self.selected = count.saturating_sub(1),
            Action::Activate => {
                if let Some(name) = selected {
                    self.update(Msg::Activate(name), cx);
                }
            }
            Action::Edit | Action::Right => {
                if let Some(env) = selected {
                    let editor = EnvEditor::new(env, cx.model);
                    cx.open(editor);
                }
            }
            Action::New => cx.open(Prompt::new("New environment name", "", |t| {
                Some(Intent::Environments(Msg::Create(t.to_string())))
            })),
            Action::Rename => {
                if let Some(old) = selected {
                    cx.open(Prompt::new("Rename environment", &old.clone(), move |t| {
                        Some(Intent::Environments(Msg::Rename {
                            old: old.clone(),
                            new: t.to_string(),
                        }))
                    }));
                }
            }
            Action::Duplicate => {
                if let Some(src) = selected {
                    cx.open(Prompt::new(
                        "Name of the copy",
                        &format!("{src} copy"),
                        move |t| {
                            Some(Intent::Environments(Msg::Duplicate {
                                src: src.clone(),
                                name: t.to_string(),
                            }))
                        },
                    ));
                }
            }
            Action::Delete => {
                if let Some(name) = selected {
                    cx.open(Confirm::new(
                        format!("Delete environment '{name}' and its secrets?"),
                        Intent::Environments(Msg::Delete(name)),
                    ));
                }
            }
            _ => return false,
        }
        true
    }

    pub fn update(&mut self, msg: Msg, cx: &mut Cx) {
        match msg {
            Msg::Activate(name) => {
                self.select(&cx.model.ws, &name);
                cx.info(format!("Environment '{name}' is active."));
                cx.model.active_env = Some(name);
            }
            Msg::Create(text) => {
                let name = file_safe_name(&text);
                if cx.model.ws.environment(&name).is_some() {
                    cx.error(format!("An environment named '{name}' already exists."));
                    return;
                }
                let env = template_environment(&name);
                let edit = cx
                    .model
                    .keymap
                    .say(crate::tui::keys::Ctx::Environments, Action::Edit);
                let note = format!(
                    "Environment '{name}' created from the Azure template; press {edit} to edit it."
                );
                create(cx, env, note);
            }
            Msg::Duplicate { src, name } => {
                let name = file_safe_name(&name);
                match cx.model.ws.environment(&src).cloned() {
                    Some(_) if cx.model.ws.environment(&name).is_some() => {
                        cx.error(format!("An environment named '{name}' already exists."))
                    }
                    Some(mut env) => {
                        env.name = name.clone();
                        create(cx, env, format!("Environment copied to '{name}'."));
                    }
                    None => cx.error("That environment is gone."),
                }
            }
            Msg::Rename { old, new } => {
                let new = file_safe_name(&new);
                if old == new {
                    return;
                }
                if cx.model.ws.environment(&new).is_some() {
                    cx.error(format!("An environment named '{new}' already exists."));
                    return;
                }
                let Some(mut env) = cx.model.ws.environment(&old).cloned() else {
                    cx.error("That environment is gone.");
                    return;
                };
                env.name = new.clone();
                cx.disk(
                    DiskOp::RenameEnvironment {
                        env,
                        old: old.clone(),
                    },
                    move |r| Intent::Environments(Msg::Done(Done::Renamed { old, new }, r)),
                );
            }
            Msg::Delete(name) => cx.disk(DiskOp::DeleteEnvironment(name.clone()), move |r| {
                Intent::Environments(Msg::Done(Done::Deleted(name), r))
            }),
            Msg::SetVariable {
                env,
                index,
                key,
                value,
            } => {
                let Some(e) = cx.model.ws.environment_mut(&env) else {
                    return;
                };
                match index.and_then(|i| e.variables.get_mut(i)) {
                    Some(v) => {
                        v.key = key;
                        v.value = value;
                    }
                    None => {
                        let secret = looks_secret(&key);
                        e.variables.push(Variable {
                            key,
                            value,
                            enabled: true,
                            secret,
                        });
                    }
                }
                save(cx, &env);
            }
            Msg::ToggleVariable { env, index } => self.toggle(cx, &env, index, false),
            Msg::ToggleSecret { env, index } => self.toggle(cx, &env, index, true),
            Msg::DeleteVariable { env, index } => {
                if let Some(e) = cx.model.ws.environment_mut(&env)
                    && index < e.variables.len()
                {
                    e.variables.remove(index);
                    save(cx, &env);
                }
            }
            Msg::SetAuth { env, config } => {
                if let Some(e) = cx.model.ws.environment_mut(&env) {
                    e.auth = Some(*config);
                    save(cx, &env);
                }
            }
            Msg::Resolve { name, file, choice } => resolve(cx, name, file, choice),
            Msg::Done(done, result) => self.done(done, result, cx),
        }
    }

    fn toggle(&mut self, cx: &mut Cx, env: &str, index: usize, secret: bool) {
        let Some(v) = cx
            .model
            .ws
            .environment_mut(env)
            .and_then(|e| e.variables.get_mut(index))
        else {
            return;
        };
        if secret {
            v.secret = !v.secret;
        } else {
            v.enabled = !v.enabled;
        }
        save(cx, env);
    }

    fn done(&mut self, done: Done, result: DiskResult, cx: &mut Cx) {
        let ws = &mut cx.model.ws;
        match (done, result) {
            (Done::Created { env, note }, Ok(_)) => {
                let name = env.name.clone();
                ws.environments.push(*env);
                ws.environments.sort_by(|a, b| a.name.cmp(&b.name));
                self.select(ws, &name);
                cx.info(note);
            }
            (Done::Renamed { old, new }, Ok(_)) => {
                if let Some(e) = ws.environment_mut(&old) {
                    e.name = new.clone();
                }
                ws.environments.sort_by(|a, b| a.name.cmp(&b.name));
                self.select(ws, &new);
                if cx.model.active_env.as_deref() == Some(old.as_str()) {
                    cx.model.active_env = Some(new.clone());
                }
                cx.info(format!("Renamed to '{new}'."));
            }
            (Done::Deleted(name), Ok(_)) => {
                ws.environments.retain(|e| e.name != name);
                if cx.model.active_env.as_deref() == Some(name.as_str()) {
                    cx.model.active_env = ws.environments.first().map(|e| e.name.clone());
                }
                self.selected = self.selected.min(ws.environments.len().saturating_sub(1));
                cx.info(format!("Environment '{name}' deleted."));
            }
            (Done::Reloaded { name, file, copy }, Ok(DiskValue::Environment(env))) => {
                if let Some(e) = ws.environment_mut(&name) {
                    *e = env;
                }
                cx.info(match copy {
                    Some(copy) => format!(
                        "Your version is saved as '{copy}'; {} was reloaded from disk.",
                        file.display()
                    ),
                    None => format!("Reloaded {} from disk.", file.display()),
                });
            }
            (Done::Reloaded { .. }, Err(e)) => cx.error(format!(
                "It could not be read again ({e}); nothing changed."
            )),
            (Done::Copied { name, file, copy }, Ok(_)) => {
                if let Some(mut env) = ws.environment(&name).cloned() {
                    env.name = copy.clone();
                    ws.environments.push(env);
                    ws.environments.sort_by(|a, b| a.name.cmp(&b.name));
                }
                cx.disk(DiskOp::ReloadEnvironment(name.clone()), move |r| {
                    Intent::Environments(Msg::Done(
                        Done::Reloaded {
                            name,
                            file,
                            copy: Some(copy),
                        },
                        r,
                    ))
                });
            }
            (Done::Copied { .. }, Err(e)) => cx.error(format!("The copy was not saved: {e}")),
            (Done::KeptMine { name, file }, Ok(_)) => {
                save(cx, &name);
                cx.info(format!("Saved your version over {}.", file.display()));
            }
            (_, Err(e)) => cx.error(e.to_string()),
            (_, Ok(_)) => {}
        }
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, v: &View) {
        let theme = v.theme;
        let model = v.model;
        let block = pane_block(Pane::Environments, "", v.focused, theme);
        if model.ws.environments.is_empty() {
            let p = Paragraph::new(vec![Line::styled(
                format!(
                    "No environments. Press {} to add one.",
                    model.keymap.say(Ctx::Environments, Action::New)
                ),
                theme.dim,
            )])
            .block(block);
            frame.render_widget(p, area);
            return;
        }
        let items: Vec<ListItem> = model
            .ws
            .environments
            .iter()
            .map(|env| {
                let active = model.active_env.as_deref() == Some(env.name.as_str());
                let marker = if active { "● " } else { "  " };
                let mut spans = vec![
                    Span::styled(marker, theme.ok),
                    Span::styled(
                        env.name.clone(),
                        if active { theme.accent } else { theme.text },
                    ),
                ];
                spans.push(Span::styled(
                    format!("  {} vars", env.variables.len()),
                    theme.dim,
                ));
                if env.insecure {
                    spans.push(Span::styled("  ⚠ insecure TLS", theme.error));
                }
                ListItem::new(Line::from(spans))
            })
            .collect();
        let list = List::new(items).block(block).highlight_style(if v.focused {
            theme.selected
        } else {
            theme.selected_unfocused
        });
        let mut state = ListState::default().with_selected(Some(self.selected));
        frame.render_stateful_widget(list, area, &mut state);
    }
}

/// Writes `env` as a new file; it joins the workspace once written.
fn create(cx: &mut Cx, env: Environment, note: String) {
    let env = Box::new(env);
    let op = DiskOp::CreateEnvironment((*env).clone());
    cx.disk(op, move |r| {
        Intent::Environments(Msg::Done(Done::Created { env, note }, r))
    });
}

/// Saves the environment as it is in memory now.
pub fn save(cx: &mut Cx, name: &str) {
    if let Some(env) = cx.model.ws.environment(name).cloned() {
        cx.disk(
            DiskOp::SaveEnvironment(env),
            saved_or_conflict(ConflictOn::Environment(name.to_string())),
        );
    }
}

/// The user's choice after another program changed an environment's file.
fn resolve(cx: &mut Cx, name: String, file: PathBuf, choice: Choice) {
    match choice {
        Choice::Reload => cx.disk(DiskOp::ReloadEnvironment(name.clone()), move |r| {
            Intent::Environments(Msg::Done(
                Done::Reloaded {
                    name,
                    file,
                    copy: None,
                },
                r,
            ))
        }),
        Choice::KeepMine => cx.disk(DiskOp::AcceptDiskVersion(file.clone()), move |r| {
            Intent::Environments(Msg::Done(Done::KeptMine { name, file }, r))
        }),
        Choice::SaveCopy => {
            let Some(mut env) = cx.model.ws.environment(&name).cloned() else {
                return;
            };
            let ws = &cx.model.ws;
            let root = cx.model.root.clone();
            let copy = (1..)
                .map(|i| match i {
                    1 => format!("{name}-mine"),
                    i => format!("{name}-mine-{i}"),
                })
                .find(|n| {
                    ws.environment(n).is_none()
                        && !root.join("environments").join(format!("{n}.toml")).exists()
                })
                .unwrap_or_else(|| format!("{name}-mine"));
            env.name = copy.clone();
            cx.disk(DiskOp::CreateEnvironment(env), move |r| {
                Intent::Environments(Msg::Done(Done::Copied { name, file, copy }, r))
            });
        }
    }
}
