//! Frame times of the Response pane on a generated FHIR searchset (default 20,000 Patients,
//! about 50 MB): each step is a key through `App::update` plus a full redraw on ratatui's
//! TestBackend (120×40), as in the program. Prints the first-frame time, the time until the
//! whole body is ready, and p50 / p99 / max per kind of frame.
//!
//! Run: `cargo run --release --example body_frames [PATIENTS]`

// A measuring or generating tool: what it prints is its output.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::time::{Duration, Instant};

use fhirside::tui::bench::BodyBench;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000);
    let text = fhirside::view_body::generate_searchset(n);
    let bytes = bytes::Bytes::from(text);
    println!(
        "body: {:.1} MiB compact searchset, {n} Patients; {} cores",
        bytes.len() as f64 / 1_048_576.0,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let Ok(mut b) = BodyBench::new(120, 40) else {
        eprintln!("could not make a temporary workspace");
        std::process::exit(1);
    };

    // Bytes in hand → the first highlighted frame (the top of the body).
    let t0 = Instant::now();
    let finish = b.receive("application/fhir+json", bytes.clone());
    b.draw();
    let first = t0.elapsed();
    assert!(b.screen().contains("\"resourceType\": \"Bundle\""));
    println!("first highlighted frame:            {}", ms(first));

    // The whole body is pretty-printed on another thread while keys are handled.
    let mut during = Vec::new();
    let whole = match finish {
        Some(f) => {
            let t = Instant::now();
            let worker = std::thread::spawn(move || f.run());
            while !worker.is_finished() {
                during.push(frame(&mut b, &["j"]));
            }
            let body = worker.join().ok().flatten();
            let prep = t.elapsed();
            let Some(body) = body else {
                eprintln!("the preparation was cancelled");
                std::process::exit(1);
            };
            println!(
                "whole body ready (background):      {} ({} lines)",
                ms(prep),
                body.pretty.line_count()
            );
            let t = Instant::now();
            b.body_ready(body);
            b.draw();
            Some(t.elapsed())
        }
        None => None,
    };
    if let Some(d) = whole {
        println!("switch to the whole body + frame:   {}", ms(d));
    }
    report("frames while preparing (j)", &mut during);

    let lines = b.view().map_or(0, |v| v.pretty.text.line_count());
    let mut rng = 0x5eed_u64;
    let mut next = move |m: usize| {
        rng = rng
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((rng >> 33) as usize) % m.max(1)
    };

    let mut all = Vec::new();
    let mut steps: Vec<(&str, Vec<Duration>)> = Vec::new();
    let mut run = |name: &'static str,
                   count: usize,
                   b: &mut BodyBench,
                   keys: &mut dyn FnMut() -> Vec<String>| {
        let mut v = Vec::with_capacity(count);
        for _ in 0..count {
            let k = keys();
            let refs: Vec<&str> = k.iter().map(String::as_str).collect();
            v.push(frame(b, &refs));
        }
        all.extend_from_slice(&v);
        steps.push((name, v));
    };
    run("j (line down)", 2000, &mut b, &mut || vec!["j".into()]);
    run("pagedown", 500, &mut b, &mut || vec!["pagedown".into()]);
    run("pageup", 500, &mut b, &mut || vec!["pageup".into()]);
    let mut flip = false;
    run("G / g (end, top)", 200, &mut b, &mut || {
        flip = !flip;
        vec![if flip { "G" } else { "g" }.into()]
    });
    run("jump to a random line (:N)", 300, &mut b, &mut || {
        let mut k = vec![":".to_string()];
        k.extend((next(lines) + 1).to_string().chars().map(String::from));
        k.push("enter".into());
        k
    });
    run("l (scroll right)", 100, &mut b, &mut || vec!["l".into()]);
    run("n (next search match)", 0, &mut b, &mut Vec::new);

    // Search, then step through matches.
    let t = Instant::now();
    b.key("/");
    b.type_text("smith");
    b.key("enter");
    b.draw();
    println!("search 'smith' + frame:             {}", ms(t.elapsed()));
    run("n (next search match)", 500, &mut b, &mut || {
        vec!["n".into()]
    });

    // Folding every entry (the first fold finds the blocks), then moving through folds.
    b.key("g");
    let t = Instant::now();
    b.key("Z");
    b.key("2");
    b.draw();
    println!("first fold, Z 2 (every entry) + frame: {}", ms(t.elapsed()));
    run("j with every entry folded", 1000, &mut b, &mut || {
        vec!["j".into()]
    });
    run("pagedown with folds", 300, &mut b, &mut || {
        vec!["pagedown".into()]
    });
    run("z (fold / unfold at cursor)", 200, &mut b, &mut || {
        vec!["z".into()]
    });

    for (name, v) in &mut steps {
        if !v.is_empty() {
            report(name, v);
        }
    }
    report("all scroll and jump frames", &mut all);
}

/// Presses `keys` and draws once; the time of both.
fn frame(b: &mut BodyBench, keys: &[&str]) -> Duration {
    let t = Instant::now();
    for k in keys {
        b.key(k);
    }
    b.draw();
    t.elapsed()
}

fn report(name: &str, v: &mut [Duration]) {
    if v.is_empty() {
        return;
    }
    v.sort_unstable();
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    println!(
        "{name:<36} n={:<5} p50 {:>9}  p99 {:>9}  max {:>9}",
        v.len(),
        ms(at(0.5)),
        ms(at(0.99)),
        ms(v[v.len() - 1])
    );
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}
