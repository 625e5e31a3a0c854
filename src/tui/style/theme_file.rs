//! Themes as TOML files: parsing (with errors that point at the file, line and key), writing,
//! the built-in themes from the repository's `themes/` folder and the user's own themes.
//! Adapting a theme to the terminal's colour depth is in [`super::depth`] (re-exported here).
//!
//! The file format is documented at the top of `themes/dark.toml`: a `name`, the
//! `terminal_background` the theme is made for (`dark`, `light` or `#rrggbb`; optional), then
//! one table per style of [`Theme`] (every one must be present) with optional `fg`, `bg` and
//! `modifiers`.

use std::ops::Range;
use std::path::Path;

use ratatui::style::{Color, Modifier, Style};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

pub use super::depth::{ColorDepth, adapt, adapt_colour, detect_color_depth};
use super::{Background, Theme};

/// The theme used when none is chosen, or when the chosen one cannot be loaded.
pub const DEFAULT_THEME: &str = "dark";

const COLOUR_HINT: &str = "use a name like blue, #rrggbb, or 0-255";
const MODIFIER_HINT: &str =
    "use bold, dim, italic, underlined, slow_blink, rapid_blink, reversed, hidden or crossed_out";
const STYLE_KEY_HINT: &str = "a style has fg, bg and modifiers";

/// Why a theme file was not accepted. Every variant names the file; all but `Missing` and
/// `Read` also carry the 1-based line and column (in characters) of the offending text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ThemeError {
    #[error("{file}:{line}:{column}: not valid TOML: {message}")]
    Syntax {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{file}: missing {} (a theme must define every style; see themes/dark.toml)", list_tables(.keys))]
    Missing { file: String, keys: Vec<String> },
    #[error("{file}:{line}:{column}: {key}: '{value}' is not a colour ({COLOUR_HINT})")]
    BadColour {
        file: String,
        key: String,
        value: String,
        line: usize,
        column: usize,
    },
    #[error("{file}:{line}:{column}: {key}: '{value}' is not a modifier ({MODIFIER_HINT})")]
    BadModifier {
        file: String,
        key: String,
        value: String,
        line: usize,
        column: usize,
    },
    #[error("{file}:{line}:{column}: unknown key {key} ({hint})")]
    UnknownKey {
        file: String,
        key: String,
        hint: String,
        line: usize,
        column: usize,
    },
    #[error("{file}:{line}:{column}: {key}: expected {expected}")]
    WrongType {
        file: String,
        key: String,
        expected: String,
        line: usize,
        column: usize,
    },
    #[error("{file}: cannot read: {message}")]
    Read { file: String, message: String },
}

impl ThemeError {
    /// The file the error is about, as it was given to [`parse_theme`].
    pub fn file(&self) -> &str {
        match self {
            ThemeError::Syntax { file, .. }
            | ThemeError::Missing { file, .. }
            | ThemeError::BadColour { file, .. }
            | ThemeError::BadModifier { file, .. }
            | ThemeError::UnknownKey { file, .. }
            | ThemeError::WrongType { file, .. }
            | ThemeError::Read { file, .. } => file,
        }
    }

    /// Line and column (1-based) of the offending text, when the error has one.
    pub fn position(&self) -> Option<(usize, usize)> {
        match self {
            ThemeError::Syntax { line, column, .. }
            | ThemeError::BadColour { line, column, .. }
            | ThemeError::BadModifier { line, column, .. }
            | ThemeError::UnknownKey { line, column, .. }
            | ThemeError::WrongType { line, column, .. } => Some((*line, *column)),
            ThemeError::Missing { .. } | ThemeError::Read { .. } => None,
        }
    }
}

fn list_tables(keys: &[String]) -> String {
    keys.iter()
        .map(|k| format!("[{k}]"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Line and column (both 1-based, the column counted in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut line = 1;
    let mut column = 1;
    for (i, c) in text.char_indices() {
        if i >= offset {
            break;
        }
        if c == '\n' {
            line += 1;
            column = 1;
        } else {
            column += 1;
        }
    }
    (line, column)
}

/// Shows user text in a message: one line, control characters escaped, long text shortened.
pub(crate) fn shown(text: &str) -> String {
    let mut out = String::new();
    for (n, c) in text.chars().enumerate() {
        if n == 40 {
            out.push('…');
            break;
        }
        if c.is_control() || c == '\'' {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    out
}

struct Ctx<'a> {
    file: &'a str,
    text: &'a str,
}

impl Ctx<'_> {
    fn at(&self, span: &Range<usize>) -> (usize, usize) {
        line_column(self.text, span.start)
    }

    fn unknown(&self, key: String, hint: &str, span: &Range<usize>) -> ThemeError {
        let (line, column) = self.at(span);
        ThemeError::UnknownKey {
            file: self.file.into(),
            key,
            hint: hint.into(),
            line,
            column,
        }
    }

    fn wrong_type(&self, key: String, expected: &str, span: &Range<usize>) -> ThemeError {
        let (line, column) = self.at(span);
        ThemeError::WrongType {
            file: self.file.into(),
            key,
            expected: expected.into(),
            line,
            column,
        }
    }
}

/// The entries of a table in the order they appear in the file, so the first problem reported
/// is the first one in the file whatever the map's own order.
fn in_file_order<'t, 'i>(
    table: &'t DeTable<'i>,
) -> Vec<(
    &'t Spanned<std::borrow::Cow<'i, str>>,
    &'t Spanned<DeValue<'i>>,
)> {
    let mut entries: Vec<_> = table.iter().collect();
    entries.sort_by_key(|(k, _)| k.span().start);
    entries
}

/// Parses a theme file. `file_name` is only used in error messages (for example
/// `themes/my.toml`); a file without `name` is named after the file (`my`).
pub fn parse_theme(file_name: &str, text: &str) -> Result<Theme, ThemeError> {
    let cx = Ctx {
        file: file_name,
        text,
    };
    let root = DeTable::parse(text).map_err(|e| {
        let (line, column) = line_column(text, e.span().map(|s| s.start).unwrap_or(0));
        ThemeError::Syntax {
            file: file_name.into(),
            line,
            column,
            message: e.message().trim().to_string(),
        }
    })?;
    let mut theme = Theme::dark();
    theme.name = file_stem(file_name).to_string();
    theme.terminal_background = None;
    let mut seen = vec![false; Theme::STYLE_KEYS.len()];
    for (key, value) in in_file_order(root.get_ref()) {
        let key_name: &str = key.get_ref();
        if key_name == "name" {
            match value.get_ref() {
                DeValue::String(s) if !s.trim().is_empty() => theme.name = s.trim().to_string(),
                _ => {
                    return Err(cx.wrong_type("name".into(), "a non-empty string", &value.span()));
                }
            }
            continue;
        }
        if key_name == "terminal_background" {
            theme.terminal_background = match value.get_ref() {
                DeValue::String(s) => Background::parse(s),
                _ => None,
            };
            if theme.terminal_background.is_none() {
                return Err(cx.wrong_type(
                    "terminal_background".into(),
                    "\"dark\", \"light\" or a colour like \"#1e1e2e\"",
                    &value.span(),
                ));
            }
            continue;
        }
        let Some(index) = Theme::STYLE_KEYS.iter().position(|k| *k == key_name) else {
            let top = ["name", "terminal_background"];
            let hint = match closest(key_name, Theme::STYLE_KEYS.iter().copied().chain(top)) {
                Some(k) => format!("did you mean {k}?"),
                None => "a theme has name and the styles listed in themes/dark.toml".into(),
            };
            return Err(cx.unknown(shown(key_name), &hint, &key.span()));
        };
        let DeValue::Table(table) = value.get_ref() else {
            return Err(cx.wrong_type(
                key_name.into(),
                "a table like [text] with fg, bg and modifiers",
                &value.span(),
            ));
        };
        let style = parse_style(&cx, key_name, table)?;
        if let Some(slot) = theme.style_mut(key_name) {
            *slot = style;
        }
        seen[index] = true;
    }
    let missing: Vec<String> = Theme::STYLE_KEYS
        .iter()
        .zip(&seen)
        .filter(|(_, seen)| !**seen)
        .map(|(k, _)| k.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(ThemeError::Missing {
            file: file_name.into(),
            keys: missing,
        });
    }
    Ok(theme)
}

/// The known key nearest to a misspelt one (at most two edits away), to suggest it.
pub(crate) fn closest<'k>(key: &str, known: impl IntoIterator<Item = &'k str>) -> Option<&'k str> {
    let key: Vec<char> = key.to_lowercase().chars().collect();
    if key.len() > 40 {
        return None;
    }
    known
        .into_iter()
        .map(|k| (edit_distance(&key, &k.chars().collect::<Vec<_>>()), k))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn edit_distance(a: &[char], b: &[char]) -> usize {
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

fn file_stem(file_name: &str) -> &str {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    let stem = base.strip_suffix(".toml").unwrap_or(base);
    if stem.trim().is_empty() {
        "theme"
    } else {
        stem
    }
}

fn parse_style(cx: &Ctx, table_name: &str, table: &DeTable) -> Result<Style, ThemeError> {
    let mut style = Style::new();
    for (key, value) in in_file_order(table) {
        let key_name: &str = key.get_ref();
        let full = format!("[{table_name}] {}", shown(key_name));
        match key_name {
            "fg" => style.fg = Some(parse_colour_value(cx, &full, value)?),
            "bg" => style.bg = Some(parse_colour_value(cx, &full, value)?),
            "modifiers" => {
                let DeValue::Array(items) = value.get_ref() else {
                    return Err(cx.wrong_type(
                        full,
                        "a list of modifiers like [\"bold\"]",
                        &value.span(),
                    ));
                };
                for item in items.iter() {
                    let DeValue::String(s) = item.get_ref() else {
                        return Err(cx.wrong_type(
                            full,
                            "a list of modifier names like [\"bold\"]",
                            &item.span(),
                        ));
                    };
                    let Some(m) = parse_modifier(s) else {
                        let (line, column) = cx.at(&item.span());
                        return Err(ThemeError::BadModifier {
                            file: cx.file.into(),
                            key: full,
                            value: shown(s),
                            line,
                            column,
                        });
                    };
                    style = style.add_modifier(m);
                }
            }
            _ => {
                let hint = match closest(key_name, ["fg", "bg", "modifiers"]) {
                    Some(k) => format!("did you mean {k}? {STYLE_KEY_HINT}"),
                    None => STYLE_KEY_HINT.into(),
                };
                return Err(cx.unknown(full, &hint, &key.span()));
            }
        }
    }
    Ok(style)
}

fn parse_colour_value(cx: &Ctx, key: &str, value: &Spanned<DeValue>) -> Result<Color, ThemeError> {
    let raw = match value.get_ref() {
        DeValue::String(s) => s.to_string(),
        DeValue::Integer(i) => {
            if let Ok(n) = u8::from_str_radix(i.as_str(), i.radix()) {
                return Ok(Color::Indexed(n));
            }
            i.to_string()
        }
        _ => {
            return Err(cx.wrong_type(
                key.into(),
                "a colour: a name like blue, \"#rrggbb\" or 0-255",
                &value.span(),
            ));
        }
    };
    parse_colour(&raw).ok_or_else(|| {
        let (line, column) = cx.at(&value.span());
        ThemeError::BadColour {
            file: cx.file.into(),
            key: key.into(),
            value: shown(&raw),
            line,
            column,
        }
    })
}

/// The names of the 16 ANSI colours (and `reset`) as written in theme files.
const NAMED: [(&str, Color); 17] = [
    ("reset", Color::Reset),
    ("black", Color::Black),
    ("red", Color::Red),
    ("green", Color::Green),
    ("yellow", Color::Yellow),
    ("blue", Color::Blue),
    ("magenta", Color::Magenta),
    ("cyan", Color::Cyan),
    ("gray", Color::Gray),
    ("darkgray", Color::DarkGray),
    ("lightred", Color::LightRed),
    ("lightgreen", Color::LightGreen),
    ("lightyellow", Color::LightYellow),
    ("lightblue", Color::LightBlue),
    ("lightmagenta", Color::LightMagenta),
    ("lightcyan", Color::LightCyan),
    ("white", Color::White),
];

/// Reads a colour: `reset`, one of the 16 names (case, `-`, `_` and spaces ignored; `grey`
/// works too), `#rrggbb`, or an xterm index `0`-`255`.
pub fn parse_colour(text: &str) -> Option<Color> {
    let text = text.trim();
    if let Some(hex) = text.strip_prefix('#') {
        if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let n = u32::from_str_radix(hex, 16).ok()?;
        return Some(Color::Rgb((n >> 16) as u8, (n >> 8) as u8, n as u8));
    }
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse::<u8>().ok().map(Color::Indexed);
    }
    let name: String = text
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | ' '))
        .flat_map(char::to_lowercase)
        .collect::<String>()
        .replace("grey", "gray");
    NAMED.iter().find(|(n, _)| *n == name).map(|(_, c)| *c)
}

/// Writes a colour the way [`parse_colour`] reads it.
pub fn colour_to_string(colour: Color) -> String {
    match colour {
        Color::Rgb(r, g, b) => format!("#{r:02x}{g:02x}{b:02x}"),
        Color::Indexed(n) => n.to_string(),
        named => NAMED
            .iter()
            .find(|(_, c)| *c == named)
            .map(|(n, _)| n.to_string())
            .unwrap_or_else(|| "reset".into()),
    }
}

const MODIFIERS: [(&str, Modifier); 9] = [
    ("bold", Modifier::BOLD),
    ("dim", Modifier::DIM),
    ("italic", Modifier::ITALIC),
    ("underlined", Modifier::UNDERLINED),
    ("slow_blink", Modifier::SLOW_BLINK),
    ("rapid_blink", Modifier::RAPID_BLINK),
    ("reversed", Modifier::REVERSED),
    ("hidden", Modifier::HIDDEN),
    ("crossed_out", Modifier::CROSSED_OUT),
];

fn parse_modifier(text: &str) -> Option<Modifier> {
    let name = text.trim().to_lowercase().replace(['-', ' '], "_");
    let name = match name.as_str() {
        "underline" => "underlined",
        "reverse" => "reversed",
        "strikethrough" | "crossedout" => "crossed_out",
        other => other,
    };
    MODIFIERS.iter().find(|(n, _)| *n == name).map(|(_, m)| *m)
}

/// What each style is used for, written as a comment by [`theme_to_toml`].
fn style_doc(key: &str) -> &'static str {
    match key {
        "text" => "ordinary text",
        "dim" => "secondary text: hints, counts, empty states",
        "border" => "borders of panes without focus",
        "border_focused" => "border of the focused pane",
        "title" => "pane titles",
        "title_focused" => "title of the focused pane",
        "selected" => "selected row in the focused list",
        "selected_unfocused" => "selected row in a list without focus",
        "accent" => "highlights, active environment, 3xx statuses",
        "ok" => "success, 2xx statuses",
        "warning" => "warnings, 4xx statuses",
        "error" => "errors, 5xx statuses",
        "status_bar" => "the status line at the bottom",
        "key_hint" => "keys in hints (\"Enter send\")",
        "var_resolved" => "{{variables}} that have a value",
        "var_unresolved" => "{{variables}} without a value",
        "method_get" => "GET",
        "method_post" => "POST",
        "method_put" => "PUT",
        "method_patch" => "PATCH",
        "method_delete" => "DELETE",
        "method_other" => "other HTTP methods",
        "tab_active" => "the active tab",
        "json_key" => "body: JSON keys, XML element names",
        "json_string" => "body: strings",
        "json_number" => "body: numbers",
        "json_boolean" => "body: true and false",
        "json_null" => "body: null",
        "json_punctuation" => "body: brackets, commas, colons",
        "json_error" => "body: text that does not parse",
        "comment" => "body: XML comments",
        "header_name" => "HTTP header names",
        _ => "",
    }
}

/// Writes a theme in the file format [`parse_theme`] reads (without the explanatory header of
/// `themes/dark.toml`). Only foreground, background and added modifiers are written: theme
/// files have no way to say "remove a modifier" or set an underline colour.
pub fn theme_to_toml(theme: &Theme) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "name = {}\n",
        toml::Value::String(theme.name.clone())
    ));
    if let Some(background) = theme.terminal_background {
        out.push_str(&format!(
            "terminal_background = \"{}\"\n",
            background.as_text()
        ));
    }
    for key in Theme::STYLE_KEYS {
        let style = theme.style(key).unwrap_or_default();
        out.push_str(&format!("\n[{key}] # {}\n", style_doc(key)));
        if let Some(fg) = style.fg {
            out.push_str(&format!("fg = \"{}\"\n", colour_to_string(fg)));
        }
        if let Some(bg) = style.bg {
            out.push_str(&format!("bg = \"{}\"\n", colour_to_string(bg)));
        }
        let names: Vec<String> = MODIFIERS
            .iter()
            .filter(|(_, m)| style.add_modifier.contains(*m))
            .map(|(n, _)| format!("\"{n}\""))
            .collect();
        if !names.is_empty() {
            out.push_str(&format!("modifiers = [{}]\n", names.join(", ")));
        }
    }
    out
}

/// The themes shipped in the repository's `themes/` folder, compiled into the binary:
/// `(path in the repository, file contents)`, the default (`dark`) first.
pub fn builtin_themes() -> Vec<(&'static str, &'static str)> {
    vec![
        (
            "themes/dark.toml",
            include_str!("../../../themes/dark.toml"),
        ),
        (
            "themes/light.toml",
            include_str!("../../../themes/light.toml"),
        ),
        (
            "themes/high-contrast.toml",
            include_str!("../../../themes/high-contrast.toml"),
        ),
        (
            "themes/catppuccin-mocha.toml",
            include_str!("../../../themes/catppuccin-mocha.toml"),
        ),
        (
            "themes/solarized-light.toml",
            include_str!("../../../themes/solarized-light.toml"),
        ),
    ]
}

/// The built-in themes followed by the `*.toml` files of `user_dir` (the workspace's `themes/`
/// folder), read in file-name order. A user theme with the name of an earlier theme replaces it
/// in place. Files that cannot be read or parsed are skipped and described in the second list;
/// a missing folder is not a problem. The first theme is always the default (`dark`) unless a
/// user file replaced it.
pub fn load_themes(user_dir: &Path) -> (Vec<Theme>, Vec<String>) {
    let mut themes: Vec<Theme> = Vec::new();
    let mut problems = Vec::new();
    for (file, text) in builtin_themes() {
        match parse_theme(file, text) {
            Ok(theme) => add_theme(&mut themes, theme),
            Err(e) => problems.push(e.to_string()),
        }
    }
    if !themes.iter().any(|t| t.name == DEFAULT_THEME) {
        themes.insert(0, Theme::dark());
    }
    let entries = match std::fs::read_dir(user_dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (themes, problems),
        Err(e) => {
            problems.push(format!("{}: cannot list themes: {e}", user_dir.display()));
            return (themes, problems);
        }
    };
    let mut paths: Vec<_> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.is_file())
        .collect();
    paths.sort();
    let mut from_user: Vec<String> = Vec::new();
    for path in paths {
        let file = path.display().to_string();
        let parsed = crate::workspace::store::read_text(&path)
            .map_err(|p| match (p.line, p.column) {
                (Some(line), Some(column)) => ThemeError::Syntax {
                    file: file.clone(),
                    line,
                    column,
                    message: p.message,
                },
                _ => ThemeError::Read {
                    file: file.clone(),
                    message: p.message,
                },
            })
            .and_then(|text| parse_theme(&file, &text));
        match parsed {
            Ok(theme) => {
                if from_user.contains(&theme.name) {
                    problems.push(format!(
                        "{file}: another file in {} also defines theme '{}'; using this one",
                        user_dir.display(),
                        shown(&theme.name)
                    ));
                } else {
                    from_user.push(theme.name.clone());
                }
                add_theme(&mut themes, theme);
            }
            Err(e) => problems.push(e.to_string()),
        }
    }
    (themes, problems)
}

fn add_theme(themes: &mut Vec<Theme>, theme: Theme) {
    match themes.iter_mut().find(|t| t.name == theme.name) {
        Some(slot) => *slot = theme,
        None => themes.push(theme),
    }
}

/// The theme called `name`, or the default when there is none by that name.
pub fn pick_theme(themes: &[Theme], name: &str) -> Theme {
    themes
        .iter()
        .find(|t| t.name == name)
        .or_else(|| themes.iter().find(|t| t.name == DEFAULT_THEME))
        .cloned()
        .unwrap_or_else(Theme::dark)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn theme_dark_round_trips_through_toml() {
        let text = theme_to_toml(&Theme::dark());
        assert_eq!(parse_theme("dark.toml", &text).unwrap(), Theme::dark());
    }

    #[test]
    fn theme_colours_parse_and_print() {
        assert_eq!(parse_colour("blue"), Some(Color::Blue));
        assert_eq!(parse_colour("Light-Red"), Some(Color::LightRed));
        assert_eq!(parse_colour("dark_grey"), Some(Color::DarkGray));
        assert_eq!(parse_colour("#FF8000"), Some(Color::Rgb(255, 128, 0)));
        assert_eq!(parse_colour("42"), Some(Color::Indexed(42)));
        assert_eq!(parse_colour("256"), None);
        assert_eq!(parse_colour("#ff80"), None);
        assert_eq!(parse_colour("#ff800é"), None);
        assert_eq!(parse_colour(""), None);
        assert_eq!(parse_colour("blu"), None);
        for c in [
            Color::Reset,
            Color::Gray,
            Color::Rgb(1, 2, 3),
            Color::Indexed(200),
        ] {
            assert_eq!(parse_colour(&colour_to_string(c)), Some(c));
        }
    }

    #[test]
    fn theme_line_column_counts_characters() {
        assert_eq!(line_column("ab\ncé d", 0), (1, 1));
        assert_eq!(line_column("ab\ncé d", 3), (2, 1));
        assert_eq!(line_column("ab\ncé d", 6), (2, 3));
        assert_eq!(line_column("ab", 99), (1, 3));
    }

    #[test]
    fn theme_terminal_background_is_read_and_written() {
        let text = theme_to_toml(&Theme::dark());
        assert!(text.contains("terminal_background = \"dark\"\n"), "{text}");
        let light = text.replace("= \"dark\"\nterminal", "= \"x\"\nterminal");
        let light = light.replace(
            "terminal_background = \"dark\"",
            "terminal_background = \"#FDF6E3\"",
        );
        let theme = parse_theme("x.toml", &light).unwrap();
        assert_eq!(
            theme.terminal_background,
            Some(Background::Rgb(0xfd, 0xf6, 0xe3))
        );
        let none = text.replace("terminal_background = \"dark\"\n", "");
        assert_eq!(
            parse_theme("x.toml", &none).unwrap().terminal_background,
            None
        );
        for bad in ["\"blue\"", "1", "\"#fff\""] {
            let t = text.replace("\"dark\"\n\n", &format!("{bad}\n\n"));
            let err = parse_theme("x.toml", &t).unwrap_err();
            assert!(
                err.to_string()
                    .contains("terminal_background: expected \"dark\", \"light\""),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn theme_file_stem_names_unnamed_themes() {
        assert_eq!(file_stem("themes/my.toml"), "my");
        assert_eq!(file_stem("C:\\x\\y.toml"), "y");
        assert_eq!(file_stem(".toml"), "theme");
    }

    #[test]
    fn theme_misspelt_keys_get_a_suggestion() {
        assert_eq!(
            closest("dimm", Theme::STYLE_KEYS.iter().copied()),
            Some("dim")
        );
        assert_eq!(
            closest("json_nul", Theme::STYLE_KEYS.iter().copied()),
            Some("json_null")
        );
        assert_eq!(closest("FGG", ["fg", "bg", "modifiers"]), Some("fg"));
        assert_eq!(
            closest("colour_scheme", Theme::STYLE_KEYS.iter().copied()),
            None
        );
    }
}
