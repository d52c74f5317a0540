#!/usr/bin/env bash
# NVE energy conservation with Cu-PBE-core-rep.ace: 2,048 atoms of fcc Cu (a = 3.615 Å, 8x8x8
# cells), velocities at 600 K (about 300 K after equipartition), 5 ps (by default 2,500 steps of
# 2 fs), thermo every 5 steps, through `calcine run`; then the drift analysis of
# scripts/snap_nve_drift.py (fitted slope, largest excursion, plot).
#
#   scripts/ace-nve-drift.sh [OUT_DIR] [STEPS] [DT_PS]      (threads: RAYON_NUM_THREADS)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/runs/ace-nve}"
steps="${2:-2500}"
dt="${3:-0.002}"
mkdir -p "$out"
cargo build --release -p calcine-cli 2>&1 | tail -n 1
cat > "$out/input.toml" <<TOML
[system]
lattice = "fcc"
a = 3.615
cells = [8, 8, 8]
species = "Cu"
masses = { Cu = 63.546 }
[potential]
style = "ace"
file = "$root/tests/data/potentials/Cu-PBE-core-rep.ace"
[run]
steps = $steps
timestep = $dt
temperature = 600
seed = 2026
[output]
directory = "$out"
thermo_every = 5
checkpoint_every = 500
TOML
"$root/target/release/calcine" --quiet run --overwrite "$out/input.toml" | tee "$out/calcine.out"
python="${PYTHON:-$root/.venv/bin/python}"
[ -x "$python" ] || python=python3
"$python" "$root/scripts/snap_nve_drift.py" "$out/thermo.csv" 2048 "ACE Cu-PBE-core-rep, 2048 atoms, NVE, dt = $dt ps"
