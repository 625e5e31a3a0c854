#!/usr/bin/env bash
# Whole-process figures of the release build, printed one per line:
#   * start-up to the first frame: the real binary in a pseudo-terminal (fresh workspace),
#     time from launch until the screen shows its panes (best and median of 5);
#   * idle memory (VmRSS) and idle CPU (ticks over 5 s) of that process after 1 s of rest;
#   * the Response pane on a generated ~50 MB searchset: first highlighted frame, whole body
#     ready, frame times p50 / p99 (examples/body_frames);
#   * peak memory loading and drawing that body, with /usr/bin/time -v (examples/mem_body);
#   * pretty-printing throughput, best and median of 15 runs (examples/pretty_speed).
# Usage: bash benches/tui_figures.sh [PATIENTS]   (default 20000 ≈ 50 MB). Linux only.
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-20000}"
cargo build --release --quiet --bin fhirside --example body_frames --example mem_body --example pretty_speed
echo "machine: $(nproc) cores, $(uname -sr)"

python3 - ./target/release/fhirside <<'PY'
import os, pty, select, statistics, sys, tempfile, time, signal

binary = sys.argv[1]
hz = os.sysconf("SC_CLK_TCK")

def ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime

def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0

def run(measure_idle):
    ws = tempfile.mkdtemp(prefix="fhirside-figures-")
    start = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["TERM"] = "xterm-256color"
        os.environ["COLUMNS"], os.environ["LINES"] = "120", "35"
        os.execv(binary, [binary, "--workspace", ws])
    import fcntl, termios, struct
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 35, 120, 0, 0))
    seen = b""
    first = None
    deadline = start + 10
    while time.perf_counter() < deadline:
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            seen += chunk
            if b"\x1b[6n" in chunk:  # answer a cursor-position query like a terminal
                os.write(fd, b"\x1b[1;1R")
            if b"Collections" in seen and b"Response" in seen:
                first = time.perf_counter() - start
                break
    idle = None
    if measure_idle and first is not None:
        time.sleep(1.0)
        t0 = ticks(pid)
        # Keep draining output so the process never blocks on a full pty.
        end = time.perf_counter() + 5.0
        while time.perf_counter() < end:
            r, _, _ = select.select([fd], [], [], 0.2)
            if r:
                try:
                    os.read(fd, 65536)
                except OSError:
                    break
        t1 = ticks(pid)
        idle = (rss_kb(pid), t1 - t0)
    os.kill(pid, signal.SIGTERM)
    os.waitpid(pid, 0)
    os.close(fd)
    return first, idle

times = []
idle = None
for i in range(5):
    first, got = run(measure_idle=(i == 4))
    if first is None:
        print("start-up: the first frame did not appear within 10 s")
        sys.exit(1)
    times.append(first)
    idle = got or idle
print(f"start-up to first frame (120x35 pty, fresh workspace): best {min(times)*1000:.1f} ms, median {statistics.median(times)*1000:.1f} ms of 5")
if idle:
    rss, t = idle
    print(f"idle after 1 s: RSS {rss/1024:.1f} MB; CPU over the next 5 s: {t} ticks of {hz}/s ({t/hz/5*100:.2f}% of a core)")
PY

echo "--- Response pane on a generated searchset (examples/body_frames $n)"
./target/release/examples/body_frames "$n"
echo "--- peak memory (examples/mem_body $n, /usr/bin/time -v)"
for flag in "" "--fold"; do
  out=$( { /usr/bin/time -v ./target/release/examples/mem_body "$n" $flag; } 2>&1 )
  echo "$out" | grep '^body'
  echo "$out" | grep 'Maximum resident set size' | sed 's/^\s*/  \/usr\/bin\/time: /'
done
echo "--- pretty-printing throughput (examples/pretty_speed $n)"
./target/release/examples/pretty_speed "$n"
