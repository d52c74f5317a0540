#!/usr/bin/env bash
# Sets up the machine and runs calcine's whole test suite: every Rust test (unit, LAMMPS
# reference, physics) and the Python cross-checks against ASE.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
cargo build --release -p calcine-cli
cargo test --workspace --release
.venv/bin/python tests/python/check_extxyz_ase.py ./target/release/calcine
echo "all test stages passed"
