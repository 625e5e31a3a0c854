#!/usr/bin/env bash
# Whole-process comparison on one generated file, in one run on this machine:
#   fhirside fmt FILE            vs  jq . FILE        (pretty-print)
#   fhirside fmt --color always  vs  jq -C . FILE     (pretty-print and highlight)
# Usage: bash benches/compare.sh [PATIENTS]   (default 20000 ≈ 50 MB). Needs jq; hyperfine if present.
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-20000}"
cargo build --release --quiet --bin fhirside --example gen_searchset
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
./target/release/examples/gen_searchset "$n" > "$dir/bundle.json"
echo "file: $(du -h "$dir/bundle.json" | cut -f1) ($n patients), $(nproc) cores"
run() {
  local label="$1"; shift
  if command -v hyperfine >/dev/null; then
    hyperfine --warmup 1 --runs 3 --style basic -n "$label" "$* > /dev/null"
  else
    local best=""
    for _ in 1 2 3; do
      local s e
      s=$(date +%s.%N); bash -c "$* > /dev/null"; e=$(date +%s.%N)
      t=$(echo "$e - $s" | bc)
      if [ -z "$best" ] || (( $(echo "$t < $best" | bc) )); then best=$t; fi
    done
    printf '%-34s best of 3: %6.2f s\n' "$label" "$best"
  fi
}
run "fhirside fmt" ./target/release/fhirside fmt --color never "$dir/bundle.json"
run "jq ." jq . "$dir/bundle.json"
run "fhirside fmt --color always" ./target/release/fhirside fmt --color always "$dir/bundle.json"
run "jq -C ." jq -C . "$dir/bundle.json"
