//! Quick patient lookup: turns what a person types ("smith 1980 F", "MRN-000123",
//! ">1990 jo") into Patient search parameters, with a plain-language explanation of how each
//! word was read, so the user sees why a search found what it found.
//!
//! Conventions:
//! * Words separated by spaces (or commas) are read one at a time; `"double quotes"` keep a
//!   phrase together. Several name words become repeated `name` parameters (AND-ed).
//! * Dates: `1980`, `1980-04`, `1980-04-02` (ISO, also `1980-4-2`); `02.04.1980` (dotted, always day first);
//!   `02/04/1980` only when unambiguous: one of the first two numbers is above 12 (then that
//!   one is the day) or both are equal. An ambiguous slashed date is not searched and the
//!   explanation says to write it as ISO. A bare four-digit number is a year only between 1850
//!   and this year; otherwise it is an identifier.
//! * `>1990`, `<1990`, `>=`, `<=` (also `≥`, `≤`, and the comparator as its own word) become
//!   the FHIR prefixes `gt`, `lt`, `ge`, `le` on `birthdate`.
//! * `system|value` (anything with a `|`) → `identifier`.
//! * A canonical UUID (`8-4-4-4-12` hex) → `_id`: many servers use them as resource ids.
//! * MRN-like: a word with at least one digit made only of letters, digits, `-`, `_`, `.`
//!   (`MRN-000123`, `123456`, `A12-3`) → `identifier`.
//! * `M`, `F`, `male`, `female`, `other`, `unknown` (any case, standalone) → `gender`. Only the
//!   first such word is used; later ones are reported as ignored. An explicit `gender:` wins.
//! * `field:value` (or `field=value`) with a known field forces the reading: `name`, `family`,
//!   `given`, `birthdate` (`dob`, `born`), `gender` (`sex`), `identifier` (`mrn`), `id` (→
//!   `_id`), `phone`, `email`, `address` (also `address-city`, `address-postalcode`,
//!   `telecom`). The value is passed as typed (so `gender:male,female` keeps FHIR's OR),
//!   except that dates and genders are normalised when they can be.

use chrono::{Datelike, NaiveDate};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Characters escaped in a query key or value: everything but RFC 3986 unreserved characters
/// and the delimiters that are legal and unambiguous inside a query value (`:` `/` `,` `@`
/// `!` `$` `'` `(` `)` `*` `;`), so URLs stay readable (`identifier=http://h/mrn%7C12`).
/// `&`, `=`, `+`, `#`, `%`, `|`, spaces and non-ASCII are escaped.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b':')
    .remove(b'/')
    .remove(b',')
    .remove(b'@')
    .remove(b'!')
    .remove(b'$')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b';');

/// Patient search parameters and how each was read from the input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LookupQuery {
    /// Search parameters in input order; repeated names are AND-ed by FHIR servers.
    pub params: Vec<(String, String)>,
    /// One line per word read (or ignored), e.g. `name = smith`, `born 1980`.
    pub explanation: Vec<String>,
}

impl LookupQuery {
    /// The parameters as a percent-encoded query string (without the leading `?`).
    pub fn to_query_string(&self) -> String {
        self.params
            .iter()
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    utf8_percent_encode(k, COMPONENT),
                    utf8_percent_encode(v, COMPONENT)
                )
            })
            .collect::<Vec<_>>()
            .join("&")
    }

    /// Whether nothing searchable was found in the input.
    pub fn is_empty(&self) -> bool {
        self.params.is_empty()
    }
}

/// Reads typed input as a Patient search. See the module documentation for the rules.
pub fn interpret(input: &str, today: NaiveDate) -> LookupQuery {
    let mut q = LookupQuery::default();
    let mut explicit_gender = false;
    let mut guessed_gender: Option<usize> = None; // index into params
    let mut pending_cmp: Option<Cmp> = None;

    for token in tokenize(input) {
        // A comparator typed as its own word applies to the next word.
        if let Some((cmp, rest)) = split_comparator(&token.text)
            && rest.trim().is_empty()
            && !token.quoted
        {
            pending_cmp = Some(cmp);
            continue;
        }
        let cmp_here = pending_cmp.take();
        let explicit = if token.quoted {
            None
        } else {
            explicit_field(&token.text)
        };
        // A comparator before a phrase or a non-date field has nothing to compare.
        if let Some(c) = cmp_here
            && (token.quoted || explicit.is_some_and(|(f, _)| f != "birthdate"))
        {
            q.explanation
                .push(format!("ignored {}: a comparison needs a date", c.symbol()));
        }

        if let Some((field, value)) = explicit {
            let value = value.trim();
            if value.is_empty() {
                q.explanation
                    .push(format!("ignored {}: no value after it", token.text.trim()));
                continue;
            }
            match field {
                "birthdate" => {
                    let (cmp, rest) = match split_comparator(value) {
                        Some((c, r)) => (Some(c), r),
                        None => (cmp_here, value),
                    };
                    match parse_date(rest.trim(), today, true) {
                        DateRead::Date(d) => push_birthdate(&mut q, cmp, &d),
                        _ => {
                            // Passed as typed: the user asked for it explicitly.
                            q.params.push(("birthdate".into(), value.to_string()));
                            q.explanation.push(format!("birthdate = {value}"));
                        }
                    }
                }
                "gender" => {
                    let g = normalize_gender(value).unwrap_or_else(|| value.to_lowercase());
                    if let Some(i) = guessed_gender.take()
                        && i < q.params.len()
                    {
                        let (_, old) = q.params.remove(i);
                        q.explanation
                            .push(format!("ignored gender {old}: gender: given explicitly"));
                    }
                    explicit_gender = true;
                    q.explanation.push(format!("gender = {g}"));
                    q.params.push(("gender".into(), g));
                }
                "_id" => {
                    q.explanation.push(format!("id = {value}"));
                    q.params.push(("_id".into(), value.to_string()));
                }
                other => {
                    q.explanation.push(format!("{other} = {value}"));
                    q.params.push((other.to_string(), value.to_string()));
                }
            }
            continue;
        }

        let text = token.text.trim();
        if token.quoted {
            if !text.is_empty() {
                q.explanation.push(format!("name = {text}"));
                q.params.push(("name".into(), text.to_string()));
            }
            continue;
        }

        // Words, each possibly split further on commas ("smith,john").
        for word in text.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            classify_word(
                word,
                cmp_here,
                today,
                &mut q,
                &mut explicit_gender,
                &mut guessed_gender,
            );
        }
    }
    if let Some(cmp) = pending_cmp {
        q.explanation.push(format!(
            "ignored {}: nothing after it to compare",
            cmp.symbol()
        ));
    }
    q
}

fn classify_word(
    word: &str,
    cmp_before: Option<Cmp>,
    today: NaiveDate,
    q: &mut LookupQuery,
    explicit_gender: &mut bool,
    guessed_gender: &mut Option<usize>,
) {
    // Comparator attached to the word: ">1990", ">=1990-04".
    let (cmp, body) = match split_comparator(word) {
        Some((c, rest)) => (Some(c), rest.trim()),
        None => (cmp_before, word),
    };
    match parse_date(body, today, false) {
        DateRead::Date(d) => {
            push_birthdate(q, cmp, &d);
            return;
        }
        DateRead::Ambiguous(hint) => {
            q.explanation.push(format!(
                "ignored {body}: ambiguous date, write it as {hint} (or the other way round)"
            ));
            return;
        }
        DateRead::Invalid => {
            q.explanation
                .push(format!("ignored {body}: not a valid date"));
            return;
        }
        DateRead::NotADate => {}
    }
    if let Some(c) = cmp {
        q.explanation.push(format!(
            "ignored {}{body}: a comparison needs a date",
            c.symbol()
        ));
        return;
    }
    if body.contains('|') {
        q.explanation.push(format!("identifier = {body}"));
        q.params.push(("identifier".into(), body.to_string()));
        return;
    }
    if is_uuid(body) {
        q.explanation.push(format!("id = {body}"));
        q.params.push(("_id".into(), body.to_string()));
        return;
    }
    if let Some(g) = normalize_gender(body) {
        if *explicit_gender || guessed_gender.is_some() {
            q.explanation
                .push(format!("ignored {body}: gender already given"));
        } else {
            *guessed_gender = Some(q.params.len());
            q.explanation.push(format!("gender = {g}"));
            q.params.push(("gender".into(), g));
        }
        return;
    }
    if is_mrn_like(body) {
        q.explanation.push(format!("identifier = {body}"));
        q.params.push(("identifier".into(), body.to_string()));
        return;
    }
    q.explanation.push(format!("name = {body}"));
    q.params.push(("name".into(), body.to_string()));
}

fn push_birthdate(q: &mut LookupQuery, cmp: Option<Cmp>, date: &str) {
    match cmp {
        Some(c) => {
            q.explanation.push(format!("born {} {date}", c.words()));
            q.params
                .push(("birthdate".into(), format!("{}{date}", c.prefix())));
        }
        None => {
            q.explanation.push(format!("born {date}"));
            q.params.push(("birthdate".into(), date.to_string()));
        }
    }
}

struct Token {
    text: String,
    quoted: bool,
}

/// Splits on whitespace; `"..."` keeps a phrase (also after `field:`, as in `name:"van der"`).
fn tokenize(input: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_quotes = false;
    let mut quoted = false;
    for c in input.chars() {
        match c {
            '"' => {
                in_quotes = !in_quotes;
                // A quote at the start of a word makes the whole word a phrase; inside
                // `field:"..."` the field prefix still applies.
                if cur.is_empty() {
                    quoted = true;
                }
            }
            c if c.is_whitespace() && !in_quotes => {
                if !cur.is_empty() {
                    out.push(Token {
                        text: std::mem::take(&mut cur),
                        quoted,
                    });
                }
                quoted = false;
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(Token { text: cur, quoted });
    }
    out
}

/// `field:value` / `field=value` with a known field; returns the FHIR parameter name.
fn explicit_field(token: &str) -> Option<(&'static str, &str)> {
    let pos = token.find([':', '='])?;
    let (field, rest) = token.split_at(pos);
    let value = rest.get(1..).unwrap_or("");
    let name = match field.to_ascii_lowercase().as_str() {
        "name" => "name",
        "family" | "surname" | "last" => "family",
        "given" | "first" => "given",
        "birthdate" | "dob" | "born" | "birth" => "birthdate",
        "gender" | "sex" => "gender",
        "identifier" | "mrn" => "identifier",
        "id" | "_id" => "_id",
        "phone" => "phone",
        "email" => "email",
        "telecom" => "telecom",
        "address" => "address",
        "city" | "address-city" => "address-city",
        "postalcode" | "zip" | "address-postalcode" => "address-postalcode",
        _ => return None,
    };
    Some((name, value))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Gt,
    Lt,
    Ge,
    Le,
}

impl Cmp {
    fn prefix(self) -> &'static str {
        match self {
            Cmp::Gt => "gt",
            Cmp::Lt => "lt",
            Cmp::Ge => "ge",
            Cmp::Le => "le",
        }
    }
    fn symbol(self) -> &'static str {
        match self {
            Cmp::Gt => ">",
            Cmp::Lt => "<",
            Cmp::Ge => ">=",
            Cmp::Le => "<=",
        }
    }
    fn words(self) -> &'static str {
        match self {
            Cmp::Gt => "after",
            Cmp::Lt => "before",
            Cmp::Ge => "in or after",
            Cmp::Le => "in or before",
        }
    }
}

fn split_comparator(s: &str) -> Option<(Cmp, &str)> {
    let s = s.trim_start();
    for (p, c) in [
        (">=", Cmp::Ge),
        ("<=", Cmp::Le),
        ("=>", Cmp::Ge),
        ("=<", Cmp::Le),
        ("≥", Cmp::Ge),
        ("≤", Cmp::Le),
        (">", Cmp::Gt),
        ("<", Cmp::Lt),
    ] {
        if let Some(rest) = s.strip_prefix(p) {
            return Some((c, rest));
        }
    }
    None
}

enum DateRead {
    /// A FHIR date (`YYYY`, `YYYY-MM` or `YYYY-MM-DD`).
    Date(String),
    /// A slashed date that could be read both ways; carries the ISO form of one reading.
    Ambiguous(String),
    /// Date-shaped but impossible (`1980-13-01`, `31.02.1980`).
    Invalid,
    NotADate,
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Reads a date. `explicit` (after `birthdate:`) accepts any four-digit year.
fn parse_date(s: &str, today: NaiveDate, explicit: bool) -> DateRead {
    let year_ok = |y: i32| explicit || (1850..=today.year()).contains(&y);
    let valid = |y: i32, m: u32, d: u32| NaiveDate::from_ymd_opt(y, m, d).is_some();

    // ISO: YYYY, YYYY-MM, YYYY-MM-DD
    let parts: Vec<&str> = s.split('-').collect();
    if parts.iter().all(|p| all_digits(p)) && parts.first().is_some_and(|y| y.len() == 4) {
        let y: i32 = match parts.first().and_then(|p| p.parse().ok()) {
            Some(y) => y,
            None => return DateRead::NotADate,
        };
        match parts.as_slice() {
            [_] => {
                return if year_ok(y) {
                    DateRead::Date(format!("{y:04}"))
                } else {
                    DateRead::NotADate
                };
            }
            [_, m] if (1..=2).contains(&m.len()) => {
                let m: u32 = m.parse().unwrap_or(0);
                return if (1..=12).contains(&m) {
                    DateRead::Date(format!("{y:04}-{m:02}"))
                } else {
                    DateRead::Invalid
                };
            }
            [_, m, d] if (1..=2).contains(&m.len()) && (1..=2).contains(&d.len()) => {
                let m: u32 = m.parse().unwrap_or(0);
                let d: u32 = d.parse().unwrap_or(0);
                return if valid(y, m, d) {
                    DateRead::Date(format!("{y:04}-{m:02}-{d:02}"))
                } else {
                    DateRead::Invalid
                };
            }
            _ => return DateRead::NotADate,
        }
    }

    // Dotted: DD.MM.YYYY, always day first.
    for (sep, day_first_always) in [('.', true), ('/', false)] {
        let parts: Vec<&str> = s.split(sep).collect();
        if let [a, b, y] = parts.as_slice()
            && all_digits(a)
            && all_digits(b)
            && all_digits(y)
            && a.len() <= 2
            && b.len() <= 2
            && y.len() == 4
        {
            let a: u32 = a.parse().unwrap_or(0);
            let b: u32 = b.parse().unwrap_or(0);
            let y: i32 = y.parse().unwrap_or(0);
            let (d, m) = if day_first_always || a > 12 || a == b {
                (a, b)
            } else if b > 12 {
                (b, a)
            } else {
                return if valid(y, b, a) {
                    DateRead::Ambiguous(format!("{y:04}-{b:02}-{a:02}"))
                } else {
                    DateRead::Invalid
                };
            };
            return if valid(y, m, d) {
                DateRead::Date(format!("{y:04}-{m:02}-{d:02}"))
            } else {
                DateRead::Invalid
            };
        }
    }
    DateRead::NotADate
}

fn normalize_gender(s: &str) -> Option<String> {
    let g = match s.to_lowercase().as_str() {
        "m" | "male" => "male",
        "f" | "female" => "female",
        "other" => "other",
        "unknown" => "unknown",
        _ => return None,
    };
    Some(g.to_string())
}

fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8usize, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn is_mrn_like(s: &str) -> bool {
    s.bytes().any(|b| b.is_ascii_digit())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Age in whole years on `today`, from a FHIR date (`YYYY-MM-DD`, `YYYY-MM` or `YYYY`; a
/// dateTime is cut to its date). Missing parts are taken as the earliest possible (January,
/// the 1st), so for partial dates the age is the one reached by the end of that month/year:
/// at most one year too high. `None` for unreadable dates and births after `today`.
pub fn age(birth: &str, today: NaiveDate) -> Option<u32> {
    let (date, _) = parse_birth(birth)?;
    if date > today {
        return None;
    }
    let mut years = today.year() - date.year();
    if (today.month(), today.day()) < (date.month(), date.day()) {
        years -= 1;
    }
    u32::try_from(years).ok()
}

/// The age as text: `43`, or `~43` when the birth date is only a year or year-month.
pub fn age_label(birth: &str, today: NaiveDate) -> Option<String> {
    let years = age(birth, today)?;
    let (_, exact) = parse_birth(birth)?;
    Some(if exact {
        years.to_string()
    } else {
        format!("~{years}")
    })
}

/// Parses a FHIR date; the bool tells whether it was a full date.
fn parse_birth(birth: &str) -> Option<(NaiveDate, bool)> {
    let s = birth.trim();
    let s = s.split_once('T').map_or(s, |(d, _)| d);
    let parts: Vec<&str> = s.split('-').collect();
    if !parts.iter().all(|p| all_digits(p)) {
        return None;
    }
    let num = |i: usize| parts.get(i).and_then(|p| p.parse::<u32>().ok());
    match parts.as_slice() {
        [y] if y.len() == 4 => Some((NaiveDate::from_ymd_opt(y.parse().ok()?, 1, 1)?, false)),
        [y, m] if y.len() == 4 && m.len() == 2 => {
            Some((NaiveDate::from_ymd_opt(y.parse().ok()?, num(1)?, 1)?, false))
        }
        [y, m, d] if y.len() == 4 && m.len() == 2 && d.len() == 2 => Some((
            NaiveDate::from_ymd_opt(y.parse().ok()?, num(1)?, num(2)?)?,
            true,
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 6, 15).unwrap()
    }

    fn params(input: &str) -> Vec<(String, String)> {
        interpret(input, today()).params
    }

    fn p(k: &str, v: &str) -> (String, String) {
        (k.to_string(), v.to_string())
    }

    #[test]
    fn words_dates_gender_identifiers() {
        let q = interpret("Smith John 1980 F", today());
        assert_eq!(
            q.params,
            vec![
                p("name", "Smith"),
                p("name", "John"),
                p("birthdate", "1980"),
                p("gender", "female")
            ]
        );
        assert_eq!(
            q.explanation,
            vec![
                "name = Smith",
                "name = John",
                "born 1980",
                "gender = female"
            ]
        );
        assert_eq!(params("MRN-000123"), vec![p("identifier", "MRN-000123")]);
        assert_eq!(params("123456"), vec![p("identifier", "123456")]);
        assert_eq!(params("2999"), vec![p("identifier", "2999")]);
        assert_eq!(
            params("http://hospital.example/mrn|000123"),
            vec![p("identifier", "http://hospital.example/mrn|000123")]
        );
        assert_eq!(
            params("3f2a9c1e-0b7d-4e5f-8a9b-1c2d3e4f5a6b"),
            vec![p("_id", "3f2a9c1e-0b7d-4e5f-8a9b-1c2d3e4f5a6b")]
        );
        assert_eq!(params("O'Brien-Smith"), vec![p("name", "O'Brien-Smith")]);
        assert_eq!(
            params("smith,john"),
            vec![p("name", "smith"), p("name", "john")]
        );
        assert_eq!(params("  "), vec![]);
    }

    #[test]
    fn dates_and_comparators() {
        assert_eq!(params("1980-04-02"), vec![p("birthdate", "1980-04-02")]);
        assert_eq!(params("1980-04"), vec![p("birthdate", "1980-04")]);
        assert_eq!(params("1980-4-2"), vec![p("birthdate", "1980-04-02")]);
        assert_eq!(params(">1990"), vec![p("birthdate", "gt1990")]);
        assert_eq!(params("<1990"), vec![p("birthdate", "lt1990")]);
        assert_eq!(params(">=1990-05"), vec![p("birthdate", "ge1990-05")]);
        assert_eq!(params("<= 1990"), vec![p("birthdate", "le1990")]);
        assert_eq!(params("02.04.1980"), vec![p("birthdate", "1980-04-02")]);
        assert_eq!(params("25/04/1980"), vec![p("birthdate", "1980-04-25")]);
        assert_eq!(params("04/25/1980"), vec![p("birthdate", "1980-04-25")]);
        assert_eq!(params("04/04/1980"), vec![p("birthdate", "1980-04-04")]);
        let q = interpret("02/04/1980 smith", today());
        assert_eq!(q.params, vec![p("name", "smith")]);
        assert!(
            q.explanation[0].contains("ambiguous"),
            "{:?}",
            q.explanation
        );
        assert_eq!(params("1980-13-01"), vec![]);
        assert_eq!(params("31.02.1980"), vec![]);
        assert_eq!(params(">smith"), vec![]);
        assert_eq!(
            interpret(">1990", today()).explanation,
            vec!["born after 1990"]
        );
        let q = interpret("smith >", today());
        assert_eq!(q.params, vec![p("name", "smith")]);
        assert_eq!(q.explanation.len(), 2);
    }

    #[test]
    fn explicit_fields_override() {
        assert_eq!(params("name:123"), vec![p("name", "123")]);
        assert_eq!(
            params("family:Smith given:Jo"),
            vec![p("family", "Smith"), p("given", "Jo")]
        );
        assert_eq!(params("id:abc"), vec![p("_id", "abc")]);
        assert_eq!(params("PHONE:555-1234"), vec![p("phone", "555-1234")]);
        assert_eq!(params("email:a@b.org"), vec![p("email", "a@b.org")]);
        assert_eq!(params("identifier:smith"), vec![p("identifier", "smith")]);
        assert_eq!(params("birthdate:>=1980"), vec![p("birthdate", "ge1980")]);
        assert_eq!(params("dob:2.4.1980"), vec![p("birthdate", "1980-04-02")]);
        assert_eq!(params("birthdate:sa1980"), vec![p("birthdate", "sa1980")]);
        assert_eq!(params("gender:M"), vec![p("gender", "male")]);
        assert_eq!(
            params("gender:male,female"),
            vec![p("gender", "male,female")]
        );
        assert_eq!(
            params("address:\"Main Street\""),
            vec![p("address", "Main Street")]
        );
        assert_eq!(params("\"van der Berg\""), vec![p("name", "van der Berg")]);
        assert_eq!(params("name="), vec![]);
        // Explicit gender replaces a guessed one; a second guess is ignored.
        assert_eq!(
            params("f smith gender:male"),
            vec![p("name", "smith"), p("gender", "male")]
        );
        assert_eq!(params("m f"), vec![p("gender", "male")]);
        // An unknown prefix is not a field.
        assert_eq!(params("foo:bar"), vec![p("name", "foo:bar")]);
    }

    #[test]
    fn query_string_is_encoded() {
        let q = interpret("http://x.org/mrn|12 3 \"O'Brien & Co\"", today());
        assert_eq!(
            q.to_query_string(),
            "identifier=http://x.org/mrn%7C12&identifier=3&name=O'Brien%20%26%20Co"
        );
        assert_eq!(
            interpret(">=1990", today()).to_query_string(),
            "birthdate=ge1990"
        );
        assert_eq!(
            interpret("email:a+b@x.org name:a&b=c Zoë", today()).to_query_string(),
            "email=a%2Bb@x.org&name=a%26b%3Dc&name=Zo%C3%AB"
        );
        let q = interpret("> \"smith\" < name:jo", today());
        assert_eq!(q.params, vec![p("name", "smith"), p("name", "jo")]);
        assert_eq!(q.explanation.len(), 4, "{:?}", q.explanation);
    }

    #[test]
    fn ages() {
        assert_eq!(age("1980-06-15", today()), Some(44));
        assert_eq!(age("1980-06-16", today()), Some(43));
        assert_eq!(age("1980-06", today()), Some(44));
        assert_eq!(age("1980-07", today()), Some(43));
        assert_eq!(age("1980", today()), Some(44));
        assert_eq!(age("1980-06-16T10:00:00Z", today()), Some(43));
        assert_eq!(age("2025-01-01", today()), None);
        assert_eq!(age("soon", today()), None);
        assert_eq!(age("1980-02-30", today()), None);
        assert_eq!(age_label("1980", today()).as_deref(), Some("~44"));
        assert_eq!(age_label("1980-06-16", today()).as_deref(), Some("43"));
    }

    proptest! {
        #[test]
        fn interpret_never_panics(input in "\\PC{0,60}") {
            let q = interpret(&input, today());
            let _ = q.to_query_string();
        }

        #[test]
        fn interpret_never_panics_on_shaped_input(
            input in "([<>=≥≤\"|:/.,-]|[0-9]{1,5}|[a-zA-Z]{1,6}|name:|dob:|gender:| ){0,12}"
        ) {
            let q = interpret(&input, today());
            prop_assert!(q.explanation.len() >= q.params.len());
        }

        #[test]
        fn age_never_panics(input in "\\PC{0,20}") {
            let _ = age(&input, today());
            let _ = age_label(&input, today());
        }
    }
}
