//! The event loop: one `select!` over terminal input, worker events, a tick (only while
//! something is running, so an idle fhirside uses no CPU) and termination signals. Every
//! message goes through the runtime, which carries the app's commands out.

use std::time::Duration;

use crossterm::event::{Event, EventStream};
use futures::StreamExt;
use tokio::sync::mpsc;

use super::app::App;
use super::msg::Msg;
use super::runtime::{Host, Runtime};
use super::terminal::TerminalGuard;
use crate::worker::{WorkerCommand, WorkerEvent};

pub struct LoopOptions {
    pub mouse: bool,
    /// The command line chose the environment (the session's choice does not override it).
    pub env_given: bool,
}

/// The terminal as the runtime sees it: the clipboard, and `$EDITOR` with the terminal handed
/// over and taken back.
struct TerminalHost {
    guard: TerminalGuard,
    input: Option<EventStream>,
}

impl Host for TerminalHost {
    fn copy(&mut self, text: &str) -> std::io::Result<()> {
        super::clipboard::copy_osc52(text)
    }

    fn edit(&mut self, text: &str, extension: &str) -> Result<String, String> {
        // Stop reading the terminal so the editor gets every key.
        drop(self.input.take());
        if let Err(e) = self.guard.suspend() {
            return Err(format!(
                "The terminal could not be handed to the editor: {e}."
            ));
        }
        let result = super::editor::edit(text, extension);
        let resumed = self.guard.resume();
        self.input = Some(EventStream::new());
        match resumed {
            Ok(()) => result,
            // The edit is kept whatever the terminal did; drawing will try again.
            Err(e) => result.map_err(|r| format!("{r} (and the terminal answered oddly: {e})")),
        }
    }
}

/// Runs the TUI until the user quits or a signal arrives. The terminal is restored on return.
pub async fn run(
    mut app: App,
    mut runtime: Runtime,
    mut worker_events: mpsc::UnboundedReceiver<WorkerEvent>,
    options: LoopOptions,
) -> anyhow::Result<App> {
    let guard = TerminalGuard::enter(options.mouse)?;
    let mut host = TerminalHost {
        guard,
        input: Some(EventStream::new()),
    };
    if let Ok(size) = host.guard.terminal.size() {
        app.size = (size.width, size.height);
    }
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    // A slow clock for countdowns (token expiry, job times) that need no animation.
    let mut slow = tokio::time::interval(Duration::from_secs(1));
    slow.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut last_slow_redraw = std::time::Instant::now();
    #[cfg(unix)]
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    #[cfg(unix)]
    let mut sighup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    #[cfg(unix)]
    let mut sigint = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
    #[cfg(unix)]
    let mut sigquit = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::quit())?;

    if let Some(w) = &runtime.worker {
        w.send(WorkerCommand::ReportProgress(true));
    }
    // Background tasks (imports) run on threads of their own and report here.
    let (background_tx, mut background) = mpsc::unbounded_channel();
    runtime.background = Some(background_tx);
    // Unsaved edits from a session that ended abruptly are offered back, and the last
    // session's place is restored (its responses come back from history).
    app.offer_drafts();
    let restored = app.restore_session(options.env_given);
    runtime.dispatch(&mut app, restored, &mut host);
    // Unfinished export jobs from an earlier run are polled again.
    let resumed = app.resume_jobs();
    runtime.dispatch(&mut app, resumed, &mut host);
    // The session file is written a moment after the place changes (not on every key).
    let mut session_due: Option<tokio::time::Instant> = None;
    let mut last_draft_save = std::time::Instant::now();
    draw(&mut host, &mut app)?;
    // A test hook: proves the panic hook gives the terminal back (tests/e2e_panic.rs).
    let panic_on_key = std::env::var_os("FHIRSIDE_TEST_PANIC_ON_KEY").is_some();
    loop {
        let busy = app.busy();
        let countdown = app.redraw_every();
        let msg = tokio::select! {
            ev = next_input(&mut host.input) => match ev {
                Some(Ok(Event::Key(k))) => Some(Msg::Key(k)),
                Some(Ok(Event::Paste(p))) => Some(Msg::Paste(p)),
                Some(Ok(Event::Mouse(m))) => Some(Msg::Mouse(m)),
                Some(Ok(Event::Resize(w, h))) => Some(Msg::Resize(w, h)),
                Some(Ok(_)) => None, // focus: just redraw
                Some(Err(e)) => {
                    let c = app.drafts_to_save();
                    runtime.dispatch(&mut app, vec![c], &mut host);
                    return Err(e.into());
                }
                None => break,
            },
            Some(ev) = worker_events.recv() => Some(Msg::Worker(ev)),
            Some(b) = background.recv() => Some(Msg::Background(b)),
            _ = tick.tick(), if busy => Some(Msg::Tick),
            _ = slow.tick(), if !busy && countdown.is_some() => {
                if last_slow_redraw.elapsed() < countdown.unwrap_or_default() {
                    continue;
                }
                last_slow_redraw = std::time::Instant::now();
                Some(Msg::Tick)
            }
            _ = tokio::time::sleep_until(session_due.unwrap_or_else(tokio::time::Instant::now)), if session_due.is_some() => {
                session_due = None;
                if let Some(c) = app.session_to_save() {
                    runtime.dispatch(&mut app, vec![c], &mut host);
                }
                continue;
            }
            _ = sigterm.recv() => break,
            _ = sighup.recv() => break,
            _ = sigint.recv() => break,
            _ = sigquit.recv() => break,
        };
        if panic_on_key && matches!(msg, Some(Msg::Key(_))) {
            panic!("FHIRSIDE_TEST_PANIC_ON_KEY is set: panicking on the first key, as asked");
        }
        if let Some(msg) = msg {
            runtime.update(&mut app, msg, &mut host);
        }
        if app.quit {
            break;
        }
        // Keep drafts current so even a killed session loses at most a moment of typing.
        if app.has_unsaved() && last_draft_save.elapsed() >= Duration::from_secs(2) {
            let c = app.drafts_to_save();
            runtime.dispatch(&mut app, vec![c], &mut host);
            last_draft_save = std::time::Instant::now();
        }
        if session_due.is_none() && app.session_changed() {
            session_due = Some(tokio::time::Instant::now() + Duration::from_millis(700));
        }
        draw(&mut host, &mut app)?;
    }
    // Every way out (quit, SIGHUP when the SSH connection drops, SIGTERM) keeps unsaved edits,
    // and the drafts offered at start that were not answered yet.
    let mut last = vec![app.drafts_to_save()];
    last.extend(app.session_to_save());
    runtime.dispatch(&mut app, last, &mut host);
    Ok(app)
}

async fn next_input(input: &mut Option<EventStream>) -> Option<std::io::Result<Event>> {
    match input {
        Some(stream) => stream.next().await,
        None => std::future::pending().await,
    }
}

fn draw(host: &mut TerminalHost, app: &mut App) -> std::io::Result<()> {
    host.guard
        .terminal
        .draw(|f| super::view::draw(f, app))
        .map(|_| ())
}
