#!/usr/bin/env bash
# Strong and weak scaling of calcine under mpirun, EAM Cu (Cu_u3.eam, fcc, 1600 K, 5 fs
# steps, skin 1 Å): writes one JSON record per run (ranks, threads, atoms, atom-steps/s,
# parallel efficiency, peak memory per atom, commit) and a PNG plot.
#
#   scripts/scaling.sh [--ranks "1 2"] [--threads 1] [--cells 24] [--steps 100] [--out runs/scaling]
#
# Strong: the same crystal (4·cells³ atoms) on each rank count. Weak: cells³·4 atoms per
# rank (the crystal grows along x with the rank count). Efficiency is the rate on P ranks
# over P times the rate on the first rank count of the series.
set -euo pipefail
cd "$(dirname "$0")/.."
ranks="1 2"; threads=1; cells=24; steps=100; out=runs/scaling
while [ $# -gt 0 ]; do
  case "$1" in
    --ranks) ranks="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --cells) cells="$2"; shift 2 ;;
    --steps) steps="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "scaling.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
scripts/setup.sh >/dev/null
cargo build --release -p calcine-cli 2>&1 | tail -n 1
mkdir -p "$out"
source scripts/mpi-env.sh
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
json="$out/scaling.json"
: > "$json"
pot="$PWD/tests/data/potentials/Cu_u3.eam"

one_run() { # series, ranks, cells_x
  local series=$1 np=$2 cx=$3 dir="$out/$1-np$2"
  mkdir -p "$dir"
  cat > "$dir/in.toml" <<TOML
[system]
lattice = "fcc"
a = 3.615
cells = [$cx, $cells, $cells]
species = "Cu"
[potential]
style = "eam"
files = { Cu = "$pot" }
[run]
steps = $steps
timestep = 0.005
temperature = 1600
[neighbor]
skin = 1.0
[output]
directory = "$dir"
thermo_every = $steps
TOML
  "$mpirun" -np "$np" ./target/release/calcine --quiet --threads "$threads" run "$dir/in.toml" > "$dir/stdout"
  local rate mem atoms
  rate=$(sed -n 's/^Performance: \([0-9.e+-]*\) atom-steps.*/\1/p' "$dir/stdout")
  mem=$(sed -n 's/.*, \([0-9]*\) bytes per atom (.*/\1/p' "$dir/stdout")
  atoms=$((4 * cx * cells * cells))
  grep -q "on $np rank(s)" "$dir/stdout" || { echo "expected $np ranks in $dir/stdout" >&2; exit 1; }
  echo "{\"series\": \"$series\", \"ranks\": $np, \"threads\": $threads, \"atoms\": $atoms, \"steps\": $steps, \"atom_steps_per_s\": $rate, \"bytes_per_atom\": ${mem:-null}, \"commit\": \"$commit\"}" >> "$json"
  printf '%-6s ranks %-3s atoms %-9s %12.4g atom-steps/s  %s B/atom\n' "$series" "$np" "$atoms" "$rate" "${mem:-?}"
}

for np in $ranks; do one_run strong "$np" "$cells"; done
for np in $ranks; do one_run weak "$np" $((cells * np)); done
.venv/bin/python scripts/plot_scaling.py "$json" "$out/scaling.png"
echo "JSON: $json   plot: $out/scaling.png"
