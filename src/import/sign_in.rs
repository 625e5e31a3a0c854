//! Imported sign-in settings (a collection's OAuth2 auth, or a pre-request script that fetches a
//! client-credentials token) become an environment whose `[auth]` does the same, so requests
//! that inherited that auth keep working.

use super::{ClientCredentials, FoundOAuth2, ImportReport};
use crate::workspace::{AuthConfig, AuthKind, Environment, TokenFlavor, Variable};

fn opt(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// A literal secret goes into the environment as a secret variable (so `secrets.toml`), never
/// into the `[auth]` table; a `{{template}}` stays a template.
fn secret(env: &mut Environment, value: &str) -> Option<String> {
    let v = value.trim();
    if v.is_empty() || v.contains("<redacted>") {
        return None;
    }
    if v.contains("{{") {
        return Some(v.to_string());
    }
    env.variables.push(Variable::secret("clientsecret", v));
    None // the default `{{clientsecret}}` picks it up
}

fn from_oauth2(
    env: &mut Environment,
    found: &FoundOAuth2,
    notes: &mut Vec<String>,
) -> Option<AuthConfig> {
    let o = &found.settings;
    let kind = match o.grant_type.as_str() {
        "authorization_code" | "authorization_code_with_pkce" | "" => AuthKind::AuthorizationCode,
        "client_credentials" => AuthKind::ClientCredentials,
        other => {
            notes.push(format!(
                "OAuth2 grant '{other}' is not one fhirside signs in with; no sign-in environment was made for it (use device code or user sign-in)"
            ));
            return None;
        }
    };
    let (redirect_port, redirect_path) = match url::Url::parse(o.redirect_uri.trim()) {
        Ok(u) if matches!(u.host_str(), Some("localhost" | "127.0.0.1")) => (
            u.port(),
            Some(u.path().to_string()).filter(|p| !p.is_empty()),
        ),
        _ => (None, None),
    };
    if !o.redirect_uri.trim().is_empty()
        && redirect_port.is_none()
        && kind == AuthKind::AuthorizationCode
    {
        notes.push(format!(
            "OAuth2 redirect URI {} is not a loopback address; fhirside listens on http://localhost:8400/ (register that, or set redirect_port)",
            o.redirect_uri.trim()
        ));
    }
    let extra: Vec<String> = o
        .auth_request_params
        .iter()
        .chain(&o.token_request_params)
        .filter(|p| p.enabled)
        .map(|p| format!("{}={}", p.key, p.value))
        .collect();
    if !extra.is_empty() {
        notes.push(format!(
            "OAuth2 extra parameters {} are not sent by fhirside's sign-in (kept in the collection for export)",
            extra.join(", ")
        ));
    }
    if !o.state.trim().is_empty() {
        notes.push(
            "OAuth2 fixed state is not used: fhirside makes a new random state for each sign-in"
                .into(),
        );
    }
    if o.client_authentication == "header" {
        notes.push(
            "OAuth2 client authentication in the header (HTTP Basic) is not carried over: fhirside's sign-in sends the client id and secret in the form body"
                .into(),
        );
    }
    Some(AuthConfig {
        kind,
        flavor: TokenFlavor::Oauth2,
        token_url: opt(&o.access_token_url),
        authorize_url: opt(&o.auth_url),
        client_id: opt(&o.client_id),
        client_secret: secret(env, &o.client_secret),
        scope: opt(&o.scope),
        redirect_port,
        redirect_path,
        ..Default::default()
    })
}

fn from_client_credentials(
    env: &mut Environment,
    c: &ClientCredentials,
    notes: &mut Vec<String>,
) -> AuthConfig {
    // `resource=` is Entra ID v1's audience; otherwise scopes.
    let v1 = !c.resource.trim().is_empty() && c.scope.trim().is_empty();
    for d in &c.defaults {
        if env.variables.iter().all(|v| v.key != d.key) {
            let mut v = Variable::plain(&d.key, &d.value);
            v.secret = crate::workspace::looks_secret(&d.key);
            env.variables.push(v);
        }
    }
    if c.client_authentication == "basic" {
        notes.push(
            "the script's HTTP Basic client authentication is not carried over: fhirside's sign-in sends the client id and secret in the form body"
                .into(),
        );
    }
    AuthConfig {
        kind: AuthKind::ClientCredentials,
        flavor: if v1 {
            TokenFlavor::EntraV1
        } else {
            TokenFlavor::Oauth2
        },
        token_url: opt(&c.token_url),
        client_id: opt(&c.client_id),
        client_secret: secret(env, &c.client_secret),
        audience: opt(&c.resource),
        scope: opt(&c.scope),
        token_variable: opt(&c.token_variable).filter(|v| v != "bearerToken"),
        ..Default::default()
    }
}

/// The environments that sign in as the imported collection did: one per distinct OAuth2
/// configuration (the first named `COLLECTION sign-in`, the others after where they were
/// found), or one for a client-credentials script. What the sign-in cannot do as the
/// collection did is added to the report's warnings.
pub fn sign_in_environments(collection: &str, report: &mut ImportReport) -> Vec<Environment> {
    let mut out = Vec::new();
    let mut notes = Vec::new();
    let base = format!("{collection} sign-in");
    for (i, found) in report.oauth2.iter().enumerate() {
        let name = if i == 0 {
            base.clone()
        } else {
            let on = found.found_on.first().map(String::as_str).unwrap_or("more");
            // `request 'Read'` → `Read`
            let on = on
                .split_once(" '")
                .map(|(_, n)| n.trim_end_matches('\''))
                .unwrap_or(on);
            format!("{base} ({on})")
        };
        let mut env = Environment::new(&crate::workspace::file_safe_name(&name));
        if let Some(auth) = from_oauth2(&mut env, found, &mut notes) {
            env.auth = Some(auth);
            out.push(env);
        }
    }
    if out.is_empty()
        && let Some(c) = &report.client_credentials
    {
        let mut env = Environment::new(&crate::workspace::file_safe_name(&base));
        env.auth = Some(from_client_credentials(&mut env, c, &mut notes));
        out.push(env);
    }
    notes.dedup();
    report.warnings.extend(notes);
    out
}

/// The environment that signs in as the imported collection did, if it had sign-in settings
/// (the first of [`sign_in_environments`]).
pub fn sign_in_environment(collection: &str, report: &ImportReport) -> Option<Environment> {
    let mut r = report.clone();
    sign_in_environments(collection, &mut r).into_iter().next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oauth2_pkce_maps_to_user_sign_in() {
        let report = ImportReport {
            oauth2: vec![FoundOAuth2 {
                found_on: vec!["collection".into()],
                settings: crate::workspace::OAuth2Settings {
                    grant_type: "authorization_code_with_pkce".into(),
                    auth_url: "https://login.example/authorize".into(),
                    access_token_url: "https://login.example/token".into(),
                    redirect_uri: "http://localhost:8765/callback".into(),
                    client_id: "{{clientid}}".into(),
                    client_secret: "literal-secret".into(),
                    scope: "https://fhir.example/.default".into(),
                    ..Default::default()
                },
                not_carried: Vec::new(),
            }],
            ..Default::default()
        };
        let env = sign_in_environment("FHIR API", &report).unwrap();
        assert_eq!(env.name, "FHIR API sign-in");
        let a = env.auth.unwrap();
        assert_eq!(a.kind, AuthKind::AuthorizationCode);
        assert_eq!(a.redirect_port, Some(8765));
        assert_eq!(a.redirect_path.as_deref(), Some("/callback"));
        assert_eq!(a.client_secret, None, "the literal secret is not in [auth]");
        assert!(
            env.variables
                .iter()
                .any(|v| v.key == "clientsecret" && v.secret)
        );
    }

    #[test]
    fn client_credentials_script_maps_to_v1_when_it_sends_resource() {
        let report = ImportReport {
            client_credentials: Some(ClientCredentials {
                token_url: "https://login.microsoftonline.com/{{tenantid}}/oauth2/token".into(),
                client_id: "{{clientid}}".into(),
                client_secret: "{{clientsecret}}".into(),
                resource: "{{fhirurl}}".into(),
                token_variable: "bearerToken".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let a = sign_in_environment("C", &report).unwrap().auth.unwrap();
        assert_eq!(a.flavor, TokenFlavor::EntraV1);
        assert_eq!(a.audience.as_deref(), Some("{{fhirurl}}"));
        assert_eq!(a.client_secret.as_deref(), Some("{{clientsecret}}"));
        assert!(sign_in_environment("C", &ImportReport::default()).is_none());
    }
}
