//! The one request-building path, shared by the TUI and the CLI: templating, query, headers,
//! body. Pure, so the UI can check for unresolved variables before anything is sent.

use std::time::Duration;

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

use super::http::HttpRequest;
use crate::workspace::template::{Context, resolve};
use crate::workspace::{BodyKind, KeyValue, RequestAuth, RequestSpec};

/// Characters encoded in query keys and values. `%` is left alone so pre-encoded values pass.
const QUERY: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'&')
    .add(b'+')
    .add(b'<')
    .add(b'>')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// A request ready to send, plus what the templating found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltRequest {
    pub request: HttpRequest,
    /// Variable names with no value; the TUI asks before sending with any.
    pub unresolved: Vec<String>,
    /// Secret values used, for redaction in anything shown or stored.
    pub secrets: Vec<String>,
}

/// What a request takes from the collection and folders it is saved in.
#[derive(Debug, Clone, Copy, Default)]
pub struct Inherited<'a> {
    /// The collection's auth, used when the request has none.
    pub auth: Option<&'a RequestAuth>,
    /// Header rows of the collection and folders (outermost first, enabled ones): sent unless
    /// the request sets a header of the same name itself.
    pub headers: &'a [KeyValue],
}

/// Builds the request.
pub fn build_request(
    spec: &RequestSpec,
    ctx: &Context,
    inherited: Inherited,
    timeout: Duration,
) -> BuiltRequest {
    let mut unresolved = Vec::new();
    let mut secrets = Vec::new();
    let mut take = |text: &str| {
        let r = resolve(text, ctx);
        for u in r.unresolved {
            if !unresolved.contains(&u) {
                unresolved.push(u);
            }
        }
        for s in r.secrets {
            if !secrets.contains(&s) {
                secrets.push(s);
            }
        }
        r.text
    };

    let mut url = take(spec.url.trim());
    let params: Vec<String> = spec
        .query
        .iter()
        .filter(|q| q.enabled && !q.key.is_empty())
        .map(|q| {
            let k = utf8_percent_encode(&take(&q.key), QUERY).to_string();
            let v = take(&q.value);
            if v.is_empty() && !q.value.contains("{{") && q.value.is_empty() {
                k
            } else {
                format!("{k}={}", utf8_percent_encode(&v, QUERY))
            }
        })
        .collect();
    if !params.is_empty() {
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&params.join("&"));
    }

    let own = |h: &&KeyValue| h.enabled && !h.key.trim().is_empty();
    let sets_itself = |name: &str| {
        spec.headers
            .iter()
            .filter(own)
            .any(|h| h.key.trim().eq_ignore_ascii_case(name.trim()))
    };
    let mut headers: Vec<(String, String)> = inherited
        .headers
        .iter()
        .filter(own)
        .filter(|h| !sets_itself(&h.key))
        .chain(spec.headers.iter().filter(own))
        .map(|h| (take(h.key.trim()), take(&h.value)))
        .collect();
    let has_header = |headers: &[(String, String)], name: &str| {
        headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(name))
    };

    // Explicit auth wins over a hand-written Authorization header, which is then not sent twice.
    let mut auth_query: Option<String> = None;
    match spec.auth.as_ref().or(inherited.auth) {
        None | Some(RequestAuth::Oauth2) => {}
        Some(RequestAuth::None) => {
            headers.retain(|(k, _)| !k.eq_ignore_ascii_case("authorization"))
        }
        Some(RequestAuth::Bearer { token }) => {
            let token = take(token);
            headers.retain(|(k, _)| !k.eq_ignore_ascii_case("authorization"));
            headers.push(("Authorization".into(), format!("Bearer {}", token.trim())));
        }
        Some(RequestAuth::Basic { username, password }) => {
            use base64::Engine;
            let pair = format!("{}:{}", take(username), take(password));
            headers.retain(|(k, _)| !k.eq_ignore_ascii_case("authorization"));
            headers.push((
                "Authorization".into(),
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(pair)
                ),
            ));
        }
        Some(RequestAuth::ApiKey {
            key,
            value,
            in_query,
        }) => {
            let (k, v) = (take(key), take(value));
            if *in_query {
                auth_query = Some(format!(
                    "{}={}",
                    utf8_percent_encode(&k, QUERY),
                    utf8_percent_encode(&v, QUERY)
                ));
            } else {
                headers.retain(|(h, _)| !h.eq_ignore_ascii_case(&k));
                headers.push((k, v));
            }
        }
    }
    if let Some(q) = auth_query {
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&q);
    }

    let body = match spec.body.kind {
        BodyKind::None => None,
        BodyKind::Json | BodyKind::Text => {
            let text = take(&spec.body.text);
            if !has_header(&headers, "content-type") {
                let ct = if spec.body.kind == BodyKind::Json {
                    "application/json"
                } else {
                    "text/plain; charset=utf-8"
                };
                headers.push(("Content-Type".into(), ct.into()));
            }
            Some(text.into_bytes())
        }
        BodyKind::Form => {
            let mut ser = url::form_urlencoded::Serializer::new(String::new());
            for f in spec
                .body
                .form
                .iter()
                .filter(|f| f.enabled && !f.key.is_empty())
            {
                let k = take(&f.key);
                let v = take(&f.value);
                ser.append_pair(&k, &v);
            }
            if !has_header(&headers, "content-type") {
                headers.push((
                    "Content-Type".into(),
                    "application/x-www-form-urlencoded".into(),
                ));
            }
            Some(ser.finish().into_bytes())
        }
    };

    // Secrets also appear encoded (form bodies, query strings): redact those spellings too.
    let encoded: Vec<String> = secrets
        .iter()
        .flat_map(|s| {
            [
                url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>(),
                utf8_percent_encode(s, QUERY).to_string(),
            ]
        })
        .collect();
    for e in encoded {
        if !secrets.contains(&e) {
            secrets.push(e);
        }
    }
    BuiltRequest {
        request: HttpRequest {
            method: spec.method.trim().to_ascii_uppercase(),
            url,
            headers,
            body,
            timeout,
            insecure: ctx.environment.is_some_and(|e| e.insecure),
        },
        unresolved,
        secrets,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::{Environment, KeyValue, Variable};

    fn env() -> Environment {
        Environment {
            name: "t".into(),
            variables: vec![
                Variable::plain("fhirurl", "http://fhir.test"),
                Variable::secret("clientsecret", "top-secret"),
            ],
            timeout_secs: 30,
            auth: None,
            insecure: false,
            trusted_origins: Vec::new(),
            storage_hosts: None,
            strict: false,
        }
    }

    #[test]
    fn builds_url_query_headers_and_form_body() {
        let e = env();
        let ctx = Context {
            environment: Some(&e),
            ..Default::default()
        };
        let mut spec = RequestSpec::new("t", "post", "{{fhirurl}}/token")
            .query_param("identifier", "sys|a b&c")
            .header("Accept", "application/json")
            .form_body(&[
                ("client_secret", "{{clientsecret}}"),
                ("scope", "{{fhirurl}}/.default"),
            ]);
        spec.headers.push(KeyValue {
            key: "X-Off".into(),
            value: "1".into(),
            enabled: false,
        });
        let b = build_request(&spec, &ctx, Inherited::default(), Duration::from_secs(3));
        assert_eq!(b.request.method, "POST");
        assert_eq!(
            b.request.url,
            "http://fhir.test/token?identifier=sys|a%20b%26c"
        );
        assert_eq!(
            b.request.headers,
            vec![
                ("Accept".to_string(), "application/json".to_string()),
                (
                    "Content-Type".to_string(),
                    "application/x-www-form-urlencoded".to_string()
                )
            ]
        );
        assert_eq!(
            String::from_utf8(b.request.body.unwrap()).unwrap(),
            "client_secret=top-secret&scope=http%3A%2F%2Ffhir.test%2F.default"
        );
        assert_eq!(b.secrets, vec!["top-secret"]);
        assert!(b.unresolved.is_empty());
    }

    #[test]
    fn reports_unresolved_and_keeps_explicit_content_type() {
        let spec = RequestSpec::new("t", "POST", "{{base}}/Patient")
            .header("Content-Type", "application/fhir+json")
            .json_body("{\"id\": \"{{pid}}\"}");
        let b = build_request(
            &spec,
            &Context::default(),
            Inherited::default(),
            Duration::from_secs(3),
        );
        assert_eq!(b.unresolved, vec!["base", "pid"]);
        assert_eq!(b.request.headers.len(), 1);
    }

    #[test]
    fn explicit_auth_replaces_a_hand_written_authorization_header() {
        let e = env();
        let ctx = Context {
            environment: Some(&e),
            ..Default::default()
        };
        let mut spec = RequestSpec::new("t", "GET", "http://x/Patient")
            .header("Authorization", "Bearer {{old}}");
        spec.auth = Some(RequestAuth::Bearer {
            token: "{{clientsecret}}".into(),
        });
        let b = build_request(&spec, &ctx, Inherited::default(), Duration::from_secs(3));
        let auth: Vec<_> = b
            .request
            .headers
            .iter()
            .filter(|(k, _)| k == "Authorization")
            .collect();
        assert_eq!(auth.len(), 1);
        assert_eq!(auth[0].1, "Bearer top-secret");
        // Inherited from the collection when the request has none; `none` removes it.
        let plain = RequestSpec::new("t", "GET", "http://x/");
        let basic = RequestAuth::Basic {
            username: "u".into(),
            password: "p".into(),
        };
        let b = build_request(
            &plain,
            &ctx,
            Inherited {
                auth: Some(&basic),
                ..Inherited::default()
            },
            Duration::from_secs(3),
        );
        assert_eq!(b.request.headers[0].1, "Basic dTpw");
        let mut none = spec.clone();
        none.auth = Some(RequestAuth::None);
        let b = build_request(
            &none,
            &ctx,
            Inherited {
                auth: Some(&basic),
                ..Inherited::default()
            },
            Duration::from_secs(3),
        );
        assert!(b.request.headers.is_empty());
        let mut key = plain.clone();
        key.auth = Some(RequestAuth::ApiKey {
            key: "code".into(),
            value: "a b".into(),
            in_query: true,
        });
        assert_eq!(
            build_request(&key, &ctx, Inherited::default(), Duration::from_secs(3))
                .request
                .url,
            "http://x/?code=a%20b"
        );
    }
}
