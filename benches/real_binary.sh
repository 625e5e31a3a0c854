#!/usr/bin/env bash
# Figures of the real binary on a large searchset, as a user sees them (issue 23):
#   * Ctrl-R → the first highlighted lines, and → the whole body ready (local server, 127.0.0.1);
#   * VmHWM / VmRSS from /proc/PID/status: loaded, all entries folded (Z 2), during and after
#     the jq filter `F types` (entry by entry) and `F .entry | length` (the whole tree);
#   * the same filter's time and peak memory in the jaq and jq CLIs on the same file, if they
#     are installed (`cargo install jaq`, `apt-get install jq`).
# Usage: bash benches/real_binary.sh [ENTRIES]   (default 109000 Observations ≈ 46 MB). Linux only.
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-109000}"
cargo build --release --quiet --bin fhirside --example real_binary
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
target="$(realpath "${CARGO_TARGET_DIR:-target}")"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the start"
"$target/release/examples/real_binary" "$target/release/fhirside" "$n" --save "$dir/bundle.json"

# The `types` shortcut's jq expression, as fhirside runs it (src/view_body/filter/mod.rs).
types='[if .resourceType == "Bundle" then .entry[]?.resource else . end | .resourceType] | group_by(.) | map({key: .[0], value: length}) | from_entries'
for tool in jaq jq; do
  if command -v "$tool" >/dev/null; then
    for expr in "$types" '.entry | length'; do
      for _ in 1 2 3; do
        out=$( { /usr/bin/time -f '%e s, max RSS %M KiB' "$tool" "$expr" "$dir/bundle.json" >/dev/null; } 2>&1 )
        echo "$tool CLI, ${expr:0:20}… on the same file: $out"
      done
    done
  else
    echo "$tool CLI: not installed, no comparison"
  fi
done
echo "load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
