//! jq filters over a body (with the `jaq` crates), for the Response pane's filter view.
//! The result is pretty-printed like any body, so it goes through the same viewer.

use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use jaq_core::load::{Arena, File, Loader};
use jaq_core::{Compiler, Ctx, Vars, data};
use jaq_json::Val;

use super::pretty::{MAX_DEPTH, pretty_json};
use super::text::BodyText;

mod parse;
mod scan;

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
    #[error("The filter's output is larger than {} MiB; narrow it down.", MAX_OUTPUT_BYTES >> 20)]
    TooLarge,
    #[error("The filter's result is nested deeper than {MAX_DEPTH} levels, too deep to show.")]
    TooDeep,
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

/// The Bundle shortcuts taken apart for entry-by-entry evaluation: on a Bundle each is
/// `[.entry[]?.resource | EACH] | THEN` (or the stream `… | EACH` without `THEN`), so `EACH`
/// runs on one resource at a time, parsed from its slice of the body, and only its small
/// outputs are kept. This is what keeps a filter over a large searchset within a few times
/// the body's size, where a tree of the whole body costs about twenty.
const ENTRYWISE: &[(&str, &str, Option<&str>)] = &[
    ("resources", ".", None),
    ("ids", "\"\\(.resourceType)/\\(.id)\"", Some(".")),
    (
        "types",
        ".resourceType",
        Some("group_by(.) | map({key: .[0], value: length}) | from_entries"),
    ),
];

type Compiled = jaq_core::Filter<data::JustLut<Val>>;

/// Runs `expr` (or a shortcut) on the JSON body `input` — on each line's value when
/// `ndjson` — and pretty-prints the outputs. `cancel` is checked between outputs. The input
/// is copied once (the worker, holding the body as [`Bytes`], calls
/// [`run_filter_keeping_input`], which shares it).
pub fn run_filter(
    input: &[u8],
    ndjson: bool,
    expr: &str,
    cancel: &AtomicBool,
) -> Result<FilterOutput, FilterError> {
    run_filter_keeping_input(&Bytes::copy_from_slice(input), ndjson, expr, cancel).0
}

/// The parsed body a filter ran on, still held: dropping it frees it. Freeing the millions
/// of values of a large body takes about as long as parsing it (0.5–0.6 s against 0.35–0.5 s
/// for the 46.7 MiB searchset of `examples/filter_speed`, a release build on the shared 2-core
/// machine), so the worker delivers the result first and drops this after.
#[derive(Default)]
pub struct ParsedInput(Option<Val>);

/// [`run_filter`], handing back the parsed body (when it was parsed whole) for the caller
/// to drop once the result is delivered.
pub fn run_filter_keeping_input(
    input: &Bytes,
    ndjson: bool,
    expr: &str,
    cancel: &AtomicBool,
) -> (Result<FilterOutput, FilterError>, ParsedInput) {
    let mut kept = ParsedInput::default();
    let out = run_filter_into(input, ndjson, expr, cancel, &mut kept);
    (out, kept)
}

fn run_filter_into(
    input: &Bytes,
    ndjson: bool,
    expr: &str,
    cancel: &AtomicBool,
    kept: &mut ParsedInput,
) -> Result<FilterOutput, FilterError> {
    let shortcut = ENTRYWISE.iter().find(|(name, _, _)| *name == expr.trim());
    if !ndjson
        && let Some(&(_, each, then)) = shortcut
        && let Some(resources) = scan::bundle_resources(input)
        && let Some(out) = run_entrywise(input, &resources, each, then, cancel)?
    {
        return Ok(out);
    }
    run_whole(input, ndjson, expand_shortcut(expr), cancel, kept)
}

/// A shortcut entry by entry (see [`ENTRYWISE`]). `Ok(None)` if a resource does not parse
/// as the whole body would: then the general path runs, and reports the error as before.
fn run_entrywise(
    input: &Bytes,
    resources: &[&[u8]],
    each: &str,
    then: Option<&str>,
    cancel: &AtomicBool,
) -> Result<Option<FilterOutput>, FilterError> {
    let each = compile(each)?;
    let mut sink = Sink::default();
    let mut kept = Vec::new();
    for raw in resources {
        if cancel.load(Ordering::Relaxed) {
            return Err(FilterError::Cancelled);
        }
        // Too deep, or not plain JSON: the general path says why.
        let Ok(resource) = parse::parse_shared(input, raw, MAX_DEPTH) else {
            return Ok(None);
        };
        for v in outputs(&each, resource, cancel) {
            match then {
                None => {
                    if !sink.push(v?)? {
                        return Ok(Some(sink.finish()));
                    }
                }
                Some(_) => kept.push(v?),
            }
        }
    }
    if let Some(then) = then {
        let then = compile(then)?;
        for v in outputs(&then, Val::from_iter(kept), cancel) {
            if !sink.push(v?)? {
                break;
            }
        }
    }
    Ok(Some(sink.finish()))
}

/// The general path: the whole body (or each NDJSON line) parsed into one jq value at a time.
fn run_whole(
    input: &Bytes,
    ndjson: bool,
    code: &str,
    cancel: &AtomicBool,
    kept: &mut ParsedInput,
) -> Result<FilterOutput, FilterError> {
    let filter = compile(code)?;
    let too_deep = |at| {
        FilterError::Input(format!(
            "byte offset {at}: nested deeper than {MAX_DEPTH} levels"
        ))
    };
    let input_error = |e: jaq_json::read::Error| FilterError::Input(e.to_string());
    let mut sink = Sink::default();
    if !ndjson {
        let val = match parse::parse_shared(input, input, MAX_DEPTH) {
            Ok(val) => val,
            Err(parse::Refused::TooDeep(at)) => return Err(too_deep(at)),
            // Not plain JSON: jaq's parser reads it or says why not (its levels bounded first,
            // as it recurses once per level).
            Err(parse::Refused::NotPlain) => match scan::too_deep(input, MAX_DEPTH) {
                Some(at) => return Err(too_deep(at)),
                None => jaq_json::read::parse_single(input).map_err(input_error)?,
            },
        };
        // A second handle (values are reference-counted): the filter's own is gone with its
        // outputs, this one is freed by the caller.
        kept.0 = Some(val.clone());
        for v in outputs(&filter, val, cancel) {
            if !sink.push(v?)? {
                break;
            }
        }
        return Ok(sink.finish());
    }
    // jaq's parser recurses once per level: bound the levels before it starts.
    if let Some(at) = scan::too_deep(input, MAX_DEPTH) {
        return Err(too_deep(at));
    }
    // One line's value at a time; once capped, the rest is still parsed, so a broken line
    // is reported whatever the cap.
    let mut values = jaq_json::read::parse_many(input);
    for val in values.by_ref() {
        let mut full = false;
        for v in outputs(&filter, val.map_err(input_error)?, cancel) {
            if !sink.push(v?)? {
                full = true;
                break;
            }
        }
        if full {
            break;
        }
    }
    for val in values {
        val.map_err(input_error)?;
    }
    Ok(sink.finish())
}

/// `code` compiled with jq's standard definitions.
fn compile(code: &str) -> Result<Compiled, FilterError> {
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
    Compiler::default()
        .with_funs(funs)
        .compile(modules)
        .map_err(|errs| {
            let names: Vec<String> = errs
                .into_iter()
                .flat_map(|(_, es)| es)
                .map(|(name, kind)| format!("the {} '{name}'", kind.as_str()))
                .collect();
            FilterError::Undefined(names.join(", "))
        })
}

/// The outputs of `filter` on `input`, each checked for `cancel` first, errors as sentences.
/// The input is dropped as soon as the outputs are consumed; outputs keep only what they share.
fn outputs<'a>(
    filter: &'a Compiled,
    input: Val,
    cancel: &'a AtomicBool,
) -> impl Iterator<Item = Result<Val, FilterError>> + 'a {
    let ctx = Ctx::<data::JustLut<Val>>::new(&filter.lut, Vars::new([]));
    filter.id.run((ctx, input)).map(move |r| {
        if cancel.load(Ordering::Relaxed) {
            return Err(FilterError::Cancelled);
        }
        r.map_err(|e| {
            FilterError::Run(match e.get_err() {
                Ok(err) => err.to_string(),
                Err(_) => "it stopped the program (halt)".into(),
            })
        })
    })
}

/// The outputs printed so far, one after another.
#[derive(Default)]
struct Sink {
    out: String,
    results: usize,
    capped: bool,
}

impl Sink {
    /// Prints `v` after the others; false once [`MAX_RESULTS`] are in (and `v` is dropped).
    fn push(&mut self, v: Val) -> Result<bool, FilterError> {
        if self.results >= MAX_RESULTS {
            self.capped = true;
            return Ok(false);
        }
        if nested_deeper(&v, MAX_DEPTH) {
            return Err(FilterError::TooDeep);
        }
        self.results += 1;
        let compact = v.to_string();
        drop(v);
        let pretty = pretty_json(compact.as_bytes()).unwrap_or(compact);
        if !self.out.is_empty() {
            self.out.push('\n');
        }
        self.out.push_str(&pretty);
        if self.out.len() > MAX_OUTPUT_BYTES {
            return Err(FilterError::TooLarge);
        }
        Ok(true)
    }

    fn finish(self) -> FilterOutput {
        FilterOutput {
            text: BodyText::new(self.out),
            results: self.results,
            capped: self.capped,
        }
    }
}

/// True if `v` nests more than `limit` arrays or objects (printing it recurses once a level).
/// Recurses at most `limit` levels itself.
fn nested_deeper(v: &Val, limit: usize) -> bool {
    let Some(below) = limit.checked_sub(1) else {
        return matches!(v, Val::Arr(_) | Val::Obj(_));
    };
    match v {
        Val::Arr(a) => a.iter().any(|x| nested_deeper(x, below)),
        Val::Obj(o) => o
            .iter()
            .any(|(k, x)| nested_deeper(k, below) || nested_deeper(x, below)),
        _ => false,
    }
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

    #[test]
    fn the_parsed_body_is_handed_back_for_the_caller_to_free() {
        let stop = AtomicBool::new(false);
        let input = crate::view_body::generate_observations(3);
        let (out, parsed) =
            run_filter_keeping_input(&Bytes::from(input.clone()), false, ".entry | length", &stop);
        assert_eq!(out.unwrap().text.text(), "3");
        assert!(parsed.0.is_some());
        // Entry by entry: no tree of the whole body to hand back.
        let (out, parsed) =
            run_filter_keeping_input(&Bytes::from(input.clone()), false, "types", &stop);
        assert!(out.unwrap().text.text().contains("\"Observation\": 3"));
        assert!(parsed.0.is_none());
    }

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

    /// The shortcuts give the same answer entry by entry as on the whole tree, and on a
    /// Bundle they do go entry by entry.
    #[test]
    fn entrywise_shortcuts_match_the_whole_tree() {
        let stop = AtomicBool::new(false);
        let generated = crate::view_body::generate_searchset(40);
        let deep = format!(
            r#"{{"resourceType":"Bundle","entry":[{{"resource":{{"resourceType":"P"}}}},{{"resource":{}{}}}]}}"#,
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        let fixtures: Vec<(&str, bool)> = vec![
            (BUNDLE, true),
            (&generated, true),
            (
                r#"{"resourceType":"Bundle","type":"searchset","total":0}"#,
                true,
            ),
            (r#"{"resourceType":"Bundle","entry":null}"#, true),
            (
                r#"{"entry":[{"resource":{"resourceType":"Patient","id":"\u00e9\"x","n":1e400}},
                    null,{"fullUrl":"u"},{"resource":null},
                    {"resource":{"id":"no-type","deep":[[[{"a":[]}]]]}}],
                  "resourceType":"Bund\u006ce"}"#,
                true,
            ),
            (
                r#"{"resourceType":"Bundle","resourceType":"Bundle","entry":[
                    {"resource":{"resourceType":"A"},"resource":{"resourceType":"B","id":1}}]}"#,
                true,
            ),
            // Unusual shapes go the general way, with its answers and errors.
            (&deep, true),
            (r#"{"resourceType":"Bundle","entry":[1]}"#, false),
            (
                r#"{"resourceType":"Bundle","entry":{"x":{"resource":{"resourceType":"P"}}}}"#,
                false,
            ),
            (r#"{"resourceType":"Patient","id":"p"}"#, false),
            (r#"[{"resourceType":"Patient","id":"p"}]"#, false),
            (
                r#"{"resourceType":"Bundle","entry":[{"resource":NaN}]}"#,
                false,
            ),
            (
                r#"{"resourceType":"Bundle","entry":[{"resource":"text"}]}"#,
                true,
            ),
            ("not json", false),
        ];
        for (input, entrywise) in fixtures {
            assert_eq!(
                scan::bundle_resources(input.as_bytes()).is_some(),
                entrywise,
                "{input}"
            );
            for (name, _, _) in ENTRYWISE {
                let fast = run_filter(input.as_bytes(), false, name, &stop)
                    .map(|o| (o.text.text().to_string(), o.results, o.capped));
                let whole = run_whole(
                    &Bytes::copy_from_slice(input.as_bytes()),
                    false,
                    expand_shortcut(name),
                    &stop,
                    &mut ParsedInput::default(),
                )
                .map(|o| (o.text.text().to_string(), o.results, o.capped));
                assert_eq!(fast, whole, "{name} on {input}");
            }
        }
    }

    #[test]
    fn bodies_and_results_too_deep_are_refused_with_a_sentence() {
        let stop = AtomicBool::new(false);
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let e = run_filter(deep.as_bytes(), false, ".", &stop).unwrap_err();
        assert_eq!(
            e.to_string(),
            "The body is not JSON, so it cannot be filtered (byte offset 512: nested deeper than 512 levels)."
        );
        let e = run_filter(deep.as_bytes(), true, ".", &stop).unwrap_err();
        assert!(matches!(e, FilterError::Input(_)), "{e:?}");
        let e = run_filter(b"0", false, "reduce range(600) as $i (0; [.])", &stop).unwrap_err();
        assert_eq!(
            e.to_string(),
            "The filter's result is nested deeper than 512 levels, too deep to show."
        );
        let ok = run_filter(b"0", false, "reduce range(500) as $i (0; [.])", &stop).unwrap();
        assert_eq!(ok.results, 1);
    }

    #[test]
    fn a_broken_ndjson_line_is_reported_even_after_the_cap() {
        let stop = AtomicBool::new(false);
        let mut input = "1\n".repeat(MAX_RESULTS + 1);
        input.push_str("{oops\n");
        let e = run_filter(input.as_bytes(), true, ".", &stop).unwrap_err();
        assert!(matches!(e, FilterError::Input(_)), "{e:?}");
    }
}
