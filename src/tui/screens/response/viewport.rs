//! The cursor and the window of visible rows over a body, shared by the body view in memory
//! and the one read from a file on disk: moving, paging and keeping the cursor on screen.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Viewport {
    /// First visible row.
    pub top: usize,
    /// The cursor's row.
    pub cursor: usize,
    /// Rows the view had when last drawn (paging and keeping the cursor in view).
    pub height: usize,
}

impl Default for Viewport {
    fn default() -> Self {
        Self {
            top: 0,
            cursor: 0,
            height: 20,
        }
    }
}

impl Viewport {
    /// Moves the cursor by `delta` rows (up to `last`), scrolling to keep it in view.
    pub fn move_cursor(&mut self, delta: isize, last: usize) {
        self.cursor = self.cursor.saturating_add_signed(delta).min(last);
        self.keep_cursor_visible();
    }

    /// Pages by one screen, the cursor staying at the same place on the screen.
    pub fn page(&mut self, down: bool, last: usize) {
        let step = self.height.saturating_sub(1).max(1);
        let offset = self.cursor.saturating_sub(self.top);
        self.top = if down {
            (self.top + step).min(last)
        } else {
            self.top.saturating_sub(step)
        };
        self.cursor = (self.top + offset).min(last);
        self.keep_cursor_visible();
    }

    pub fn to_bottom(&mut self, last: usize) {
        self.cursor = last;
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
