//! Times a jq filter over a generated searchset (default 109,000 Observations ≈ 46.7 MiB):
//! the parse into jaq values, dropping them, and the filter as the worker runs it (the result,
//! then the parsed input freed).
//!
//! Run: `cargo run --release --example filter_speed [ENTRIES] [EXPR]`

// A measuring tool: what it prints is its output.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::sync::atomic::AtomicBool;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(109_000);
    let expr = args.get(1).map_or(".entry | length", String::as_str);
    let body = bytes::Bytes::from(fhirside::view_body::generate_observations(n));
    println!("body {:.1} MiB, `{expr}`", body.len() as f64 / 1_048_576.0);
    let stop = AtomicBool::new(false);
    for _ in 0..3 {
        let t = Instant::now();
        let v = jaq_json::read::parse_single(&body);
        let parsed_t = t.elapsed();
        let t = Instant::now();
        drop(v);
        let dropped = t.elapsed();
        let t = Instant::now();
        let (out, parsed) =
            fhirside::view_body::filter::run_filter_keeping_input(&body, false, expr, &stop);
        let result = t.elapsed();
        let t = Instant::now();
        drop(parsed);
        let freed = t.elapsed();
        let results = out.map(|o| o.results).unwrap_or(0);
        println!(
            "parse {:.0} ms, drop {:.0} ms; run_filter: result in {:.0} ms ({results} results), input freed {:.0} ms later",
            parsed_ms(parsed_t),
            parsed_ms(dropped),
            parsed_ms(result),
            parsed_ms(freed)
        );
    }
}

fn parsed_ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
