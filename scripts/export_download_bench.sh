#!/usr/bin/env bash
# Bulk export download benchmark (issue 16): `fhirside export --download` from kick-off to every
# file verified on disk, against `curl -Z` fetching the same files once the job is done, both on
# loopback from the same small server (Python's ThreadingHTTPServer: an export that is complete
# at once, NDJSON files with Content-Length). Not a test; prints the figures for the README.
#
#   bash scripts/export_download_bench.sh [FILES] [MB_PER_FILE] [RUNS]     (default 8 128 3)
#
# Needs python3 and curl. Builds the release binary (CARGO_TARGET_DIR is honoured).
set -euo pipefail

FILES=${1:-8}
MB=${2:-128}
RUNS=${3:-3}
cd "$(dirname "$0")/.."
cargo build --release --quiet
BIN="${CARGO_TARGET_DIR:-target}/release/fhirside"

WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/files"
python3 - "$WORK/files" "$FILES" "$MB" <<'EOF'
import sys, os
out, files, mb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
line = b'{"resourceType":"Observation","id":"%08d","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"valueQuantity":{"value":72,"unit":"/min"}}\n'
for f in range(files):
    n = 0
    with open(os.path.join(out, f"Observation-{f + 1}.ndjson"), "wb") as w:
        size = 0
        while size < mb << 20:
            chunk = b"".join(line % (n + i) for i in range(4096))
            w.write(chunk)
            size += len(chunk)
            n += 4096
    with open(os.path.join(out, f"Observation-{f + 1}.count"), "w") as c:
        c.write(str(n))
EOF

cat > "$WORK/server.py" <<'EOF'
import http.server, json, os, sys, shutil
root = sys.argv[1]
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_GET(self):
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        if self.path.startswith("/fhir/$export"):
            self.send_response(202)
            self.send_header("Content-Location", f"{base}/fhir/status/1")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/fhir/status/1":
            names = sorted(n for n in os.listdir(root) if n.endswith(".ndjson"))
            out = [{"type": "Observation", "url": f"{base}/files/{n}",
                    "count": int(open(os.path.join(root, n[:-7] + ".count")).read())} for n in names]
            body = json.dumps({"transactionTime": "2025-01-01T00:00:00Z", "request": "x",
                               "requiresAccessToken": False, "output": out, "error": []}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path.startswith("/files/"):
            p = os.path.join(root, os.path.basename(self.path))
            self.send_response(200)
            self.send_header("Content-Type", "application/fhir+ndjson")
            self.send_header("Content-Length", str(os.path.getsize(p)))
            self.end_headers()
            with open(p, "rb") as f:
                shutil.copyfileobj(f, self.wfile, 1 << 20)
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(srv.server_address[1], flush=True)
srv.serve_forever()
EOF
python3 "$WORK/server.py" "$WORK/files" > "$WORK/port" &
SERVER_PID=$!
for _ in $(seq 50); do [ -s "$WORK/port" ] && break; sleep 0.1; done
PORT=$(cat "$WORK/port")

mkdir -p "$WORK/ws/environments"
cat > "$WORK/ws/environments/bench.toml" <<EOF
[[variables]]
key = "fhirurl"
value = "http://127.0.0.1:$PORT/fhir"
EOF

now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2 - $1:.3f}')"; }
TOTAL_MB=$((FILES * MB))
echo "files: $FILES × $MB MB = $TOTAL_MB MB NDJSON on 127.0.0.1:$PORT, $RUNS runs"

urls=()
for f in $(seq "$FILES"); do urls+=("http://127.0.0.1:$PORT/files/Observation-$f.ndjson"); done

fh=()
cu=()
for r in $(seq "$RUNS"); do
    rm -rf "$WORK/out" "$WORK/curl"
    # Both start with nothing dirty in the page cache: the other's gigabyte being written back
    # would otherwise slow whichever runs second.
    sync
    t0=$(now)
    NO_PROXY=127.0.0.1 "$BIN" --workspace "$WORK/ws" export --env bench --download "$WORK/out" > "$WORK/fhirside.log"
    t1=$(now)
    grep -q " ok" "$WORK/fhirside.log"
    fh+=("$(secs "$t0" "$t1")")

    mkdir -p "$WORK/curl"
    args=()
    for u in "${urls[@]}"; do args+=(-o "$WORK/curl/$(basename "$u")" "$u"); done
    sync
    t0=$(now)
    curl -sS --no-progress-meter --noproxy '*' -Z "${args[@]}"
    t1=$(now)
    cu+=("$(secs "$t0" "$t1")")
    echo "run $r: fhirside (kick-off → verified) ${fh[-1]} s, curl -Z (files only) ${cu[-1]} s"
done
python3 - "${fh[*]}" "${cu[*]}" <<'EOF'
import sys, statistics
f = [float(x) for x in sys.argv[1].split()]
c = [float(x) for x in sys.argv[2].split()]
print(f"median: fhirside {statistics.median(f):.3f} s, curl -Z {statistics.median(c):.3f} s, "
      f"ratio {statistics.median(f) / statistics.median(c):.2f}×; best: {min(f):.3f} s vs {min(c):.3f} s "
      f"({min(f) / min(c):.2f}×)")
EOF
