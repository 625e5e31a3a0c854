//! The one request-preparation path: a saved request (or its draft) plus everything around it —
//! the environment, the collection's variables and auth, session captures or `--var`
//! overrides, the environment's timeout and sign-in — becomes a request ready for the worker.
//!
//! Send, copy-as-curl, the Request pane's preview and `fhirside run` all call [`prepare`], so
//! they cannot drift apart (they once did: curl used a fixed 30 s timeout while send used the
//! environment's).

use std::time::Duration;

use super::AuthPlan;
use super::auth::plan_for;
use super::build::{BuiltRequest, build_request};
use super::http::HttpRequest;
use crate::workspace::template::Context;
use crate::workspace::{
    DEFAULT_TIMEOUT_SECS, Environment, KeyValue, NodePath, RequestAuth, RequestSpec, Workspace,
};

/// What a request is prepared from. Borrowed: preparing is cheap and pure.
#[derive(Debug, Clone, Copy)]
pub struct Seed<'a> {
    pub workspace: &'a Workspace,
    /// Where the request is saved (its collection gives variables and inherited auth); `None`
    /// for a request with no home (a history re-send).
    pub path: Option<&'a NodePath>,
    /// The request as it is to be sent (the editor's draft, or the saved file).
    pub spec: &'a RequestSpec,
    pub environment: Option<&'a Environment>,
    /// Values that win over the environment: session captures (TUI) or `--var` (CLI).
    pub overrides: &'a [(String, String)],
}

impl<'a> Seed<'a> {
    fn collection_variables(&self) -> &'a [KeyValue] {
        self.path
            .and_then(|p| p.collection())
            .and_then(|c| self.workspace.collection(c))
            .map(|c| c.variables.as_slice())
            .unwrap_or(&[])
    }

    fn inherited_auth(&self) -> Option<&'a RequestAuth> {
        self.path
            .and_then(|p| p.collection())
            .and_then(|c| self.workspace.collection(c))
            .and_then(|c| c.auth.as_ref())
    }

    /// Where `{{variables}}` come from, in priority order; also what the Request pane uses to
    /// colour variables that resolve and those that do not.
    pub fn context(&self) -> Context<'a> {
        Context {
            overrides: self.overrides,
            environment: self.environment,
            collection: self.collection_variables(),
        }
    }

    /// The environment's timeout, or the default.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(
            self.environment
                .map_or(DEFAULT_TIMEOUT_SECS, |e| e.timeout_secs),
        )
    }
}

/// A request ready for the worker, with what preparing it found.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub request: HttpRequest,
    /// The environment's sign-in, when it applies to this URL (the worker attaches the token).
    pub auth: Option<AuthPlan>,
    /// Sign-in is configured for this URL but its settings could not be resolved (a sentence).
    pub auth_problem: Option<String>,
    /// Variables with no value (the sign-in's own token variable excluded: the worker fills it).
    pub unresolved: Vec<String>,
    /// Secret values used, in every spelling, for redaction in anything shown or stored.
    pub secrets: Vec<String>,
}

/// Prepares `seed` for sending. Pure: nothing is sent, nothing written.
pub fn prepare(seed: &Seed) -> Prepared {
    let BuiltRequest {
        request,
        mut unresolved,
        secrets,
    } = build_request(
        seed.spec,
        &seed.context(),
        seed.inherited_auth(),
        seed.timeout(),
    );
    let (auth, auth_problem) = match seed.environment {
        Some(env) => match plan_for(env, seed.overrides, seed.spec, &request.url) {
            Ok(plan) => (plan, None),
            Err(e) => (None, Some(e)),
        },
        None => (None, None),
    };
    if let Some(plan) = &auth {
        unresolved.retain(|n| *n != plan.auth.token_variable);
    }
    Prepared {
        request,
        auth,
        auth_problem,
        unresolved,
        secrets,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::{AuthConfig, AuthKind, Collection, Folder, SavedRequest, Variable};

    fn workspace() -> (Workspace, NodePath) {
        let mut root = Folder::new("Coll");
        root.requests.push(SavedRequest {
            file_stem: "r".into(),
            spec: RequestSpec::new("r", "GET", "{{fhirurl}}/{{type}}"),
        });
        let ws = Workspace {
            environments: vec![Environment {
                name: "e".into(),
                variables: vec![
                    Variable::plain("fhirurl", "http://fhir.test"),
                    Variable::plain("type", "Patient"),
                    Variable::secret("bearerToken", "tok"),
                ],
                timeout_secs: 7,
                auth: Some(AuthConfig {
                    kind: AuthKind::Bearer,
                    ..Default::default()
                }),
                insecure: false,
                trusted_origins: Vec::new(),
                storage_hosts: None,
            }],
            collections: vec![Collection {
                root,
                variables: vec![KeyValue::new("type", "Observation")],
                ..Default::default()
            }],
        };
        (ws, NodePath(vec!["Coll".into(), "r".into()]))
    }

    #[test]
    fn the_environment_sets_the_timeout_and_wins_over_collection_variables() {
        let (ws, path) = workspace();
        let spec = ws
            .request(&path)
            .map(|r| r.spec.clone())
            .expect("seeded request");
        let seed = Seed {
            workspace: &ws,
            path: Some(&path),
            spec: &spec,
            environment: ws.environment("e"),
            overrides: &[],
        };
        let p = prepare(&seed);
        assert_eq!(p.request.url, "http://fhir.test/Patient");
        assert_eq!(p.request.timeout, Duration::from_secs(7));
        // The bearer sign-in applies under fhirurl; its token variable is not "unresolved".
        assert!(p.auth.is_some());
        assert!(p.unresolved.is_empty(), "{:?}", p.unresolved);
    }

    #[test]
    fn overrides_win_and_without_an_environment_the_collection_fills_in() {
        let (ws, path) = workspace();
        let spec = ws
            .request(&path)
            .map(|r| r.spec.clone())
            .expect("seeded request");
        let overrides = [("type".to_string(), "Encounter".to_string())];
        let seed = Seed {
            workspace: &ws,
            path: Some(&path),
            spec: &spec,
            environment: ws.environment("e"),
            overrides: &overrides,
        };
        assert_eq!(prepare(&seed).request.url, "http://fhir.test/Encounter");
        let bare = Seed {
            environment: None,
            overrides: &[],
            ..seed
        };
        let p = prepare(&bare);
        assert_eq!(p.request.url, "{{fhirurl}}/Observation");
        assert_eq!(p.unresolved, vec!["fhirurl"]);
        assert_eq!(p.request.timeout, Duration::from_secs(DEFAULT_TIMEOUT_SECS));
        assert!(p.auth.is_none());
    }
}
