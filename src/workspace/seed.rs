//! What a new workspace starts with: an environment template with the variables of the usual
//! Azure FHIR walkthrough, and the "Azure FHIR service" collection of its requests.

use super::model::{
    AuthConfig, AuthKind, Capture, CaptureSource, Collection, Environment, Folder, RequestSpec,
    SavedRequest, Variable,
};

pub const SEED_COLLECTION: &str = "Azure FHIR service";
pub const TEMPLATE_ENV: &str = "azure";

/// A Patient body that any FHIR R4 server accepts.
pub const SAMPLE_PATIENT: &str = r#"{
  "resourceType": "Patient",
  "active": true,
  "name": [
    {
      "use": "official",
      "family": "Kirk",
      "given": ["James", "Tiberius"]
    }
  ],
  "gender": "male",
  "birthDate": "1960-01-01",
  "identifier": [
    {
      "system": "http://hospital.example.org/mrn",
      "value": "MRN-TEMPLATE-1"
    }
  ]
}"#;

/// The variables people set for the Azure Health Data Services FHIR service.
pub fn template_environment(name: &str) -> Environment {
    Environment {
        name: name.into(),
        variables: vec![
            Variable::plain("authority", "https://login.microsoftonline.com"),
            Variable::plain("tenantid", ""),
            Variable::plain("subid", ""),
            Variable::plain("clientid", ""),
            Variable::secret("clientsecret", ""),
            Variable::plain(
                "fhirurl",
                "https://WORKSPACE-SERVICE.fhir.azurehealthcareapis.com",
            ),
            Variable::secret("bearerToken", ""),
        ],
        timeout_secs: super::model::DEFAULT_TIMEOUT_SECS,
        auth: Some(AuthConfig {
            kind: AuthKind::ClientCredentials,
            ..Default::default()
        }),
        insecure: false,
        trusted_origins: Vec::new(),
        storage_hosts: None,
        strict: false,
    }
}

/// The walkthrough's requests, in the order people send them.
pub fn seed_collection() -> Collection {
    let mut token = RequestSpec::new(
        "Get token",
        "POST",
        "{{authority}}/{{tenantid}}/oauth2/token",
    )
    .form_body(&[
        ("grant_type", "client_credentials"),
        ("client_id", "{{clientid}}"),
        ("client_secret", "{{clientsecret}}"),
        ("resource", "{{fhirurl}}"),
    ]);
    token.description =
        "Client-credentials sign-in (Entra ID v1); saves access_token into bearerToken.".into();
    token.captures.push(Capture {
        variable: "bearerToken".into(),
        source: CaptureSource::Body,
        path: "$.access_token".into(),
    });

    let auth = "Bearer {{bearerToken}}";
    let mut export = RequestSpec::new("Export", "GET", "{{fhirurl}}/$export")
        .query_param("_container", "export")
        .header("Accept", "application/fhir+json")
        .header("Prefer", "respond-async")
        .header("Authorization", auth);
    export.description =
        "Starts a bulk export; the answer is 202 Accepted with a Content-Location to poll.".into();

    let requests = vec![
        token,
        RequestSpec::new("Capability statement", "GET", "{{fhirurl}}/metadata"),
        RequestSpec::new("Health check", "GET", "{{fhirurl}}/health/check"),
        RequestSpec::new("List patients", "GET", "{{fhirurl}}/Patient")
            .header("Authorization", auth),
        RequestSpec::new("Create patient", "POST", "{{fhirurl}}/Patient")
            .header("Authorization", auth)
            .header("Content-Type", "application/fhir+json")
            .json_body(SAMPLE_PATIENT),
        export,
    ];
    let mut root = Folder::new(SEED_COLLECTION);
    for (i, mut spec) in requests.into_iter().enumerate() {
        spec.seq = i as u32 + 1;
        root.requests.push(SavedRequest {
            file_stem: spec.name.clone(),
            spec,
        });
    }
    Collection {
        root,
        variables: Vec::new(),
        description: "The requests of the usual Azure Health Data Services FHIR walkthrough."
            .into(),
        ..Default::default()
    }
}

/// Seeds a workspace folder that has neither environments nor collections yet.
/// Returns true when it wrote the seed.
pub fn seed_if_new(
    store: &mut super::Store,
    ws: &mut super::Workspace,
) -> Result<bool, super::StoreError> {
    let root = store.root().to_path_buf();
    if root.join("environments").exists() || root.join("collections").exists() {
        return Ok(false);
    }
    let env = template_environment(TEMPLATE_ENV);
    store.save_environment(&env)?;
    let coll = seed_collection();
    store.save_collection(&coll)?;
    ws.environments.push(env);
    ws.collections.push(coll);
    ensure_gitignore(&root);
    Ok(true)
}

/// A new workspace is ready for git: what is personal or secret stays out of it. An existing
/// `.gitignore` is the user's and is left alone.
pub fn ensure_gitignore(root: &std::path::Path) {
    let ignore = root.join(".gitignore");
    if !ignore.exists() {
        // Not worth failing the start for; the README lists the same lines.
        let _ = super::atomic::write_atomic(&ignore, WORKSPACE_GITIGNORE.as_bytes(), false);
    }
}

/// What a new workspace's `.gitignore` keeps out of version control: secrets, history, the
/// session, drafts, export jobs and downloads.
pub const WORKSPACE_GITIGNORE: &str = "\
# Written by fhirside for a new workspace: personal or secret files stay out of git.
secrets.toml
.history.sqlite3*
.session.toml
.drafts/
jobs/
exports/
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_workspace_keeps_secrets_and_history_out_of_git() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, mut ws, _) = crate::workspace::Store::load(dir.path());
        assert!(seed_if_new(&mut store, &mut ws).unwrap());
        let ignore = std::fs::read_to_string(dir.path().join(".gitignore")).unwrap();
        for line in [
            "secrets.toml",
            ".history.sqlite3*",
            ".session.toml",
            ".drafts/",
        ] {
            assert!(ignore.lines().any(|l| l == line), "{line} in {ignore}");
        }
        // An existing .gitignore is the user's: a second seed (none happens) and a workspace
        // with its own file are left alone.
        let other = tempfile::tempdir().unwrap();
        std::fs::write(other.path().join(".gitignore"), "mine\n").unwrap();
        let (mut store, mut ws, _) = crate::workspace::Store::load(other.path());
        seed_if_new(&mut store, &mut ws).unwrap();
        assert_eq!(
            std::fs::read_to_string(other.path().join(".gitignore")).unwrap(),
            "mine\n"
        );
    }

    #[test]
    fn sample_patient_is_valid_json() {
        let v: serde_json::Value = serde_json::from_str(SAMPLE_PATIENT).unwrap();
        assert_eq!(v["resourceType"], "Patient");
    }

    #[test]
    fn seed_has_the_walkthrough_in_order() {
        let c = seed_collection();
        let names: Vec<_> = c
            .root
            .requests
            .iter()
            .map(|r| r.spec.name.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "Get token",
                "Capability statement",
                "Health check",
                "List patients",
                "Create patient",
                "Export"
            ]
        );
        assert_eq!(
            c.root.requests[5].spec.full_url(),
            "{{fhirurl}}/$export?_container=export"
        );
    }
}
