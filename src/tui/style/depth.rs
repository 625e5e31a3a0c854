//! Adapting a theme to what the terminal can show: true colour, 256, 16 or no colours; and
//! the RGB values xterm gives its 256-colour palette.

use ratatui::style::{Color, Modifier, Style};

use super::Theme;

/// How many colours the terminal can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorDepth {
    TrueColor,
    Ansi256,
    Ansi16,
    NoColor,
}

/// Guesses the colour depth from the environment (`env` is `std::env::var(..).ok()` in the
/// app, a map in tests): `NO_COLOR` set and non-empty → none; `COLORTERM` `truecolor`/`24bit`
/// → true colour; `TERM` containing `256color` → 256; otherwise 16.
pub fn detect_color_depth(env: impl Fn(&str) -> Option<String>) -> ColorDepth {
    if env("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        return ColorDepth::NoColor;
    }
    if env("COLORTERM").is_some_and(|v| {
        let v = v.trim().to_ascii_lowercase();
        v == "truecolor" || v == "24bit"
    }) {
        return ColorDepth::TrueColor;
    }
    if env("TERM").is_some_and(|v| v.contains("256color")) {
        return ColorDepth::Ansi256;
    }
    ColorDepth::Ansi16
}

/// The theme as the terminal can show it: RGB colours become the nearest xterm-256 index
/// (`Ansi256`) or the nearest of the 16 ANSI colours (`Ansi16`, which also maps indexes);
/// `NoColor` removes every colour but keeps the modifiers, and a style that relied on a
/// background colour (a selection bar, an active tab) gets `reversed` so it stays visible.
pub fn adapt(theme: &Theme, depth: ColorDepth) -> Theme {
    let mut out = theme.clone();
    if depth == ColorDepth::TrueColor {
        return out;
    }
    for key in Theme::STYLE_KEYS {
        if let Some(style) = out.style_mut(key) {
            *style = adapt_style(*style, depth);
        }
    }
    out
}

fn adapt_style(style: Style, depth: ColorDepth) -> Style {
    let mut style = style;
    match depth {
        ColorDepth::TrueColor => {}
        ColorDepth::NoColor => {
            let had_background = matches!(style.bg, Some(c) if c != Color::Reset);
            style.fg = None;
            style.bg = None;
            if had_background {
                style = style.add_modifier(Modifier::REVERSED);
            }
        }
        ColorDepth::Ansi256 | ColorDepth::Ansi16 => {
            style.fg = style.fg.map(|c| adapt_colour(c, depth));
            style.bg = style.bg.map(|c| adapt_colour(c, depth));
        }
    }
    style
}

/// One colour at the given depth (`NoColor` gives `Reset`).
pub fn adapt_colour(colour: Color, depth: ColorDepth) -> Color {
    match (depth, colour) {
        (ColorDepth::TrueColor, c) => c,
        (ColorDepth::NoColor, _) => Color::Reset,
        (ColorDepth::Ansi256, Color::Rgb(r, g, b)) => Color::Indexed(nearest_256(r, g, b)),
        (ColorDepth::Ansi256, c) => c,
        (ColorDepth::Ansi16, Color::Rgb(r, g, b)) => nearest_16(r, g, b),
        (ColorDepth::Ansi16, Color::Indexed(n)) if n < 16 => ANSI16[n as usize].0,
        (ColorDepth::Ansi16, Color::Indexed(n)) => {
            let (r, g, b) = xterm_rgb(n);
            nearest_16(r, g, b)
        }
        (ColorDepth::Ansi16, c) => c,
    }
}

/// The 16 ANSI colours in index order with xterm's default values, to measure distances.
const ANSI16: [(Color, (u8, u8, u8)); 16] = [
    (Color::Black, (0, 0, 0)),
    (Color::Red, (205, 0, 0)),
    (Color::Green, (0, 205, 0)),
    (Color::Yellow, (205, 205, 0)),
    (Color::Blue, (0, 0, 238)),
    (Color::Magenta, (205, 0, 205)),
    (Color::Cyan, (0, 205, 205)),
    (Color::Gray, (229, 229, 229)),
    (Color::DarkGray, (127, 127, 127)),
    (Color::LightRed, (255, 0, 0)),
    (Color::LightGreen, (0, 255, 0)),
    (Color::LightYellow, (255, 255, 0)),
    (Color::LightBlue, (92, 92, 255)),
    (Color::LightMagenta, (255, 0, 255)),
    (Color::LightCyan, (0, 255, 255)),
    (Color::White, (255, 255, 255)),
];

const CUBE: [u8; 6] = [0, 95, 135, 175, 215, 255];

/// The RGB value xterm gives an index of its 256-colour palette.
pub fn xterm_rgb(n: u8) -> (u8, u8, u8) {
    match n {
        0..=15 => ANSI16[n as usize].1,
        16..=231 => {
            let i = n - 16;
            (
                CUBE[(i / 36) as usize],
                CUBE[(i / 6 % 6) as usize],
                CUBE[(i % 6) as usize],
            )
        }
        _ => {
            let v = 8 + 10 * (n - 232);
            (v, v, v)
        }
    }
}

/// Perceptual-ish distance ("redmean"), good enough to pick the nearest palette entry.
fn distance(a: (u8, u8, u8), b: (u8, u8, u8)) -> u32 {
    let rmean = (a.0 as i32 + b.0 as i32) / 2;
    let dr = a.0 as i32 - b.0 as i32;
    let dg = a.1 as i32 - b.1 as i32;
    let db = a.2 as i32 - b.2 as i32;
    (((512 + rmean) * dr * dr) / 256 + 4 * dg * dg + ((767 - rmean) * db * db) / 256) as u32
}

/// The nearest colour of the 6×6×6 cube and grey ramp (16-255; the first 16 are left out as
/// they depend on the user's palette).
fn nearest_256(r: u8, g: u8, b: u8) -> u8 {
    (16..=255u8)
        .min_by_key(|&n| distance((r, g, b), xterm_rgb(n)))
        .unwrap_or(16)
}

fn nearest_16(r: u8, g: u8, b: u8) -> Color {
    ANSI16
        .iter()
        .min_by_key(|(_, rgb)| distance((r, g, b), *rgb))
        .map(|(c, _)| *c)
        .unwrap_or(Color::Reset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn theme_nearest_colours() {
        assert_eq!(nearest_256(255, 0, 0), 196);
        assert_eq!(nearest_256(0, 0, 0), 16);
        assert_eq!(nearest_256(128, 128, 128), 244);
        assert_eq!(nearest_16(250, 10, 10), Color::LightRed);
        assert_eq!(nearest_16(10, 10, 10), Color::Black);
        for n in 16..=255u8 {
            let (r, g, b) = xterm_rgb(n);
            assert_eq!(xterm_rgb(nearest_256(r, g, b)), (r, g, b));
        }
    }
}
