//! Theme files: every file of `themes/` parses, covers every style, round-trips and is built
//! in; errors point at the file, line, column and key; no input panics; colour adaptation.

use std::path::{Path, PathBuf};

use fhirside::tui::style::Theme;
use fhirside::tui::style::theme_file::{
    ColorDepth, ThemeError, adapt, builtin_themes, detect_color_depth, load_themes, parse_theme,
    pick_theme, theme_to_toml,
};
use ratatui::style::{Color, Modifier, Style};

fn themes_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("themes")
}

fn theme_files() -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(themes_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| {
            let name = format!("themes/{}", p.file_name().unwrap().to_string_lossy());
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    files.sort();
    files
}

/// The part of dark.toml after its explanatory header.
fn dark_body(text: &str) -> &str {
    let start = text.find("\nname = ").map(|i| i + 1).unwrap_or(0);
    &text[start..]
}

/// Regenerates the body of themes/dark.toml from `Theme::dark()` when asked to.
#[test]
fn write_dark_theme() {
    if std::env::var_os("FHIRSIDE_WRITE_DARK_THEME").is_none() {
        return;
    }
    let path = themes_dir().join("dark.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let header = &text[..text.len() - dark_body(&text).len()];
    std::fs::write(&path, format!("{header}{}", theme_to_toml(&Theme::dark()))).unwrap();
}

#[test]
fn every_theme_file_parses_and_covers_every_style() {
    let files = theme_files();
    assert!(files.len() >= 4, "{files:?}");
    for (file, text) in &files {
        let theme = parse_theme(file, text).unwrap_or_else(|e| panic!("{e}"));
        let stem = file.trim_start_matches("themes/").trim_end_matches(".toml");
        assert_eq!(theme.name, stem, "{file}: name should match the file name");
        // Every style is written as its own table (parse_theme also insists on it).
        let table: toml::Table = toml::from_str(text).unwrap();
        for key in Theme::STYLE_KEYS {
            assert!(table[*key].is_table(), "{file}: [{key}]");
        }
        // `name`, `terminal_background` (every shipped theme declares it) and the styles.
        assert!(table["terminal_background"].is_str(), "{file}");
        assert_eq!(table.len(), Theme::STYLE_KEYS.len() + 2, "{file}");
    }
    for name in [
        "dark",
        "light",
        "high-contrast",
        "catppuccin-mocha",
        "solarized-light",
    ] {
        assert!(
            files
                .iter()
                .any(|(f, _)| *f == format!("themes/{name}.toml"))
        );
    }
}

#[test]
fn every_theme_file_is_built_in() {
    let files = theme_files();
    let builtin = builtin_themes();
    assert_eq!(builtin[0].0, "themes/dark.toml", "the default comes first");
    assert_eq!(builtin.len(), files.len());
    for (file, text) in &files {
        let found = builtin.iter().find(|(f, _)| f == file);
        assert_eq!(found.map(|(_, t)| *t), Some(text.as_str()), "{file}");
    }
}

#[test]
fn themes_round_trip_through_theme_to_toml() {
    for (file, text) in theme_files() {
        let theme = parse_theme(&file, &text).unwrap();
        let written = theme_to_toml(&theme);
        let again = parse_theme(&file, &written).unwrap();
        assert_eq!(again, theme, "{file}");
        assert_eq!(theme_to_toml(&again), written, "{file}");
    }
}

#[test]
fn builtin_dark_is_theme_dark() {
    let (file, text) = builtin_themes()[0];
    assert_eq!(parse_theme(file, text).unwrap(), Theme::dark());
    assert_eq!(
        dark_body(text),
        theme_to_toml(&Theme::dark()),
        "themes/dark.toml is out of date: FHIRSIDE_WRITE_DARK_THEME=1 cargo test --test themes write_dark_theme"
    );
    let (themes, problems) = load_themes(Path::new("/nonexistent/fhirside/themes"));
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(themes[0], Theme::dark());
    assert_eq!(themes.len(), builtin_themes().len());
}

#[test]
fn catppuccin_uses_the_official_mocha_palette() {
    const MOCHA: &[&str] = &[
        "#f5e0dc", "#f2cdcd", "#f5c2e7", "#cba6f7", "#f38ba8", "#eba0ac", "#fab387", "#f9e2af",
        "#a6e3a1", "#94e2d5", "#89dceb", "#74c7ec", "#89b4fa", "#b4befe", "#cdd6f4", "#bac2de",
        "#a6adc8", "#9399b2", "#7f849c", "#6c7086", "#585b70", "#45475a", "#313244", "#1e1e2e",
        "#181825", "#11111b",
    ];
    let theme = parse_theme(
        "catppuccin-mocha.toml",
        &std::fs::read_to_string(themes_dir().join("catppuccin-mocha.toml")).unwrap(),
    )
    .unwrap();
    for key in Theme::STYLE_KEYS {
        let style = theme.style(key).unwrap();
        assert!(style.fg.is_some(), "[{key}] has a colour");
        for colour in [style.fg, style.bg].into_iter().flatten() {
            let Color::Rgb(r, g, b) = colour else {
                panic!("[{key}] {colour:?} is not true colour")
            };
            let hex = format!("#{r:02x}{g:02x}{b:02x}");
            assert!(MOCHA.contains(&hex.as_str()), "[{key}] {hex}");
        }
    }
}

/// Text drawn on the terminal's (white) background must not be yellow, cyan, white or light
/// gray; text on a background of the theme's own (the selection bar) is judged with it.
#[test]
fn light_theme_is_readable_on_white() {
    let text = std::fs::read_to_string(themes_dir().join("light.toml")).unwrap();
    let theme = parse_theme("themes/light.toml", &text).unwrap();
    let unreadable = [
        Color::Yellow,
        Color::LightYellow,
        Color::Cyan,
        Color::LightCyan,
        Color::White,
        Color::Gray,
        Color::LightGreen,
    ];
    for key in Theme::STYLE_KEYS {
        let style = theme.style(key).unwrap();
        match style.bg {
            None | Some(Color::Reset) => {
                if let Some(fg) = style.fg {
                    assert!(!unreadable.contains(&fg), "[{key}] {fg:?} on white");
                }
            }
            Some(bg) => {
                assert_ne!(Some(bg), style.fg, "[{key}]");
                assert!(!unreadable.contains(&bg), "[{key}] background {bg:?}");
            }
        }
    }
}

fn dark_text() -> String {
    theme_to_toml(&Theme::dark())
}

#[test]
fn broken_toml_names_file_line_and_column() {
    let text = dark_text().replace("[selected] #", "[selected #");
    let err = parse_theme("themes/my.toml", &text).unwrap_err();
    let line = text
        .lines()
        .position(|l| l.starts_with("[selected #"))
        .unwrap()
        + 1;
    match &err {
        ThemeError::Syntax {
            file,
            line: l,
            column,
            ..
        } => {
            assert_eq!(file, "themes/my.toml");
            assert_eq!(*l, line);
            assert!(*column >= 1);
        }
        other => panic!("{other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.starts_with(&format!("themes/my.toml:{line}:")), "{msg}");
    assert_eq!(err.position().map(|p| p.0), Some(line));

    let err = parse_theme("x.toml", "name = \"a\"\nname = \"b\"\n").unwrap_err();
    assert!(matches!(err, ThemeError::Syntax { line: 2, .. }), "{err:?}");
    let err = parse_theme("x.toml", "[text]\nfg = \"red\n").unwrap_err();
    assert!(matches!(err, ThemeError::Syntax { line: 2, .. }), "{err:?}");
}

#[test]
fn missing_style_is_named() {
    let text = dark_text().replace("[selected_unfocused]", "[not_a_style_so_unknown]");
    let err = parse_theme("themes/my.toml", &text).unwrap_err();
    assert!(matches!(err, ThemeError::UnknownKey { .. }), "{err:?}");

    let text: String = dark_text()
        .split("\n\n")
        .filter(|block| !block.starts_with("[json_null]") && !block.starts_with("[dim]"))
        .collect::<Vec<_>>()
        .join("\n\n");
    let err = parse_theme("themes/my.toml", &text).unwrap_err();
    assert_eq!(
        err,
        ThemeError::Missing {
            file: "themes/my.toml".into(),
            keys: vec!["dim".into(), "json_null".into()],
        }
    );
    let msg = err.to_string();
    assert!(
        msg.starts_with("themes/my.toml: missing [dim], [json_null]"),
        "{msg}"
    );
}

#[test]
fn bad_colour_is_named_with_key_and_position() {
    let text = dark_text().replace("bg = \"blue\"", "bg = \"blu\"");
    let line = text.lines().position(|l| l == "bg = \"blu\"").unwrap() + 1;
    let err = parse_theme("themes/my.toml", &text).unwrap_err();
    assert_eq!(
        err,
        ThemeError::BadColour {
            file: "themes/my.toml".into(),
            key: "[selected] bg".into(),
            value: "blu".into(),
            line,
            column: 6,
        }
    );
    assert_eq!(
        err.to_string(),
        format!(
            "themes/my.toml:{line}:6: [selected] bg: 'blu' is not a colour (use a name like blue, #rrggbb, or 0-255)"
        )
    );
    for bad in [
        "\"#12345\"",
        "\"#gggggg\"",
        "256",
        "-1",
        "\"\"",
        "1.5",
        "true",
        "[]",
    ] {
        let text = dark_text().replace("fg = \"244\"", &format!("fg = {bad}"));
        let err = parse_theme("t.toml", &text).unwrap_err();
        assert!(
            matches!(
                &err,
                ThemeError::BadColour { key, .. } | ThemeError::WrongType { key, .. } if key == "[dim] fg"
            ),
            "{bad}: {err:?}"
        );
    }
    // Integers and indexes in strings are both colours.
    let text = dark_text().replace("fg = \"244\"", "fg = 245");
    let theme = parse_theme("t.toml", &text).unwrap();
    assert_eq!(theme.dim.fg, Some(Color::Indexed(245)));
}

#[test]
fn bad_modifier_and_unknown_keys_are_named() {
    let text = dark_text().replace(
        "modifiers = [\"bold\", \"underlined\"]",
        "modifiers = [\"bold\", \"underlind\"]",
    );
    let err = parse_theme("t.toml", &text).unwrap_err();
    match &err {
        ThemeError::BadModifier { key, value, .. } => {
            assert_eq!(key, "[tab_active] modifiers");
            assert_eq!(value, "underlind");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        err.to_string().contains("'underlind' is not a modifier"),
        "{err}"
    );

    let text = dark_text().replace(
        "[dim] # secondary text: hints, counts, empty states\n",
        "[dim]\nfgg = \"red\"\n",
    );
    let err = parse_theme("t.toml", &text).unwrap_err();
    match &err {
        ThemeError::UnknownKey {
            key, line, column, ..
        } => {
            assert_eq!(key, "[dim] fgg");
            assert_eq!(text.lines().nth(line - 1), Some("fgg = \"red\""));
            assert_eq!(*column, 1);
        }
        other => panic!("{other:?}"),
    }

    let text = format!("colour_scheme = \"x\"\n{}", dark_text());
    let err = parse_theme("t.toml", &text).unwrap_err();
    assert!(
        matches!(&err, ThemeError::UnknownKey { key, line: 1, column: 1, .. } if key == "colour_scheme"),
        "{err:?}"
    );

    let text = dark_text().replace("modifiers = [\"bold\"]", "modifiers = \"bold\"");
    let err = parse_theme("t.toml", &text).unwrap_err();
    assert!(matches!(err, ThemeError::WrongType { .. }), "{err:?}");
    let text = dark_text().replace("name = \"dark\"", "name = 3");
    let err = parse_theme("t.toml", &text).unwrap_err();
    assert!(
        matches!(&err, ThemeError::WrongType { key, .. } if key == "name"),
        "{err:?}"
    );
}

#[test]
fn inline_tables_and_unnamed_files_work() {
    let mut text = String::new();
    for key in Theme::STYLE_KEYS {
        text.push_str(&format!(
            "{key} = {{ fg = \"Light Red\", modifiers = [\"Bold\"] }}\n"
        ));
    }
    let theme = parse_theme("some/dir/mine.toml", &text).unwrap();
    assert_eq!(theme.name, "mine");
    assert_eq!(
        theme.header_name,
        Style::new()
            .fg(Color::LightRed)
            .add_modifier(Modifier::BOLD)
    );
}

#[test]
fn user_themes_add_replace_and_bad_ones_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let mine = dark_text().replace("name = \"dark\"", "name = \"mine\"");
    std::fs::write(dir.path().join("mine.toml"), &mine).unwrap();
    let my_dark = dark_text().replace("fg = \"244\"", "fg = \"#123456\"");
    std::fs::write(dir.path().join("a-dark.toml"), &my_dark).unwrap();
    std::fs::write(dir.path().join("broken.toml"), "name = ").unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a theme").unwrap();
    let (themes, problems) = load_themes(dir.path());
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("broken.toml:1:"), "{problems:?}");
    assert_eq!(themes.len(), builtin_themes().len() + 1);
    assert_eq!(themes[0].name, "dark");
    assert_eq!(themes[0].dim.fg, Some(Color::Rgb(0x12, 0x34, 0x56)));
    assert_eq!(themes.last().unwrap().name, "mine");
    assert_eq!(pick_theme(&themes, "mine").name, "mine");
    assert_eq!(pick_theme(&themes, "no such theme").name, "dark");
    assert_eq!(pick_theme(&[], "light"), Theme::dark());
}

#[test]
fn colour_depth_from_the_environment() {
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |k: &str| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    };
    assert_eq!(
        detect_color_depth(env(&[("NO_COLOR", "1"), ("COLORTERM", "truecolor")])),
        ColorDepth::NoColor
    );
    assert_eq!(
        detect_color_depth(env(&[("NO_COLOR", ""), ("COLORTERM", "truecolor")])),
        ColorDepth::TrueColor
    );
    assert_eq!(
        detect_color_depth(env(&[("COLORTERM", "24bit"), ("TERM", "xterm")])),
        ColorDepth::TrueColor
    );
    assert_eq!(
        detect_color_depth(env(&[("TERM", "xterm-256color")])),
        ColorDepth::Ansi256
    );
    assert_eq!(
        detect_color_depth(env(&[("TERM", "xterm")])),
        ColorDepth::Ansi16
    );
    assert_eq!(detect_color_depth(env(&[])), ColorDepth::Ansi16);
}

fn red_theme() -> Theme {
    let mut theme = Theme::dark();
    theme.error = Style::new()
        .fg(Color::Rgb(255, 0, 0))
        .add_modifier(Modifier::BOLD);
    theme.dim = Style::new().fg(Color::Indexed(160));
    theme
}

#[test]
fn true_colour_is_adapted_to_256_and_16_colours() {
    let theme = red_theme();
    assert_eq!(adapt(&theme, ColorDepth::TrueColor), theme);
    let t256 = adapt(&theme, ColorDepth::Ansi256);
    assert_eq!(t256.error.fg, Some(Color::Indexed(196)));
    assert!(t256.error.add_modifier.contains(Modifier::BOLD));
    assert_eq!(t256.dim.fg, Some(Color::Indexed(160)));
    assert_eq!(t256.selected, theme.selected, "ANSI colours stay");
    let t16 = adapt(&theme, ColorDepth::Ansi16);
    assert!(
        matches!(t16.error.fg, Some(Color::Red | Color::LightRed)),
        "{:?}",
        t16.error.fg
    );
    assert!(matches!(t16.dim.fg, Some(Color::Red | Color::LightRed)));
    assert_eq!(t16.selected, theme.selected);
    // Every built-in theme ends up with nothing but ANSI colours at 16.
    for (file, text) in builtin_themes() {
        let t16 = adapt(&parse_theme(file, text).unwrap(), ColorDepth::Ansi16);
        let t256 = adapt(&parse_theme(file, text).unwrap(), ColorDepth::Ansi256);
        for key in Theme::STYLE_KEYS {
            for c in [t16.style(key).unwrap().fg, t16.style(key).unwrap().bg]
                .into_iter()
                .flatten()
            {
                assert!(
                    !matches!(c, Color::Rgb(..) | Color::Indexed(_)),
                    "{file} [{key}] {c:?}"
                );
            }
            for c in [t256.style(key).unwrap().fg, t256.style(key).unwrap().bg]
                .into_iter()
                .flatten()
            {
                assert!(!matches!(c, Color::Rgb(..)), "{file} [{key}] {c:?}");
            }
        }
    }
}

#[test]
fn no_color_keeps_modifiers_only() {
    for (file, text) in builtin_themes() {
        let theme = parse_theme(file, text).unwrap();
        let plain = adapt(&theme, ColorDepth::NoColor);
        assert_eq!(plain.name, theme.name);
        for key in Theme::STYLE_KEYS {
            let (before, after) = (theme.style(key).unwrap(), plain.style(key).unwrap());
            assert_eq!((after.fg, after.bg), (None, None), "{file} [{key}]");
            assert!(
                after.add_modifier.contains(before.add_modifier),
                "{file} [{key}]"
            );
        }
        // The selection and the focused border stay visible without colour.
        assert!(!plain.selected.add_modifier.is_empty(), "{file}");
        assert!(!plain.selected_unfocused.add_modifier.is_empty(), "{file}");
        assert!(!plain.title_focused.add_modifier.is_empty(), "{file}");
    }
    let plain = adapt(&Theme::dark(), ColorDepth::NoColor);
    assert_eq!(
        plain.selected,
        Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED)
    );
    assert_eq!(
        plain.var_unresolved,
        Style::new().add_modifier(Modifier::UNDERLINED)
    );
    assert_eq!(plain.json_null, Style::new().add_modifier(Modifier::ITALIC));
}

mod no_panics {
    use super::*;
    use proptest::prelude::*;

    fn check(text: &str) {
        // Must return, never panic; a success must be a complete theme that round-trips.
        if let Ok(theme) = parse_theme("fuzz.toml", text) {
            let again = parse_theme("fuzz.toml", &theme_to_toml(&theme)).unwrap();
            assert_eq!(again, theme);
        } else if let Err(e) = parse_theme("fuzz.toml", text) {
            let _ = e.to_string();
            if let Some((line, column)) = e.position() {
                assert!(line >= 1 && column >= 1);
                assert!(line <= text.lines().count().max(1) + 1, "{e}");
            }
        }
    }

    const PIECES: &[&str] = &[
        "[",
        "]",
        "{",
        "}",
        "=",
        "\"",
        "'",
        "\n",
        "#",
        ",",
        ".",
        "fg",
        "bg",
        "modifiers",
        "\"#ff0000\"",
        "\"blu\"",
        "[\"bold\"]",
        "[1]",
        "999",
        "-1",
        "é",
        "\u{0}",
        "\\",
        "\"\"\"",
        "[[text]]",
        "name",
        "text.fg = 1\n",
        "true",
        "1979-05-27",
        "inf",
        "0x10",
        "[text]\n",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        #[test]
        fn mutated_theme_files_never_panic(
            edits in prop::collection::vec((any::<prop::sample::Index>(), 0..PIECES.len(), 0..3u8), 1..6),
            which in 0..5usize,
        ) {
            let mut text = builtin_themes()[which % builtin_themes().len()].1.to_string();
            for (at, piece, op) in edits {
                let mut cut = at.index(text.len() + 1);
                while !text.is_char_boundary(cut) {
                    cut -= 1;
                }
                let end = (cut + 7).min(text.len());
                let mut end2 = end;
                while !text.is_char_boundary(end2) {
                    end2 -= 1;
                }
                match op {
                    0 => text.insert_str(cut, PIECES[piece]),
                    1 => text.replace_range(cut..end2, ""),
                    _ => text.replace_range(cut..end2, PIECES[piece]),
                }
            }
            check(&text);
        }

        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
            check(&text);
        }

        #[test]
        fn any_style_table_never_panics(
            fg in "\\PC{0,12}", bg in any::<i64>(), m in prop::collection::vec("\\PC{0,8}", 0..3),
        ) {
            let mods = m.iter().map(|s| toml::Value::String(s.clone()).to_string()).collect::<Vec<_>>().join(", ");
            let text = dark_text().replace(
                "[selected] #",
                &format!("[selected]\nfg = {}\nbg = {bg}\nmodifiers = [{mods}]\n#", toml::Value::String(fg.clone())),
            );
            check(&text);
        }
    }
}
