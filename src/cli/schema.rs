//! The JSON Schemas published in the repository's `schemas/`: the workspace files' (generated
//! from their serde types, see `workspace::schemas`) and those of `keys.toml` and theme files,
//! which are read by hand-written parsers and so are described here from the same tables
//! those parsers use (contexts and actions, style names).
//!
//! `FHIRSIDE_WRITE_SCHEMAS=1 cargo test --lib cli::schema` rewrites `schemas/`; without it the
//! test fails when the committed files differ from what the code generates.

use serde_json::{Map, Value, json};

use crate::tui::keys::bindings::{BINDINGS, Ctx};
use crate::tui::style::Theme;
use crate::workspace::schemas::FileKind;

/// Every published schema: (file name, pretty JSON).
pub fn all() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = FileKind::ALL
        .iter()
        .map(|k| (k.file_name(), k.schema_text()))
        .collect();
    out.push(("keys.schema.json".into(), pretty(&keys_schema())));
    out.push(("theme.schema.json".into(), pretty(&theme_schema())));
    out
}

fn pretty(v: &Value) -> String {
    crate::workspace::schemas::pretty(v)
}

/// `keys.toml`: a table per context, `action = "key"` or `action = ["key", …]` in it; only the
/// actions that context knows.
pub fn keys_schema() -> Value {
    let mut contexts = Map::new();
    for ctx in Ctx::ALL {
        let mut actions = Map::new();
        for b in BINDINGS.iter().filter(|b| b.ctx == ctx) {
            let name = b.action.name();
            if !actions.contains_key(&name) {
                actions.insert(
                    name,
                    json!({ "description": b.help, "$ref": "#/definitions/keys" }),
                );
            }
        }
        contexts.insert(
            ctx.name().into(),
            json!({
                "description": ctx.title(),
                "type": "object",
                "additionalProperties": false,
                "properties": actions,
            }),
        );
    }
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "fhirside keys",
        "description": "keys.toml: key bindings, one table per context (the user's ~/.config/fhirside/keys.toml and the workspace's).",
        "type": "object",
        "additionalProperties": false,
        "properties": contexts,
        "definitions": {
            "keys": {
                "description": "A key like \"ctrl-r\", \"alt-x\", \"G\", \"f5\", \"enter\", \"space\" or \"pagedown\", or a list of them.",
                "anyOf": [
                    { "type": "string" },
                    { "type": "array", "items": { "type": "string" } }
                ]
            }
        }
    })
}

/// A theme file: `name`, then every style as a table with `fg`, `bg` and `modifiers`.
pub fn theme_schema() -> Value {
    let mut props = Map::new();
    props.insert(
        "name".into(),
        json!({ "description": "The name shown in the palette (default: the file name).", "type": "string", "minLength": 1 }),
    );
    props.insert(
        "terminal_background".into(),
        json!({
            "description": "The terminal background the theme is made for, where its styles set none: dark, light, or #rrggbb for a terminal set to that colour. The contrast test checks the theme against it.",
            "anyOf": [
                { "enum": ["dark", "light"] },
                { "type": "string", "pattern": "^#[0-9a-fA-F]{6}$" }
            ]
        }),
    );
    for key in Theme::STYLE_KEYS {
        props.insert((*key).into(), json!({ "$ref": "#/definitions/style" }));
    }
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "fhirside theme",
        "description": "themes/NAME.toml: colours of the interface and of highlighted bodies (see themes/dark.toml).",
        "type": "object",
        "additionalProperties": false,
        "required": Theme::STYLE_KEYS,
        "properties": props,
        "definitions": {
            "colour": {
                "description": "A colour name like blue, #rrggbb, or 0-255.",
                "anyOf": [
                    { "type": "string" },
                    { "type": "integer", "minimum": 0, "maximum": 255 }
                ]
            },
            "style": {
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "fg": { "$ref": "#/definitions/colour" },
                    "bg": { "$ref": "#/definitions/colour" },
                    "modifiers": {
                        "type": "array",
                        "items": {
                            "enum": [
                                "bold", "dim", "italic", "underlined", "underline", "slow_blink",
                                "rapid_blink", "reversed", "reverse", "hidden", "crossed_out"
                            ]
                        }
                    }
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    fn schemas_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas")
    }

    #[test]
    fn the_committed_schemas_are_what_the_types_generate() {
        let dir = schemas_dir();
        if std::env::var_os("FHIRSIDE_WRITE_SCHEMAS").is_some() {
            std::fs::create_dir_all(&dir).unwrap();
            for (name, text) in all() {
                std::fs::write(dir.join(name), text).unwrap();
            }
        }
        for (name, text) in all() {
            let committed = std::fs::read_to_string(dir.join(&name)).unwrap_or_default();
            assert!(
                committed == text,
                "schemas/{name} differs from what the code generates; run FHIRSIDE_WRITE_SCHEMAS=1 cargo test --lib cli::schema"
            );
        }
    }

    fn validator(schema: &str) -> (boon::Schemas, boon::SchemaIndex) {
        let mut schemas = boon::Schemas::new();
        let mut c = boon::Compiler::new();
        let v: Value = serde_json::from_str(schema).unwrap();
        c.add_resource("mem:///s.json", v).unwrap();
        let idx = c.compile("mem:///s.json", &mut schemas).unwrap();
        (schemas, idx)
    }

    fn toml_value(text: &str) -> Value {
        serde_json::to_value(toml::from_str::<toml::Value>(text).unwrap()).unwrap()
    }

    fn schema_text(name: &str) -> String {
        all().into_iter().find(|(n, _)| n == name).unwrap().1
    }

    #[test]
    fn a_seeded_workspace_validates_against_its_schemas() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, mut ws, _) = crate::workspace::Store::load(dir.path());
        crate::workspace::seed::seed_if_new(&mut store, &mut ws).unwrap();
        let mut demo_env = crate::workspace::seed::template_environment("x");
        demo_env.insecure = true;
        demo_env.timeout_secs = 5;
        store.save_environment(&demo_env).unwrap();
        std::fs::write(
            dir.path().join("settings.toml"),
            "theme = \"light\"\nspool_above_mb = 64\n[history]\nmax_entries = 10\n",
        )
        .unwrap();
        let mut checked = 0;
        for entry in walk(dir.path()) {
            let Some(kind) = FileKind::of(dir.path(), &entry) else {
                continue;
            };
            let text = std::fs::read_to_string(&entry).unwrap();
            if kind != FileKind::Settings {
                assert!(text.starts_with("#:schema "), "{}: {text}", entry.display());
            }
            let (schemas, idx) = validator(&kind.schema_text());
            let value = toml_value(&text);
            if let Err(e) = schemas.validate(&value, idx) {
                panic!("{}: {e}", entry.display());
            }
            checked += 1;
        }
        assert!(checked >= 9, "{checked}");
        // A mistake is caught: an unknown key in a request.
        let (schemas, idx) = validator(&FileKind::Request.schema_text());
        assert!(
            schemas
                .validate(&toml_value("url = \"x\"\nnmae = \"y\"\n"), idx)
                .is_err()
        );
    }

    #[test]
    fn the_built_in_themes_and_a_keys_file_validate() {
        let (schemas, idx) = validator(&schema_text("theme.schema.json"));
        for (file, text) in crate::tui::style::theme_file::builtin_themes() {
            if let Err(e) = schemas.validate(&toml_value(text), idx) {
                panic!("{file}: {e}");
            }
        }
        let (schemas, idx) = validator(&schema_text("keys.schema.json"));
        let keys =
            toml_value("[global]\nsend = [\"ctrl-r\", \"f5\"]\n[response]\nsearch = \"/\"\n");
        if let Err(e) = schemas.validate(&keys, idx) {
            panic!("{e}");
        }
        assert!(
            schemas
                .validate(&toml_value("[global]\nsned = \"x\"\n"), idx)
                .is_err()
        );
        assert!(schemas.validate(&toml_value("[nowhere]\n"), idx).is_err());
    }

    fn walk(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
        out
    }
}
