//! A body kept in a temporary file, as the Response pane shows it: a cursor and scrolling
//! over its lines, each read from the file only when it is on screen.

use std::sync::Arc;

use crate::view_body::BodyKind;
use crate::worker::spool::SpoolText;

/// At most this much of one line is read for drawing.
pub const DRAW_LINE_BYTES: usize = 64 * 1024;
/// At most this much of one record is read to open it pretty-printed.
pub const RECORD_BYTES: usize = 64 * 1024 * 1024;

pub struct SpoolPane {
    pub text: Arc<SpoolText>,
    pub kind: BodyKind,
    pub top: usize,
    pub cursor: usize,
    pub hscroll: usize,
    pub height: usize,
}

impl SpoolPane {
    pub fn new(text: Arc<SpoolText>, kind: BodyKind) -> Self {
        SpoolPane {
            text,
            kind,
            top: 0,
            cursor: 0,
            hscroll: 0,
            height: 20,
        }
    }

    pub fn line_count(&self) -> usize {
        self.text.line_count()
    }

    fn last(&self) -> usize {
        self.line_count().saturating_sub(1)
    }

    pub fn move_cursor(&mut self, delta: isize) {
        self.cursor = self.cursor.saturating_add_signed(delta).min(self.last());
        self.keep_cursor_visible();
    }

    pub fn page(&mut self, down: bool) {
        let step = self.height.saturating_sub(1).max(1);
        let offset = self.cursor.saturating_sub(self.top);
        self.top = if down {
            (self.top + step).min(self.last())
        } else {
            self.top.saturating_sub(step)
        };
        self.cursor = (self.top + offset).min(self.last());
        self.keep_cursor_visible();
    }

    pub fn goto_line(&mut self, line: usize) {
        self.cursor = line.min(self.last());
        self.top = self.cursor.saturating_sub(3);
        self.keep_cursor_visible();
    }

    pub fn to_bottom(&mut self) {
        self.cursor = self.last();
        self.keep_cursor_visible();
    }

    pub fn keep_cursor_visible(&mut self) {
        let h = self.height.max(1);
        if self.cursor < self.top {
            self.top = self.cursor;
        } else if self.cursor >= self.top + h {
            self.top = self.cursor + 1 - h;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::worker::spool::SpoolFile;

    #[test]
    fn moves_over_the_file_lines() {
        let mut f = SpoolFile::create().unwrap();
        for i in 0..100 {
            f.write_all(format!("{{\"n\":{i}}}\n").as_bytes()).unwrap();
        }
        f.flush().unwrap();
        let text = Arc::new(SpoolText::index(Arc::new(f)).unwrap());
        let mut p = SpoolPane::new(text, BodyKind::NdJson);
        p.height = 10;
        p.move_cursor(12);
        assert_eq!((p.cursor, p.top), (12, 3));
        p.page(true);
        assert_eq!((p.cursor, p.top), (21, 12));
        p.to_bottom();
        assert_eq!((p.cursor, p.top), (99, 90));
        p.goto_line(50);
        assert_eq!((p.cursor, p.top), (50, 47));
        p.move_cursor(-100);
        assert_eq!((p.cursor, p.top), (0, 0));
        assert_eq!(p.text.line(p.cursor, 100), "{\"n\":0}");
    }
}
