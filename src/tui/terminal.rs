//! Entering and leaving the full-screen terminal. Leaving happens on every exit path: normal
//! return (the guard's Drop), panic (the hook), and signals (the event loop exits cleanly).

use std::io::{self, Stdout};

use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

pub type Term = Terminal<CrosstermBackend<Stdout>>;

/// Owns the terminal while fhirside is full-screen; dropping it restores the user's terminal.
pub struct TerminalGuard {
    pub terminal: Term,
    mouse: bool,
}

impl TerminalGuard {
    pub fn enter(mouse: bool) -> io::Result<Self> {
        install_panic_hook(mouse);
        setup(mouse)?;
        let terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
        Ok(Self { terminal, mouse })
    }

    /// Hands the terminal back to the user temporarily (for `$EDITOR`).
    pub fn suspend(&mut self) -> io::Result<()> {
        restore(self.mouse)
    }

    /// Takes the terminal back after `$EDITOR`. Nothing here asks the terminal anything:
    /// under tmux or over SSH an answer (a cursor position report) can arrive late or not at
    /// all, and a question without a fallback would end the program. The screen is cleared
    /// plainly and the next frame is drawn whole on a fresh terminal handle.
    pub fn resume(&mut self) -> io::Result<()> {
        setup(self.mouse)?;
        execute!(
            io::stdout(),
            crossterm::terminal::Clear(crossterm::terminal::ClearType::All),
            crossterm::cursor::MoveTo(0, 0)
        )?;
        self.terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
        Ok(())
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        let _ = restore(self.mouse);
        let _ = self.terminal.show_cursor();
    }
}

fn setup(mouse: bool) -> io::Result<()> {
    enable_raw_mode()?;
    execute!(io::stdout(), EnterAlternateScreen, EnableBracketedPaste)?;
    if mouse {
        execute!(io::stdout(), EnableMouseCapture)?;
    }
    Ok(())
}

/// Puts the terminal back as it was. Safe to call more than once.
pub fn restore(mouse: bool) -> io::Result<()> {
    if mouse {
        let _ = execute!(io::stdout(), DisableMouseCapture);
    }
    let _ = execute!(
        io::stdout(),
        DisableBracketedPaste,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
    disable_raw_mode()
}

fn install_panic_hook(mouse: bool) {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let _ = restore(mouse);
        previous(info);
    }));
}
