#!/usr/bin/env bash
# Parallel efficiency of the reaction automaton on 2 ranks (issue 12): a 200^3 lattice
# (8 million cells) of BaO + TiO2 with ReactCA's BaTiO3 library rescored along a ramp
# 800 -> 1000 K in 100 K stages of one sweep, then 2 sweeps at 1000 K (the run quoted in
# docs/automaton.md), one realisation, exact mode, one thread per rank.
# 1 rank (A) and 2 ranks (B) alternate for PAIRS pairs (default 3) after one warm-up each;
# per pair: loop times (calcine's "Loop time"), efficiency t1 / (2 t2), peak RSS per rank
# (GNU time) and bytes per cell; the outputs of every run are compared byte for byte.
# Run it on a quiet machine with at least 2 free cores: wall-clock times are meaningless
# when other jobs share the cores (the numbers in docs/automaton.md were taken with the
# load average at 8.6 on 2 cores).
#   scripts/bench-react-scaling.sh [PAIRS] [SIZE]
set -euo pipefail
cd "$(dirname "$0")/.."
pairs=${1:-3}
size=${2:-200}
cargo build --release -p calcine-cli 2>&1 | tail -n 1
bin="$PWD/${CARGO_TARGET_DIR:-target}/release/calcine"
source scripts/mpi-env.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/big.toml" <<TOML
library = "$PWD/tests/data/reactca/batio3_library.json"
rescore = "legacy-2023"
size = $size
realisations = 1
seed = 1
mode = "exact"
plots = false
[precursors]
BaO = 1
TiO2 = 1
[[schedule]]
kind = "ramp"
from = 800
to = 1000
step = 100
duration = 1
[[schedule]]
kind = "hold"
temperature = 1000
duration = 2
TOML
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
run() { # ranks, tag -> prints the loop time; peak RSS per rank in $work/$2.rss.*
  local dir="$work/$2"
  "$mpirun" -np "$1" --bind-to core sh -c \
    'exec /usr/bin/time -f %M -o "$0.rss.${OMPI_COMM_WORLD_RANK:-0}" "$@"' "$dir" \
    "$bin" --quiet --threads 1 react "$work/big.toml" -o "$dir" > "$dir.stdout"
  sed -n 's/^Loop time \([0-9.]*\) s.*/\1/p' "$dir.stdout"
}
rss() { cat "$work/$1".rss.* | tr '\n' ' '; }
run 1 warm1 > /dev/null
run 2 warm2 > /dev/null
effs=()
for k in $(seq 1 "$pairs"); do
  t1=$(run 1 "a$k")
  t2=$(run 2 "b$k")
  for f in fractions.csv summary.csv result.json slice.csv; do
    cmp -s "$work/a$k/$f" "$work/b$k/$f" || { echo "pair $k: $f differs between 1 and 2 ranks"; exit 1; }
  done
  e=$(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.3f", a / (2 * b) }')
  effs+=("$e")
  echo "pair $k: 1 rank ${t1} s (peak RSS kB: $(rss "a$k")), 2 ranks ${t2} s (peak RSS kB per rank: $(rss "b$k")), efficiency $e, outputs identical"
done
printf '%s\n' "${effs[@]}" | sort -n | awk -v n="$size" '{ v[NR] = $1 } END {
  printf "efficiency on 2 ranks (min/median/max over %d pairs): %s / %s / %s; %d^3 = %d cells\n",
    NR, v[1], v[int((NR + 1) / 2)], v[NR], n, n * n * n }'
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
