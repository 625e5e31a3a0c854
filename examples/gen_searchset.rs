//! Writes a synthetic FHIR searchset Bundle (compact JSON, one line) to stdout, for the
//! whole-process comparisons in `benches/compare.sh` and `benches/real_binary.sh`:
//! `gen_searchset [N]` — N Patients of about 2.5 KB (default 20,000 ≈ 50 MB);
//! `gen_searchset --observations [N]` — N vital-sign Observations of about 425 bytes
//! (default 109,000 ≈ 46 MB).

use std::io::Write;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let observations = args.iter().any(|a| a == "--observations");
    let n: Option<usize> = args.iter().find_map(|a| a.parse().ok());
    let text = if observations {
        fhirside::view_body::generate_observations(n.unwrap_or(109_000))
    } else {
        fhirside::view_body::generate_searchset(n.unwrap_or(20_000))
    };
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
}
