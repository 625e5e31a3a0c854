//! jq filters over a body (with the `jaq` crates), for the Response pane's filter view.
//! The result is pretty-printed like any body, so it goes through the same viewer.

use std::sync::atomic::{AtomicBool, Ordering};

use jaq_core::load::{Arena, File, Loader};
use jaq_core::{Compiler, Ctx, Vars, data};
use jaq_json::Val;

use super::pretty::pretty_json;
use super::text::BodyText;

/// Shortcuts for common FHIR questions, typed instead of a jq expression.
pub const SHORTCUTS: &[(&str, &str, &str)] = &[
    (
        "resources",
        "if .resourceType == \"Bundle\" then .entry[]?.resource else . end",
        "each resource of a Bundle",
    ),
    (
        "ids",
        "[if .resourceType == \"Bundle\" then .entry[]?.resource else . end | \"\\(.resourceType)/\\(.id)\"]",
        "Type/id of each resource",
    ),
    (
        "types",
        "[if .resourceType == \"Bundle\" then .entry[]?.resource else . end | .resourceType] | group_by(.) | map({key: .[0], value: length}) | from_entries",
        "how many resources of each type",
    ),
    (
        "issues",
        "[.issue[]? | {severity, code, diagnostics, expression}]",
        "an OperationOutcome's issues",
    ),
];

/// Filter outputs beyond this many are not shown.
pub const MAX_RESULTS: usize = 100_000;
/// Filter output beyond this size is refused (an expression that multiplies the body).
pub const MAX_OUTPUT_BYTES: usize = 512 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error("The filter is not valid jq: {0}.")]
    Syntax(String),
    #[error("The filter uses {0}, which jq does not know.")]
    Undefined(String),
    #[error("The body is not JSON, so it cannot be filtered ({0}).")]
    Input(String),
    #[error("The filter failed: {0}.")]
    Run(String),
    #[error("The filter's output is larger than {} MB; narrow it down.", MAX_OUTPUT_BYTES >> 20)]
    TooLarge,
    #[error("Filter stopped.")]
    Cancelled,
}

/// What a filter produced: its outputs pretty-printed one after another, and how many.
pub struct FilterOutput {
    pub text: BodyText,
    pub results: usize,
    /// True if outputs after [`MAX_RESULTS`] were dropped.
    pub capped: bool,
}

impl std::fmt::Debug for FilterOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FilterOutput")
            .field("results", &self.results)
            .field("lines", &self.text.line_count())
            .finish()
    }
}

/// The jq expression for `expr`: a shortcut's expansion, or `expr` itself.
pub fn expand_shortcut(expr: &str) -> &str {
    let t = expr.trim();
    SHORTCUTS
        .iter()
        .find(|(name, _, _)| *name == t)
        .map_or(t, |(_, jq, _)| jq)
}

/// Runs `expr` (or a shortcut) on the JSON body `input` — on each line's value when
/// `ndjson` — and pretty-prints the outputs. `cancel` is checked between outputs.
pub fn run_filter(
    input: &[u8],
    ndjson: bool,
    expr: &str,
    cancel: &AtomicBool,
) -> Result<FilterOutput, FilterError> {
    let code = expand_shortcut(expr);
    let defs = jaq_core::defs()
        .chain(jaq_std::defs())
        .chain(jaq_json::defs());
    let funs = jaq_core::funs()
        .chain(jaq_std::funs())
        .chain(jaq_json::funs());
    let loader = Loader::new(defs);
    let arena = Arena::default();
    let modules = loader
        .load(&arena, File { code, path: () })
        .map_err(|errs| load_error(code, errs))?;
    let filter = Compiler::default()
        .with_funs(funs)
        .compile(modules)
        .map_err(|errs| {
            let names: Vec<String> = errs
                .into_iter()
                .flat_map(|(_, es)| es)
                .map(|(name, kind)| format!("the {} '{name}'", kind.as_str()))
                .collect();
            FilterError::Undefined(names.join(", "))
        })?;

    let inputs: Vec<Val> = if ndjson {
        jaq_json::read::parse_many(input)
            .collect::<Result<_, _>>()
            .map_err(|e| FilterError::Input(e.to_string()))?
    } else {
        vec![jaq_json::read::parse_single(input).map_err(|e| FilterError::Input(e.to_string()))?]
    };

    let mut out = String::new();
    let mut results = 0;
    let mut capped = false;
    'inputs: for val in inputs {
        let ctx = Ctx::<data::JustLut<Val>>::new(&filter.lut, Vars::new([]));
        for r in filter.id.run((ctx, val)) {
            if cancel.load(Ordering::Relaxed) {
                return Err(FilterError::Cancelled);
            }
            let v = match r {
                Ok(v) => v,
                Err(e) => {
                    return Err(FilterError::Run(match e.get_err() {
                        Ok(err) => err.to_string(),
                        Err(_) => "it stopped the program (halt)".into(),
                    }));
                }
            };
            if results >= MAX_RESULTS {
                capped = true;
                break 'inputs;
            }
            results += 1;
            let compact = v.to_string();
            let pretty = pretty_json(compact.as_bytes()).unwrap_or(compact);
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&pretty);
            if out.len() > MAX_OUTPUT_BYTES {
                return Err(FilterError::TooLarge);
            }
        }
    }
    Ok(FilterOutput {
        text: BodyText::new(out),
        results,
        capped,
    })
}

/// A load (lex or parse) error as a sentence part: what was expected, near which text.
fn load_error(code: &str, errs: jaq_core::load::Errors<&str, ()>) -> FilterError {
    use jaq_core::load::Error;
    let near = |found: &str| {
        let shown: String = found.chars().take(20).collect();
        if shown.is_empty() {
            "at the end".to_string()
        } else {
            let col = code.len().saturating_sub(found.len()) + 1;
            format!("at column {col} ('{shown}')")
        }
    };
    let mut parts = Vec::new();
    for (_, e) in errs {
        match e {
            Error::Io(v) => parts.extend(v.into_iter().map(|(p, msg)| format!("{p}: {msg}"))),
            Error::Lex(v) => parts.extend(v.into_iter().map(|(expect, found)| {
                use jaq_core::load::lex::Expect as L;
                let what = match expect {
                    L::Digit => "a digit",
                    L::Ident => "a name",
                    L::Delim("(") => "a closing parenthesis",
                    L::Delim("[") => "a closing bracket",
                    L::Delim("{") => "a closing brace",
                    L::Delim(_) => "a closing quote",
                    L::Escape => "a string escape",
                    L::Unicode => "four hex digits",
                    _ => "something else",
                };
                format!("expected {what} {}", near(found))
            })),
            Error::Parse(v) => parts
                .extend(v.into_iter().map(|(expect, found)| {
                    format!("expected {} {}", expect.as_str(), near(found))
                })),
        }
    }
    FilterError::Syntax(parts.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(input: &str, expr: &str) -> Result<(String, usize), FilterError> {
        let stop = AtomicBool::new(false);
        run_filter(input.as_bytes(), false, expr, &stop)
            .map(|o| (o.text.text().to_string(), o.results))
    }

    const BUNDLE: &str = r#"{"resourceType":"Bundle","type":"searchset","entry":[
        {"resource":{"resourceType":"Patient","id":"a","name":[{"family":"Kirk"}]}},
        {"resource":{"resourceType":"Patient","id":"b"}},
        {"resource":{"resourceType":"Observation","id":"o1","valueQuantity":{"value":1.50}}}]}"#;

    #[test]
    fn paths_and_outputs() {
        let (text, n) = run(BUNDLE, ".entry[].resource.id").unwrap();
        assert_eq!(n, 3);
        assert_eq!(text, "\"a\"\n\"b\"\n\"o1\"");
        let (text, n) = run(BUNDLE, ".entry[0].resource").unwrap();
        assert_eq!(n, 1);
        assert_eq!(
            text,
            "{\n  \"resourceType\": \"Patient\",\n  \"id\": \"a\",\n  \"name\": [\n    {\n      \"family\": \"Kirk\"\n    }\n  ]\n}"
        );
        let (text, _) = run(
            BUNDLE,
            "[.entry[].resource | select(.resourceType == \"Patient\") | .id]",
        )
        .unwrap();
        assert_eq!(text, "[\n  \"a\",\n  \"b\"\n]");
        // Numbers keep their text.
        let (text, _) = run(BUNDLE, ".entry[2].resource.valueQuantity.value").unwrap();
        assert_eq!(text, "1.50");
        let (_, n) = run(BUNDLE, "empty").unwrap();
        assert_eq!(n, 0);
    }

    #[test]
    fn shortcuts() {
        let (text, _) = run(BUNDLE, "ids").unwrap();
        assert_eq!(
            text,
            "[\n  \"Patient/a\",\n  \"Patient/b\",\n  \"Observation/o1\"\n]"
        );
        let (text, _) = run(BUNDLE, " types ").unwrap();
        assert_eq!(text, "{\n  \"Observation\": 1,\n  \"Patient\": 2\n}");
        let (_, n) = run(BUNDLE, "resources").unwrap();
        assert_eq!(n, 3);
        let (text, _) = run(r#"{"resourceType":"Patient","id":"x"}"#, "ids").unwrap();
        assert_eq!(text, "[\n  \"Patient/x\"\n]");
    }

    #[test]
    fn ndjson_runs_per_line() {
        let stop = AtomicBool::new(false);
        let input = "{\"id\":\"1\"}\n{\"id\":\"2\"}\n";
        let out = run_filter(input.as_bytes(), true, ".id", &stop).unwrap();
        assert_eq!(out.text.text(), "\"1\"\n\"2\"");
        assert_eq!(out.results, 2);
    }

    #[test]
    fn errors_are_sentences() {
        let e = run(BUNDLE, ".entry[").unwrap_err();
        assert!(matches!(e, FilterError::Syntax(_)), "{e:?}");
        assert!(
            e.to_string()
                .starts_with("The filter is not valid jq: expected"),
            "{e}"
        );
        let e = run(BUNDLE, "nosuchthing").unwrap_err();
        assert_eq!(
            e.to_string(),
            "The filter uses the filter 'nosuchthing', which jq does not know."
        );
        let e = run(BUNDLE, ".entry | .foo").unwrap_err();
        assert!(e.to_string().starts_with("The filter failed: "), "{e}");
        let e = run("not json", ".").unwrap_err();
        assert!(e.to_string().starts_with("The body is not JSON"), "{e}");
        let e = run(BUNDLE, "halt").unwrap_err();
        assert_eq!(
            e.to_string(),
            "The filter failed: it stopped the program (halt)."
        );
        let e = run(BUNDLE, "\"abc").unwrap_err();
        assert!(e.to_string().contains("closing quote"), "{e}");
    }

    #[test]
    fn runaway_filters_stop() {
        let stop = AtomicBool::new(false);
        let out = run_filter(b"1", false, "repeat(1)", &stop).unwrap();
        assert!(out.capped);
        assert_eq!(out.results, MAX_RESULTS);
        stop.store(true, Ordering::Relaxed);
        assert_eq!(
            run_filter(b"1", false, "repeat(1)", &stop).err(),
            Some(FilterError::Cancelled)
        );
    }
}
