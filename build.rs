//! Records the git commit the binary is built from, for `fhirside --version`. Without git (a
//! source tarball, a clean checkout's build in a container) it says `unknown`; packagers can
//! set FHIRSIDE_GIT_COMMIT themselves.

// Cargo reads what a build script prints.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!s.is_empty()).then_some(s)
}

fn main() {
    println!("cargo:rerun-if-env-changed=FHIRSIDE_GIT_COMMIT");
    let commit = std::env::var("FHIRSIDE_GIT_COMMIT")
        .ok()
        .filter(|c| !c.is_empty())
        .or_else(|| {
            // Rebuild when HEAD moves: HEAD itself, and the branch file it points to.
            for path in ["HEAD", "packed-refs"] {
                if let Some(p) = git(&["rev-parse", "--git-path", path]) {
                    println!("cargo:rerun-if-changed={p}");
                }
            }
            if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"])
                && let Some(p) = git(&["rev-parse", "--git-path", &branch])
            {
                println!("cargo:rerun-if-changed={p}");
            }
            git(&["rev-parse", "--short=12", "HEAD"])
        })
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=FHIRSIDE_GIT_COMMIT={commit}");
}
