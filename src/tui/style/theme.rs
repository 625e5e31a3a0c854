//! Colours of the interface and of highlighted bodies, in one place so themes can replace them.

use ratatui::style::{Color, Modifier, Style};

use crate::view_body::TokenKind;

/// The background a theme is drawn on where its styles set none: the terminal's own, which a
/// theme file declares (`terminal_background`) so its contrast can be checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Background {
    /// A dark terminal background (black or nearly), with the terminal's palette.
    Dark,
    /// A light terminal background (white or nearly), with the terminal's palette.
    Light,
    /// A terminal set to this exact colour (for true-colour themes made for one background).
    Rgb(u8, u8, u8),
}

impl Background {
    /// Reads `dark`, `light` or `#rrggbb`.
    pub fn parse(text: &str) -> Option<Background> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("dark") {
            return Some(Background::Dark);
        }
        if text.eq_ignore_ascii_case("light") {
            return Some(Background::Light);
        }
        let hex = text.strip_prefix('#')?;
        if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let n = u32::from_str_radix(hex, 16).ok()?;
        Some(Background::Rgb((n >> 16) as u8, (n >> 8) as u8, n as u8))
    }

    /// Written the way [`Background::parse`] reads it.
    pub fn as_text(&self) -> String {
        match self {
            Background::Dark => "dark".into(),
            Background::Light => "light".into(),
            Background::Rgb(r, g, b) => format!("#{r:02x}{g:02x}{b:02x}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Theme {
    pub name: String,
    /// The terminal background the theme is made for (`None`: not declared, as in user themes
    /// written before the key existed).
    pub terminal_background: Option<Background>,
    pub text: Style,
    pub dim: Style,
    pub border: Style,
    pub border_focused: Style,
    pub title: Style,
    pub title_focused: Style,
    pub selected: Style,
    pub selected_unfocused: Style,
    pub accent: Style,
    pub ok: Style,
    pub warning: Style,
    pub error: Style,
    pub status_bar: Style,
    pub key_hint: Style,
    pub var_resolved: Style,
    pub var_unresolved: Style,
    pub method_get: Style,
    pub method_post: Style,
    pub method_put: Style,
    pub method_patch: Style,
    pub method_delete: Style,
    pub method_other: Style,
    pub tab_active: Style,
    pub json_key: Style,
    pub json_string: Style,
    pub json_number: Style,
    pub json_boolean: Style,
    pub json_null: Style,
    pub json_punctuation: Style,
    pub json_error: Style,
    pub comment: Style,
    pub header_name: Style,
}

/// Lists every style field of [`Theme`] once, so theme files, their writer and tests can go
/// over all of them by name. Forgetting a new field here is a compile error (see
/// `every_field_is_listed`).
macro_rules! style_keys {
    ($($field:ident),* $(,)?) => {
        impl Theme {
            /// The style keys, in the order of the struct (and of the theme files).
            pub const STYLE_KEYS: &'static [&'static str] = &[$(stringify!($field)),*];

            /// The style stored under `key` (one of [`Theme::STYLE_KEYS`]).
            pub fn style(&self, key: &str) -> Option<Style> {
                match key {
                    $(stringify!($field) => Some(self.$field),)*
                    _ => None,
                }
            }

            pub fn style_mut(&mut self, key: &str) -> Option<&mut Style> {
                match key {
                    $(stringify!($field) => Some(&mut self.$field),)*
                    _ => None,
                }
            }
        }

        /// Never called: the exhaustive pattern stops the build when `Theme` gains a field
        /// that is not listed in `style_keys!`.
        #[allow(dead_code)]
        fn every_field_is_listed(theme: Theme) {
            let Theme { name: _, terminal_background: _, $($field: _),* } = theme;
        }
    };
}

style_keys!(
    text,
    dim,
    border,
    border_focused,
    title,
    title_focused,
    selected,
    selected_unfocused,
    accent,
    ok,
    warning,
    error,
    status_bar,
    key_hint,
    var_resolved,
    var_unresolved,
    method_get,
    method_post,
    method_put,
    method_patch,
    method_delete,
    method_other,
    tab_active,
    json_key,
    json_string,
    json_number,
    json_boolean,
    json_null,
    json_punctuation,
    json_error,
    comment,
    header_name,
);

impl Default for Theme {
    fn default() -> Self {
        Self::dark()
    }
}

impl Theme {
    /// The default: readable on dark terminals, in the 16 ANSI colours so it follows the user's
    /// palette, except where no ANSI colour reaches WCAG contrast on black in every common
    /// palette (xterm, Windows Terminal, GNOME Tango; see tests/theme_contrast.rs): blue keys
    /// and PUT are xterm index 75 (#5fafff), magenta numbers and PATCH index 176 (#d787d7),
    /// dim text and borders index 244 (#808080); errors are bright red.
    pub fn dark() -> Self {
        let fg = Style::new();
        Theme {
            name: "dark".into(),
            terminal_background: Some(Background::Dark),
            text: fg,
            dim: Style::new().fg(Color::Indexed(244)),
            border: Style::new().fg(Color::Indexed(244)),
            border_focused: Style::new().fg(Color::Cyan),
            title: Style::new().fg(Color::Gray),
            title_focused: Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
            selected: Style::new()
                .bg(Color::Blue)
                .fg(Color::White)
                .add_modifier(Modifier::BOLD),
            selected_unfocused: Style::new().add_modifier(Modifier::REVERSED),
            accent: Style::new().fg(Color::Cyan),
            ok: Style::new().fg(Color::Green),
            warning: Style::new().fg(Color::Yellow),
            error: Style::new()
                .fg(Color::LightRed)
                .add_modifier(Modifier::BOLD),
            status_bar: Style::new(),
            key_hint: Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
            var_resolved: Style::new().fg(Color::Green),
            var_unresolved: Style::new()
                .fg(Color::LightRed)
                .add_modifier(Modifier::UNDERLINED),
            method_get: Style::new().fg(Color::Green).add_modifier(Modifier::BOLD),
            method_post: Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
            method_put: Style::new()
                .fg(Color::Indexed(75))
                .add_modifier(Modifier::BOLD),
            method_patch: Style::new()
                .fg(Color::Indexed(176))
                .add_modifier(Modifier::BOLD),
            method_delete: Style::new()
                .fg(Color::LightRed)
                .add_modifier(Modifier::BOLD),
            method_other: Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
            tab_active: Style::new()
                .fg(Color::Cyan)
                .add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            json_key: Style::new().fg(Color::Indexed(75)),
            json_string: Style::new().fg(Color::Green),
            json_number: Style::new().fg(Color::Indexed(176)),
            json_boolean: Style::new().fg(Color::Yellow),
            json_null: Style::new()
                .fg(Color::Yellow)
                .add_modifier(Modifier::ITALIC),
            json_punctuation: Style::new().fg(Color::Gray),
            json_error: Style::new()
                .fg(Color::LightRed)
                .add_modifier(Modifier::UNDERLINED),
            comment: Style::new()
                .fg(Color::Indexed(244))
                .add_modifier(Modifier::ITALIC),
            header_name: Style::new().fg(Color::Cyan),
        }
    }

    pub fn method(&self, method: &str) -> Style {
        match method {
            "GET" => self.method_get,
            "POST" => self.method_post,
            "PUT" => self.method_put,
            "PATCH" => self.method_patch,
            "DELETE" => self.method_delete,
            _ => self.method_other,
        }
    }

    pub fn token(&self, kind: TokenKind) -> Style {
        match kind {
            TokenKind::Key => self.json_key,
            TokenKind::String => self.json_string,
            TokenKind::Number => self.json_number,
            TokenKind::Boolean => self.json_boolean,
            TokenKind::Null => self.json_null,
            TokenKind::Punctuation => self.json_punctuation,
            TokenKind::Error => self.json_error,
            TokenKind::Comment => self.comment,
            TokenKind::Whitespace | TokenKind::Plain => self.text,
        }
    }

    pub fn status_code(&self, code: u16) -> Style {
        match code {
            200..=299 => self.ok.add_modifier(Modifier::BOLD),
            300..=399 => self.accent.add_modifier(Modifier::BOLD),
            400..=499 => self.warning.add_modifier(Modifier::BOLD),
            _ => self.error,
        }
    }
}
