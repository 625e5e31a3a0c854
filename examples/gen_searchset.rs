//! Writes a synthetic FHIR searchset Bundle of N Patients (compact JSON, one line) to stdout,
//! for the whole-process comparisons in `benches/compare.sh`.

use std::io::Write;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000);
    let text = fhirside::view_body::generate_searchset(n);
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
}
