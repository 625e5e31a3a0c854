//! The full-screen workbench.
//!
//! - [`event_loop`] reads the terminal, worker events, ticks and signals, and hands each as a
//!   [`msg::Msg`] to the [`runtime`], the one dispatcher, which runs it through
//!   [`app::App::update`] and carries the resulting [`msg::Command`]s out.
//! - [`app`] is the root: the shared [`model`], the [`screens`] (one module each, owning their
//!   state, keys and drawing) and the stack of dialogs.
//! - [`view`] draws it all; [`keys`] maps every key to an action per context; [`style`] holds
//!   the themes; [`widgets`] the small shared pieces; [`terminal`] enters and always restores
//!   the terminal.

pub mod app;
#[doc(hidden)]
pub mod bench;
pub mod clipboard;
pub mod drafts;
pub mod editor;
pub mod event_loop;
pub mod keys;
pub mod model;
pub mod msg;
pub mod runtime;
pub mod screens;
pub mod session;
pub mod style;
pub mod terminal;
#[doc(hidden)]
pub mod testing;
pub mod view;
pub mod widgets;

pub use app::App;

/// What the command line decided for the workbench.
pub struct Start {
    pub store: crate::workspace::Store,
    pub ws: crate::workspace::Workspace,
    pub problems: Vec<crate::workspace::LoadProblem>,
    pub active_env: Option<String>,
    /// The command line chose the environment (the session's choice does not override it).
    pub env_given: bool,
    pub theme: Option<String>,
    pub mouse: bool,
    /// The demo's FHIR address, when fhirside serves its demo: the first status message names
    /// it with the keys in force.
    pub demo_url: Option<String>,
}

/// Runs the workbench until the user quits: the app, its runtime (the store, the worker, the
/// history actor), the event loop. The history file is flushed on the way out.
pub async fn run(start: Start) -> anyhow::Result<()> {
    let root = start.store.root().to_path_buf();
    let (job_store, jobs, job_problems) = crate::workspace::jobs::JobStore::load(&root);
    let mut problems = start.problems;
    problems.extend(job_problems);
    let mut app = App::new(root.clone(), start.ws, problems, start.active_env, jobs);
    let depth = style::theme_file::detect_color_depth(|k| std::env::var(k).ok());
    let (style, theme_problems) = style::Style::load(&root, start.theme.as_deref(), depth);
    app.style = style;
    // The other setting read at start-up: where large bodies go.
    let (settings, _) = crate::workspace::settings::load_settings(&root);
    let mut notes = theme_problems;
    notes.extend(crate::worker::spool::configure_from(&settings));
    // Entries of trusted_origins / storage_hosts that mean nothing are said at start.
    for env in &app.model.ws.environments {
        let policy = crate::worker::credentials::CredentialPolicy::for_environment(env, &[]);
        notes.extend(policy.problems().iter().cloned());
    }
    app.init_keys(Some(&crate::workspace::location::user_config_dir()));
    if let Some(url) = &start.demo_url {
        let greeting = demo_greeting(url, &app.model.keymap);
        app.model.info(greeting);
    }
    if !notes.is_empty() {
        app.model.error(notes.join(" · "));
    }
    let (events_tx, events_rx) = tokio::sync::mpsc::unbounded_channel();
    let history = match crate::worker::history::open_workspace_history(&root, events_tx.clone()) {
        Ok(h) => h,
        Err(e) => {
            app.model.history.problem = Some(e.clone());
            app.model.error(e);
            None
        }
    };
    app.model.history.enabled = history.is_some();
    let mut runtime = runtime::Runtime::new(start.store, Some(job_store));
    runtime.worker = Some(crate::worker::spawn_recording(events_tx, history.clone()));
    runtime.history = history.clone();
    event_loop::run(
        app,
        runtime,
        events_rx,
        event_loop::LoopOptions {
            mouse: start.mouse,
            env_given: start.env_given,
        },
    )
    .await?;
    if let Some(h) = history {
        h.flush(std::time::Duration::from_secs(3));
    }
    Ok(())
}

/// The demo's first status message: where it runs and the four keys of the walkthrough, as
/// keys.toml has them, short enough for an 80-column status bar after the address.
fn demo_greeting(url: &str, keys: &keys::Keymap) -> String {
    use keys::{Action, Ctx};
    format!(
        "Demo at {url} · {} opens · {} sends (signs in itself) · {} finds patients · {} keys",
        keys.say(Ctx::Collections, Action::Activate),
        keys.say(Ctx::Global, Action::Send),
        keys.say(Ctx::Global, Action::Lookup),
        keys.say(Ctx::Global, Action::Help),
    )
}

#[cfg(test)]
mod tests {
    /// The greeting fits a 120-column status bar whole (it was cut at 120) and names the keys
    /// in force.
    #[test]
    fn the_demo_greeting_fits_and_names_the_keys() {
        let text = super::demo_greeting("http://127.0.0.1:54321", &super::keys::Keymap::default());
        assert!(
            text.chars().count() <= 110,
            "{} chars: {text}",
            text.chars().count()
        );
        for key in ["Enter", "Ctrl-R", " f ", " ? "] {
            assert!(text.contains(key), "{key}: {text}");
        }
    }
}
