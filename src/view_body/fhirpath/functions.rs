//! FHIRPath's functions (`where`, `select`, `ofType`, `count`, `substring`, …) and arithmetic.

use serde_json::Value;

use super::eval::{
    Ctx, Evaluator, Item, MAX_ITEMS, Scope, bool_item, children, distinct, equal, eval_err,
    is_type, members, single, text_of, truth,
};
use super::parse::{Expr, number};
use super::{FhirPathError, R};

impl Evaluator<'_> {
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

    /// A function's argument, evaluated where the call stands (the focus of its expression).
    fn arg(&self, args: &[Expr], n: usize, at: &Ctx) -> R<Vec<Item>> {
        match args.get(n) {
            Some(a) => self.eval(a, at.focus, at.scope),
            None => Ok(Vec::new()),
        }
    }

    fn int_arg(&self, name: &str, args: &[Expr], n: usize, at: &Ctx) -> R<i64> {
        let v = self.arg(args, n, at)?;
        single(&v, name)?
            .and_then(Value::as_i64)
            .ok_or_else(|| FhirPathError::Eval(format!("{name}() needs a whole number")))
    }

    fn str_arg(&self, name: &str, args: &[Expr], n: usize, at: &Ctx) -> R<Option<String>> {
        let v = self.arg(args, n, at)?;
        Ok(single(&v, name)?.and_then(text_of))
    }

    pub(super) fn call(
        &self,
        name: &str,
        input: Vec<Item>,
        args: &[Expr],
        focus: &[Item],
        scope: &Scope,
    ) -> R<Vec<Item>> {
        let at = &Ctx { focus, scope };
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
                let n = self.int_arg(name, args, 0, at)?.max(0) as usize;
                input.into_iter().skip(n).collect()
            }
            "take" => {
                let n = self.int_arg(name, args, 0, at)?.max(0) as usize;
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
                let url = self.str_arg(name, args, 0, at)?;
                members(&input, "extension")
                    .into_iter()
                    .filter(|e| e.value.get("url").and_then(Value::as_str) == url.as_deref())
                    .collect()
            }
            "union" | "combine" => {
                let other = self.arg(args, 0, at)?;
                let all: Vec<Item> = input.into_iter().chain(other).collect();
                if name == "union" { distinct(all) } else { all }
            }
            "intersect" | "exclude" => {
                let other = self.arg(args, 0, at)?;
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
                let (Some(s), Some(sub)) = (string_in(&input)?, self.str_arg(name, args, 0, at)?)
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
                let start = self.int_arg(name, args, 0, at)?.max(0) as usize;
                let len = if args.len() > 1 {
                    self.int_arg(name, args, 1, at)?.max(0) as usize
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
                    self.str_arg(name, args, 0, at)?,
                    self.str_arg(name, args, 1, at)?,
                ) else {
                    return Ok(Vec::new());
                };
                vec![Item::of(Value::String(s.replace(&a, &b)))]
            }
            "split" => {
                let (Some(s), Some(sep)) = (string_in(&input)?, self.str_arg(name, args, 0, at)?)
                else {
                    return Ok(Vec::new());
                };
                s.split(sep.as_str())
                    .map(|p| Item::of(Value::String(p.to_string())))
                    .collect()
            }
            "join" => {
                let sep = self.str_arg(name, args, 0, at)?.unwrap_or_default();
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
pub(super) fn arith(op: &str, x: &Value, y: &Value) -> R<Option<Value>> {
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
