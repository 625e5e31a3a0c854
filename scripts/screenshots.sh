#!/usr/bin/env bash
# Regenerates the README's screenshots in screenshots/ from the real binary: builds fhirside,
# then runs examples/screenshots (fhirside --demo in a pseudo-terminal, keys sent, the screen
# read back with its colours and drawn to PNG with DejaVu Sans Mono). Run from anywhere;
# extra arguments go to the example (for example --only main, --px 20, --size 140x40).
set -euo pipefail
cd "$(dirname "$0")/.."

fonts=/usr/share/fonts/truetype/dejavu
for f in DejaVuSansMono.ttf DejaVuSansMono-Bold.ttf; do
    if [ ! -f "$fonts/$f" ]; then
        echo "screenshots: $fonts/$f is missing; install it with: apt-get install fonts-dejavu-core" >&2
        exit 1
    fi
done

cargo build --bin fhirside
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
cargo run --example screenshots -- --bin "$target_dir/debug/fhirside" --out screenshots "$@"
