//! `{{var}}` templating, resolved from the active environment, then collection variables, then
//! built-ins. The same code serves the TUI (highlighting, the unresolved check before sending)
//! and the CLI.

use std::ops::Range;

use super::model::{Environment, KeyValue};

/// One piece of a template, for highlighting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Text(Range<usize>),
    /// `{{name}}`: `range` covers the braces, `name` is trimmed.
    Var {
        name: String,
        range: Range<usize>,
    },
}

/// Splits `text` into literal text and `{{var}}` references.
pub fn segments(text: &str) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(start) = text[pos..].find("{{").map(|i| i + pos) {
        let Some(end) = text[start + 2..].find("}}").map(|i| i + start + 2) else {
            break;
        };
        if start > pos {
            out.push(Segment::Text(pos..start));
        }
        out.push(Segment::Var {
            name: text[start + 2..end].trim().to_string(),
            range: start..end + 2,
        });
        pos = end + 2;
    }
    if pos < text.len() {
        out.push(Segment::Text(pos..text.len()));
    }
    out
}

/// Where variables come from, highest priority first.
#[derive(Debug, Clone, Copy, Default)]
pub struct Context<'a> {
    /// `--var k=v` overrides and values captured during this session.
    pub overrides: &'a [(String, String)],
    pub environment: Option<&'a Environment>,
    pub collection: &'a [KeyValue],
}

/// How a variable name resolves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Value { value: String, secret: bool },
    Unresolved,
}

impl Context<'_> {
    pub fn lookup(&self, name: &str) -> Lookup {
        if let Some((_, v)) = self.overrides.iter().rev().find(|(k, _)| k == name) {
            let secret = self
                .environment
                .and_then(|e| e.variables.iter().find(|x| x.key == name))
                .is_some_and(|x| x.secret)
                || super::model::looks_secret(name);
            return Lookup::Value {
                value: v.clone(),
                secret,
            };
        }
        if let Some(env) = self.environment
            && let Some(v) = env.variables.iter().find(|v| v.enabled && v.key == name)
        {
            return Lookup::Value {
                value: v.value.clone(),
                secret: v.secret,
            };
        }
        if let Some(kv) = self
            .collection
            .iter()
            .find(|kv| kv.enabled && kv.key == name)
        {
            return Lookup::Value {
                value: kv.value.clone(),
                secret: false,
            };
        }
        match builtin(name) {
            Some(value) => Lookup::Value {
                value,
                secret: false,
            },
            None => Lookup::Unresolved,
        }
    }
}

/// Values of the `{{$…}}` built-ins; `None` for an unknown one.
fn builtin(name: &str) -> Option<String> {
    let name = name.strip_prefix('$')?;
    let (head, arg) = match name.split_once([' ', '.']) {
        Some((h, a)) => (h, Some(a.trim())),
        None => (name, None),
    };
    match (head, arg) {
        ("guid" | "randomUUID" | "uuid", None) => Some(uuid::Uuid::new_v4().to_string()),
        ("timestamp", None) => Some(chrono::Utc::now().timestamp().to_string()),
        ("isoTimestamp", None) => {
            Some(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        }
        ("randomInt", None) => Some(rand::random_range(0..1000).to_string()),
        ("env" | "processEnv", Some(var)) if !var.is_empty() => std::env::var(var).ok(),
        _ => None,
    }
}

/// The result of resolving a template.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Resolved {
    pub text: String,
    /// Names that had no value, in order of first appearance.
    pub unresolved: Vec<String>,
    /// Secret values that were substituted, so callers can redact them from what they show or store.
    pub secrets: Vec<String>,
}

const MAX_DEPTH: usize = 5;

/// Replaces every `{{var}}`; values that themselves hold `{{…}}` are resolved too (a few levels
/// deep, so a cycle cannot loop). Unresolved references are left in place.
pub fn resolve(text: &str, ctx: &Context) -> Resolved {
    let mut out = Resolved::default();
    out.text = resolve_into(text, ctx, 0, &mut out.unresolved, &mut out.secrets);
    out
}

fn resolve_into(
    text: &str,
    ctx: &Context,
    depth: usize,
    unresolved: &mut Vec<String>,
    secrets: &mut Vec<String>,
) -> String {
    let mut s = String::with_capacity(text.len());
    for seg in segments(text) {
        match seg {
            Segment::Text(r) => s.push_str(&text[r]),
            Segment::Var { name, range } => match ctx.lookup(&name) {
                Lookup::Value { value, secret } => {
                    let value = if depth < MAX_DEPTH && value.contains("{{") {
                        resolve_into(&value, ctx, depth + 1, unresolved, secrets)
                    } else {
                        value
                    };
                    if secret && !value.is_empty() && !secrets.contains(&value) {
                        secrets.push(value.clone());
                    }
                    s.push_str(&value);
                }
                Lookup::Unresolved => {
                    if !unresolved.contains(&name) {
                        unresolved.push(name);
                    }
                    s.push_str(&text[range]);
                }
            },
        }
    }
    s
}

/// Replaces each secret value in `text` with `••••••`, for anything shown or stored.
pub fn redact(text: &str, secrets: &[String]) -> String {
    let mut s = text.to_string();
    for secret in secrets.iter().filter(|x| x.len() >= 4) {
        s = s.replace(secret.as_str(), "••••••");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::model::Variable;

    fn env() -> Environment {
        Environment {
            name: "e".into(),
            variables: vec![
                Variable::plain("fhirurl", "http://fhir.test"),
                Variable::secret("clientsecret", "hunter22"),
                Variable {
                    enabled: false,
                    ..Variable::plain("off", "x")
                },
                Variable::plain("nested", "{{fhirurl}}/Patient"),
                Variable::plain("loop", "{{loop}}"),
            ],
            timeout_secs: 30,
            auth: None,
            insecure: false,
            trusted_origins: Vec::new(),
            storage_hosts: None,
            strict: false,
        }
    }

    #[test]
    fn environment_then_collection_then_builtins() {
        let e = env();
        let coll = vec![
            KeyValue::new("fhirurl", "ignored"),
            KeyValue::new("c", "coll"),
        ];
        let ctx = Context {
            environment: Some(&e),
            collection: &coll,
            ..Default::default()
        };
        let r = resolve("{{ fhirurl }}/x?{{c}}&{{missing}}&{{off}}", &ctx);
        assert_eq!(r.text, "http://fhir.test/x?coll&{{missing}}&{{off}}");
        assert_eq!(r.unresolved, vec!["missing", "off"]);
    }

    #[test]
    fn overrides_win() {
        let e = env();
        let o = vec![("fhirurl".to_string(), "http://other".to_string())];
        let ctx = Context {
            overrides: &o,
            environment: Some(&e),
            collection: &[],
        };
        assert_eq!(resolve("{{fhirurl}}", &ctx).text, "http://other");
    }

    #[test]
    fn nested_values_resolve_and_cycles_stop() {
        let e = env();
        let ctx = Context {
            environment: Some(&e),
            ..Default::default()
        };
        assert_eq!(resolve("{{nested}}", &ctx).text, "http://fhir.test/Patient");
        assert_eq!(resolve("{{loop}}", &ctx).text, "{{loop}}");
    }

    #[test]
    fn secrets_are_tracked_for_redaction() {
        let e = env();
        let ctx = Context {
            environment: Some(&e),
            ..Default::default()
        };
        let r = resolve("client_secret={{clientsecret}}", &ctx);
        assert_eq!(r.secrets, vec!["hunter22"]);
        assert_eq!(redact(&r.text, &r.secrets), "client_secret=••••••");
    }

    #[test]
    fn builtins() {
        let ctx = Context::default();
        let g = resolve("{{$guid}}", &ctx).text;
        assert_eq!(g.len(), 36);
        assert_ne!(g, resolve("{{$randomUUID}}", &ctx).text);
        assert!(resolve("{{$timestamp}}", &ctx).text.parse::<i64>().is_ok());
        assert!(resolve("{{$isoTimestamp}}", &ctx).text.ends_with('Z'));
        assert!(resolve("{{$randomInt}}", &ctx).text.parse::<u32>().unwrap() < 1000);
        assert_eq!(resolve("{{$nope}}", &ctx).unresolved, vec!["$nope"]);
    }

    #[test]
    fn segments_handle_unclosed_braces() {
        assert_eq!(
            segments("a{{b}}c{{d"),
            vec![
                Segment::Text(0..1),
                Segment::Var {
                    name: "b".into(),
                    range: 1..6
                },
                Segment::Text(6..10),
            ]
        );
    }
}
