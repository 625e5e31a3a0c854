//! FHIRPath text into an expression tree: a lexer and a precedence-climbing parser, nesting
//! bounded by [`MAX_NESTING`](super::MAX_NESTING).

use serde_json::Value;

use super::{FhirPathError, MAX_NESTING, R};
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
pub(super) enum Expr {
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

pub(super) fn parse(src: &str) -> R<Expr> {
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

pub(super) fn number(n: f64, int: bool) -> Value {
    if int && n.abs() < 9.0e15 {
        Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
    }
}
