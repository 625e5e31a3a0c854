//! Checks every importer's result goes through, whatever the format: methods that are not
//! HTTP methods, Postman Vault references, and base URLs whose trailing `/` doubles the next
//! one. Each finding is reported; nothing is dropped.

use std::collections::BTreeMap;

use super::ImportReport;
use crate::workspace::{Collection, Folder, KeyValue, RequestSpec, vault_reference};

/// Whether `m` is an RFC 9110 method token (`token = 1*tchar`).
pub(super) fn is_method_token(m: &str) -> bool {
    !m.is_empty()
        && m.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'!' | b'#'
                        | b'$'
                        | b'%'
                        | b'&'
                        | b'\''
                        | b'*'
                        | b'+'
                        | b'-'
                        | b'.'
                        | b'^'
                        | b'_'
                        | b'`'
                        | b'|'
                        | b'~'
                )
        })
}

/// A foreign string as it may appear in a report line: control characters escaped, cut short.
pub(crate) fn quoted(s: &str) -> String {
    let short: String = s.chars().take(40).collect();
    let mut out = format!("{short:?}");
    if s.chars().count() > 40 {
        out.push('…');
    }
    out
}

/// Runs the checks on an imported collection; `env_values` are variables imported with it
/// (say, from an environment file) that its URLs may use.
pub(crate) fn check_collection(
    c: &mut Collection,
    env_values: &[KeyValue],
    report: &mut ImportReport,
) {
    let mut vault: BTreeMap<String, usize> = BTreeMap::new();
    let mut trailing: BTreeMap<String, (String, usize)> = BTreeMap::new();
    let mut scope: Vec<KeyValue> = env_values.to_vec();
    scope.extend(c.variables.iter().cloned());
    for t in text_of_rows(&c.variables).chain(text_of_rows(&c.headers)) {
        note_vault(t, &mut vault);
    }
    walk(&mut c.root, &scope, &mut vault, &mut trailing, report);
    for (name, uses) in vault {
        report.warnings.push(format!(
            "{{{{vault:{name}}}}} is a Postman Vault secret ({uses} use{}): its value is not in the file; fhirside asks for it when sending, as a secret, and never writes it to a file",
            if uses == 1 { "" } else { "s" }
        ));
    }
    for (var, (value, count)) in trailing {
        report.warnings.push(format!(
            "{{{{{var}}}}} ends with '/' ({value}) and {count} URL{} add another after it ('{{{{{var}}}}}/metadata' would send '…//metadata'); remove the '/' at the end of its value",
            if count == 1 { "" } else { "s" }
        ));
    }
}

fn walk(
    f: &mut Folder,
    outer: &[KeyValue],
    vault: &mut BTreeMap<String, usize>,
    trailing: &mut BTreeMap<String, (String, usize)>,
    report: &mut ImportReport,
) {
    let mut scope: Vec<KeyValue> = f.variables.clone();
    scope.extend(outer.iter().cloned());
    for t in text_of_rows(&f.variables).chain(text_of_rows(&f.headers)) {
        note_vault(t, vault);
    }
    for r in &mut f.requests {
        let spec = &mut r.spec;
        if !is_method_token(&spec.method) {
            report.warnings.push(format!(
                "'{}': the method {} is not an HTTP method (RFC 9110 token); the request was imported as GET",
                spec.name,
                quoted(&spec.method)
            ));
            spec.method = "GET".into();
        }
        for t in texts(spec) {
            note_vault(t, vault);
        }
        let mut request_scope = spec.variables.clone();
        request_scope.extend(scope.iter().cloned());
        note_trailing_slash(&spec.url, &request_scope, trailing);
    }
    for sub in &mut f.folders {
        walk(sub, &scope, vault, trailing, report);
    }
}

fn text_of_rows(rows: &[KeyValue]) -> impl Iterator<Item = &str> {
    rows.iter()
        .flat_map(|kv| [kv.key.as_str(), kv.value.as_str()])
}

/// Every text of a request that templates are resolved in.
fn texts(spec: &RequestSpec) -> impl Iterator<Item = &str> {
    let auth: Vec<&str> = match &spec.auth {
        Some(crate::workspace::RequestAuth::Bearer { token }) => vec![token],
        Some(crate::workspace::RequestAuth::Basic { username, password }) => {
            vec![username, password]
        }
        Some(crate::workspace::RequestAuth::ApiKey { key, value, .. }) => vec![key, value],
        _ => Vec::new(),
    };
    [spec.url.as_str(), spec.body.text.as_str()]
        .into_iter()
        .chain(text_of_rows(&spec.query))
        .chain(text_of_rows(&spec.headers))
        .chain(text_of_rows(&spec.body.form))
        .chain(text_of_rows(&spec.variables))
        .chain(auth)
}

fn note_vault(text: &str, vault: &mut BTreeMap<String, usize>) {
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = rest.get(start + 2..).unwrap_or("");
        let Some(end) = after.find("}}") else { break };
        if let Some(name) = vault_reference(after.get(..end).unwrap_or("").trim()) {
            *vault.entry(name.to_string()).or_default() += 1;
        }
        rest = after.get(end + 2..).unwrap_or("");
    }
}

/// `{{base}}/…` where `base` (as the request would see it) ends with `/`.
fn note_trailing_slash(
    url: &str,
    scope: &[KeyValue],
    trailing: &mut BTreeMap<String, (String, usize)>,
) {
    let Some(rest) = url.trim().strip_prefix("{{") else {
        return;
    };
    let Some((name, after)) = rest.split_once("}}") else {
        return;
    };
    if !after.starts_with('/') {
        return;
    }
    let name = name.trim();
    let Some(v) = scope.iter().find(|kv| kv.enabled && kv.key == name) else {
        return;
    };
    if v.value.trim_end().ends_with('/') {
        let entry = trailing
            .entry(name.to_string())
            .or_insert_with(|| (v.value.trim().to_string(), 0));
        entry.1 += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_tokens() {
        for ok in ["GET", "PROPFIND", "M-SEARCH", "x.y"] {
            assert!(is_method_token(ok), "{ok}");
        }
        for bad in ["", "GET\u{1b}[2J", "GET /", "GÉT", "a\"b"] {
            assert!(!is_method_token(bad), "{bad:?}");
        }
        assert_eq!(quoted("GET\u{1b}[2J"), "\"GET\\u{1b}[2J\"");
    }
}
