#!/usr/bin/env bash
# Streaming transport benchmark: ATOMS x FRAMES (default 100,000 x 20,000, 2·10⁹ atom-frames)
# of Brownian particles through `calcine transport` with the multiple-tau correlator on
# RANKS ranks (default 2), in bounded memory. The trajectory never touches the disk (as
# text it would take about 90 GB): one generator per rank writes the same LAMMPS dump into
# that rank's named pipe (`trajectory = "walk.{rank}.dump"`). Reports the wall time, the
# peak resident memory of each rank and D (exact 0.5 Å²/ps).
#
#   scripts/bench-transport-streaming.sh                    # the full case (long: hours on 2 cores)
#   ATOMS=100000 FRAMES=500 scripts/bench-transport-streaming.sh   # the same memory, fewer frames
set -euo pipefail
cd "$(dirname "$0")/.."
atoms=${ATOMS:-100000}
frames=${FRAMES:-20000}
ranks=${RANKS:-2}
threads=${THREADS:-1}
target=${CARGO_TARGET_DIR:-target}
cargo build --release -p calcine-cli -p calcine-transport --example random_walk_dump
bin="$target/release/calcine"
gen="$target/release/examples/random_walk_dump"
source scripts/mpi-env.sh
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
for ((r = 0; r < ranks; r++)); do
  mkfifo "$work/walk.$r.dump"
  "$gen" "$atoms" "$frames" "$work/walk.$r.dump" --dt 0.01 --box 100 &
  pids+=($!)
done
cat > "$work/in.toml" <<TOML
[transport]
trajectory = "$work/walk.{rank}.dump"
temperature = 300
species = ["A"]
types = ["A"]
masses = { A = 40 }
frame_interval = 0.01
method = "multi-tau"
drift = "none"
blocks = 0
directory = "$work/out"
TOML
echo "streaming $atoms atoms x $frames frames on $ranks rank(s) x $threads thread(s) (multi-tau)"
start=$(date +%s.%N)
"$mpirun" -np "$ranks" bash -c "exec /usr/bin/time -f 'RSS_KB %M' -o '$work/rss.\${OMPI_COMM_WORLD_RANK:-0}' '$bin' --quiet --threads $threads transport '$work/in.toml'"
end=$(date +%s.%N)
for ((r = 0; r < ranks; r++)); do
  echo "  rank $r peak RSS: $(( $(grep -o 'RSS_KB [0-9]*' "$work/rss.$r" | cut -d' ' -f2) / 1024 )) MiB"
done
.venv/bin/python - "$work/out/transport.json" "$start" "$end" "$atoms" "$frames" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
wall = float(sys.argv[3]) - float(sys.argv[2])
n = int(sys.argv[4]) * int(sys.argv[5])
d = r["diffusion"][0]
print(f"  wall {wall:.1f} s ({n / wall / 1e6:.2f} M atom-frames/s); D = {d['value']:.5f} ± {d['std_error']:.5f} Å²/ps (exact 0.5); {r['method']}")
PY
