//! FHIRPath over a body, beside jq: `Patient.name.where(use='official').family`,
//! `Bundle.entry.resource.ofType(Observation).value.ofType(Quantity).value`.
//!
//! Written here rather than taken from a crate: the Rust FHIRPath crates either need FHIR
//! definitions fetched from a package registry at run time to resolve `ofType(Patient)`
//! (tlq-fhirpath), pull a second HTTP and TLS stack into the build with a newer compiler than
//! ours (octofhir-fhirpath), pin serde versions and generated models (helios-fhirpath), carry
//! a source-available licence (ferrobridge-fhirpath) or none stated (fhirpathrs). This is the
//! part of FHIRPath (N1) people type to look into a resource, evaluated over the JSON as it
//! is: paths (choice types by their JSON names, `value` finds `valueQuantity`), indexers,
//! `where`/`select`/`ofType`/`exists`/`all`, the collection, string and conversion functions,
//! comparison, boolean and arithmetic operators, union. What it does not know (`resolve()`,
//! terminology, quantities with units, `matches`) is an error naming it, never a wrong answer.
//!
//! Bounded: the body is parsed by serde_json (128 levels of nesting at most), expressions
//! nest at most [`MAX_NESTING`] deep, results and output are capped like jq's.

use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::Value;

use super::filter::{FilterOutput, MAX_OUTPUT_BYTES, MAX_RESULTS};
use super::{BodyText, pretty_json};

/// Parentheses, calls and operators nest at most this deep in an expression.
pub const MAX_NESTING: usize = 64;

/// Items any step may produce (a bound on `descendants()` and unions of huge bodies).
const MAX_ITEMS: usize = 1_000_000;

/// The filter-line prefixes that mean FHIRPath rather than jq.
pub const PREFIXES: &[&str] = &["fhirpath:", "fp:"];

/// The expression after a FHIRPath prefix (`fp: name.family`), or `None` for jq.
pub fn strip_prefix(expr: &str) -> Option<&str> {
    let t = expr.trim_start();
    PREFIXES
        .iter()
        .find_map(|p| t.strip_prefix(p))
        .map(str::trim)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FhirPathError {
    #[error("The expression is not valid FHIRPath: {0}.")]
    Syntax(String),
    #[error("FHIRPath's {0} is not supported here.")]
    Unsupported(String),
    #[error("{0}() takes {1}.")]
    Arity(String, &'static str),
    #[error("The expression failed: {0}.")]
    Eval(String),
    #[error("The body is not JSON, so FHIRPath cannot read it ({0}).")]
    Input(String),
    #[error("The expression nests more than {MAX_NESTING} levels deep.")]
    TooDeep,
    #[error("The output is larger than {} MB; narrow it down.", MAX_OUTPUT_BYTES >> 20)]
    TooLarge,
    #[error("Filter stopped.")]
    Cancelled,
}

type R<T> = Result<T, FhirPathError>;

fn eval_err<T>(s: impl Into<String>) -> R<T> {
    Err(FhirPathError::Eval(s.into()))
}

/// Evaluates `expr` over the JSON in `input` (each record of NDJSON): the results one after
/// another, pretty-printed, as the jq filter gives them.
pub fn run_fhirpath(
    input: &[u8],
    ndjson: bool,
    expr: &str,
    cancel: &AtomicBool,
) -> R<FilterOutput> {
    let ast = parse(expr)?;
    let inputs: Vec<Value> = if ndjson {
        input
            .split(|b| *b == b'\n')
            .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
            .map(|l| serde_json::from_slice(l).map_err(|e| FhirPathError::Input(e.to_string())))
            .collect::<R<_>>()?
    } else {
        vec![serde_json::from_slice(input).map_err(|e| FhirPathError::Input(e.to_string()))?]
    };
    let mut out = String::new();
    let mut results = 0;
    let mut capped = false;
    'inputs: for root in inputs {
        let ev = Evaluator {
            root: &root,
            cancel,
        };
        let focus = vec![Item::of(root.clone())];
        for item in ev.eval(&ast, &focus, &Scope::default())? {
            if results >= MAX_RESULTS {
                capped = true;
                break 'inputs;
            }
            results += 1;
            let compact = item.value.to_string();
            let pretty = pretty_json(compact.as_bytes()).unwrap_or(compact);
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&pretty);
            if out.len() > MAX_OUTPUT_BYTES {
                return Err(FhirPathError::TooLarge);
            }
        }
    }
    Ok(FilterOutput {
        text: BodyText::new(out),
        results,
        capped,
    })
}

/// Evaluates `expr` on one resource: the results as JSON values (for tests and the CLI).
pub fn evaluate(resource: &Value, expr: &str) -> R<Vec<Value>> {
    let ast = parse(expr)?;
    let cancel = AtomicBool::new(false);
    let ev = Evaluator {
        root: resource,
        cancel: &cancel,
    };
    let focus = vec![Item::of(resource.clone())];
    Ok(ev
        .eval(&ast, &focus, &Scope::default())?
        .into_iter()
        .map(|i| i.value)
        .collect())
}

// ---------------------------------------------------------------------------------------------
// Lexing and parsing

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(f64, bool),
    Date(String),
    Var(String),
    Env(String),
    Op(&'static str),
    Eof,
}

const SYMBOLS: &[&str] = &[
    "<=", ">=", "!=", "!~", "=", "~", "<", ">", "|", "+", "-", "*", "/", "&", "(", ")", "[", "]",
    ",", ".", "{", "}",
];

fn lex(src: &str) -> R<Vec<(Tok, usize)>> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let syntax = |msg: String| FhirPathError::Syntax(msg);
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == '/' && chars.get(i + 1) == Some(&'/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            continue;
        }
        if c == '\'' || c == '`' {
            let quote = c;
            let mut s = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => {
                        return Err(syntax(format!(
                            "a {quote} at column {} is never closed",
                            start + 1
                        )));
                    }
                    Some(&q) if q == quote => break,
                    Some('\\') => {
                        i += 1;
                        s.push(match chars.get(i) {
                            Some('n') => '\n',
                            Some('t') => '\t',
                            Some('r') => '\r',
                            Some(&o) => o,
                            None => return Err(syntax("a string ends in a backslash".into())),
                        });
                    }
                    Some(&o) => s.push(o),
                }
                i += 1;
            }
            i += 1;
            out.push((
                if quote == '`' {
                    Tok::Ident(s)
                } else {
                    Tok::Str(s)
                },
                start,
            ));
            continue;
        }
        if c.is_ascii_digit() {
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            let mut int = true;
            if chars.get(i) == Some(&'.') && chars.get(i + 1).is_some_and(char::is_ascii_digit) {
                int = false;
                i += 1;
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
            }
            let text: String = chars[start..i].iter().collect();
            let n = text
                .parse()
                .map_err(|_| syntax(format!("'{text}' is not a number")))?;
            out.push((Tok::Num(n, int), start));
            continue;
        }
        if c == '@' {
            i += 1;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || matches!(chars[i], '-' | ':' | '.' | '+'))
            {
                i += 1;
            }
            out.push((Tok::Date(chars[start + 1..i].iter().collect()), start));
            continue;
        }
        if c == '$' || c == '%' || c.is_alphabetic() || c == '_' {
            i += 1;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            out.push((
                match c {
                    '$' => Tok::Var(word[1..].to_string()),
                    '%' => Tok::Env(word[1..].to_string()),
                    _ => Tok::Ident(word),
                },
                start,
            ));
            continue;
        }
        let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
        match SYMBOLS.iter().find(|s| rest.starts_with(**s)) {
            Some(s) => {
                out.push((Tok::Op(s), start));
                i += s.chars().count();
            }
            None => {
                return Err(syntax(format!(
                    "'{c}' at column {} is not FHIRPath",
                    start + 1
                )));
            }
        }
    }
    out.push((Tok::Eof, chars.len()));
    Ok(out)
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Lit(Value),
    Empty,
    This,
    Index,
    Env(String),
    /// A name at the start of a path: a member of the focus, or a type filter (`Patient`).
    Name(String),
    Member(Box<Expr>, String),
    Call(Option<Box<Expr>>, String, Vec<Expr>),
    Indexer(Box<Expr>, Box<Expr>),
    Binary(&'static str, Box<Expr>, Box<Expr>),
    Neg(Box<Expr>),
    /// `is` / `as` with a type name.
    TypeOp(&'static str, Box<Expr>, String),
}

struct Parser {
    toks: Vec<(Tok, usize)>,
    pos: usize,
    depth: usize,
}

/// Word operators and their binding power (higher binds tighter).
fn infix(t: &Tok) -> Option<(&'static str, u8)> {
    Some(match t {
        Tok::Ident(w) => match w.as_str() {
            "implies" => ("implies", 1),
            "or" => ("or", 2),
            "xor" => ("xor", 2),
            "and" => ("and", 3),
            "in" => ("in", 4),
            "contains" => ("contains", 4),
            "is" => ("is", 8),
            "as" => ("as", 8),
            "div" => ("div", 10),
            "mod" => ("mod", 10),
            _ => return None,
        },
        Tok::Op(o) => match *o {
            "=" | "~" | "!=" | "!~" => (*o, 5),
            "<" | ">" | "<=" | ">=" => (*o, 6),
            "|" => ("|", 7),
            "+" | "-" | "&" => (*o, 9),
            "*" | "/" => (*o, 10),
            _ => return None,
        },
        _ => return None,
    })
}

fn parse(src: &str) -> R<Expr> {
    if src.trim().is_empty() {
        return Err(FhirPathError::Syntax("the expression is empty".into()));
    }
    let mut p = Parser {
        toks: lex(src)?,
        pos: 0,
        depth: 0,
    };
    let e = p.expr(0)?;
    match p.peek() {
        Tok::Eof => Ok(e),
        t => Err(FhirPathError::Syntax(format!(
            "{} at column {} was not expected",
            describe(t),
            p.col()
        ))),
    }
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Ident(s) => format!("'{s}'"),
        Tok::Str(s) => format!("the string '{s}'"),
        Tok::Num(n, _) => format!("the number {n}"),
        Tok::Date(d) => format!("@{d}"),
        Tok::Var(v) => format!("${v}"),
        Tok::Env(v) => format!("%{v}"),
        Tok::Op(o) => format!("'{o}'"),
        Tok::Eof => "the end".into(),
    }
}

impl Parser {
    fn peek(&self) -> &Tok {
        &self.toks[self.pos.min(self.toks.len() - 1)].0
    }

    fn col(&self) -> usize {
        self.toks[self.pos.min(self.toks.len() - 1)].1 + 1
    }

    fn next(&mut self) -> Tok {
        let t = self.peek().clone();
        self.pos += 1;
        t
    }

    fn expect(&mut self, op: &'static str) -> R<()> {
        match self.next() {
            Tok::Op(o) if o == op => Ok(()),
            t => Err(FhirPathError::Syntax(format!(
                "'{op}' was expected at column {}, not {}",
                self.toks[self.pos - 1].1 + 1,
                describe(&t)
            ))),
        }
    }

    fn enter(&mut self) -> R<()> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(FhirPathError::TooDeep);
        }
        Ok(())
    }

    fn expr(&mut self, min: u8) -> R<Expr> {
        self.enter()?;
        let mut lhs = self.unary()?;
        while let Some((op, bp)) = infix(self.peek()) {
            if bp < min {
                break;
            }
            self.next();
            if op == "is" || op == "as" {
                let t = self.type_name()?;
                lhs = Expr::TypeOp(op, Box::new(lhs), t);
                continue;
            }
            let rhs = self.expr(bp + 1)?;
            lhs = Expr::Binary(op, Box::new(lhs), Box::new(rhs));
        }
        self.depth -= 1;
        Ok(lhs)
    }

    fn type_name(&mut self) -> R<String> {
        let mut name = match self.next() {
            Tok::Ident(n) => n,
            t => {
                return Err(FhirPathError::Syntax(format!(
                    "a type name was expected, not {}",
                    describe(&t)
                )));
            }
        };
        while self.peek() == &Tok::Op(".") {
            self.next();
            if let Tok::Ident(n) = self.next() {
                name = n;
            }
        }
        Ok(name)
    }

    fn unary(&mut self) -> R<Expr> {
        match self.peek() {
            Tok::Op("-") => {
                self.next();
                self.enter()?;
                let e = self.unary()?;
                self.depth -= 1;
                Ok(Expr::Neg(Box::new(e)))
            }
            Tok::Op("+") => {
                self.next();
                self.unary()
            }
            _ => {
                let term = self.term()?;
                self.postfix(term)
            }
        }
    }

    fn args(&mut self) -> R<Vec<Expr>> {
        self.expect("(")?;
        let mut args = Vec::new();
        if self.peek() == &Tok::Op(")") {
            self.next();
            return Ok(args);
        }
        loop {
            args.push(self.expr(0)?);
            match self.next() {
                Tok::Op(")") => return Ok(args),
                Tok::Op(",") => {}
                t => {
                    return Err(FhirPathError::Syntax(format!(
                        "',' or ')' was expected, not {}",
                        describe(&t)
                    )));
                }
            }
        }
    }

    fn term(&mut self) -> R<Expr> {
        let col = self.col();
        match self.next() {
            Tok::Num(n, int) => Ok(Expr::Lit(number(n, int))),
            Tok::Str(s) => Ok(Expr::Lit(Value::String(s))),
            Tok::Date(d) => Ok(Expr::Lit(Value::String(d))),
            Tok::Var(v) => match v.as_str() {
                "this" => Ok(Expr::This),
                "index" => Ok(Expr::Index),
                other => Err(FhirPathError::Unsupported(format!("${other}"))),
            },
            Tok::Env(v) => Ok(Expr::Env(v)),
            Tok::Op("(") => {
                let e = self.expr(0)?;
                self.expect(")")?;
                Ok(e)
            }
            Tok::Op("{") => {
                self.expect("}")?;
                Ok(Expr::Empty)
            }
            Tok::Ident(w) if w == "true" || w == "false" => Ok(Expr::Lit(Value::Bool(w == "true"))),
            Tok::Ident(name) => {
                if self.peek() == &Tok::Op("(") {
                    let args = self.args()?;
                    Ok(Expr::Call(None, name, args))
                } else {
                    Ok(Expr::Name(name))
                }
            }
            t => Err(FhirPathError::Syntax(format!(
                "{} at column {col} cannot start an expression",
                describe(&t)
            ))),
        }
    }

    fn postfix(&mut self, mut e: Expr) -> R<Expr> {
        loop {
            match self.peek() {
                Tok::Op(".") => {
                    self.next();
                    let name = match self.next() {
                        Tok::Ident(n) => n,
                        t => {
                            return Err(FhirPathError::Syntax(format!(
                                "a name was expected after '.', not {}",
                                describe(&t)
                            )));
                        }
                    };
                    if self.peek() == &Tok::Op("(") {
                        let args = self.args()?;
                        e = Expr::Call(Some(Box::new(e)), name, args);
                    } else {
                        e = Expr::Member(Box::new(e), name);
                    }
                }
                Tok::Op("[") => {
                    self.next();
                    let i = self.expr(0)?;
                    self.expect("]")?;
                    e = Expr::Indexer(Box::new(e), Box::new(i));
                }
                _ => return Ok(e),
            }
        }
    }
}

fn number(n: f64, int: bool) -> Value {
    if int && n.abs() < 9.0e15 {
        Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
    }
}

// ---------------------------------------------------------------------------------------------
// Evaluation

/// A value with the type its JSON name gave it (`valueQuantity` is a Quantity).
#[derive(Debug, Clone, PartialEq)]
struct Item {
    value: Value,
    ty: Option<String>,
}

impl Item {
    fn of(value: Value) -> Item {
        Item { value, ty: None }
    }
}

#[derive(Default, Clone)]
struct Scope {
    this: Option<Item>,
    index: Option<usize>,
}

struct Evaluator<'a> {
    root: &'a Value,
    cancel: &'a AtomicBool,
}

fn bool_item(b: bool) -> Vec<Item> {
    vec![Item::of(Value::Bool(b))]
}

/// The collection as one boolean: empty is `None`; one boolean is itself; one other item is
/// true (FHIRPath's singleton evaluation).
fn truth(items: &[Item]) -> R<Option<bool>> {
    match items {
        [] => Ok(None),
        [one] => Ok(Some(one.value.as_bool().unwrap_or(true))),
        _ => eval_err("a single true or false was expected, not a collection"),
    }
}

fn single<'v>(items: &'v [Item], what: &str) -> R<Option<&'v Value>> {
    match items {
        [] => Ok(None),
        [one] => Ok(Some(&one.value)),
        _ => eval_err(format!("{what} needs a single value, not {}", items.len())),
    }
}

/// Whether `item` is of the FHIR or System type `t`.
fn is_type(item: &Item, t: &str) -> bool {
    let t = t.trim_start_matches("System.").trim_start_matches("FHIR.");
    if let Some(ty) = &item.ty
        && ty.eq_ignore_ascii_case(t)
    {
        return true;
    }
    let v = &item.value;
    if let Some(rt) = v.get("resourceType").and_then(Value::as_str) {
        return rt == t || t == "Resource" || t == "DomainResource";
    }
    match t {
        "String" | "string" | "code" | "id" | "uri" | "url" | "canonical" | "markdown" => {
            item.ty.is_none() && v.is_string()
        }
        "Boolean" | "boolean" => v.is_boolean(),
        "Integer" | "integer" | "positiveInt" | "unsignedInt" => v.is_i64() || v.is_u64(),
        "Decimal" | "decimal" => v.is_number(),
        _ => false,
    }
}

fn equal(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// Equivalence (`~`): strings ignore case and surrounding space.
fn equivalent(a: &Value, b: &Value) -> bool {
    match (a.as_str(), b.as_str()) {
        (Some(x), Some(y)) => x.trim().eq_ignore_ascii_case(y.trim()),
        _ => equal(a, b),
    }
}

fn order(a: &Value, b: &Value) -> R<std::cmp::Ordering> {
    if let (Some(x), Some(y)) = (a.as_f64(), b.as_f64()) {
        return x
            .partial_cmp(&y)
            .ok_or_else(|| FhirPathError::Eval("numbers that cannot be compared".into()));
    }
    if let (Some(x), Some(y)) = (a.as_str(), b.as_str()) {
        // Dates and times in ISO form compare as text.
        return Ok(x.cmp(y));
    }
    eval_err(format!("{a} and {b} cannot be compared"))
}

fn push_flat(out: &mut Vec<Item>, v: &Value, ty: Option<String>) {
    match v {
        Value::Array(a) => out.extend(a.iter().filter(|x| !x.is_null()).map(|x| Item {
            value: x.clone(),
            ty: ty.clone(),
        })),
        Value::Null => {}
        other => out.push(Item {
            value: other.clone(),
            ty,
        }),
    }
}

/// The members named `name` of each item; a choice element is found by its typed JSON name.
fn members(items: &[Item], name: &str) -> Vec<Item> {
    let mut out = Vec::new();
    for it in items {
        let Value::Object(o) = &it.value else {
            continue;
        };
        if let Some(v) = o.get(name) {
            push_flat(&mut out, v, None);
            continue;
        }
        for (k, v) in o {
            if let Some(suffix) = k.strip_prefix(name)
                && suffix.chars().next().is_some_and(char::is_uppercase)
            {
                push_flat(&mut out, v, Some(suffix.to_string()));
            }
        }
    }
    out
}

fn children(items: &[Item]) -> Vec<Item> {
    let mut out = Vec::new();
    for it in items {
        if let Value::Object(o) = &it.value {
            for v in o.values() {
                push_flat(&mut out, v, None);
            }
        }
    }
    out
}

fn distinct(items: Vec<Item>) -> Vec<Item> {
    let mut out: Vec<Item> = Vec::new();
    for i in items {
        if !out.iter().any(|o| equal(&o.value, &i.value)) {
            out.push(i);
        }
    }
    out
}

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

impl Evaluator<'_> {
    fn eval(&self, e: &Expr, focus: &[Item], scope: &Scope) -> R<Vec<Item>> {
        if self.cancel.load(Ordering::Relaxed) {
            return Err(FhirPathError::Cancelled);
        }
        let out = match e {
            Expr::Lit(v) => vec![Item::of(v.clone())],
            Expr::Empty => Vec::new(),
            Expr::This => scope.this.clone().into_iter().collect(),
            Expr::Index => scope
                .index
                .map(|i| Item::of(Value::from(i as u64)))
                .into_iter()
                .collect(),
            Expr::Env(v) => match v.as_str() {
                "resource" | "context" | "rootResource" => vec![Item::of(self.root.clone())],
                "ucum" => vec![Item::of(Value::from("http://unitsofmeasure.org"))],
                "loinc" => vec![Item::of(Value::from("http://loinc.org"))],
                "sct" => vec![Item::of(Value::from("http://snomed.info/sct"))],
                other => return Err(FhirPathError::Unsupported(format!("%{other}"))),
            },
            Expr::Name(n) => {
                let found = members(focus, n);
                if found.is_empty() && n.chars().next().is_some_and(char::is_uppercase) {
                    focus
                        .iter()
                        .filter(|i| i.value.get("resourceType").and_then(Value::as_str) == Some(n))
                        .cloned()
                        .collect()
                } else {
                    found
                }
            }
            Expr::Member(base, n) => members(&self.eval(base, focus, scope)?, n),
            Expr::Indexer(base, i) => {
                let items = self.eval(base, focus, scope)?;
                let i = self.eval(i, focus, scope)?;
                match single(&i, "an index")?.and_then(Value::as_u64) {
                    Some(n) => items.into_iter().nth(n as usize).into_iter().collect(),
                    None => Vec::new(),
                }
            }
            Expr::Neg(x) => {
                let v = self.eval(x, focus, scope)?;
                match single(&v, "'-'")? {
                    None => Vec::new(),
                    Some(Value::Number(n)) if n.is_i64() => {
                        vec![Item::of(Value::from(-n.as_i64().unwrap_or(0)))]
                    }
                    Some(Value::Number(n)) => {
                        vec![Item::of(number(-n.as_f64().unwrap_or(0.0), false))]
                    }
                    Some(other) => return eval_err(format!("{other} is not a number")),
                }
            }
            Expr::TypeOp(op, x, t) => {
                let v = self.eval(x, focus, scope)?;
                if *op == "as" {
                    v.into_iter().filter(|i| is_type(i, t)).collect()
                } else {
                    match v.as_slice() {
                        [] => Vec::new(),
                        [one] => bool_item(is_type(one, t)),
                        _ => return eval_err("'is' needs a single value"),
                    }
                }
            }
            Expr::Binary(op, a, b) => self.binary(op, a, b, focus, scope)?,
            Expr::Call(recv, name, args) => {
                let input = match recv {
                    Some(r) => self.eval(r, focus, scope)?,
                    None => focus.to_vec(),
                };
                self.call(name, input, args, scope)?
            }
        };
        if out.len() > MAX_ITEMS {
            return eval_err(format!("more than {MAX_ITEMS} values in one step"));
        }
        Ok(out)
    }

    fn binary(&self, op: &str, a: &Expr, b: &Expr, focus: &[Item], scope: &Scope) -> R<Vec<Item>> {
        let l = self.eval(a, focus, scope)?;
        let r = self.eval(b, focus, scope)?;
        let quoted = format!("'{op}'");
        let op_name = quoted.as_str();
        Ok(match op {
            "and" => match (truth(&l)?, truth(&r)?) {
                (Some(false), _) | (_, Some(false)) => bool_item(false),
                (Some(true), Some(true)) => bool_item(true),
                _ => Vec::new(),
            },
            "or" => match (truth(&l)?, truth(&r)?) {
                (Some(true), _) | (_, Some(true)) => bool_item(true),
                (Some(false), Some(false)) => bool_item(false),
                _ => Vec::new(),
            },
            "xor" => match (truth(&l)?, truth(&r)?) {
                (Some(x), Some(y)) => bool_item(x != y),
                _ => Vec::new(),
            },
            "implies" => match (truth(&l)?, truth(&r)?) {
                (Some(false), _) | (_, Some(true)) => bool_item(true),
                (Some(true), Some(false)) => bool_item(false),
                _ => Vec::new(),
            },
            "|" => distinct(l.into_iter().chain(r).collect()),
            "in" | "contains" => {
                let (needle, hay) = if op == "in" { (&l, &r) } else { (&r, &l) };
                match single(needle, op_name)? {
                    None => Vec::new(),
                    Some(n) => bool_item(hay.iter().any(|h| equal(&h.value, n))),
                }
            }
            "=" | "!=" | "~" | "!~" => {
                if l.is_empty() || r.is_empty() {
                    if op.starts_with('~') || op == "!~" {
                        bool_item((l.is_empty() && r.is_empty()) == (op == "~"))
                    } else {
                        Vec::new()
                    }
                } else {
                    let same_len = l.len() == r.len();
                    let eq = same_len
                        && l.iter().zip(&r).all(|(x, y)| {
                            if op.contains('~') {
                                equivalent(&x.value, &y.value)
                            } else {
                                equal(&x.value, &y.value)
                            }
                        });
                    bool_item(if op.starts_with('!') { !eq } else { eq })
                }
            }
            "<" | ">" | "<=" | ">=" => match (single(&l, op_name)?, single(&r, op_name)?) {
                (Some(x), Some(y)) => {
                    let o = order(x, y)?;
                    bool_item(match op {
                        "<" => o.is_lt(),
                        ">" => o.is_gt(),
                        "<=" => o.is_le(),
                        _ => o.is_ge(),
                    })
                }
                _ => Vec::new(),
            },
            "&" => {
                let s = |v: &[Item]| -> R<String> {
                    Ok(single(v, "'&'")?.and_then(text_of).unwrap_or_default())
                };
                vec![Item::of(Value::String(s(&l)? + &s(&r)?))]
            }
            _ => match (single(&l, op_name)?, single(&r, op_name)?) {
                (Some(x), Some(y)) => arith(op, x, y)?.map(Item::of).into_iter().collect(),
                _ => Vec::new(),
            },
        })
    }

    /// Evaluates `arg` once per item, with the item as `$this` and the focus.
    fn each(&self, items: &[Item], arg: &Expr) -> R<Vec<(Item, Vec<Item>)>> {
        items
            .iter()
            .enumerate()
            .map(|(i, it)| {
                let s = Scope {
                    this: Some(it.clone()),
                    index: Some(i),
                };
                Ok((it.clone(), self.eval(arg, std::slice::from_ref(it), &s)?))
            })
            .collect()
    }

    fn arg(&self, args: &[Expr], n: usize, scope: &Scope) -> R<Vec<Item>> {
        match args.get(n) {
            Some(a) => {
                let this: Vec<Item> = scope.this.clone().into_iter().collect();
                self.eval(a, &this, scope)
            }
            None => Ok(Vec::new()),
        }
    }

    fn int_arg(&self, name: &str, args: &[Expr], n: usize, scope: &Scope) -> R<i64> {
        let v = self.arg(args, n, scope)?;
        single(&v, name)?
            .and_then(Value::as_i64)
            .ok_or_else(|| FhirPathError::Eval(format!("{name}() needs a whole number")))
    }

    fn str_arg(&self, name: &str, args: &[Expr], n: usize, scope: &Scope) -> R<Option<String>> {
        let v = self.arg(args, n, scope)?;
        Ok(single(&v, name)?.and_then(text_of))
    }

    fn call(&self, name: &str, input: Vec<Item>, args: &[Expr], scope: &Scope) -> R<Vec<Item>> {
        let arity = |ok: bool, what: &'static str| -> R<()> {
            if ok {
                Ok(())
            } else {
                Err(FhirPathError::Arity(name.to_string(), what))
            }
        };
        let none = args.is_empty();
        let one = args.len() == 1;
        let string_in =
            |input: &[Item]| -> R<Option<String>> { Ok(single(input, name)?.and_then(text_of)) };
        Ok(match name {
            "where" => {
                arity(one, "one condition")?;
                let mut out = Vec::new();
                for (it, r) in self.each(&input, &args[0])? {
                    if truth(&r)? == Some(true) {
                        out.push(it);
                    }
                }
                out
            }
            "select" => {
                arity(one, "one expression")?;
                self.each(&input, &args[0])?
                    .into_iter()
                    .flat_map(|(_, r)| r)
                    .collect()
            }
            "all" => {
                arity(one, "one condition")?;
                let mut all = true;
                for (_, r) in self.each(&input, &args[0])? {
                    all &= truth(&r)? == Some(true);
                }
                bool_item(all)
            }
            "exists" => {
                arity(args.len() <= 1, "at most one condition")?;
                if none {
                    bool_item(!input.is_empty())
                } else {
                    let mut any = false;
                    for (_, r) in self.each(&input, &args[0])? {
                        any |= truth(&r)? == Some(true);
                    }
                    bool_item(any)
                }
            }
            "ofType" | "is" | "as" => {
                arity(one, "a type name")?;
                let t = match &args[0] {
                    Expr::Name(t) | Expr::Member(_, t) => t.clone(),
                    _ => return eval_err(format!("{name}() takes a type name such as Quantity")),
                };
                if name == "is" {
                    match input.as_slice() {
                        [] => Vec::new(),
                        [one] => bool_item(is_type(one, &t)),
                        _ => return eval_err("is() needs a single value"),
                    }
                } else {
                    input.into_iter().filter(|i| is_type(i, &t)).collect()
                }
            }
            "empty" => bool_item(input.is_empty()),
            "count" => vec![Item::of(Value::from(input.len() as u64))],
            "first" => input.into_iter().take(1).collect(),
            "last" => input.into_iter().last().into_iter().collect(),
            "tail" => input.into_iter().skip(1).collect(),
            "single" => match input.len() {
                0 | 1 => input,
                n => return eval_err(format!("single() found {n} values")),
            },
            "skip" => {
                let n = self.int_arg(name, args, 0, scope)?.max(0) as usize;
                input.into_iter().skip(n).collect()
            }
            "take" => {
                let n = self.int_arg(name, args, 0, scope)?.max(0) as usize;
                input.into_iter().take(n).collect()
            }
            "distinct" => distinct(input),
            "isDistinct" => {
                let n = input.len();
                bool_item(distinct(input).len() == n)
            }
            "not" => match truth(&input)? {
                Some(b) => bool_item(!b),
                None => Vec::new(),
            },
            "allTrue" => bool_item(input.iter().all(|i| i.value == Value::Bool(true))),
            "anyTrue" => bool_item(input.iter().any(|i| i.value == Value::Bool(true))),
            "allFalse" => bool_item(input.iter().all(|i| i.value == Value::Bool(false))),
            "anyFalse" => bool_item(input.iter().any(|i| i.value == Value::Bool(false))),
            "hasValue" => bool_item(
                input.len() == 1 && !input[0].value.is_object() && !input[0].value.is_array(),
            ),
            "iif" => {
                arity(
                    (2..=3).contains(&args.len()),
                    "a condition and one or two results",
                )?;
                let c = self.eval(&args[0], &input, scope)?;
                if truth(&c)? == Some(true) {
                    self.eval(&args[1], &input, scope)?
                } else if let Some(e) = args.get(2) {
                    self.eval(e, &input, scope)?
                } else {
                    Vec::new()
                }
            }
            "children" => children(&input),
            "descendants" => {
                let mut out = Vec::new();
                let mut level = children(&input);
                // JSON nests at most 128 levels (the parser's limit), so this ends.
                while !level.is_empty() {
                    if out.len() + level.len() > MAX_ITEMS {
                        return eval_err(format!("more than {MAX_ITEMS} descendants"));
                    }
                    let next = children(&level);
                    out.extend(level);
                    level = next;
                }
                out
            }
            "extension" => {
                let url = self.str_arg(name, args, 0, scope)?;
                members(&input, "extension")
                    .into_iter()
                    .filter(|e| e.value.get("url").and_then(Value::as_str) == url.as_deref())
                    .collect()
            }
            "union" | "combine" => {
                let other = self.arg(args, 0, scope)?;
                let all: Vec<Item> = input.into_iter().chain(other).collect();
                if name == "union" { distinct(all) } else { all }
            }
            "intersect" | "exclude" => {
                let other = self.arg(args, 0, scope)?;
                input
                    .into_iter()
                    .filter(|i| {
                        other.iter().any(|o| equal(&o.value, &i.value)) == (name == "intersect")
                    })
                    .collect()
            }
            "sum" | "min" | "max" | "avg" => {
                let nums: Vec<f64> = input.iter().filter_map(|i| i.value.as_f64()).collect();
                if nums.is_empty() {
                    return Ok(Vec::new());
                }
                let v = match name {
                    "sum" => nums.iter().sum(),
                    "min" => nums.iter().copied().fold(f64::INFINITY, f64::min),
                    "max" => nums.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                    _ => nums.iter().sum::<f64>() / nums.len() as f64,
                };
                let int = name != "avg" && input.iter().all(|i| i.value.is_i64());
                vec![Item::of(number(v, int))]
            }
            "toString" => string_in(&input)?
                .map(|s| Item::of(Value::String(s)))
                .into_iter()
                .collect(),
            "toInteger" => string_in(&input)?
                .and_then(|s| s.trim().parse::<i64>().ok())
                .map(|n| Item::of(Value::from(n)))
                .into_iter()
                .collect(),
            "toDecimal" => string_in(&input)?
                .and_then(|s| s.trim().parse::<f64>().ok())
                .map(|n| Item::of(number(n, false)))
                .into_iter()
                .collect(),
            "length" => string_in(&input)?
                .map(|s| Item::of(Value::from(s.chars().count() as u64)))
                .into_iter()
                .collect(),
            "upper" | "lower" | "trim" => string_in(&input)?
                .map(|s| {
                    Item::of(Value::String(match name {
                        "upper" => s.to_uppercase(),
                        "lower" => s.to_lowercase(),
                        _ => s.trim().to_string(),
                    }))
                })
                .into_iter()
                .collect(),
            "startsWith" | "endsWith" | "contains" | "indexOf" => {
                arity(one, "one string")?;
                let (Some(s), Some(sub)) =
                    (string_in(&input)?, self.str_arg(name, args, 0, scope)?)
                else {
                    return Ok(Vec::new());
                };
                match name {
                    "startsWith" => bool_item(s.starts_with(&sub)),
                    "endsWith" => bool_item(s.ends_with(&sub)),
                    "contains" => bool_item(s.contains(&sub)),
                    _ => vec![Item::of(Value::from(
                        s.find(&sub).map_or(-1, |b| s[..b].chars().count() as i64),
                    ))],
                }
            }
            "substring" => {
                let Some(s) = string_in(&input)? else {
                    return Ok(Vec::new());
                };
                let start = self.int_arg(name, args, 0, scope)?.max(0) as usize;
                let len = if args.len() > 1 {
                    self.int_arg(name, args, 1, scope)?.max(0) as usize
                } else {
                    usize::MAX
                };
                if start >= s.chars().count() {
                    Vec::new()
                } else {
                    vec![Item::of(Value::String(
                        s.chars().skip(start).take(len).collect(),
                    ))]
                }
            }
            "replace" => {
                let (Some(s), Some(a), Some(b)) = (
                    string_in(&input)?,
                    self.str_arg(name, args, 0, scope)?,
                    self.str_arg(name, args, 1, scope)?,
                ) else {
                    return Ok(Vec::new());
                };
                vec![Item::of(Value::String(s.replace(&a, &b)))]
            }
            "split" => {
                let (Some(s), Some(sep)) =
                    (string_in(&input)?, self.str_arg(name, args, 0, scope)?)
                else {
                    return Ok(Vec::new());
                };
                s.split(sep.as_str())
                    .map(|p| Item::of(Value::String(p.to_string())))
                    .collect()
            }
            "join" => {
                let sep = self.str_arg(name, args, 0, scope)?.unwrap_or_default();
                let parts: Vec<String> = input.iter().filter_map(|i| text_of(&i.value)).collect();
                vec![Item::of(Value::String(parts.join(&sep)))]
            }
            "today" | "now" => {
                let now = chrono::Utc::now();
                let s = if name == "today" {
                    now.format("%Y-%m-%d").to_string()
                } else {
                    now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                };
                vec![Item::of(Value::String(s))]
            }
            "trace" => input,
            "resolve" | "memberOf" | "conformsTo" | "matches" | "replaceMatches" | "aggregate"
            | "repeat" | "htmlChecks" | "encode" | "decode" => {
                return Err(FhirPathError::Unsupported(format!("{name}()")));
            }
            other => return Err(FhirPathError::Unsupported(format!("function '{other}()'"))),
        })
    }
}

/// Arithmetic on two numbers (`+` joins strings too); division by zero is empty.
fn arith(op: &str, x: &Value, y: &Value) -> R<Option<Value>> {
    if op == "+"
        && let (Some(a), Some(b)) = (x.as_str(), y.as_str())
    {
        return Ok(Some(Value::String(format!("{a}{b}"))));
    }
    let (Some(a), Some(b)) = (x.as_f64(), y.as_f64()) else {
        return eval_err(format!("'{op}' needs numbers, not {x} and {y}"));
    };
    let ints = x.is_i64() && y.is_i64();
    let v = match op {
        "+" => a + b,
        "-" => a - b,
        "*" => a * b,
        "/" | "div" | "mod" if b == 0.0 => return Ok(None),
        "/" => return Ok(Some(number(a / b, false))),
        "div" => (a / b).trunc(),
        "mod" => a % b,
        _ => return eval_err(format!("'{op}' is not an operator")),
    };
    Ok(Some(number(v, ints || op == "div")))
}

#[cfg(test)]
mod tests;
