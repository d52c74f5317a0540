#!/usr/bin/env bash
# NVE energy conservation with SNAP: W_2940_2017_2 (ZBL + SNAP, 2J = 8) on bcc W (a = 3.1652 Å,
# 10x10x10 cells = 2,000 atoms), velocities at 300 K (the crystal equilibrates near 150 K),
# 10,000 steps of 0.5 fs = 5 ps, thermo every 100 steps. Then reports the drift of the total
# energy (linear fit, eV/atom/ps) and max |E(t) - E(0)| per atom, and plots the total energy
# against time (energy.png next to thermo.csv).
#
#   scripts/snap-nve-drift.sh [--steps 10000] [--threads 2] [--ranks 1] [--out runs/snap-nve-drift]
#
# With --ranks N > 1 calcine runs under OpenMPI's mpirun, N ranks x --threads threads.
set -euo pipefail
cd "$(dirname "$0")/.."
steps=10000; threads=2; ranks=1; out=runs/snap-nve-drift; cells=10
while [ $# -gt 0 ]; do
  case "$1" in
    --steps) steps="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --ranks) ranks="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "snap-nve-drift.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
scripts/setup.sh >/dev/null
cargo build --release -p calcine-cli 2>&1 | tail -n 1
mkdir -p "$out"
out=$(cd "$out" && pwd)
atoms=$((2 * cells * cells * cells))

cat > "$out/input.toml" <<TOML
[system]
lattice = "bcc"
a = 3.1652
cells = [$cells, $cells, $cells]
species = "W"
masses = { W = 183.84 }
[potential]
style = "snap"
file = "$PWD/tests/data/potentials/W_2940_2017_2.snap"
[run]
steps = $steps
timestep = 0.0005
temperature = 300
[integrator]
style = "nve"
[neighbor]
skin = 1.0
[output]
directory = "$out"
thermo_every = 100
TOML

if [ "$ranks" -gt 1 ]; then
  source scripts/mpi-env.sh
  "$mpirun" -np "$ranks" ./target/release/calcine --quiet --threads "$threads" run --overwrite "$out/input.toml" | tee "$out/calcine.out"
else
  ./target/release/calcine --quiet --threads "$threads" run --overwrite "$out/input.toml" | tee "$out/calcine.out"
fi
.venv/bin/python scripts/snap_nve_drift.py "$out/thermo.csv" "$atoms" \
  "W_2940_2017_2 (ZBL + SNAP, 2J = 8), $atoms atoms, NVE, dt = 0.5 fs, $ranks rank(s) x $threads thread(s)"
