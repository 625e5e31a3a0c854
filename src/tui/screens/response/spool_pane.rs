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
    pub view: super::viewport::Viewport,
    pub hscroll: usize,
}

impl SpoolPane {
    pub fn new(text: Arc<SpoolText>, kind: BodyKind) -> Self {
        SpoolPane {
            text,
            kind,
            view: Default::default(),
            hscroll: 0,
        }
    }

    pub fn line_count(&self) -> usize {
        self.text.line_count()
    }

    fn last(&self) -> usize {
        self.line_count().saturating_sub(1)
    }

    pub fn move_cursor(&mut self, delta: isize) {
        let last = self.last();
        self.view.move_cursor(delta, last);
    }

    pub fn page(&mut self, down: bool) {
        let last = self.last();
        self.view.page(down, last);
    }

    pub fn goto_line(&mut self, line: usize) {
        self.view.cursor = line.min(self.last());
        self.view.top = self.view.cursor.saturating_sub(3);
        self.keep_cursor_visible();
    }

    pub fn to_bottom(&mut self) {
        let last = self.last();
        self.view.to_bottom(last);
    }

    pub fn keep_cursor_visible(&mut self) {
        self.view.keep_cursor_visible();
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
        p.view.height = 10;
        p.move_cursor(12);
        assert_eq!((p.view.cursor, p.view.top), (12, 3));
        p.page(true);
        assert_eq!((p.view.cursor, p.view.top), (21, 12));
        p.to_bottom();
        assert_eq!((p.view.cursor, p.view.top), (99, 90));
        p.goto_line(50);
        assert_eq!((p.view.cursor, p.view.top), (50, 47));
        p.move_cursor(-100);
        assert_eq!((p.view.cursor, p.view.top), (0, 0));
        assert_eq!(p.text.line(p.view.cursor, 100), "{\"n\":0}");
    }
}
