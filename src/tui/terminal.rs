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

pub type Term = Terminal<SafeBackend<CrosstermBackend<Stdout>>>;

/// Owns the terminal while fhirside is full-screen; dropping it restores the user's terminal.
pub struct TerminalGuard {
    pub terminal: Term,
    mouse: bool,
}

impl TerminalGuard {
    pub fn enter(mouse: bool) -> io::Result<Self> {
        install_panic_hook(mouse);
        setup(mouse)?;
        let terminal = Terminal::new(SafeBackend::new(CrosstermBackend::new(io::stdout())))?;
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
        self.terminal = Terminal::new(SafeBackend::new(CrosstermBackend::new(io::stdout())))?;
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
        // A panic inside a guarded worker task or background job is caught and shown as a
        // sentence; the workbench carries on, so the terminal stays as it is and nothing is
        // printed over the screen.
        if crate::worker::guard::in_guarded_task() {
            return;
        }
        let _ = restore(mouse);
        previous(info);
    }));
}

/// The backend every frame goes through: whatever a screen drew, no cell reaches the terminal
/// holding a control character (C0, C1, DEL) or a bidirectional override or isolate (which can
/// make a URL read backwards). ratatui drops most such characters on its own; this is the
/// last gate, where text leaves the program, so no new draw path can forget it.
pub struct SafeBackend<B> {
    inner: B,
}

impl<B> SafeBackend<B> {
    pub fn new(inner: B) -> Self {
        Self { inner }
    }
}

/// Whether `c` must not reach a terminal as it is.
pub fn unsafe_on_terminal(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

impl<B: ratatui::backend::Backend> ratatui::backend::Backend for SafeBackend<B> {
    type Error = B::Error;

    fn draw<'a, I>(&mut self, content: I) -> Result<(), Self::Error>
    where
        I: Iterator<Item = (u16, u16, &'a ratatui::buffer::Cell)>,
    {
        let mut cleaned: Vec<(u16, u16, ratatui::buffer::Cell)> = Vec::new();
        let mut batch: Vec<(u16, u16, &'a ratatui::buffer::Cell)> = Vec::new();
        for (x, y, cell) in content {
            if cell.symbol().chars().any(unsafe_on_terminal) {
                let mut c = cell.clone();
                c.set_symbol("\u{FFFD}");
                cleaned.push((x, y, c));
            } else {
                batch.push((x, y, cell));
            }
        }
        self.inner.draw(batch.into_iter())?;
        if cleaned.is_empty() {
            return Ok(());
        }
        self.inner.draw(cleaned.iter().map(|(x, y, c)| (*x, *y, c)))
    }

    fn append_lines(&mut self, n: u16) -> Result<(), Self::Error> {
        self.inner.append_lines(n)
    }

    fn hide_cursor(&mut self) -> Result<(), Self::Error> {
        self.inner.hide_cursor()
    }

    fn show_cursor(&mut self) -> Result<(), Self::Error> {
        self.inner.show_cursor()
    }

    fn get_cursor_position(&mut self) -> Result<ratatui::layout::Position, Self::Error> {
        self.inner.get_cursor_position()
    }

    fn set_cursor_position<P: Into<ratatui::layout::Position>>(
        &mut self,
        position: P,
    ) -> Result<(), Self::Error> {
        self.inner.set_cursor_position(position)
    }

    fn clear(&mut self) -> Result<(), Self::Error> {
        self.inner.clear()
    }

    fn clear_region(&mut self, clear_type: ratatui::backend::ClearType) -> Result<(), Self::Error> {
        self.inner.clear_region(clear_type)
    }

    fn size(&self) -> Result<ratatui::layout::Size, Self::Error> {
        self.inner.size()
    }

    fn window_size(&mut self) -> Result<ratatui::backend::WindowSize, Self::Error> {
        self.inner.window_size()
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use ratatui::buffer::Cell;

    use super::SafeBackend;

    /// A cell holding a bidi override or isolate (joined to a letter, as a grapheme can be) is
    /// drawn as a visible replacement character, never as itself. (Control characters cannot
    /// even be put in a cell: ratatui refuses them.)
    #[test]
    fn no_cell_reaches_the_terminal_with_a_control_or_bidi_character() {
        let mut term = Terminal::new(SafeBackend::new(TestBackend::new(4, 1))).unwrap();
        term.draw(|f| {
            let buf = f.buffer_mut();
            buf[(0, 0)] = Cell::new("a\u{202e}");
            buf[(1, 0)] = Cell::new("b");
            buf[(2, 0)] = Cell::new("x\u{2066}");
            buf[(3, 0)] = Cell::new("\u{200f}y");
        })
        .unwrap();
        let inner = &term.backend().inner;
        let shown: Vec<&str> = (0..4).map(|x| inner.buffer()[(x, 0)].symbol()).collect();
        assert_eq!(shown, ["\u{FFFD}", "b", "\u{FFFD}", "\u{FFFD}"]);
    }
}
