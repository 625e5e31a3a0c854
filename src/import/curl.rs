//! curl in and out: "copy as curl" from a browser or a colleague's message becomes a request,
//! and any request can be handed on as a curl command (with credentials redacted when it is
//! going to be shared).

use std::fmt::Write as _;

use super::ImportError;
use crate::workspace::{Body, BodyKind, KeyValue, RequestAuth, RequestSpec};

const REDACTED: &str = "<redacted>";

/// A curl command for the request, one option per line joined by `\` continuations, every
/// argument shell-quoted. With `redact`, `Authorization`-like header values become `<redacted>`.
pub fn to_curl(
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: Option<&[u8]>,
    redact: bool,
) -> String {
    build_curl(method, url, headers, body, redact, &[])
}

/// Like [`to_curl`] with redaction, also replacing each of `secrets` (e.g. the secret values
/// substituted while building the request) wherever it appears.
pub fn to_curl_redacting(
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: Option<&[u8]>,
    secrets: &[String],
) -> String {
    build_curl(method, url, headers, body, true, secrets)
}

pub(crate) fn sensitive_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    matches!(
        n.as_str(),
        "authorization" | "proxy-authorization" | "cookie" | "x-api-key" | "api-key"
    ) || crate::workspace::looks_secret(&n)
}

fn build_curl(
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: Option<&[u8]>,
    redact: bool,
    secrets: &[String],
) -> String {
    let hide = |s: &str| -> String {
        let mut s = s.to_string();
        if redact {
            for secret in secrets.iter().filter(|x| !x.is_empty()) {
                s = s.replace(secret.as_str(), REDACTED);
            }
        }
        s
    };
    let method = method.trim().to_ascii_uppercase();
    let mut parts: Vec<String> = Vec::new();
    let mut first = String::from("curl");
    if method == "HEAD" {
        first.push_str(" --head");
    } else if method != "GET" || body.is_some() {
        let _ = write!(first, " --request {}", quote(&method));
    }
    let _ = write!(first, " {}", quote(&hide(url)));
    parts.push(first);
    for (k, v) in headers {
        let v = if redact && sensitive_header(k) {
            REDACTED.to_string()
        } else {
            hide(v)
        };
        parts.push(format!("--header {}", quote(&format!("{k}: {v}"))));
    }
    if let Some(b) = body {
        match std::str::from_utf8(b) {
            Ok(text) => parts.push(format!("--data-raw {}", quote(&hide(text)))),
            Err(_) => parts.push(format!("--data-binary {}", ansi_c_quote(b))),
        }
    }
    parts.join(" \\\n  ")
}

/// Single-quotes `s` for a POSIX shell (`'` becomes `'\''`); plain words stay bare.
pub fn quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(c, '-' | '_' | '.' | '/' | ':' | ',' | '+' | '=' | '@' | '%')
        })
    {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', "'\\''"))
}

fn ansi_c_quote(b: &[u8]) -> String {
    let mut s = String::from("$'");
    for &byte in b {
        match byte {
            b'\\' => s.push_str("\\\\"),
            b'\'' => s.push_str("\\'"),
            b'\n' => s.push_str("\\n"),
            b'\t' => s.push_str("\\t"),
            0x20..=0x7e => s.push(byte as char),
            other => {
                let _ = write!(s, "\\x{other:02x}");
            }
        }
    }
    s.push('\'');
    s
}

/// Whether `text` reads as a curl command.
pub fn looks_like_curl(text: &str) -> bool {
    let t = text.trim_start().trim_start_matches('$').trim_start();
    t.starts_with("curl ")
        || t.starts_with("curl\t")
        || t.starts_with("curl\\")
        || t.starts_with("curl.exe ")
}

/// Reads a curl command into a request.
pub fn parse_curl(cmd: &str) -> Result<RequestSpec, ImportError> {
    parse_curl_with_notes(cmd).map(|(spec, _)| spec)
}

const FILE: &str = "curl command";

fn err(line: usize, column: usize, message: impl Into<String>) -> ImportError {
    ImportError::Syntax {
        file: FILE.into(),
        line,
        column,
        message: message.into(),
    }
}

/// Splits a shell command line into words: `\` continuations, single quotes, double quotes
/// (with `\"`, `\\`, `\$`, `` \` `` escapes), `$'…'` ANSI-C quotes, and backslash escapes.
pub(crate) fn shell_words(cmd: &str) -> Result<Vec<String>, ImportError> {
    let chars: Vec<char> = cmd.chars().collect();
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut i = 0;
    let pos_of = |idx: usize| -> (usize, usize) {
        let mut l = 1;
        let mut c = 1;
        for ch in chars.iter().take(idx) {
            if *ch == '\n' {
                l += 1;
                c = 1;
            } else {
                c += 1;
            }
        }
        (l, c)
    };
    while let Some(&c) = chars.get(i) {
        match c {
            '\\' => match chars.get(i + 1) {
                Some('\n') => i += 2,
                Some('\r') if chars.get(i + 2) == Some(&'\n') => i += 3,
                Some(&n) => {
                    cur.push(n);
                    in_word = true;
                    i += 2;
                }
                None => i += 1,
            },
            '\'' => {
                let start = i;
                i += 1;
                loop {
                    match chars.get(i) {
                        Some('\'') => break,
                        Some(&ch) => cur.push(ch),
                        None => {
                            let (l, c) = pos_of(start);
                            return Err(err(l, c, "a single quote is never closed"));
                        }
                    }
                    i += 1;
                }
                i += 1;
                in_word = true;
            }
            '"' => {
                let start = i;
                i += 1;
                loop {
                    match chars.get(i) {
                        Some('"') => break,
                        Some('\\') => match chars.get(i + 1) {
                            Some(&n @ ('"' | '\\' | '$' | '`')) => {
                                cur.push(n);
                                i += 1;
                            }
                            Some('\n') => i += 1,
                            _ => cur.push('\\'),
                        },
                        Some(&ch) => cur.push(ch),
                        None => {
                            let (l, c) = pos_of(start);
                            return Err(err(l, c, "a double quote is never closed"));
                        }
                    }
                    i += 1;
                }
                i += 1;
                in_word = true;
            }
            '$' if chars.get(i + 1) == Some(&'\'') => {
                let start = i;
                i += 2;
                loop {
                    match chars.get(i) {
                        Some('\'') => break,
                        Some('\\') => {
                            i += 1;
                            match chars.get(i) {
                                Some('n') => cur.push('\n'),
                                Some('t') => cur.push('\t'),
                                Some('r') => cur.push('\r'),
                                Some('0') => cur.push('\0'),
                                Some('x') => {
                                    let hex: String = chars
                                        .iter()
                                        .skip(i + 1)
                                        .take(2)
                                        .take_while(|c| c.is_ascii_hexdigit())
                                        .collect();
                                    if let Ok(n) = u8::from_str_radix(&hex, 16) {
                                        cur.push(char::from(n));
                                    }
                                    i += hex.chars().count();
                                }
                                Some('u') => {
                                    let hex: String = chars
                                        .iter()
                                        .skip(i + 1)
                                        .take(4)
                                        .take_while(|c| c.is_ascii_hexdigit())
                                        .collect();
                                    if let Some(ch) =
                                        u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32)
                                    {
                                        cur.push(ch);
                                    }
                                    i += hex.chars().count();
                                }
                                Some(&other) => cur.push(other),
                                None => {
                                    let (l, c) = pos_of(start);
                                    return Err(err(l, c, "a $'…' quote is never closed"));
                                }
                            }
                        }
                        Some(&ch) => cur.push(ch),
                        None => {
                            let (l, c) = pos_of(start);
                            return Err(err(l, c, "a $'…' quote is never closed"));
                        }
                    }
                    i += 1;
                }
                i += 1;
                in_word = true;
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
                i += 1;
            }
            c => {
                cur.push(c);
                in_word = true;
                i += 1;
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

/// Options that take a value and that we ignore.
const IGNORED_WITH_VALUE: &[&str] = &[
    "-o",
    "--output",
    "-w",
    "--write-out",
    "-m",
    "--max-time",
    "--connect-timeout",
    "--retry",
    "-x",
    "--proxy",
    "--cacert",
    "--cert",
    "-E",
    "--key",
    "-c",
    "--cookie-jar",
    "-r",
    "--range",
    "--resolve",
    "--interface",
    "-T",
    "--upload-file",
    "--limit-rate",
    "-K",
    "--config",
];
const IGNORED_FLAGS: &[&str] = &[
    "-s",
    "--silent",
    "-S",
    "--show-error",
    "-L",
    "--location",
    "-v",
    "--verbose",
    "-i",
    "--include",
    "-f",
    "--fail",
    "--http1.1",
    "--http2",
    "-#",
    "--progress-bar",
    "-N",
    "--no-buffer",
    "--fail-with-body",
];

/// Reads a curl command into a request, with notes on what was ignored or needs attention.
pub fn parse_curl_with_notes(cmd: &str) -> Result<(RequestSpec, Vec<String>), ImportError> {
    let words = shell_words(cmd.trim())?;
    let mut it = words.into_iter().peekable();
    if it.peek().is_some_and(|w| w == "$") {
        it.next();
    }
    if it.peek().is_some_and(|w| w == "curl" || w == "curl.exe") {
        it.next();
    }
    let mut notes = Vec::new();
    let mut method: Option<String> = None;
    let mut url: Option<String> = None;
    let mut headers: Vec<KeyValue> = Vec::new();
    let mut data: Vec<String> = Vec::new();
    let mut form: Vec<KeyValue> = Vec::new();
    let mut get = false;
    let mut head = false;
    let mut auth: Option<RequestAuth> = None;

    // Expand `-XPOST`, `-sSL`, `--opt=value` into separate words.
    let mut args: Vec<String> = Vec::new();
    for w in it {
        if let Some(long) = w.strip_prefix("--") {
            if let Some((k, v)) = long.split_once('=')
                && !k.is_empty()
            {
                args.push(format!("--{k}"));
                args.push(v.to_string());
                continue;
            }
            args.push(w);
        } else if w.len() > 2 && w.starts_with('-') && !w.starts_with("--") {
            let cluster: Vec<char> = w.chars().skip(1).collect();
            let mut j = 0;
            while let Some(&c) = cluster.get(j) {
                args.push(format!("-{c}"));
                if "XHdubAeFoxwmErTcK".contains(c) {
                    let rest: String = cluster.iter().skip(j + 1).collect();
                    if !rest.is_empty() {
                        args.push(rest);
                    }
                    break;
                }
                j += 1;
            }
        } else {
            args.push(w);
        }
    }
    let mut args = args.into_iter();
    let need = |opt: &str, v: Option<String>| -> Result<String, ImportError> {
        v.ok_or_else(|| err(1, 1, format!("{opt} needs a value")))
    };
    while let Some(a) = args.next() {
        match a.as_str() {
            "-X" | "--request" => {
                let m = need(&a, args.next())?.to_ascii_uppercase();
                if !super::checks::is_method_token(&m) {
                    return Err(err(
                        1,
                        1,
                        format!(
                            "{a} {} is not an HTTP method (RFC 9110 token)",
                            super::checks::quoted(&m)
                        ),
                    ));
                }
                method = Some(m)
            }
            "-H" | "--header" => {
                let h = need(&a, args.next())?;
                match h.split_once(':') {
                    Some((k, v)) if !k.trim().is_empty() => {
                        headers.push(KeyValue::new(k.trim(), v.trim()));
                    }
                    _ => notes.push(format!("header '{h}' has no value; ignored")),
                }
            }
            "-d" | "--data" | "--data-ascii" | "--data-raw" | "--data-binary" => {
                let d = need(&a, args.next())?;
                if a != "--data-raw" && d.starts_with('@') {
                    notes.push(format!(
                        "the body is read from the file '{}'; not included, paste its content into the body",
                        d.trim_start_matches('@')
                    ));
                } else if a == "--data-binary" || a == "--data-raw" {
                    data.push(d);
                } else {
                    // curl -d strips newlines
                    data.push(d.replace(['\r', '\n'], ""));
                }
            }
            "--data-urlencode" => {
                let d = need(&a, args.next())?;
                let encoded = match d.split_once('=') {
                    Some((name, content)) if !name.is_empty() => {
                        format!("{name}={}", encode(content))
                    }
                    Some((_, content)) => encode(content),
                    None => encode(&d),
                };
                data.push(encoded);
            }
            "-F" | "--form" | "--form-string" => {
                let f = need(&a, args.next())?;
                let (k, v) = f.split_once('=').unwrap_or((&f, ""));
                if v.starts_with('@') || v.starts_with('<') {
                    notes.push(format!("form field '{k}' uploads a file; not imported"));
                } else {
                    form.push(KeyValue::new(k, v));
                }
            }
            "-u" | "--user" => {
                let u = need(&a, args.next())?;
                let (user, pass) = u.split_once(':').unwrap_or((&u, ""));
                auth = Some(RequestAuth::Basic {
                    username: user.into(),
                    password: pass.into(),
                });
            }
            "--oauth2-bearer" => {
                auth = Some(RequestAuth::Bearer {
                    token: need(&a, args.next())?,
                });
            }
            "--url" => {
                let u = need(&a, args.next())?;
                if url.is_none() {
                    url = Some(u);
                } else {
                    notes.push(format!("extra URL '{u}' ignored"));
                }
            }
            "-G" | "--get" => get = true,
            "-I" | "--head" => head = true,
            "-A" | "--user-agent" => headers.push(KeyValue::new("User-Agent", &need(&a, args.next())?)),
            "-e" | "--referer" => headers.push(KeyValue::new("Referer", &need(&a, args.next())?)),
            "-b" | "--cookie" => {
                let c = need(&a, args.next())?;
                if c.contains('=') {
                    headers.push(KeyValue::new("Cookie", &c));
                } else {
                    notes.push(format!("cookies are read from the file '{c}'; not imported"));
                }
            }
            "--compressed" => {}
            "-k" | "--insecure" => notes.push(
                "the command turns off TLS certificate checks (-k); fhirside still checks certificates"
                    .into(),
            ),
            s if IGNORED_FLAGS.contains(&s) => {}
            s if IGNORED_WITH_VALUE.contains(&s) => {
                let v = args.next().unwrap_or_default();
                notes.push(format!("option {s} {v} ignored"));
            }
            s if s.starts_with('-') && s.len() > 1 => notes.push(format!("option {s} ignored")),
            _ => {
                if url.is_none() {
                    url = Some(a);
                } else {
                    notes.push(format!("extra argument '{a}' ignored"));
                }
            }
        }
    }
    let Some(url) = url else {
        return Err(err(1, 1, "no URL in the curl command"));
    };
    let has_data = !data.is_empty();
    let method = if head {
        "HEAD".to_string()
    } else if let Some(m) = method {
        m
    } else if get {
        "GET".into()
    } else if has_data || !form.is_empty() {
        "POST".into()
    } else {
        "GET".into()
    };
    let mut spec = RequestSpec::new("", &method, url.trim());
    spec.split_query_from_url();
    spec.headers = headers;
    spec.auth = auth;
    let joined = data.join("&");
    if get && has_data {
        let mut tmp = RequestSpec::new("", "GET", &format!("?{joined}"));
        tmp.split_query_from_url();
        spec.query.extend(tmp.query);
    } else if has_data {
        let ct = spec
            .headers
            .iter()
            .find(|h| h.key.eq_ignore_ascii_case("content-type"))
            .map(|h| h.value.to_ascii_lowercase());
        let looks_json = matches!(joined.trim_start().chars().next(), Some('{' | '['));
        spec.body = match ct.as_deref() {
            Some(ct) if ct.contains("json") => Body {
                kind: BodyKind::Json,
                text: joined,
                form: Vec::new(),
            },
            Some(ct) if ct.contains("x-www-form-urlencoded") => form_body(&joined),
            None if looks_json => {
                notes.push("the body looks like JSON but the command sets no Content-Type (curl would send it as a form); imported as JSON".into());
                Body {
                    kind: BodyKind::Json,
                    text: joined,
                    form: Vec::new(),
                }
            }
            None if joined.contains('=') => form_body(&joined),
            _ => Body {
                kind: BodyKind::Text,
                text: joined,
                form: Vec::new(),
            },
        };
    } else if !form.is_empty() {
        notes.push("multipart form (-F) is sent as a URL-encoded form".into());
        spec.body = Body {
            kind: BodyKind::Form,
            text: String::new(),
            form,
        };
    }
    let last = spec
        .url
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or("")
        .to_string();
    spec.name = format!(
        "{} {}",
        spec.method,
        if last.is_empty() { &spec.url } else { &last }
    )
    .trim()
    .to_string();
    Ok((spec, notes))
}

fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// `a=1&b=x%20y` as a form table, values decoded (they are encoded again when sent).
pub(crate) fn form_body(text: &str) -> Body {
    Body {
        kind: BodyKind::Form,
        text: String::new(),
        form: url::form_urlencoded::parse(text.trim().as_bytes())
            .map(|(k, v)| KeyValue::new(k, v))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words() {
        let w = shell_words("curl 'a b' \"c \\\"d\\\"\" $'e\\nf\\x41' g\\ h \\\n --x").unwrap();
        assert_eq!(w, vec!["curl", "a b", "c \"d\"", "e\nfA", "g h", "--x"]);
        assert!(shell_words("curl 'oops").is_err());
        assert!(shell_words("curl \"oops").is_err());
        assert!(shell_words("curl $'oops\\").is_err());
    }

    #[test]
    fn parse_common_shapes() {
        let s = parse_curl(
            "curl -X POST 'https://fhir.example.com/Patient?_format=json' \\\n  -H 'Content-Type: application/fhir+json' \\\n  --data-raw '{\"resourceType\":\"Patient\"}' --compressed -k",
        )
        .unwrap();
        assert_eq!(s.method, "POST");
        assert_eq!(s.url, "https://fhir.example.com/Patient");
        assert_eq!(s.query, vec![KeyValue::new("_format", "json")]);
        assert_eq!(s.body.kind, BodyKind::Json);
        assert_eq!(s.name, "POST Patient");

        let (s, notes) = parse_curl_with_notes(
            "curl -u alice:s3cret -G --url https://x/y -d a=1 --data-urlencode 'q=a b' -k",
        )
        .unwrap();
        assert_eq!(s.method, "GET");
        assert_eq!(
            s.auth,
            Some(RequestAuth::Basic {
                username: "alice".into(),
                password: "s3cret".into()
            })
        );
        assert_eq!(
            s.query,
            vec![KeyValue::new("a", "1"), KeyValue::new("q", "a+b")]
        );
        assert_eq!(notes.len(), 1);

        let s = parse_curl("curl -sSL -XPUT https://x/y --data 'a=1&b=x%20y'").unwrap();
        assert_eq!(s.method, "PUT");
        assert_eq!(s.body.kind, BodyKind::Form);
        assert_eq!(s.body.form[1], KeyValue::new("b", "x y"));

        assert!(parse_curl("curl -H 'A: b'").is_err());
        assert!(parse_curl("curl -X").is_err());
    }

    #[test]
    fn to_curl_quotes_and_redacts() {
        let headers = vec![
            ("Authorization".to_string(), "Bearer abc".to_string()),
            ("X-Note".to_string(), "it's top-secret".to_string()),
        ];
        let out = to_curl("post", "https://x/a b", &headers, Some(b"{\"a\":1}"), false);
        assert_eq!(
            out,
            "curl --request POST 'https://x/a b' \\\n  --header 'Authorization: Bearer abc' \\\n  --header 'X-Note: it'\\''s top-secret' \\\n  --data-raw '{\"a\":1}'"
        );
        let red = to_curl_redacting(
            "GET",
            "https://x/?k=top-secret",
            &headers,
            None,
            &["top-secret".into()],
        );
        assert!(!red.contains("abc") && !red.contains("top-secret"), "{red}");
        // what we write, we read back
        let back = parse_curl(&out).unwrap();
        assert_eq!(back.headers[1].value, "it's top-secret");
        assert_eq!(back.body.text, "{\"a\":1}");
        assert_eq!(
            to_curl("HEAD", "https://x", &[], None, true),
            "curl --head https://x"
        );
    }
}
