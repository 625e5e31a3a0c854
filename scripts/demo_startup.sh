#!/usr/bin/env bash
# Start-up of the built-in demo, over N runs: from launching `fhirside demo-server` to the line
# that prints the FHIR base (the server listens), then to the first answered search (the
# synthetic population is generated in the background and searches wait for it), and the
# peak RSS once the data is there.
# Usage: scripts/demo_startup.sh [path/to/fhirside] [runs]
set -euo pipefail
bin=${1:-target/release/fhirside}
runs=${2:-5}
client=4f1c2a9e-6b3d-4e8f-a7c5-0d2b9e8f1a36
secret='demo-secret-Qx7~fhirside~8Kp2'
tenant=7c3f9a52-1d4e-4b8a-9f26-5e0d8c41b7a3
ms() { echo $(( ($(date +%s%N) - start) / 1000000 )); }
for _ in $(seq "$runs"); do
  start=$(date +%s%N)
  coproc DEMO { exec "$bin" demo-server --port 0 2>&1; }
  base=
  while IFS= read -r line <&"${DEMO[0]}"; do
    case $line in *"FHIR base"*) base=${line##* }; break ;; esac
  done
  listening=$(ms)
  tok=$(curl -s -d grant_type=client_credentials -d "client_id=$client" \
    --data-urlencode "client_secret=$secret" -d "resource=$base" \
    "$base/login/$tenant/oauth2/token" | sed 's/.*"access_token":"\([^"]*\)".*/\1/')
  curl -s -o /dev/null -H "Authorization: Bearer $tok" "$base/Observation?_count=1"
  searched=$(ms)
  rss=$(awk '/VmHWM/ {print $2}' "/proc/$DEMO_PID/status" 2>/dev/null || echo 0)
  kill "$DEMO_PID" 2>/dev/null || true
  wait "$DEMO_PID" 2>/dev/null || true
  echo "listening after $listening ms, first search answered after $searched ms, peak RSS $(( rss / 1024 )) MB"
done
