//! Bad files of every kind fhirside reads at start — environments, requests, collection files,
//! `secrets.toml`, `settings.toml`, export jobs in `jobs/`, drafts in `.drafts/` and themes —
//! fed arbitrary bytes and mutations of valid files. For each: nothing panics, the app starts and
//! draws, the rest of the workspace loads, a file that does not parse is reported with its name,
//! line and column, and no save the app then makes writes over it.

use std::path::{Path, PathBuf};

use fhirside::tui::msg::{Command, DiskJob, DiskOp, Msg};
use fhirside::tui::screens::Intent;
use fhirside::tui::style::Style;
use fhirside::tui::style::theme_file::ColorDepth;
use fhirside::tui::testing::Rig;
use fhirside::worker::export::{ExportJob, ExportParams};
use fhirside::workspace::jobs::JobStore;
use fhirside::workspace::{Environment, NodePath, RequestSpec, Store, Variable};
use proptest::prelude::*;

const JOB_ID: &str = "0b8f2a3c-1d2e-4f50-8a6b-7c8d9e0f1a2b";

/// A valid file of each kind, by its path in the workspace.
fn valid_files() -> Vec<(String, String)> {
    let mut job = ExportJob::accepted(
        "good",
        "http://127.0.0.1:9/fhir/$export",
        "http://127.0.0.1:9/fhir/_status/1",
        ExportParams::default(),
    );
    job.id = JOB_ID.into();
    vec![
        (
            "environments/env.toml".into(),
            "timeout_secs = 12\n\n[[variables]]\nkey = \"fhirurl\"\nvalue = \"http://127.0.0.1:9\"\n\n[[variables]]\nkey = \"clientsecret\"\nsecret = true\n".into(),
        ),
        (
            "collections/C/req.toml".into(),
            "name = \"Req\"\nmethod = \"POST\"\nurl = \"{{fhirurl}}/Patient\"\n\n[[headers]]\nkey = \"Accept\"\nvalue = \"application/fhir+json\"\n\n[body]\nkind = \"json\"\ntext = \"{}\"\n".into(),
        ),
        (
            "collections/C/_collection.toml".into(),
            "description = \"d\"\n\n[[variables]]\nkey = \"x\"\nvalue = \"1\"\n".into(),
        ),
        (
            "secrets.toml".into(),
            "[environments.env]\nclientsecret = \"s3cr3t\"\n".into(),
        ),
        ("settings.toml".into(), "theme = \"light\"\n".into()),
        (
            format!("jobs/{JOB_ID}.toml"),
            toml::to_string_pretty(&job).unwrap(),
        ),
        (
            ".drafts/draft-0.toml".into(),
            "path = [\"C\", \"good\"]\n\n[spec]\nname = \"Good\"\nurl = \"{{fhirurl}}/edited\"\n"
                .into(),
        ),
        (
            "themes/mine.toml".into(),
            fhirside::tui::style::theme_file::theme_to_toml(&fhirside::tui::style::Theme::dark())
                .replacen("name = \"dark\"", "name = \"mine\"", 1),
        ),
    ]
}

/// A workspace with a good environment and request beside the file under test.
fn workspace(dir: &Path, file: &str, bytes: &[u8]) -> PathBuf {
    let write = |rel: &str, bytes: &[u8]| {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, bytes).unwrap();
        p
    };
    write(
        "environments/good.toml",
        b"[[variables]]\nkey = \"fhirurl\"\nvalue = \"http://127.0.0.1:9\"\n",
    );
    write(
        "collections/C/good.toml",
        b"name = \"Good\"\nurl = \"{{fhirurl}}/metadata\"\n",
    );
    let path = write(file, bytes);
    #[cfg(unix)]
    if file == "secrets.toml" {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    path
}

/// Starts the app the way `main` does (its jobs, themes and drafts read, unfinished jobs
/// resumed), draws it, and returns it with every problem reported (the load problems and the
/// theme/settings ones).
fn start(dir: &Path) -> (Rig, Vec<String>) {
    let (store, ws, problems) = Store::load(dir);
    let mut rig = Rig::new(store, ws, problems, None);
    let (style, mut reported) = Style::load(dir, None, ColorDepth::TrueColor);
    rig.app.style = style;
    rig.app.offer_drafts();
    let resumed = rig.app.resume_jobs();
    rig.dispatch(resumed);
    draw(&mut rig);
    reported.extend(rig.app.model.problems.iter().map(|p| p.to_string()));
    (rig, reported)
}

fn draw(rig: &mut Rig) {
    rig.draw(120, 36);
}

fn disk(op: DiskOp) -> Command {
    Command::Disk(DiskJob { op, reply: None })
}

/// Every save the app can make to the files under test, results ignored: the point is what
/// they leave on disk.
fn try_every_save(rig: &mut Rig) {
    let mut env = Environment::new("env");
    env.variables.push(Variable::plain("fhirurl", "http://x"));
    env.variables
        .push(Variable::secret("clientsecret", "another"));
    let store = &mut rig.runtime.store;
    let _ = store.save_environment(&env);
    let _ = store.save_request(&node(&["C", "req"]), &RequestSpec::new("Req", "GET", "x"));
    if let Some(c) = rig.app.model.ws.collection("C").cloned() {
        let mut c = c;
        c.description = "changed".into();
        let _ = rig.runtime.store.save_collection_meta(&c);
    }
    rig.msg(Msg::Intent(Intent::UseTheme("dark".into())));
    let good = node(&["C", "good"]);
    rig.open(&good);
    if let Some(ed) = rig.app.request.editors.get_mut(&good) {
        ed.draft.url = "{{fhirurl}}/changed".into();
    }
    let drafts = rig.app.drafts_to_save();
    rig.dispatch(vec![drafts, disk(DiskOp::DiscardDrafts)]);
    let mut job = ExportJob::accepted(
        "good",
        "http://127.0.0.1:9/$export",
        "http://127.0.0.1:9/s",
        ExportParams::default(),
    );
    job.id = JOB_ID.into();
    let (mut jobs, _, _) = JobStore::load(rig.runtime.store.root());
    let _ = jobs.save(&job);
    let _ = jobs.remove(JOB_ID);
    draw(rig);
}

fn node(parts: &[&str]) -> NodePath {
    NodePath(parts.iter().map(|s| s.to_string()).collect())
}

/// Whether `text` is TOML at all (a syntax error, rather than a wrong shape).
fn is_toml(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes).is_ok_and(|t| toml::from_str::<toml::Table>(t).is_ok())
}

/// The whole check for one file's bytes.
fn check(file: &str, bytes: &[u8]) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let path = workspace(dir.path(), file, bytes);
    let (mut rig, reported) = start(dir.path());
    let shown = path.display().to_string();
    let about_it: Vec<&String> = reported.iter().filter(|p| p.contains(&shown)).collect();

    // The rest of the workspace loads.
    prop_assert!(
        rig.app.model.ws.environment("good").is_some(),
        "{reported:?}"
    );
    prop_assert!(
        rig.app.model.ws.request(&node(&["C", "good"])).is_some(),
        "{reported:?}"
    );

    // Not TOML at all (or not UTF-8): always reported, with line and column.
    if !is_toml(bytes) {
        prop_assert!(!about_it.is_empty(), "not reported: {reported:?}");
        let pos = format!("{shown}:");
        for p in &about_it {
            let rest = &p[pos.len()..];
            let mut parts = rest.splitn(3, ':');
            let line = parts.next().unwrap_or("");
            let col = parts.next().unwrap_or("");
            prop_assert!(
                line.parse::<usize>().is_ok() && col.parse::<usize>().is_ok(),
                "no line:column in {p}"
            );
        }
    }

    try_every_save(&mut rig);
    if !about_it.is_empty() {
        let now = std::fs::read(&path).unwrap_or_default();
        prop_assert_eq!(now, bytes.to_vec(), "{} was written over", file);
    }
    Ok(())
}

/// Bytes: arbitrary, or a valid file cut short, with a byte changed, or with junk inserted.
fn inputs(valid: String) -> impl Strategy<Value = Vec<u8>> {
    let len = valid.len();
    let v1 = valid.clone();
    let v2 = valid.clone();
    let v3 = valid;
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..300),
        (0..=len).prop_map(move |cut| v1.as_bytes()[..cut].to_vec()),
        (0..len.max(1), any::<u8>()).prop_map(move |(i, b)| {
            let mut v = v2.as_bytes().to_vec();
            if let Some(x) = v.get_mut(i) {
                *x = b;
            }
            v
        }),
        (
            0..=len,
            prop_oneof![
                Just("\"".to_string()),
                Just("[[".to_string()),
                Just("= 1\n".to_string()),
                Just("\nx = [\n".to_string()),
                Just("\u{0}".to_string()),
                Just("\n[body]\nkind = 5\n".to_string()),
                Just("\nstate = \"exploded\"\n".to_string()),
                ".{0,8}",
            ]
        )
            .prop_map(move |(i, junk)| {
                let mut v = v3.as_bytes().to_vec();
                let i = i.min(v.len());
                v.splice(i..i, junk.into_bytes());
                v
            }),
    ]
}

fn file_case(file: &str) -> (String, String) {
    valid_files().into_iter().find(|(f, _)| f == file).unwrap()
}

macro_rules! fuzz_file {
    ($name:ident, $file:expr) => {
        proptest! {
            #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
            #[test]
            fn $name(bytes in inputs(file_case($file).1)) {
                check($file, &bytes)?;
            }
        }
    };
}

fuzz_file!(environment_files, "environments/env.toml");
fuzz_file!(request_files, "collections/C/req.toml");
fuzz_file!(collection_files, "collections/C/_collection.toml");
fuzz_file!(secrets_file, "secrets.toml");
fuzz_file!(settings_file, "settings.toml");
fuzz_file!(job_files, "jobs/0b8f2a3c-1d2e-4f50-8a6b-7c8d9e0f1a2b.toml");
fuzz_file!(draft_files, ".drafts/draft-0.toml");
fuzz_file!(theme_files, "themes/mine.toml");

#[test]
fn the_valid_files_load_without_problems() {
    for (file, text) in valid_files() {
        let dir = tempfile::tempdir().unwrap();
        workspace(dir.path(), &file, text.as_bytes());
        let (_, reported) = start(dir.path());
        assert!(reported.is_empty(), "{file}: {reported:?}");
    }
}

/// Wrong shapes in valid TOML: each named with its position, and left alone.
#[test]
fn wrong_shapes_are_reported_with_position_and_left_alone() {
    let cases = [
        ("settings.toml", "theme = 5\n"),
        ("settings.toml", "colour = \"red\"\n"),
        ("secrets.toml", "[environments]\nenv = \"flat\"\n"),
        ("secrets.toml", "environments = [1, 2]\n"),
        (
            ".drafts/draft-0.toml",
            "path = \"C/good\"\n[spec]\nname = \"x\"\nurl = \"y\"\n",
        ),
        (".drafts/draft-0.toml", "path = [\"C\", \"good\"]\n"),
        ("environments/env.toml", "[[variables]]\nkey = 1\n"),
        (
            "collections/C/req.toml",
            "name = \"x\"\nurl = \"y\"\nquery = \"a=b\"\n",
        ),
    ];
    for (file, text) in cases {
        let dir = tempfile::tempdir().unwrap();
        let path = workspace(dir.path(), file, text.as_bytes());
        let (mut rig, reported) = start(dir.path());
        let shown = format!("{}:", path.display());
        let p = reported
            .iter()
            .find(|p| p.starts_with(&shown))
            .unwrap_or_else(|| panic!("{file} not reported: {reported:?}"));
        let rest: Vec<&str> = p[shown.len()..].splitn(3, ':').collect();
        assert!(
            rest.len() == 3 && rest[0].parse::<usize>().is_ok() && rest[1].parse::<usize>().is_ok(),
            "{p}"
        );
        try_every_save(&mut rig);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text, "{file}");
    }
}

/// Bytes that are not UTF-8 are placed exactly.
#[test]
fn bytes_that_are_not_utf8_are_placed() {
    let dir = tempfile::tempdir().unwrap();
    let path = workspace(dir.path(), "settings.toml", b"# ok\ntheme = \"d\xffark\"\n");
    let (mut rig, reported) = start(dir.path());
    let expected = format!("{}:2:11: is not UTF-8 text", path.display());
    assert!(reported.contains(&expected), "{reported:?}");
    try_every_save(&mut rig);
    assert_eq!(
        std::fs::read(&path).unwrap(),
        b"# ok\ntheme = \"d\xffark\"\n".to_vec()
    );
}

/// A broken draft beside a good one: the good one is offered, the broken one reported and kept.
#[test]
fn a_broken_draft_does_not_hide_the_good_ones_and_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    workspace(
        dir.path(),
        ".drafts/draft-0.toml",
        b"path = [\"C\", \"good\"]\n[spec\n",
    );
    let good = file_case(".drafts/draft-0.toml").1;
    std::fs::write(dir.path().join(".drafts/draft-1.toml"), &good).unwrap();
    let (mut rig, reported) = start(dir.path());
    assert_eq!(rig.app.pending_drafts.len(), 1, "{reported:?}");
    assert!(
        reported.iter().any(|p| p.contains("draft-0.toml:2:")),
        "{reported:?}"
    );
    rig.msg(Msg::Intent(Intent::Drafts(true)));
    let drafts = rig.app.drafts_to_save();
    rig.dispatch(vec![drafts, disk(DiskOp::DiscardDrafts)]);
    assert_eq!(
        std::fs::read_to_string(dir.path().join(".drafts/draft-0.toml")).unwrap(),
        "path = [\"C\", \"good\"]\n[spec\n"
    );
    assert!(!dir.path().join(".drafts/draft-1.toml").exists());
}
