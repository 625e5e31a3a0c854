//! Imported sign-in settings (a collection's OAuth2 auth, or a pre-request script that fetches a
//! client-credentials token) become an environment whose `[auth]` does the same, so requests
//! that inherited that auth keep working.

use super::{ClientCredentials, ImportReport, OAuth2Settings};
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

fn from_oauth2(env: &mut Environment, o: &OAuth2Settings) -> Option<AuthConfig> {
    let kind = match o.grant_type.as_str() {
        "authorization_code" | "authorization_code_with_pkce" | "" => AuthKind::AuthorizationCode,
        "client_credentials" => AuthKind::ClientCredentials,
        _ => return None, // implicit and password grants are not offered
    };
    let (redirect_port, redirect_path) = match url::Url::parse(o.redirect_uri.trim()) {
        Ok(u) if matches!(u.host_str(), Some("localhost" | "127.0.0.1")) => (
            u.port(),
            Some(u.path().to_string()).filter(|p| !p.is_empty()),
        ),
        _ => (None, None),
    };
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

fn from_client_credentials(env: &mut Environment, c: &ClientCredentials) -> AuthConfig {
    // `resource=` is Entra ID v1's audience; otherwise scopes.
    let v1 = !c.resource.trim().is_empty() && c.scope.trim().is_empty();
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

/// The environment that signs in as the imported collection did, if it had sign-in settings.
pub fn sign_in_environment(collection: &str, report: &ImportReport) -> Option<Environment> {
    let mut env = Environment::new(&crate::workspace::file_safe_name(&format!(
        "{collection} sign-in"
    )));
    let auth = match (&report.oauth2, &report.client_credentials) {
        (Some(o), _) => from_oauth2(&mut env, o)?,
        (None, Some(c)) => from_client_credentials(&mut env, c),
        (None, None) => return None,
    };
    env.auth = Some(auth);
    Some(env)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oauth2_pkce_maps_to_user_sign_in() {
        let report = ImportReport {
            oauth2: Some(OAuth2Settings {
                grant_type: "authorization_code_with_pkce".into(),
                auth_url: "https://login.example/authorize".into(),
                access_token_url: "https://login.example/token".into(),
                redirect_uri: "http://localhost:8765/callback".into(),
                client_id: "{{clientid}}".into(),
                client_secret: "literal-secret".into(),
                scope: "https://fhir.example/.default".into(),
                ..Default::default()
            }),
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
