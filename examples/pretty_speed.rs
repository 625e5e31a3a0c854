//! Pretty-printing throughput on a generated searchset (default 20,000 Patients, about 50 MB):
//! 15 runs of `pretty_json`, the best and the median in MiB/s (2^20 bytes of input a second).
//! The best run shows what the code does on a quiet machine; the median, what it did here.
//!
//! Run: `cargo run --release --example pretty_speed [PATIENTS]`

// A measuring or generating tool: what it prints is its output.
#![allow(clippy::print_stdout, clippy::print_stderr)]

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000);
    let text = fhirside::view_body::generate_searchset(n);
    let mut secs = Vec::new();
    for _ in 0..15 {
        let t = std::time::Instant::now();
        let out = fhirside::view_body::pretty_json(text.as_bytes());
        std::hint::black_box(&out);
        secs.push(t.elapsed().as_secs_f64());
    }
    secs.sort_by(f64::total_cmp);
    let mb = text.len() as f64 / 1_048_576.0;
    println!(
        "pretty_json on {mb:.1} MiB: best {:.0} MiB/s, median {:.0} MiB/s of 15 runs",
        mb / secs[0],
        mb / secs[secs.len() / 2]
    );
}
