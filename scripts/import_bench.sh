#!/usr/bin/env bash
# Import benchmark (issue 20): `fhirside import` of a 469-request collection and of a
# 50 MB / 23,000-request one, end to end (process start to exit, collection durable on
# disk), on a quiet disk and while another process writes to the same disk with O_DIRECT.
#
#   bash scripts/import_bench.sh            # 5 runs of each, prints every time and the median
#   RUNS=3 bash scripts/import_bench.sh
#
# The collections are generated (examples/gen_collection.rs), never committed. The scratch
# folder is on the same file system as the workspace (BENCH_DIR, default target/import-bench).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
DIR=${BENCH_DIR:-target/import-bench}
mkdir -p "$DIR"
cargo build --release --quiet --bin fhirside --example gen_collection
BIN=${CARGO_TARGET_DIR:-target}/release/fhirside
GEN=${CARGO_TARGET_DIR:-target}/release/examples/gen_collection
[ -f "$DIR/small.json" ] || "$GEN" 469 > "$DIR/small.json"
[ -f "$DIR/big.json" ] || "$GEN" 23000 --bytes 50000000 > "$DIR/big.json"
echo "small: $(du -h "$DIR/small.json" | cut -f1), big: $(du -h "$DIR/big.json" | cut -f1)"

loader_pid=
start_loader() {
  # Another process writing to the same disk, around the clock, for the loaded runs.
  ( while true; do
      dd if=/dev/zero of="$DIR/load.bin" bs=1M count=2000 oflag=direct status=none &
      echo $! > "$DIR/dd.pid"
      wait $!
    done ) &
  loader_pid=$!
  sleep 2
}
stop_loader() {
  if [ -n "$loader_pid" ]; then
    kill "$loader_pid" 2>/dev/null || true
    wait "$loader_pid" 2>/dev/null || true
    [ -f "$DIR/dd.pid" ] && kill "$(cat "$DIR/dd.pid")" 2>/dev/null || true
    loader_pid=
  fi
  rm -f "$DIR/load.bin" "$DIR/dd.pid"
}
trap stop_loader EXIT

run() { # name file
  local times=()
  for _ in $(seq "$RUNS"); do
    rm -rf "$DIR/ws"; mkdir -p "$DIR/ws/collections" "$DIR/ws/environments"
    local t0 t1
    t0=$(date +%s.%N)
    "$BIN" --workspace "$DIR/ws" import "$2" > /dev/null
    t1=$(date +%s.%N)
    times+=("$(echo "$t1 - $t0" | bc)")
  done
  local sorted median
  sorted=$(printf '%s\n' "${times[@]}" | sort -n)
  median=$(echo "$sorted" | sed -n "$(( (RUNS + 1) / 2 ))p")
  printf '%-28s median %.3f s  (runs: %s)\n' "$1" "$median" "$(echo $sorted | tr ' ' ',')"
}

run "469 requests, quiet" "$DIR/small.json"
run "23,000 requests, quiet" "$DIR/big.json"
start_loader
run "469 requests, disk loaded" "$DIR/small.json"
run "23,000 requests, disk loaded" "$DIR/big.json"
stop_loader
rm -rf "$DIR/ws"
