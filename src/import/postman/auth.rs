//! Auth blocks: Postman auth types to request auth, OAuth2 blocks to sign-in settings (secrets kept out).

use serde_json::Value;

use super::{Ctx, truthy};
use crate::import::{FoundOAuth2, OAuth2Settings, value_text};
use crate::workspace::{KeyValue, RequestAuth};

pub(super) enum AuthChoice {
    Inherit,
    /// The auth, and for OAuth2 the settings to keep with it (a literal secret replaced).
    Set(RequestAuth, Option<Box<OAuth2Settings>>),
}

/// Keys of a Postman OAuth2 block that are read into [`OAuth2Settings`] or that need nothing
/// (how Postman itself stores and shows the token).
const OAUTH2_KNOWN: [&str; 22] = [
    "grant_type",
    "authUrl",
    "accessTokenUrl",
    "redirect_uri",
    "clientId",
    "clientSecret",
    "scope",
    "client_authentication",
    "challengeAlgorithm",
    "state",
    "authRequestParams",
    "tokenRequestParams",
    "accessToken",
    "tokenType",
    "addTokenTo",
    "headerPrefix",
    "tokenName",
    "useBrowser",
    "code_verifier",
    "id",
    "timestamp",
    "expires_in",
];

/// Reads `key` from an auth block in the v2.1 shape (`[{key, value}]`) or the v2.0 shape (`{key: value}`).
fn auth_param(block: Option<&Value>, key: &str) -> Option<String> {
    match block? {
        Value::Array(items) => items.iter().find_map(|i| {
            let o = i.as_object()?;
            (o.get("key").and_then(Value::as_str) == Some(key))
                .then(|| o.get("value").map(value_text).unwrap_or_default())
        }),
        Value::Object(o) => o.get(key).map(value_text),
        _ => None,
    }
}

fn auth_params_list(block: Option<&Value>, key: &str) -> Vec<KeyValue> {
    let list = match block {
        Some(Value::Array(items)) => items.iter().find_map(|i| {
            let o = i.as_object()?;
            (o.get("key").and_then(Value::as_str) == Some(key)).then(|| o.get("value"))?
        }),
        Some(Value::Object(o)) => o.get(key),
        _ => None,
    };
    let Some(Value::Array(items)) = list else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|p| {
            let o = p.as_object()?;
            Some(KeyValue {
                key: o.get("key").map(value_text)?,
                value: o.get("value").map(value_text).unwrap_or_default(),
                enabled: o.get("enabled").is_none_or(|e| truthy(Some(e))),
            })
        })
        .collect()
}

impl Ctx {
    /// An OAuth2 auth block: the settings are recorded for the sign-in environment and kept
    /// for export; a block with nothing but a saved access token is bearer auth.
    pub(super) fn oauth2(&mut self, block: Option<&Value>, on: &str) -> AuthChoice {
        let p = |k: &str| auth_param(block, k).unwrap_or_default();
        let grant_type = p("grant_type");
        let settings = OAuth2Settings {
            use_pkce: grant_type.contains("pkce"),
            grant_type,
            auth_url: p("authUrl"),
            access_token_url: p("accessTokenUrl"),
            redirect_uri: p("redirect_uri"),
            client_id: p("clientId"),
            client_secret: p("clientSecret"),
            scope: p("scope"),
            client_authentication: p("client_authentication"),
            challenge_algorithm: p("challengeAlgorithm"),
            state: p("state"),
            auth_request_params: auth_params_list(block, "authRequestParams"),
            token_request_params: auth_params_list(block, "tokenRequestParams"),
        };
        let token = p("accessToken");
        let says_how = OAuth2Settings {
            grant_type: String::new(),
            use_pkce: false,
            client_authentication: String::new(),
            challenge_algorithm: String::new(),
            ..settings.clone()
        } != OAuth2Settings::default();
        if !says_how {
            if token.is_empty() {
                self.warn(format!(
                    "OAuth2 on {on} has no settings; it signs in with the environment's sign-in"
                ));
                return AuthChoice::Set(RequestAuth::Oauth2, None);
            }
            // Postman's "use this token": bearer auth with a saved token.
            let shown = token.trim();
            let template = shown.starts_with("{{") && shown.ends_with("}}");
            let token = if template {
                shown.to_string()
            } else {
                self.warn(format!(
                    "OAuth2 on {on} only holds a saved access token: it became bearer auth with {{{{bearerToken}}}}; the token itself (a secret, likely expired) was not imported"
                ));
                "{{bearerToken}}".to_string()
            };
            self.report.converted.push(format!(
                "OAuth2 on {on} with only an access token became bearer auth ({token})"
            ));
            return AuthChoice::Set(RequestAuth::Bearer { token }, None);
        }
        let not_carried: Vec<String> = match block {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|i| {
                    let o = i.as_object()?;
                    let key = o.get("key").map(value_text)?;
                    let value = o.get("value").map(value_text).unwrap_or_default();
                    (!OAUTH2_KNOWN.contains(&key.as_str()) && !value.is_empty()).then(|| {
                        format!(
                            "{key} = {}",
                            super::super::show_secret_or_value(&key, &value)
                        )
                    })
                })
                .collect(),
            Some(Value::Object(o)) => o
                .iter()
                .filter(|(k, v)| !OAUTH2_KNOWN.contains(&k.as_str()) && !value_text(v).is_empty())
                .map(|(k, v)| {
                    format!(
                        "{k} = {}",
                        super::super::show_secret_or_value(k, &value_text(v))
                    )
                })
                .collect(),
            _ => Vec::new(),
        };
        match self
            .report
            .oauth2
            .iter_mut()
            .find(|f| f.settings == settings)
        {
            Some(found) => found.found_on.push(on.to_string()),
            None => {
                if let Some(first) = self.report.oauth2.first() {
                    let first_on = first.found_on.first().cloned().unwrap_or_default();
                    self.warn(format!(
                        "OAuth2 settings on {on} differ from those on the {first_on}; each gets a sign-in environment of its own"
                    ));
                }
                self.report.oauth2.push(FoundOAuth2 {
                    found_on: vec![on.to_string()],
                    settings: settings.clone(),
                    not_carried,
                });
            }
        }
        AuthChoice::Set(
            RequestAuth::Oauth2,
            Some(Box::new(keep_without_secret(settings))),
        )
    }

    pub(super) fn auth(&mut self, v: &Value, on: &str, at: &str) -> AuthChoice {
        let Some(o) = v.as_object() else {
            if !v.is_null() {
                self.warn(format!("{at} is not an object; auth on {on} inherits"));
            }
            return AuthChoice::Inherit;
        };
        let kind = o.get("type").and_then(Value::as_str).unwrap_or("");
        let block = o.get(kind);
        let p = |k: &str| auth_param(block, k).unwrap_or_default();
        match kind {
            "noauth" => AuthChoice::Set(RequestAuth::None, None),
            "inherit" | "" => AuthChoice::Inherit,
            "bearer" => AuthChoice::Set(RequestAuth::Bearer { token: p("token") }, None),
            "basic" => AuthChoice::Set(
                RequestAuth::Basic {
                    username: p("username"),
                    password: p("password"),
                },
                None,
            ),
            "apikey" => AuthChoice::Set(
                RequestAuth::ApiKey {
                    key: p("key"),
                    value: p("value"),
                    in_query: p("in") == "query",
                },
                None,
            ),
            "oauth2" => self.oauth2(block, on),
            other => {
                self.warn(format!(
                    "auth type '{other}' on {on} is not supported; it inherits instead"
                ));
                AuthChoice::Inherit
            }
        }
    }
}

/// The settings to keep in the collection: a literal client secret becomes `{{clientsecret}}`
/// (the sign-in environment holds the literal as a secret variable of that name).
fn keep_without_secret(mut o: OAuth2Settings) -> OAuth2Settings {
    let secret = o.client_secret.trim();
    let template = secret.starts_with("{{") && secret.ends_with("}}");
    if !secret.is_empty() && !template {
        o.client_secret = "{{clientsecret}}".into();
    }
    o
}
