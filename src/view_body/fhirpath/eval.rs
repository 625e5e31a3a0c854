//! Evaluating an expression tree over JSON: collections of items (a value and the type its
//! JSON name gave it), paths, operators; the functions are in `functions.rs`.

use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::Value;

use super::functions::arith;
use super::parse::{Expr, number};
use super::{FhirPathError, R};

/// Items any step may produce (a bound on `descendants()` and unions of huge bodies).
pub(super) const MAX_ITEMS: usize = 1_000_000;

pub(super) fn eval_err<T>(s: impl Into<String>) -> R<T> {
    Err(FhirPathError::Eval(s.into()))
}
/// A value with the type its JSON name gave it (`valueQuantity` is a Quantity).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Item {
    pub(super) value: Value,
    pub(super) ty: Option<String>,
}

impl Item {
    pub(super) fn of(value: Value) -> Item {
        Item { value, ty: None }
    }
}

#[derive(Default, Clone)]
pub(super) struct Scope {
    pub(super) this: Option<Item>,
    pub(super) index: Option<usize>,
}

/// Where a function call stands: its expression's focus and scope, for its arguments.
pub(super) struct Ctx<'c> {
    pub(super) focus: &'c [Item],
    pub(super) scope: &'c Scope,
}

pub(super) struct Evaluator<'a> {
    pub(super) root: &'a Value,
    pub(super) cancel: &'a AtomicBool,
}

pub(super) fn bool_item(b: bool) -> Vec<Item> {
    vec![Item::of(Value::Bool(b))]
}

/// The collection as one boolean: empty is `None`; one boolean is itself; one other item is
/// true (FHIRPath's singleton evaluation).
pub(super) fn truth(items: &[Item]) -> R<Option<bool>> {
    match items {
        [] => Ok(None),
        [one] => Ok(Some(one.value.as_bool().unwrap_or(true))),
        _ => eval_err("a single true or false was expected, not a collection"),
    }
}

pub(super) fn single<'v>(items: &'v [Item], what: &str) -> R<Option<&'v Value>> {
    match items {
        [] => Ok(None),
        [one] => Ok(Some(&one.value)),
        _ => eval_err(format!("{what} needs a single value, not {}", items.len())),
    }
}

/// Whether `item` is of the FHIR or System type `t`.
pub(super) fn is_type(item: &Item, t: &str) -> bool {
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

pub(super) fn equal(a: &Value, b: &Value) -> bool {
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
pub(super) fn members(items: &[Item], name: &str) -> Vec<Item> {
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

pub(super) fn children(items: &[Item]) -> Vec<Item> {
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

pub(super) fn distinct(items: Vec<Item>) -> Vec<Item> {
    let mut out: Vec<Item> = Vec::new();
    for i in items {
        if !out.iter().any(|o| equal(&o.value, &i.value)) {
            out.push(i);
        }
    }
    out
}

pub(super) fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

impl Evaluator<'_> {
    pub(super) fn eval(&self, e: &Expr, focus: &[Item], scope: &Scope) -> R<Vec<Item>> {
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
                self.call(name, input, args, focus, scope)?
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
}
