//! The event loop: one `select!` over terminal input, worker events, a tick (only while
//! something is running, so an idle fhirside uses no CPU) and termination signals.

use std::time::Duration;

use crossterm::event::{Event, EventStream};
use futures::StreamExt;
use tokio::sync::mpsc;

use super::editor;
use super::terminal::TerminalGuard;
use crate::app::{App, Command, Msg};
use crate::ui;
use crate::worker::{WorkerEvent, WorkerHandle};

pub struct LoopOptions {
    pub mouse: bool,
    /// The history actor, for the history screen's questions.
    pub history: Option<crate::worker::history::HistoryHandle>,
    /// The command line chose the environment (the session's choice does not override it).
    pub env_given: bool,
}

/// Runs the TUI until the user quits or a signal arrives. The terminal is restored on return.
pub async fn run(
    mut app: App,
    worker: WorkerHandle,
    mut worker_events: mpsc::UnboundedReceiver<WorkerEvent>,
    options: LoopOptions,
) -> anyhow::Result<App> {
    let mut guard = TerminalGuard::enter(options.mouse)?;
    let mut input = Some(EventStream::new());
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    // A slow clock for countdowns (token expiry) that need no animation.
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

    // Unsaved edits from a session that ended abruptly are offered back, and the last
    // session's place is restored (its responses come back from history).
    app.offer_drafts();
    for cmd in app.restore_session(options.env_given) {
        match cmd {
            Command::History(call) => {
                if let Some(h) = &options.history {
                    call_history(h, call);
                }
            }
            Command::Worker(c) => worker.send(c),
            _ => {}
        }
    }
    // The session file is written a moment after the place changes (not on every key).
    let mut session_due: Option<tokio::time::Instant> = None;
    let mut last_draft_save = std::time::Instant::now();
    // Unfinished export jobs from an earlier run are polled again.
    for cmd in app.resume_jobs() {
        if let Command::Worker(c) = cmd {
            worker.send(c);
        }
    }
    draw(&mut guard, &mut app)?;
    // A test hook: proves the panic hook gives the terminal back (tests/e2e_panic.rs).
    let panic_on_key = std::env::var_os("FHIRSIDE_TEST_PANIC_ON_KEY").is_some();
    loop {
        let busy = app.busy();
        let countdown = if app.jobs_running() {
            Some(Duration::from_secs(1))
        } else {
            app.token_redraw_every()
        };
        let msg = tokio::select! {
            ev = next_input(&mut input) => match ev {
                Some(Ok(Event::Key(k))) => Some(Msg::Key(k)),
                Some(Ok(Event::Paste(p))) => Some(Msg::Paste(p)),
                Some(Ok(Event::Mouse(m))) => Some(Msg::Mouse(m)),
                Some(Ok(_)) => None, // resize, focus: just redraw
                Some(Err(e)) => {
                    app.save_drafts();
                    return Err(e.into());
                }
                None => break,
            },
            Some(ev) = worker_events.recv() => Some(Msg::Worker(ev)),
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
                app.save_session();
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
            let mut commands = app.update(msg);
            while !commands.is_empty() {
                let mut follow_up = Vec::new();
                for cmd in commands {
                    match cmd {
                        Command::Worker(c) => worker.send(c),
                        Command::History(call) => {
                            if let Some(h) = &options.history {
                                call_history(h, call);
                            }
                        }
                        Command::Copy(text) => super::clipboard::copy_osc52(&text)?,
                        Command::EditExternally { text, extension } => {
                            // Stop reading the terminal so the editor gets every key.
                            drop(input.take());
                            guard.suspend()?;
                            let result = editor::edit(&text, extension);
                            guard.resume()?;
                            input = Some(EventStream::new());
                            follow_up.extend(app.update(Msg::ExternalEditDone(result)));
                        }
                    }
                }
                commands = follow_up;
            }
        }
        if app.quit {
            break;
        }
        // Keep drafts current so even a killed session loses at most a moment of typing.
        if app.has_unsaved() && last_draft_save.elapsed() >= Duration::from_secs(2) {
            app.save_drafts();
            last_draft_save = std::time::Instant::now();
        }
        if session_due.is_none() && app.session_changed() {
            session_due = Some(tokio::time::Instant::now() + Duration::from_millis(700));
        }
        draw(&mut guard, &mut app)?;
    }
    // Every way out (quit, SIGHUP when the SSH connection drops, SIGTERM) keeps unsaved edits.
    app.save_drafts();
    app.save_session();
    Ok(app)
}

fn call_history(h: &crate::worker::history::HistoryHandle, call: crate::app::HistoryCall) {
    h.call(call);
}

async fn next_input(input: &mut Option<EventStream>) -> Option<std::io::Result<Event>> {
    match input {
        Some(stream) => stream.next().await,
        None => std::future::pending().await,
    }
}

fn draw(guard: &mut TerminalGuard, app: &mut App) -> std::io::Result<()> {
    let theme = app.theme.clone();
    guard
        .terminal
        .draw(|f| ui::draw(f, app, &theme))
        .map(|_| ())
}
