//! Pre-request scripts: setting one-liners (variables, headers) and a client-credentials token
//! fetch, read as data.

use std::collections::HashMap;

use super::syntax::{balanced, brace_delta, is_ident, split_statements, split_top, string_literal};
use super::{SETTERS, trim_blank_edges};
use crate::import::ClientCredentials;
use crate::workspace::KeyValue;

// ---------------------------------------------------------------------------------------------
// Pre-request one-liners that are really settings: literal variables and added headers.

/// What a pre-request script's setting lines became.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct SetupScript {
    /// `pm.variables.set('k', 'v')` and the other setters with a value that is text (or
    /// `{{templates}}`); a setter commented out (`// pm.variables.set(…)`) gives a disabled row.
    pub variables: Vec<KeyValue>,
    /// `pm.request.headers.add({key: 'Accept', value: '…'})`, `upsert`, `pm.request.addHeader`.
    pub headers: Vec<KeyValue>,
    /// Every other line, as written (blank edges trimmed).
    pub kept: Vec<String>,
    /// One line per conversion, for the report.
    pub converted: Vec<String>,
}

/// Converts the setting one-liners of a pre-request script. Only statements at the top level
/// count (a setter inside an `if` or a callback is not always run, so it stays a script line).
pub(crate) fn read_pre_request(lines: &[String]) -> SetupScript {
    let mut out = SetupScript::default();
    let mut depth = 0i64;
    let consts = HashMap::new();
    for line in lines {
        let at_top = depth == 0;
        depth = (depth + brace_delta(line)).max(0);
        let t = line.trim();
        if t.is_empty() {
            out.kept.push(line.clone());
            continue;
        }
        if !at_top {
            out.kept.push(line.clone());
            continue;
        }
        let (body, enabled) = match t.strip_prefix("//") {
            Some(rest) => (rest.trim(), false),
            None => (t, true),
        };
        let stmts = split_statements(body);
        let rows: Option<Vec<(bool, KeyValue)>> = if stmts.is_empty() {
            None
        } else {
            stmts
                .iter()
                .map(|st| setting(st, &consts))
                .collect::<Option<Vec<_>>>()
        };
        match rows {
            Some(rows) => {
                for (is_header, mut kv) in rows {
                    kv.enabled = enabled;
                    let what = if is_header { "header" } else { "variable" };
                    out.converted.push(format!(
                        "{}{} became the {what} {} = {}",
                        if enabled { "" } else { "(commented out) " },
                        shorten(body),
                        kv.key,
                        kv.value
                    ));
                    if is_header {
                        out.headers.push(kv);
                        continue;
                    }
                    // The later setter wins, as it would when the script runs; a setter
                    // commented out does not hide a live one.
                    match out.variables.iter().position(|v| v.key == kv.key) {
                        Some(i) if kv.enabled => {
                            out.variables.remove(i);
                            out.variables.push(kv);
                        }
                        Some(_) => {}
                        None => out.variables.push(kv),
                    }
                }
            }
            None => out.kept.push(line.clone()),
        }
    }
    trim_blank_edges(&mut out.kept);
    out
}

fn shorten(s: &str) -> String {
    let mut out: String = s.chars().take(80).collect();
    if s.chars().count() > 80 {
        out.push('…');
    }
    out
}

/// One setting statement: `(false, variable)` or `(true, header)`.
fn setting(stmt: &str, consts: &HashMap<String, String>) -> Option<(bool, KeyValue)> {
    let s = stmt.trim().trim_end_matches(';').trim_end();
    if let Some(rest) = SETTERS.iter().find_map(|p| s.strip_prefix(p)) {
        let (args, after) = balanced(rest.trim_start(), '(', ')')?;
        if !after.trim().is_empty() {
            return None;
        }
        let (name, rest) = string_literal(args.trim_start())?;
        let expr = rest.trim_start().strip_prefix(',')?.trim();
        if name.is_empty() || expr.is_empty() {
            return None;
        }
        let value = value_template(expr, consts)?;
        return Some((false, KeyValue::new(name, value)));
    }
    for p in [
        "pm.request.headers.add",
        "pm.request.headers.upsert",
        "pm.request.addHeader",
    ] {
        if let Some(rest) = s.strip_prefix(p) {
            let (args, after) = balanced(rest.trim_start(), '(', ')')?;
            if !after.trim().is_empty() {
                return None;
            }
            let args = args.trim();
            // `({key: 'Accept', value: '…'})` or `('Accept: …')`
            if args.starts_with('{') {
                let (obj, tail) = balanced(args, '{', '}')?;
                if !tail.trim().is_empty() {
                    return None;
                }
                let mut key = None;
                let mut value = None;
                for field in split_top(obj, ',') {
                    let (k, v) = field.split_once(':')?;
                    let k = k.trim().trim_matches(|c| c == '"' || c == '\'');
                    match k {
                        "key" => key = Some(value_template(v.trim(), consts)?),
                        "value" => value = Some(value_template(v.trim(), consts)?),
                        "disabled" if v.trim() == "false" => {}
                        _ => return None,
                    }
                }
                let key = key.filter(|k| !k.trim().is_empty())?;
                return Some((true, KeyValue::new(key, value.unwrap_or_default())));
            }
            let (text, tail) = string_literal(args)?;
            if !tail.trim().is_empty() {
                return None;
            }
            let (k, v) = text.split_once(':')?;
            let k = k.trim();
            if k.is_empty() || k.contains(char::is_whitespace) {
                return None;
            }
            return Some((true, KeyValue::new(k, v.trim())));
        }
    }
    None
}

/// A value that is a string, a number, a boolean, or a template expression.
fn value_template(expr: &str, consts: &HashMap<String, String>) -> Option<String> {
    let e = expr.trim();
    if matches!(e, "true" | "false") || (!e.is_empty() && e.parse::<f64>().is_ok()) {
        return Some(e.to_string());
    }
    expr_template(e, consts)
}

// ---------------------------------------------------------------------------------------------
// Client-credentials sign-in in a collection pre-request script.

/// Recognises a pre-request script that POSTs `grant_type=client_credentials` with
/// `pm.sendRequest`, and reads what it can of the token URL, client id, secret and scope.
pub(crate) fn client_credentials(lines: &[String]) -> Option<ClientCredentials> {
    let text = lines.join("\n");
    if !text.contains("pm.sendRequest") || !text.contains("client_credentials") {
        return None;
    }
    let mut defaults = Vec::new();
    let consts = constants(&text, &mut defaults);
    let mut cc = ClientCredentials {
        token_url: find_key_expr(&text, "url")
            .and_then(|e| expr_template(e, &consts))
            .unwrap_or_default(),
        ..ClientCredentials::default()
    };
    let param = |name: &str| -> String {
        keyed_value(&text, name, &consts)
            .or_else(|| form_value(&text, name, &consts))
            .or_else(|| find_key_expr(&text, name).and_then(|e| expr_template(e, &consts)))
            .unwrap_or_default()
    };
    cc.client_id = param("client_id");
    cc.client_secret = param("client_secret");
    // `'Authorization': 'Basic ' + btoa(clientId + ':' + clientSecret)`
    if let Some((id, secret)) = basic_credentials(&text, &consts) {
        cc.client_authentication = "basic".into();
        if cc.client_id.is_empty() {
            cc.client_id = id;
        }
        if cc.client_secret.is_empty() {
            cc.client_secret = secret;
        }
    }
    cc.defaults = defaults;
    cc.scope = param("scope");
    cc.resource = param("resource");
    if cc.resource.is_empty() {
        cc.resource = param("audience");
    }
    for stmt in text.split(['\n', ';']) {
        let s = stmt.trim();
        if !s.contains("access_token") {
            continue;
        }
        let s = s.trim_start_matches(|c: char| c == '}' || c == ')' || c.is_whitespace());
        let s = s.split_once("=>").map(|(_, r)| r.trim()).unwrap_or(s);
        let s = s.trim_start_matches('{').trim();
        if let Some(rest) = SETTERS.iter().find_map(|p| s.strip_prefix(p))
            && let Some(args) = rest.trim_start().strip_prefix('(')
            && let Some((name, _)) = string_literal(args.trim_start())
        {
            cc.token_variable = name;
            break;
        }
    }
    Some(cc)
}

/// `const NAME = <expr>` definitions whose value can be written as a template.
fn constants(text: &str, defaults: &mut Vec<KeyValue>) -> HashMap<String, String> {
    let mut map = HashMap::new();
    for stmt in split_top(text, ';').into_iter().flat_map(|s| s.split('\n')) {
        let s = stmt.trim();
        let Some(rest) = ["var ", "let ", "const "]
            .iter()
            .find_map(|k| s.strip_prefix(k))
        else {
            continue;
        };
        let Some((name, expr)) = rest.split_once('=') else {
            continue;
        };
        let name = name.trim();
        let expr = expr.trim().trim_end_matches(';');
        if !is_ident(name) {
            continue;
        }
        // `pm.environment.get('client_id') || 'my-app'`: the variable, with a default.
        if expr.contains("||")
            && let [first, fallback] = split_top(expr, '|').as_slice()
            && let Some(t) = expr_template(first, &map)
            && let Some((lit, tail)) = string_literal(fallback.trim())
            && tail.trim().is_empty()
        {
            if let Some(var) = t.strip_prefix("{{").and_then(|r| r.strip_suffix("}}"))
                && !var.contains("{{")
            {
                defaults.push(KeyValue::new(var, &lit));
            }
            map.insert(name.to_string(), t);
            continue;
        }
        if let Some(t) = expr_template(expr, &map) {
            map.insert(name.to_string(), t);
        }
    }
    map
}

/// The client id and secret of an HTTP Basic header built in the script:
/// `btoa(a + ':' + b)` or `CryptoJS.enc.Base64.stringify(CryptoJS.enc.Utf8.parse(a + ':' + b))`.
fn basic_credentials(text: &str, consts: &HashMap<String, String>) -> Option<(String, String)> {
    for opener in ["btoa(", "Utf8.parse(", "Buffer.from("] {
        let Some(pos) = text.find(opener) else {
            continue;
        };
        let from = text.get(pos + opener.len() - 1..)?;
        let (inner, _) = balanced(from, '(', ')')?;
        let inner = inner.split_once(",").map(|(a, _)| a).unwrap_or(inner);
        let parts = split_top(inner, '+');
        if let [a, colon, b] = parts.as_slice()
            && string_literal(colon.trim()).is_some_and(|(c, t)| c == ":" && t.trim().is_empty())
        {
            return Some((expr_template(a, consts)?, expr_template(b, consts)?));
        }
    }
    None
}

/// `key: <expr>` (or `"key": <expr>`) anywhere in the text: the expression up to the next
/// `,` or `}` at the same depth.
fn find_key_expr<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let mut from = 0;
    while let Some(pos) = text.get(from..).and_then(|r| r.find(key)) {
        let start = from + pos;
        let end = start + key.len();
        from = end;
        let before = text.get(..start).and_then(|b| b.chars().next_back());
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '=' || c == '&') {
            continue;
        }
        let after = text.get(end..)?;
        let after = after.strip_prefix(['"', '\'']).unwrap_or(after);
        let Some(rest) = after.trim_start().strip_prefix(':') else {
            continue;
        };
        return Some(expr_until(rest));
    }
    None
}

/// The expression at the start of `s`, up to `,`, `}` or a newline at depth 0.
fn expr_until(s: &str) -> &str {
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' | '`' => quote = Some(c),
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' if depth == 0 => return s.get(..i).unwrap_or(s).trim(),
            ')' | ']' | '}' => depth -= 1,
            ',' | '\n' | ';' if depth == 0 => return s.get(..i).unwrap_or(s).trim(),
            _ => {}
        }
    }
    s.trim()
}

/// `{ key: 'client_id', value: <expr> }`.
fn keyed_value(text: &str, name: &str, consts: &HashMap<String, String>) -> Option<String> {
    for q in ['\'', '"'] {
        let needle = format!("{q}{name}{q}");
        let mut from = 0;
        while let Some(pos) = text.get(from..).and_then(|r| r.find(&needle)) {
            let after = text.get(from + pos + needle.len()..)?;
            from += pos + needle.len();
            let Some(rest) = after.trim_start().strip_prefix(',') else {
                continue;
            };
            let rest = rest.trim_start();
            let rest = rest
                .strip_prefix("value")
                .or_else(|| rest.strip_prefix("\"value\""))
                .or_else(|| rest.strip_prefix("'value'"));
            let Some(rest) = rest.and_then(|r| r.trim_start().strip_prefix(':')) else {
                continue;
            };
            if let Some(t) = expr_template(expr_until(rest), consts) {
                return Some(t);
            }
        }
    }
    None
}

/// `name=<value>` inside a form-encoded string, possibly continued by `' + expr + '`.
fn form_value(text: &str, name: &str, consts: &HashMap<String, String>) -> Option<String> {
    let needle = format!("{name}=");
    let mut from = 0;
    let start = loop {
        let pos = text.get(from..)?.find(&needle)? + from;
        let before = text.get(..pos).and_then(|b| b.chars().next_back());
        from = pos + needle.len();
        if !before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            break pos + needle.len();
        }
    };
    // Which quote are we inside? The last quote char before `start` on the same statement.
    let head = text.get(..start)?;
    let quote = head.chars().rev().find(|c| matches!(c, '\'' | '"' | '`'))?;
    let mut out = String::new();
    let mut rest = text.get(start..)?;
    loop {
        // inside a literal
        let end = rest.find(['&', quote])?;
        out.push_str(rest.get(..end)?);
        if rest.get(end..)?.starts_with('&') {
            return Some(out);
        }
        rest = rest.get(end + 1..)?.trim_start();
        let Some(r) = rest.strip_prefix('+') else {
            return Some(out);
        };
        rest = r.trim_start();
        // expressions until the next string literal
        loop {
            if let Some(c) = rest.chars().next()
                && matches!(c, '\'' | '"' | '`')
            {
                rest = rest.get(1..)?;
                break;
            }
            let part_end = {
                let e = expr_until(rest);
                let plus = split_top(e, '+');
                plus.first().map(|p| p.len()).unwrap_or(e.len())
            };
            let part = rest.get(..part_end)?;
            out.push_str(&expr_template(part.trim(), consts)?);
            rest = rest.get(part_end..)?.trim_start();
            match rest.strip_prefix('+') {
                Some(r) => rest = r.trim_start(),
                None => return Some(out),
            }
        }
    }
}

/// A JavaScript expression of string literals, `pm.environment.get("x")` and known constants
/// joined by `+`, as a `{{x}}` template.
fn expr_template(expr: &str, consts: &HashMap<String, String>) -> Option<String> {
    let mut out = String::new();
    let parts = split_top(expr.trim(), '+');
    if parts.is_empty() {
        return None;
    }
    for part in parts {
        let part = part.trim();
        if let Some((text, rest)) = string_literal(part) {
            if !rest.trim().is_empty() {
                return None;
            }
            if part.starts_with('`') {
                out.push_str(&template_literal(&text, consts)?);
            } else {
                out.push_str(&text);
            }
            continue;
        }
        if let Some(v) = consts.get(part) {
            out.push_str(v);
            continue;
        }
        let mut done = false;
        for getter in [
            "pm.environment.get",
            "pm.variables.get",
            "pm.collectionVariables.get",
            "pm.globals.get",
            "postman.getEnvironmentVariable",
            "postman.getGlobalVariable",
            "pm.variables.replaceIn",
            "encodeURIComponent",
        ] {
            if let Some(rest) = part.strip_prefix(getter)
                && let Some((arg, after)) = balanced(rest.trim_start(), '(', ')')
                && after.trim().is_empty()
            {
                if getter == "encodeURIComponent" {
                    out.push_str(&expr_template(arg, consts)?);
                } else {
                    let (name, tail) = string_literal(arg.trim())?;
                    if !tail.trim().is_empty() {
                        return None;
                    }
                    if getter == "pm.variables.replaceIn" {
                        out.push_str(&name);
                    } else {
                        out.push_str(&format!("{{{{{name}}}}}"));
                    }
                }
                done = true;
                break;
            }
        }
        if !done {
            return None;
        }
    }
    Some(out)
}

/// `` `${base}/token` `` with the `${…}` parts as templates.
fn template_literal(text: &str, consts: &HashMap<String, String>) -> Option<String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(pos) = rest.find("${") {
        out.push_str(rest.get(..pos)?);
        let after = rest.get(pos + 1..)?;
        let (inner, tail) = balanced(after, '{', '}')?;
        out.push_str(&expr_template(inner, consts)?);
        rest = tail;
    }
    out.push_str(rest);
    Some(out)
}
