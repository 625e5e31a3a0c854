//! `fhirside job watch`, `job list`, `bulk-delete`, `import-data` and anonymized `export` as the
//! real binary against the demo on 127.0.0.1: exit codes 0 done / 1 failed / 2 could not watch,
//! the dry-run count before anything is deleted, no delete without --yes when stdin is not a
//! terminal; and Azure's search behaviour as `fhirside run` tells it (lenient: what was
//! ignored, `_count` clamped; `strict = true`: `Prefer: handling=strict`).

mod support;

use std::time::Duration;

use fhirside::demo::{DemoOptions, DemoServer};
use fhirside::workspace::Store;
use support::{assert_exit, fhirside, text};

async fn demo_workspace() -> (DemoServer, tempfile::TempDir) {
    support::demo_workspace(DemoOptions {
        patients: 10,
        export_duration: Duration::from_millis(300),
        ..DemoOptions::default()
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_delete_counts_first_and_needs_yes_without_a_terminal() {
    let (_server, dir) = demo_workspace().await;
    let ws = dir.path().to_path_buf();
    let target = "Observation?code=8867-4";
    let out = tokio::task::spawn_blocking({
        let ws = ws.clone();
        move || fhirside(&ws, &["bulk-delete", "--env", "demo", target])
    })
    .await
    .unwrap();
    let err = assert_exit(&out, 64, &[]);
    assert!(
        err.contains("dry run:") && err.contains("resources match Observation?code=8867-4"),
        "{err}"
    );
    assert!(err.contains("--yes"), "{err}");
    assert!(out.stdout.is_empty());

    let out = tokio::task::spawn_blocking({
        let ws = ws.clone();
        move || fhirside(&ws, &["bulk-delete", "--env", "demo", target, "--yes"])
    })
    .await
    .unwrap();
    assert_exit(&out, 0, &[]);
    let so = text(&out.stdout);
    assert!(so.starts_with("deleted  Observation"), "{so}");
    // The job is in the workspace, and listed.
    let out = fhirside(&ws, &["job", "list"]);
    let so = text(&out.stdout);
    assert!(
        so.contains("$bulk-delete") && so.contains("complete"),
        "{so}"
    );
    // Counted again: nothing left, nothing to delete.
    let out = fhirside(&ws, &["bulk-delete", "--env", "demo", target, "--yes"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        text(&out.stderr).contains("dry run: 0 resources"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_watch_exit_codes() {
    let (server, dir) = demo_workspace().await;
    let ws = dir.path().to_path_buf();
    let base = server.fhir_url();
    // A bulk delete's status URL, watched again to its (already reached) end: 0, the result
    // on stdout.
    let out = tokio::task::spawn_blocking({
        let ws = ws.clone();
        move || {
            fhirside(
                &ws,
                &[
                    "bulk-delete",
                    "--env",
                    "demo",
                    "Patient?gender=female",
                    "--yes",
                ],
            )
        }
    })
    .await
    .unwrap();
    let status = assert_exit(&out, 0, &[])
        .lines()
        .find_map(|l| l.strip_prefix("accepted: ").map(str::to_string))
        .expect("the status URL is said");
    let out = fhirside(&ws, &["job", "watch", &status, "--env", "demo"]);
    assert_exit(&out, 0, &[]);
    assert!(
        text(&out.stdout).contains("deleted  Patient"),
        "{}",
        text(&out.stdout)
    );

    // A job the server does not know: failed (1).
    let gone = format!("{base}/_operations/import/999");
    let out = fhirside(&ws, &["job", "watch", &gone, "--env", "demo"]);
    assert_exit(&out, 1, &["import"]);

    // A server that is not there: could not watch (2).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let origin = url::Url::parse(&base).unwrap();
    let nowhere = format!(
        "http://127.0.0.1:{port}{}/_operations/export/1",
        origin.path().trim_end_matches('/')
    );
    let out = fhirside(&ws, &["job", "watch", &nowhere, "--env", "demo"]);
    assert_exit(&out, 2, &[]);
}

/// Runs the binary off the runtime's threads (the demo answers on them).
async fn fhirside_off(ws: &std::path::Path, args: Vec<String>) -> std::process::Output {
    let ws = ws.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        fhirside(&ws, &args)
    })
    .await
    .unwrap()
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_data_prints_the_status_url_and_watch_shows_counts_and_the_error_file() {
    let (server, dir) = demo_workspace().await;
    let ws = dir.path().to_path_buf();
    let storage = server.storage_url();
    let patients = format!("{storage}/import/Patient.ndjson:Patient");
    // The demo's Observation file has one bad line (an effectiveDateTime that is no date).
    let observations = format!("{storage}/import/Observation.ndjson:Observation");

    // Without --watch: the status URL is the answer, on stdout.
    let out = fhirside_off(
        &ws,
        strings(&["import-data", "--env", "demo", "--input", &patients]),
    )
    .await;
    let err = assert_exit(&out, 0, &[]);
    let so = text(&out.stdout);
    assert_eq!(so.lines().count(), 1, "{so}");
    assert!(so.contains("/_operations/import/"), "{so}");
    assert!(err.contains("job watch"), "{err}");
    assert!(
        !err.contains("InitialLoad"),
        "IncrementalLoad is quiet: {err}"
    );

    // --watch: followed to its end; counts per type and the error file on stdout.
    let out = fhirside_off(
        &ws,
        strings(&[
            "import-data",
            "--env",
            "demo",
            "--input",
            &patients,
            "--input",
            &observations,
            "--mode",
            "InitialLoad",
            "--watch",
        ]),
    )
    .await;
    let err = assert_exit(&out, 0, &[]);
    let so = text(&out.stdout);
    assert!(
        err.contains("InitialLoad") && err.contains("refuses every other write"),
        "InitialLoad warns: {err}"
    );
    let imported: Vec<(&str, &str)> = so
        .lines()
        .filter_map(|l| l.strip_prefix("imported "))
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            Some((w.next()?, w.next()?))
        })
        .collect();
    assert_eq!(imported, [("Patient", "2"), ("Observation", "2")], "{so}");
    let errors: Vec<&str> = so.lines().filter(|l| l.starts_with("errors ")).collect();
    assert_eq!(errors.len(), 1, "{so}");
    assert!(
        errors[0].contains(&format!("{storage}/"))
            && errors[0].contains(" 1 ")
            && errors[0].contains("Observation.ndjson"),
        "the error file, its count and its input: {so}"
    );
    let out = fhirside_off(&ws, strings(&["job", "list"])).await;
    let so = text(&out.stdout);
    assert_eq!(
        so.lines()
            .filter(|l| l.starts_with("$import") && l.contains("complete"))
            .count(),
        1,
        "the watched import is in the workspace, complete: {so}"
    );

    // Not URL:Type: a usage error, nothing sent.
    let out = fhirside_off(
        &ws,
        strings(&["import-data", "--env", "demo", "--input", "Patient.ndjson"]),
    )
    .await;
    assert_exit(&out, 64, &["URL:Type"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymized_export_runs_at_system_level_and_is_refused_below_it() {
    let (_server, dir) = demo_workspace().await;
    let ws = dir.path().to_path_buf();
    let out_dir = dir.path().join("deid");
    let out_arg = out_dir.to_str().unwrap().to_string();
    // System level, a configuration the demo's storage has, a container: the files come
    // de-identified.
    let out = fhirside_off(
        &ws,
        strings(&[
            "export",
            "--env",
            "demo",
            "--type",
            "Patient",
            "--container",
            "deid",
            "--anonymization-config",
            "safe-harbor.json",
            "--download",
            &out_arg,
        ]),
    )
    .await;
    assert_exit(&out, 0, &[]);
    let mut files: Vec<_> = std::fs::read_dir(&out_dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "ndjson"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 1, "{files:?}");
    let data = std::fs::read_to_string(&files[0]).unwrap();
    assert_eq!(data.lines().count(), 10, "every patient, de-identified");
    for line in data.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(v.get("name").is_none() && v.get("address").is_none(), "{v}");
        assert_eq!(v["meta"]["security"][0]["code"], "REDACTED");
    }

    // Patient and Group level: refused with the reason, before anything is sent (usage, 64).
    for scope in [&["--patient"][..], &["--group", "demo-cohort"][..]] {
        let mut args = strings(&[
            "export",
            "--env",
            "demo",
            "--container",
            "deid",
            "--anonymization-config",
            "safe-harbor.json",
        ]);
        args.extend(strings(scope));
        let out = fhirside_off(&ws, args).await;
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(64), "{scope:?}: {err}");
        assert!(err.contains("system level only"), "{err}");
    }
    // Without a container: refused too. A configuration the storage does not have: the job
    // fails (1) with the service's sentence.
    let out = fhirside_off(
        &ws,
        strings(&[
            "export",
            "--env",
            "demo",
            "--anonymization-config",
            "safe-harbor.json",
        ]),
    )
    .await;
    assert_exit(&out, 64, &["_container"]);
    let out = fhirside_off(
        &ws,
        strings(&[
            "export",
            "--env",
            "demo",
            "--container",
            "deid",
            "--anonymization-config",
            "nope.json",
            "--wait",
        ]),
    )
    .await;
    assert_exit(&out, 1, &["'nope.json' not found"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_says_what_a_lenient_server_ignored_and_strict_asks_to_be_told() {
    use fhirside::workspace::{Collection, Folder, RequestSpec, SavedRequest};
    let (_server, dir) = demo_workspace().await;
    let ws = dir.path().to_path_buf();
    let (mut store, w, _) = Store::load(&ws);
    let mut c = Collection {
        root: Folder::new("Strict"),
        ..Default::default()
    };
    let url = "{{fhirurl}}/Patient?gender=female&foo=1&_count=2000";
    c.root.requests.push(SavedRequest {
        file_stem: "Search".into(),
        spec: RequestSpec::new("Search", "GET", url),
    });
    store.save_collection(&c).unwrap();

    // Lenient (the default): the answer, and on stderr what the demo dropped and clamped.
    let out = fhirside_off(
        &ws,
        strings(&["run", "Strict/Search", "--env", "demo", "--fail"]),
    )
    .await;
    let err = assert_exit(
        &out,
        0,
        &["warning: the server ignored: foo — set strict = true to be told"],
    );
    assert!(
        err.contains("server note:") && err.contains("'_count' parameter exceeds"),
        "Azure's clamp warning is shown: {err}"
    );
    assert!(
        !err.contains("ignored: foo, gender"),
        "gender was used: {err}"
    );

    // strict = true: Prefer: handling=strict goes with the search, and the demo refuses foo.
    let mut env = w.environment("demo").unwrap().clone();
    env.strict = true;
    store.save_environment(&env).unwrap();
    let out = fhirside_off(
        &ws,
        strings(&["run", "Strict/Search", "--env", "demo", "--fail"]),
    )
    .await;
    let (so, err) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "a 400 with --fail: {err}");
    assert!(so.contains("'foo' is not supported"), "{so}");
    assert!(!err.contains("ignored"), "{err}");
    let out = fhirside_off(&ws, strings(&["history", "--json", "--limit", "1"])).await;
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = rows[0]["id"]
        .as_i64()
        .expect("the search is in the history")
        .to_string();
    let out = fhirside_off(&ws, strings(&["history", "--show", &id])).await;
    let shown = text(&out.stdout);
    assert!(shown.contains("Prefer: handling=strict"), "{shown}");
}
