#!/usr/bin/env bash
# Sets up the machine and runs calcine's whole test suite: every Rust test (unit, LAMMPS
# reference, physics), the Python cross-checks against ASE and kinisi, and the multi-rank tests
# under OpenMPI's mpirun.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
cargo build --release -p calcine-cli
cargo test --workspace --release
.venv/bin/python tests/python/check_extxyz_ase.py ./target/release/calcine
.venv/bin/python tests/python/check_transport_kinisi.py ./target/release/calcine
.venv/bin/python tests/python/check_h5md.py ./target/release/calcine
scripts/test-kill.sh
scripts/test-mpi.sh
echo "all test stages passed"
