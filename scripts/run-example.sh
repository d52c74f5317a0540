#!/usr/bin/env bash
# Sets up the machine, builds calcine and runs the bundled example:
# 4,000 Cu atoms (EAM, Foiles–Baskes–Daw) at 300 K for 2,000 steps of 1 fs, NVE.
# Outputs go to runs/cu-eam/ (thermo.csv, traj.xyz, and thermo.png, a chart of the thermo
# that calcine draws itself).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --release -p calcine-cli
./target/release/calcine run --overwrite examples/cu-eam/input.toml "$@"
