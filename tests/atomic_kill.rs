//! Atomic saves under SIGKILL: a child process rewrites workspace files in a loop through the
//! store, and is killed at varied moments; every file is then either the old or the new
//! version, never a mix, never empty, and the workspace still loads.

use std::process::Command;
use std::time::Duration;

use fhirside::workspace::{Environment, Store, Variable};

const CHILD: &str = "FHIRSIDE_ATOMIC_KILL_CHILD";

fn env_version(i: usize) -> Environment {
    let mut e = Environment::new("loop");
    // Big enough that a torn write would be visible.
    for k in 0..200 {
        e.variables.push(Variable::plain(
            &format!("key{k}"),
            &format!("version-{i}-{}", "x".repeat(50)),
        ));
    }
    e
}

/// The child: saves two versions alternately, forever (until killed).
fn child_loop(dir: &std::path::Path) -> ! {
    let (mut store, _, _) = Store::load(dir);
    let mut i = 0usize;
    loop {
        // A fresh store each time, as separate fhirside runs would be, so no conflict check trips.
        if i.is_multiple_of(2) {
            store = Store::load(dir).0;
        }
        let _ = store.save_environment(&env_version(i % 2));
        i += 1;
    }
}

#[cfg(unix)]
#[test]
fn a_killed_save_leaves_the_old_or_the_new_file() {
    if let Some(dir) = std::env::var_os(CHILD) {
        child_loop(std::path::Path::new(&dir));
    }
    let dir = tempfile::tempdir().unwrap();
    {
        let (mut store, _, _) = Store::load(dir.path());
        store.save_environment(&env_version(0)).unwrap();
    }
    let file = dir.path().join("environments/loop.toml");
    let old = std::fs::read_to_string(&file).unwrap();
    let new = {
        let d2 = tempfile::tempdir().unwrap();
        let (mut s, _, _) = Store::load(d2.path());
        s.save_environment(&env_version(1)).unwrap();
        std::fs::read_to_string(d2.path().join("environments/loop.toml")).unwrap()
    };
    assert_ne!(old, new);
    let exe = std::env::current_exe().unwrap();
    for round in 0..25u64 {
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "a_killed_save_leaves_the_old_or_the_new_file",
                "--nocapture",
            ])
            .env(CHILD, dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Varied moments, bounded in time.
        std::thread::sleep(Duration::from_millis(20 + (round * 7) % 60));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let now = std::fs::read_to_string(&file).unwrap();
        assert!(
            now == old || now == new,
            "round {round}: the file is neither version ({} bytes)",
            now.len()
        );
        let (_, ws, problems) = Store::load(dir.path());
        assert!(problems.is_empty(), "round {round}: {problems:?}");
        assert_eq!(ws.environments.len(), 1);
    }
    // Temporary files of killed saves are never taken for workspace files, and loading
    // clears them away.
    let (_, ws, _) = Store::load(dir.path());
    assert_eq!(ws.environments.len(), 1);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("environments"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
