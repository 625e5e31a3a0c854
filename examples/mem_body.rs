//! Loads a generated FHIR searchset (default 20,000 Patients, about 50 MB) through the same
//! path as a received response — preview, background pretty-print, the whole body swapped in
//! — and draws the Response pane, then prints the process's peak memory. With `--fold` it
//! also folds every entry (Z 2), which finds the body's foldable blocks.
//!
//! Run: `/usr/bin/time -v target/release/examples/mem_body [PATIENTS] [--fold]`
//! (`benches/tui_figures.sh` does this).

// A measuring or generating tool: what it prints is its output.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use fhirside::tui::bench::BodyBench;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n: usize = args.iter().find_map(|a| a.parse().ok()).unwrap_or(20_000);
    let fold = args.iter().any(|a| a == "--fold");
    // The generated text becomes the body without a copy, as a received body does.
    let body = bytes::Bytes::from(fhirside::view_body::generate_searchset(n));
    let size = body.len();
    let Ok(mut b) = BodyBench::new(120, 40) else {
        eprintln!("could not make a temporary workspace");
        std::process::exit(1);
    };
    let finish = b.receive("application/fhir+json", body);
    b.draw();
    if let Some(whole) = finish.and_then(|f| std::thread::spawn(move || f.run()).join().ok()) {
        match whole {
            Some(body) => b.body_ready(body),
            None => {
                eprintln!("the preparation was cancelled");
                std::process::exit(1);
            }
        }
    }
    b.draw();
    b.key("G");
    b.draw();
    if fold {
        b.key("g");
        b.key("Z");
        b.key("2");
        b.draw();
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    let peak_kb = field("VmHWM:");
    println!(
        "body {:.1} MiB; peak RSS {:.1} MiB = {:.2}x the body{}",
        size as f64 / 1_048_576.0,
        peak_kb as f64 / 1024.0,
        peak_kb as f64 * 1024.0 / size as f64,
        if fold {
            " (after folding every entry)"
        } else {
            ""
        }
    );
}
