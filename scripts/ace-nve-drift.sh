#!/usr/bin/env bash
# NVE energy conservation with Cu-PBE-core-rep.ace: 2,048 atoms of fcc Cu (a = 3.615 Å, 8x8x8
# cells), velocities at 600 K (about 300 K after equipartition), 5 ps (by default 2,500 steps of
# 2 fs), thermo every 5 steps; then the drift analysis of scripts/snap_nve_drift.py (fitted slope,
# largest excursion, plot). Runs through the engine directly (the ace_nve example) until the CLI
# knows style "ace".
#
#   scripts/ace-nve-drift.sh [OUT_DIR] [STEPS] [DT_PS]      (threads: RAYON_NUM_THREADS)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/target/ace-nve}"
steps="${2:-2500}"
dt="${3:-0.002}"
mkdir -p "$out"
cargo build --release -p calcine-ace --example ace_nve
target="${CARGO_TARGET_DIR:-$root/target}"
start=$(date +%s)
"$target/release/examples/ace_nve" "$root/tests/data/potentials/Cu-PBE-core-rep.ace" Cu 63.546 3.615 8 600 "$dt" \
    "$steps" 5 "$out/thermo.csv"
echo "wall time: $(( $(date +%s) - start )) s"
python="${PYTHON:-$root/.venv/bin/python}"
[ -x "$python" ] || python=python3
"$python" "$root/scripts/snap_nve_drift.py" "$out/thermo.csv" 2048 "ACE Cu-PBE-core-rep, 2048 atoms, NVE, dt = $dt ps"
