//! The one request-preparation path: a saved request (or its draft) plus everything around it —
//! the environment, the collection's variables and auth, session captures or `--var`
//! overrides, the environment's timeout and sign-in — becomes a request ready for the worker.
//!
//! Send, copy-as-curl, the Request pane's preview, `fhirside run`, the browser and the patient
//! lookup all call [`prepare`] (the last two through `Model::prepare_get`), so they cannot
//! drift apart; an environment's `strict = true` (`Prefer: handling=strict` on searches) is
//! added here for all of them. They once drifted (they once did: curl used a fixed 30 s timeout while send used the
//! environment's).

use std::time::Duration;

use super::AuthPlan;
use super::auth::plan_for;
use super::build::{BuiltRequest, Inherited, build_request};
use super::http::HttpRequest;
use crate::fhir::handling;
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
    /// The folder the request sits in (a collection root or a sub-folder).
    fn home(&self) -> Option<NodePath> {
        self.path.and_then(NodePath::parent)
    }

    /// The variables the request sees besides the environment's, innermost first (the first
    /// enabled match wins): the draft's own, then each folder's from the nearest outwards, then
    /// the collection's. Computed from the draft, not the saved file, so an edit counts at once.
    pub fn scope(&self) -> Vec<KeyValue> {
        let mut out = self.spec.variables.clone();
        if let Some(home) = self.home() {
            out.extend(self.workspace.variables_for(&home));
        }
        out
    }

    /// Header rows the collection and folders add (the request's own of the same name win).
    fn inherited_headers(&self) -> Vec<KeyValue> {
        self.home()
            .map(|home| self.workspace.headers_for(&home))
            .unwrap_or_default()
    }

    fn inherited_auth(&self) -> Option<&'a RequestAuth> {
        self.path
            .and_then(|p| p.collection())
            .and_then(|c| self.workspace.collection(c))
            .and_then(|c| c.auth.as_ref())
    }

    /// Where `{{variables}}` come from, in priority order, with `scope` from [`Seed::scope`];
    /// also what the Request pane uses to colour variables that resolve and those that do not.
    pub fn context<'b>(&'b self, scope: &'b [KeyValue]) -> Context<'b> {
        Context {
            overrides: self.overrides,
            environment: self.environment,
            collection: scope,
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
        mut request,
        mut unresolved,
        secrets,
    } = build_request(
        seed.spec,
        &seed.context(&seed.scope()),
        Inherited {
            auth: seed.inherited_auth(),
            headers: &seed.inherited_headers(),
        },
        seed.timeout(),
    );
    // `strict = true`: every search says `Prefer: handling=strict`, whichever screen or verb
    // sends it (Azure drops unknown search parameters silently otherwise).
    if let Some(env) = seed.environment.filter(|e| e.strict)
        && handling::is_search_get(&request.method, &request.url, env.get("fhirurl"))
    {
        handling::add_strict_handling(&mut request.headers);
    }
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
                strict: false,
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
    fn a_strict_environment_says_handling_strict_on_searches_only() {
        let (mut ws, _) = workspace();
        let prefer = |ws: &Workspace, url: &str, method: &str| {
            let spec = RequestSpec::new("s", method, url);
            let p = prepare(&Seed {
                workspace: ws,
                path: None,
                spec: &spec,
                environment: ws.environment("e"),
                overrides: &[],
            });
            p.request
                .headers
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case("prefer"))
                .map(|(_, v)| v.clone())
                .collect::<Vec<_>>()
        };
        let search = "{{fhirurl}}/Patient?name=x&foo=1";
        assert!(prefer(&ws, search, "GET").is_empty(), "lenient by default");
        ws.environments[0].strict = true;
        assert_eq!(prefer(&ws, search, "GET"), ["handling=strict"]);
        assert_eq!(
            prefer(&ws, "{{fhirurl}}?_type=Patient", "GET"),
            ["handling=strict"]
        );
        assert!(prefer(&ws, "{{fhirurl}}/Patient/1", "GET").is_empty());
        assert!(prefer(&ws, "{{fhirurl}}/metadata", "GET").is_empty());
        assert!(prefer(&ws, "{{fhirurl}}/Patient", "POST").is_empty());
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

    /// Folder variables and headers (kept by imports from Postman folders and `.http` files)
    /// reach the request; the nearest scope wins, and the draft's own values count at once.
    #[test]
    fn folders_give_variables_and_headers_and_the_nearest_wins() {
        let mut inner = Folder::new("inner");
        inner.variables = vec![KeyValue::new("page", "inner"), KeyValue::new("only", "x")];
        inner.headers = vec![
            KeyValue::new("X-Tenant", "inner"),
            KeyValue::new("Accept", "a/b"),
        ];
        let mut spec = RequestSpec::new("r", "GET", "http://h/{{page}}/{{only}}/{{coll}}");
        spec.headers = vec![KeyValue::new("accept", "application/fhir+json")];
        inner.requests.push(SavedRequest {
            file_stem: "r".into(),
            spec: spec.clone(),
        });
        let mut outer = Folder::new("outer");
        outer.variables = vec![
            KeyValue::new("page", "outer"),
            KeyValue::new("coll", "outer"),
        ];
        outer.headers = vec![
            KeyValue::new("X-Tenant", "outer"),
            KeyValue::new("X-Outer", "1"),
        ];
        outer.folders.push(inner);
        let mut root = Folder::new("Coll");
        root.folders.push(outer);
        let ws = Workspace {
            environments: Vec::new(),
            collections: vec![Collection {
                root,
                variables: vec![KeyValue::new("coll", "collection")],
                headers: vec![KeyValue::new("X-Coll", "c")],
                ..Default::default()
            }],
        };
        let path = NodePath(vec![
            "Coll".into(),
            "outer".into(),
            "inner".into(),
            "r".into(),
        ]);
        let seed = Seed {
            workspace: &ws,
            path: Some(&path),
            spec: &spec,
            environment: None,
            overrides: &[],
        };
        let p = prepare(&seed);
        assert_eq!(p.request.url, "http://h/inner/x/outer");
        let header = |name: &str| {
            p.request
                .headers
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(header("x-tenant"), ["inner"]);
        assert_eq!(header("x-outer"), ["1"]);
        assert_eq!(header("x-coll"), ["c"]);
        // The request's own header of the same name wins, and is sent once.
        assert_eq!(header("accept"), ["application/fhir+json"]);
        // A variable set in the draft (not yet saved) wins over the folders'.
        let mut draft = spec.clone();
        draft.variables = vec![KeyValue::new("page", "draft")];
        let seed = Seed {
            spec: &draft,
            ..seed
        };
        assert_eq!(prepare(&seed).request.url, "http://h/draft/x/outer");
    }
}
