//! Snapshots of the history screen: the list, an entry, a diff, at the wide and narrow sizes.

use ratatui::Terminal;
use ratatui::backend::TestBackend;

use crate::app::history_tests::{Harness, seed_three};

fn render(h: &mut Harness, w: u16, hgt: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(w, hgt)).unwrap();
    terminal
        .draw(|f| super::draw(f, &mut h.app, &super::Theme::dark()))
        .unwrap();
    // Times are local: the machine's time zone and the clock must not change the snapshot.
    let text = format!("{}", terminal.backend());
    let mut out = String::with_capacity(text.len());
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let time = i + 8 <= b.len()
            && b[i..i + 8].iter().enumerate().all(|(k, c)| {
                if k == 2 || k == 5 {
                    *c == b':'
                } else {
                    c.is_ascii_digit()
                }
            });
        let date = i + 10 <= b.len()
            && b[i..i + 10].iter().enumerate().all(|(k, c)| {
                if k == 4 || k == 7 {
                    *c == b'-'
                } else {
                    c.is_ascii_digit()
                }
            });
        if time {
            out.push_str("hh:mm:ss");
            i += 8;
        } else if date {
            out.push_str("yyyy-mm-dd");
            i += 10;
        } else {
            let ch = text[i..].chars().next().unwrap();
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

#[test]
fn history_list_with_a_mark_at_120x35_and_80x24() {
    let mut h = Harness::new();
    seed_three(&mut h);
    h.key("H");
    h.key("j");
    h.key("m");
    h.app.status = None;
    insta::assert_snapshot!("history_list_120x35", render(&mut h, 120, 35));
    insta::assert_snapshot!("history_list_80x24", render(&mut h, 80, 24));
}

#[test]
fn history_entry_and_diff() {
    let mut h = Harness::new();
    seed_three(&mut h);
    h.key("H");
    h.key("enter");
    h.app.status = None;
    insta::assert_snapshot!("history_entry_80x24", render(&mut h, 80, 24));
    h.key("d");
    insta::assert_snapshot!("history_diff_120x35", render(&mut h, 120, 35));
}
