#!/usr/bin/env bash
# Strong and weak scaling of calcine under mpirun (EAM Cu by default; the systems of
# scripts/bench.py): JSON records read from each run's run.json, efficiencies and a PNG.
#
#   scripts/scaling.sh [--ranks 1,2] [--threads 1] [--cells 24] [--steps 100] [--system eam] [--out runs/scaling]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
cargo build --release -p calcine-cli 2>&1 | tail -n 1
source scripts/mpi-env.sh
exec .venv/bin/python scripts/scaling.py --mpirun "$mpirun" "$@"
