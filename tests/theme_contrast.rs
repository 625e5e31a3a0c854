//! Every shipped theme is readable: WCAG 2 contrast (relative luminance) of every foreground
//! role against the background it is drawn on reaches 4.5:1 for body text and 3:1 for
//! secondary text (hints, borders, dim text, punctuation). ANSI colours (the 16 names and
//! indexes 0-15) are measured in three common 16-colour palettes; indexes 16-255 with xterm's
//! fixed 256-colour cube and grey ramp (which every one of these terminals uses); RGB exactly.
//! Where a style sets no background the theme is drawn on the terminal's own, which the theme
//! declares with `terminal_background`.

use std::path::Path;

use fhirside::tui::style::depth::xterm_rgb;
use fhirside::tui::style::theme_file::{builtin_themes, parse_theme};
use fhirside::tui::style::{Background, Theme};
use ratatui::style::{Color, Modifier};

type Rgb = (u8, u8, u8);

const fn rgb(n: u32) -> Rgb {
    ((n >> 16) as u8, (n >> 8) as u8, n as u8)
}

/// A 16-colour palette with the default background and foreground a terminal using it has
/// when set dark and when set light.
struct Palette {
    name: &'static str,
    ansi: [Rgb; 16],
    dark_bg: Rgb,
    dark_fg: Rgb,
    light_bg: Rgb,
    light_fg: Rgb,
}

const PALETTES: [Palette; 3] = [
    // xterm's defaults: the colorN resources of xterm's XTerm-col.ad (color4 is blue2 #0000ee,
    // color12 is rgb:5c/5c/ff). Dark: black background with color7 text (xterm -rv or a
    // dark profile); light: xterm's own default, black on white.
    Palette {
        name: "xterm",
        ansi: [
            rgb(0x000000),
            rgb(0xcd0000),
            rgb(0x00cd00),
            rgb(0xcdcd00),
            rgb(0x0000ee),
            rgb(0xcd00cd),
            rgb(0x00cdcd),
            rgb(0xe5e5e5),
            rgb(0x7f7f7f),
            rgb(0xff0000),
            rgb(0x00ff00),
            rgb(0xffff00),
            rgb(0x5c5cff),
            rgb(0xff00ff),
            rgb(0x00ffff),
            rgb(0xffffff),
        ],
        dark_bg: rgb(0x000000),
        dark_fg: rgb(0xe5e5e5),
        light_bg: rgb(0xffffff),
        light_fg: rgb(0x000000),
    },
    // Windows Terminal's default scheme "Campbell" (microsoft/terminal,
    // src/cascadia/TerminalSettingsModel/defaults.json): background #0C0C0C, foreground
    // #CCCCCC. Light: its brightWhite #F2F2F2 as background, its black as text.
    Palette {
        name: "Campbell",
        ansi: [
            rgb(0x0c0c0c),
            rgb(0xc50f1f),
            rgb(0x13a10e),
            rgb(0xc19c00),
            rgb(0x0037da),
            rgb(0x881798),
            rgb(0x3a96dd),
            rgb(0xcccccc),
            rgb(0x767676),
            rgb(0xe74856),
            rgb(0x16c60c),
            rgb(0xf9f1a5),
            rgb(0x3b78ff),
            rgb(0xb4009e),
            rgb(0x61d6d6),
            rgb(0xf2f2f2),
        ],
        dark_bg: rgb(0x0c0c0c),
        dark_fg: rgb(0xcccccc),
        light_bg: rgb(0xf2f2f2),
        light_fg: rgb(0x0c0c0c),
    },
    // GNOME Terminal's "Tango" palette (gnome-terminal, src/terminal-schemas / the profile
    // preferences' built-in palettes), with its "White on black" and "Black on white" schemes.
    Palette {
        name: "Tango",
        ansi: [
            rgb(0x2e3436),
            rgb(0xcc0000),
            rgb(0x4e9a06),
            rgb(0xc4a000),
            rgb(0x3465a4),
            rgb(0x75507b),
            rgb(0x06989a),
            rgb(0xd3d7cf),
            rgb(0x555753),
            rgb(0xef2929),
            rgb(0x8ae234),
            rgb(0xfce94f),
            rgb(0x729fcf),
            rgb(0xad7fa8),
            rgb(0x34e2e2),
            rgb(0xeeeeec),
        ],
        dark_bg: rgb(0x000000),
        dark_fg: rgb(0xd3d7cf),
        light_bg: rgb(0xffffff),
        light_fg: rgb(0x2e3436),
    },
];

/// Roles that only need 3:1: secondary text and the lines around panes.
const SECONDARY: &[&str] = &[
    "dim",
    "border",
    "border_focused",
    "json_punctuation",
    "comment",
];

/// Roles also drawn on the status bar's background when it has one.
const ON_STATUS_BAR: &[&str] = &["key_hint", "dim", "text", "error", "warning", "ok"];

/// WCAG 2 relative luminance.
fn luminance((r, g, b): Rgb) -> f64 {
    fn channel(c: u8) -> f64 {
        let c = c as f64 / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    }
    0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
}

fn contrast(a: Rgb, b: Rgb) -> f64 {
    let (x, y) = (luminance(a), luminance(b));
    let (hi, lo) = if x > y { (x, y) } else { (y, x) };
    (hi + 0.05) / (lo + 0.05)
}

/// The colour as the palette shows it; `None` for `Reset` (the terminal's default).
fn resolve(colour: Color, palette: &Palette) -> Option<Rgb> {
    let index = match colour {
        Color::Reset => return None,
        Color::Black => 0,
        Color::Red => 1,
        Color::Green => 2,
        Color::Yellow => 3,
        Color::Blue => 4,
        Color::Magenta => 5,
        Color::Cyan => 6,
        Color::Gray => 7,
        Color::DarkGray => 8,
        Color::LightRed => 9,
        Color::LightGreen => 10,
        Color::LightYellow => 11,
        Color::LightBlue => 12,
        Color::LightMagenta => 13,
        Color::LightCyan => 14,
        Color::White => 15,
        Color::Indexed(n) if n < 16 => n,
        Color::Indexed(n) => return Some(xterm_rgb(n)),
        Color::Rgb(r, g, b) => return Some((r, g, b)),
    };
    Some(palette.ansi[index as usize])
}

/// The terminal's default background and foreground for a theme in this palette.
fn defaults(background: Background, palette: &Palette) -> (Rgb, Rgb) {
    match background {
        Background::Dark => (palette.dark_bg, palette.dark_fg),
        Background::Light => (palette.light_bg, palette.light_fg),
        Background::Rgb(r, g, b) => {
            let bg = (r, g, b);
            let fg = if contrast(palette.dark_fg, bg) > contrast(palette.light_fg, bg) {
                palette.dark_fg
            } else {
                palette.light_fg
            };
            (bg, fg)
        }
    }
}

fn hex((r, g, b): Rgb) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// Every failing (role, palette) of a theme, as sentences.
fn problems(theme: &Theme) -> Vec<String> {
    let mut out = Vec::new();
    let draws_on_terminal = Theme::STYLE_KEYS
        .iter()
        .any(|k| theme.style(k).is_some_and(|s| s.bg.is_none()));
    let background = match theme.terminal_background {
        Some(b) => b,
        None if draws_on_terminal => {
            out.push(format!(
                "{}: draws on the terminal's background but declares no terminal_background",
                theme.name
            ));
            return out;
        }
        None => Background::Dark,
    };
    for palette in &PALETTES {
        let (term_bg, term_fg) = defaults(background, palette);
        let status_bg = theme.status_bar.bg.and_then(|c| resolve(c, palette));
        let mut check = |key: &str, ground: Rgb, where_: &str| {
            let Some(style) = theme.style(key) else {
                return;
            };
            let mut fg = style
                .fg
                .and_then(|c| resolve(c, palette))
                .unwrap_or(term_fg);
            let mut bg = style.bg.and_then(|c| resolve(c, palette)).unwrap_or(ground);
            if style.add_modifier.contains(Modifier::REVERSED) {
                std::mem::swap(&mut fg, &mut bg);
            }
            let need = if SECONDARY.contains(&key) { 3.0 } else { 4.5 };
            let ratio = contrast(fg, bg);
            if ratio < need {
                out.push(format!(
                    "{} [{key}]{where_} in {}: {} on {} is {ratio:.2}:1, needs {need}:1",
                    theme.name,
                    palette.name,
                    hex(fg),
                    hex(bg)
                ));
            }
        };
        for key in Theme::STYLE_KEYS {
            check(key, term_bg, "");
        }
        if let Some(bar) = status_bg {
            for key in ON_STATUS_BAR {
                if theme.style(key).is_some_and(|s| s.bg.is_none()) {
                    check(key, bar, " on the status bar");
                }
            }
        }
    }
    out
}

/// The shipped themes: the files of `themes/`, the copies built into the binary, and
/// `Theme::dark()` (the fallback when no file can be read).
fn shipped_themes() -> Vec<Theme> {
    let mut themes = vec![Theme::dark()];
    for (file, text) in builtin_themes() {
        themes.push(parse_theme(file, text).unwrap_or_else(|e| panic!("{e}")));
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("themes");
    let mut files = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|x| x == "toml") {
            let text = std::fs::read_to_string(&path).unwrap();
            let file = path.display().to_string();
            themes.push(parse_theme(&file, &text).unwrap_or_else(|e| panic!("{e}")));
            files += 1;
        }
    }
    assert!(files >= 5, "{files} theme files");
    themes
}

#[test]
fn every_shipped_theme_reaches_wcag_contrast() {
    let mut all = Vec::new();
    for theme in shipped_themes() {
        for p in problems(&theme) {
            if !all.contains(&p) {
                all.push(p);
            }
        }
    }
    assert!(
        all.is_empty(),
        "{} problems:\n{}",
        all.len(),
        all.join("\n")
    );
}

#[test]
fn contrast_is_measured_as_wcag_does() {
    // The extremes and a known pair: #777777 on white is 4.48:1 (just below AA).
    assert!((contrast(rgb(0x000000), rgb(0xffffff)) - 21.0).abs() < 1e-9);
    assert!((contrast(rgb(0x123456), rgb(0x123456)) - 1.0).abs() < 1e-9);
    let grey = contrast(rgb(0x777777), rgb(0xffffff));
    assert!((grey - 4.48).abs() < 0.01, "{grey}");
    // The numbers of issue 19: ANSI blue on black, green on white.
    let blue: Vec<f64> = PALETTES
        .iter()
        .map(|p| contrast(p.ansi[4], p.dark_bg))
        .collect();
    assert!((blue[0] - 2.2).abs() < 0.05, "{blue:?}");
    assert!((blue[1] - 2.4).abs() < 0.05, "{blue:?}");
    assert!((blue[2] - 3.5).abs() < 0.05, "{blue:?}");
    let green = contrast(PALETTES[0].ansi[2], PALETTES[0].light_bg);
    assert!((green - 2.2).abs() < 0.05, "{green}");
}

#[test]
fn a_low_contrast_theme_is_caught() {
    let mut theme = Theme::dark();
    theme.json_key = theme.json_key.fg(Color::Blue);
    assert!(
        problems(&theme)
            .iter()
            .any(|p| p.contains("[json_key] in xterm: #0000ee on #000000 is 2.23:1")),
        "{:?}",
        problems(&theme)
    );
    theme.terminal_background = None;
    assert!(problems(&theme)[0].contains("declares no terminal_background"));
    // A reversed style swaps its colours; an RGB background is used exactly.
    let mut theme = Theme::dark();
    theme.terminal_background = Some(Background::Rgb(0x20, 0x20, 0x20));
    theme.selected_unfocused = ratatui::style::Style::new()
        .fg(Color::Rgb(0x30, 0x30, 0x30))
        .add_modifier(Modifier::REVERSED);
    assert!(
        problems(&theme)
            .iter()
            .any(|p| p.contains("[selected_unfocused] in xterm: #202020 on #303030")),
        "{:?}",
        problems(&theme)
    );
}
