use super::*;
use crate::workspace::model::{KeyValue, Variable};

fn env() -> Environment {
    Environment {
        name: "dev".into(),
        variables: vec![
            Variable::plain("fhirurl", "http://localhost:8080"),
            Variable::secret("clientsecret", "s3cr3t-value"),
        ],
        timeout_secs: 12,
        auth: None,
        insecure: false,
        trusted_origins: Vec::new(),
        storage_hosts: None,
        strict: false,
    }
}

#[test]
fn environment_round_trips_and_secret_stays_out_of_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _, problems) = Store::load(dir.path());
    assert!(problems.is_empty());
    store.save_environment(&env()).unwrap();
    let env_text = fs::read_to_string(dir.path().join("environments/dev.toml")).unwrap();
    assert!(!env_text.contains("s3cr3t-value"), "{env_text}");
    let secrets = fs::read_to_string(dir.path().join(SECRETS_FILE)).unwrap();
    assert!(secrets.contains("s3cr3t-value"));
    let (_, ws, problems) = Store::load(dir.path());
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(ws.environments, vec![env()]);
}

#[test]
fn requests_and_folders_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _, _) = Store::load(dir.path());
    let mut c = Collection {
        root: Folder::new("Azure"),
        variables: vec![KeyValue::new("x", "1")],
        ..Default::default()
    };
    let mut sub = Folder::new("Patients");
    sub.requests.push(SavedRequest {
        file_stem: "Create".into(),
        spec: RequestSpec::new("Create", "POST", "{{fhirurl}}/Patient")
            .json_body("{\n  \"resourceType\": \"Patient\"\n}"),
    });
    c.root.folders.push(sub);
    c.root.requests.push(SavedRequest {
        file_stem: "Metadata".into(),
        spec: RequestSpec::new("Metadata", "GET", "{{fhirurl}}/metadata")
            .header("Accept", "application/fhir+json"),
    });
    store.save_collection(&c).unwrap();
    let (_, ws, problems) = Store::load(dir.path());
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(ws.collections, vec![c]);
}

#[test]
fn a_broken_file_is_reported_with_position_and_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let envs = dir.path().join("environments");
    fs::create_dir_all(&envs).unwrap();
    let bad = "[[variables]]\nkey = \"a\"\nvalue = \"unterminated\n";
    fs::write(envs.join("broken.toml"), bad).unwrap();
    fs::write(
        envs.join("good.toml"),
        "[[variables]]\nkey = \"a\"\nvalue = \"b\"\n",
    )
    .unwrap();
    let (mut store, ws, problems) = Store::load(dir.path());
    assert_eq!(ws.environments.len(), 1, "the rest still loads");
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].line, Some(3));
    assert!(problems[0].column.is_some());
    assert!(
        problems[0].to_string().contains("broken.toml:3:"),
        "{}",
        problems[0]
    );
    let err = store
        .save_environment(&Environment::new("broken"))
        .unwrap_err();
    assert!(matches!(err, StoreError::Broken(_)));
    assert_eq!(fs::read_to_string(envs.join("broken.toml")).unwrap(), bad);
}

#[test]
fn the_insecure_opt_in_round_trips_and_is_off_unless_written() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _, _) = Store::load(dir.path());
    let mut e = env();
    store.save_environment(&e).unwrap();
    let text = fs::read_to_string(dir.path().join("environments/dev.toml")).unwrap();
    assert!(!text.contains("insecure"), "{text}");
    e.insecure = true;
    store.save_environment(&e).unwrap();
    let text = fs::read_to_string(dir.path().join("environments/dev.toml")).unwrap();
    assert!(text.contains("insecure = true"), "{text}");
    let (_, ws, problems) = Store::load(dir.path());
    assert!(problems.is_empty(), "{problems:?}");
    assert!(ws.environments[0].insecure);
}

#[test]
fn trusted_origins_and_storage_hosts_round_trip_and_are_absent_unless_written() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _, _) = Store::load(dir.path());
    let mut e = env();
    store.save_environment(&e).unwrap();
    let path = dir.path().join("environments/dev.toml");
    let text = fs::read_to_string(&path).unwrap();
    assert!(
        !text.contains("trusted_origins") && !text.contains("storage_hosts"),
        "{text}"
    );
    e.trusted_origins = vec!["https://files.example.org".into()];
    e.storage_hosts = Some(vec![]);
    store.save_environment(&e).unwrap();
    let text = fs::read_to_string(&path).unwrap();
    assert!(
        text.contains("trusted_origins = [\"https://files.example.org\"]"),
        "{text}"
    );
    assert!(text.contains("storage_hosts = []"), "{text}");
    let (_, ws, problems) = Store::load(dir.path());
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(ws.environments[0].trusted_origins, e.trusted_origins);
    assert_eq!(ws.environments[0].storage_hosts, Some(vec![]));
}

#[test]
fn strict_round_trips_and_is_absent_unless_on() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _, _) = Store::load(dir.path());
    let mut e = env();
    store.save_environment(&e).unwrap();
    let path = dir.path().join("environments/dev.toml");
    assert!(!fs::read_to_string(&path).unwrap().contains("strict"));
    e.strict = true;
    store.save_environment(&e).unwrap();
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.contains("strict = true"), "{text}");
    let (_, ws, problems) = Store::load(dir.path());
    assert!(problems.is_empty(), "{problems:?}");
    assert!(ws.environments[0].strict);
}

#[test]
fn unknown_keys_are_errors_not_silently_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let envs = dir.path().join("environments");
    fs::create_dir_all(&envs).unwrap();
    fs::write(envs.join("x.toml"), "timeout = 3\n").unwrap();
    let (_, _, problems) = Store::load(dir.path());
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0].message.contains("unknown field"),
        "{}",
        problems[0].message
    );
}

#[test]
fn a_file_changed_by_someone_else_is_not_clobbered() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _, _) = Store::load(dir.path());
    store.save_environment(&env()).unwrap();
    let path = dir.path().join("environments/dev.toml");
    std::thread::sleep(std::time::Duration::from_millis(20));
    fs::write(&path, "# edited elsewhere\n").unwrap();
    let err = store.save_environment(&env()).unwrap_err();
    assert!(matches!(err, StoreError::ChangedOnDisk(_)), "{err}");
    assert_eq!(fs::read_to_string(&path).unwrap(), "# edited elsewhere\n");
}

#[cfg(unix)]
#[test]
fn world_readable_secrets_are_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join(SECRETS_FILE);
    fs::write(&p, "[environments.dev]\nclientsecret = \"x\"\n").unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
    let (mut store, _, problems) = Store::load(dir.path());
    assert_eq!(problems.len(), 1);
    assert!(problems[0].message.contains("chmod 600"));
    assert!(store.save_environment(&env()).is_err());
}

#[test]
fn move_and_delete_nodes() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _, _) = Store::load(dir.path());
    let req = NodePath(vec!["C".into(), "A".into()]);
    store
        .create_folder(&NodePath(vec!["C".into(), "F".into()]))
        .unwrap();
    store
        .save_request(&req, &RequestSpec::new("A", "GET", "x"))
        .unwrap();
    let moved = NodePath(vec!["C".into(), "F".into(), "A".into()]);
    store.move_node(&req, &moved, true).unwrap();
    assert!(dir.path().join("collections/C/F/A.toml").exists());
    // Saving after a move must not be mistaken for a conflict.
    store
        .save_request(&moved, &RequestSpec::new("A", "GET", "y"))
        .unwrap();
    store
        .delete_node(&NodePath(vec!["C".into(), "F".into()]), false)
        .unwrap();
    assert!(!dir.path().join("collections/C/F").exists());
}

#[test]
fn line_col_counts_from_one() {
    assert_eq!(line_col("ab\ncd", 0), (1, 1));
    assert_eq!(line_col("ab\ncd", 4), (2, 2));
}
