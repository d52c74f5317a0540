#!/usr/bin/env bash
# The streaming frame reader's memory on a trajectory larger than 4 GiB: writes a LAMMPS
# dump of ATOMS Brownian particles x FRAMES frames (default 100,000 x 1,300, about 4.5 GB:
# `id type xu yu zu` with full-precision floats) to DIR (default a temporary folder, removed
# after), reads it whole with `calcine inspect` (every frame parsed into AtomId order), and
# reports the file size, read throughput and the reader's peak resident memory (from
# /usr/bin/time), beside the memory of one frame. Also reads the file gzipped when GZIP=1.
#
#   scripts/bench-reader-memory.sh
#   ATOMS=20000 FRAMES=100 scripts/bench-reader-memory.sh     # a quick check
set -euo pipefail
cd "$(dirname "$0")/.."
atoms=${ATOMS:-100000}
frames=${FRAMES:-1300}
target=${CARGO_TARGET_DIR:-target}
cargo build --release -q -p calcine-cli -p calcine-transport --example random_walk_dump
bin="$target/release/calcine"
gen="$target/release/examples/random_walk_dump"
dir=${DIR:-$(mktemp -d)}
trap '[ -z "${DIR:-}" ] && rm -rf "$dir"' EXIT
file="$dir/walk.dump"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load average: $(cut -d' ' -f1-3 /proc/loadavg)"
start=$(date +%s.%N)
"$gen" "$atoms" "$frames" "$file" --dt 0.01 --box 100
bytes=$(stat -c %s "$file")
echo "wrote $file: $bytes bytes ($(awk -v b="$bytes" 'BEGIN { printf "%.2f GiB", b / 2^30 }')) in $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }') s"
read_one() { # file
  /usr/bin/time -f "%M %e" -o "$dir/time" "$bin" --quiet inspect "$1" > "$dir/out"
  read -r rss seconds < "$dir/time"
  head -n 1 "$dir/out"
  awk -v r="$rss" -v s="$seconds" -v b="$(stat -c %s "$1")" -v a="$atoms" 'BEGIN {
    printf "  peak RSS %.1f MiB (%.0f bytes per atom of one frame); %.1f s, %.0f MB/s of file\n", r / 1024, r * 1024 / a, s, b / 1e6 / s }'
}
read_one "$file"
if [ "${GZIP:-0}" = 1 ]; then
  gzip -1 -k "$file"
  read_one "$file.gz"
fi
