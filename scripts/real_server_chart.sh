#!/usr/bin/env bash
# The patient chart against a real FHIR server that has no $everything (issue 22): fhirsnake
# (PyPI, by Beda Software; not written by us), installed into a temporary venv, bound to
# 127.0.0.1, loaded with three patients and three years of vitals, labs and care
# (scripts/real_server_gen.py, POSTed one resource at a time), then fhirside's TUI is driven in
# tmux as a user would: `f smith`, Enter, `V`, the labs, a lab plotted, the timeline.
#
#   bash scripts/real_server_chart.sh          # screens saved in target/real-server-chart/
#   SIZE=160x48 bash scripts/real_server_chart.sh
#
# What fhirsnake 1.1.0 does that the chart has to live with: `$everything` is a 404, /metadata
# is an empty Bundle (no CapabilityStatement), and every search parameter is ignored
# (`Observation?patient=x&_sort=-date&_count=200` gives every patient's Observations in one
# page without links). The chart falls back to searches per type, says so in its header, and
# keeps only the patient's own resources, with a note naming how many were left out.
#
# Needs python3 (3.11+) with venv, tmux and network access to PyPI. Not run in CI.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=${SIZE:-120x35}
COLS=${SIZE%x*}
ROWS=${SIZE#*x}
OUT=${OUT:-target/real-server-chart}
mkdir -p "$OUT"
cargo build --quiet --bin fhirside
BIN=$(pwd)/${CARGO_TARGET_DIR:-target}/debug/fhirside
[ -x "$BIN" ] || BIN=${CARGO_TARGET_DIR}/debug/fhirside

TMP=$(mktemp -d)
SESSION="fhirside-real-$$"
server_pid=
cleanup() {
  tmux kill-session -t "$SESSION" 2>/dev/null || true
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

echo "== fhirsnake 1.1.0 into $TMP/venv"
python3 -m venv "$TMP/venv"
"$TMP/venv/bin/pip" install --quiet fhirsnake==1.1.0
APP_DIR=$("$TMP/venv/bin/python" -c 'import fhirsnake, os; print(os.path.dirname(fhirsnake.__file__))')
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
# fhirsnake reads ./resources at start (it must exist) and keeps what is POSTed in memory.
mkdir -p "$TMP/srv/resources/Patient"
( cd "$TMP/srv" && exec "$TMP/venv/bin/python" -m uvicorn --app-dir "$APP_DIR" \
    --host 127.0.0.1 --port "$PORT" main:app >"$TMP/server.log" 2>&1 ) &
server_pid=$!
for _ in $(seq 50); do
  curl -fs "$BASE/" >/dev/null 2>&1 && break
  sleep 0.2
done
python3 scripts/real_server_gen.py "$BASE"
echo "== what the server does with the chart's requests"
printf '$everything: HTTP %s\n' "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/Patient/smith-anna/\$everything")"
printf 'metadata: %s\n' "$(curl -s "$BASE/metadata" | head -c 80)"
printf 'Observation?patient=smith-anna: total %s\n' \
  "$(curl -s "$BASE/Observation?patient=smith-anna&_sort=-date&_count=200" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')"

echo "== fhirside against $BASE ($SIZE)"
WS="$TMP/ws"
"$BIN" init "$WS" >/dev/null
cat >"$WS/environments/fhirsnake.toml" <<EOF
[[variables]]
key = "fhirurl"
value = "$BASE"
EOF
tmux new-session -d -s "$SESSION" -x "$COLS" -y "$ROWS" \
  "$BIN --workspace $WS --env fhirsnake --no-mouse; sleep 30"
screen() { tmux capture-pane -p -t "$SESSION"; }
# Waits (at most 10 s) until the screen shows $1.
wait_for() {
  for _ in $(seq 100); do
    screen | grep -qF -- "$1" && return 0
    sleep 0.1
  done
  echo "timed out waiting for: $1" >&2
  screen >&2
  return 1
}
shot() { screen >"$OUT/$1.txt"; echo "--- $1"; cat "$OUT/$1.txt"; }
sleep 1
tmux send-keys -t "$SESSION" f
sleep 0.3
tmux send-keys -t "$SESSION" -l smith
wait_for "Anna"
shot lookup
tmux send-keys -t "$SESSION" Enter
wait_for "1961"
start=$(date +%s%N)
tmux send-keys -t "$SESSION" V
wait_for "observations ·"
end=$(date +%s%N)
shot vitals
echo "chart on screen $(( (end - start) / 1000000 )) ms after V (tmux polling every 100 ms; load: $(cut -d' ' -f1-3 /proc/loadavg))"
tmux send-keys -t "$SESSION" Tab
sleep 0.5
shot labs
tmux send-keys -t "$SESSION" Enter
sleep 0.5
shot lab_plot
tmux send-keys -t "$SESSION" Escape
sleep 0.3
tmux send-keys -t "$SESSION" Tab
sleep 0.5
shot timeline
grep -q "searches per type" "$OUT/vitals.txt" || { echo "FAIL: the fallback is not said" >&2; exit 1; }
grep -q "of other patients left out" "$OUT/vitals.txt" || { echo "FAIL: other patients' resources not said" >&2; exit 1; }
echo "== screens saved in $OUT"
