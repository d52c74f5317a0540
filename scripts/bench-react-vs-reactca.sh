#!/usr/bin/env bash
# Side-by-side benchmark of the reaction automaton: cell updates per second of calcine
# (`calcine react`, reactca-compatible and exact modes) and of ReactCA on ReactCA's BaTiO3
# fixture (BaO + TiO2, 1000 K), at L = 15 and L = 30, each on one core (taskset -c 0).
# A (ReactCA) and B (calcine) alternate for --pairs pairs after one warm-up each; the ratio
# B/A is taken pair by pair and reported as min/median/max, with the CPU model and the load
# average, as JSON (--json) and on stdout.
#
# ReactCA is not on PyPI and is not installed by calcine: point REACTCA_PYTHON at a Python
# whose `import rxn_ca` works (ReactCA master 11fa2cd, pylattica from PyPI), e.g.
#   REACTCA_PYTHON=/path/venv/bin/python REACTCA_SRC=/path/rxn-ca/src scripts/bench-react-vs-reactca.sh
set -euo pipefail
cd "$(dirname "$0")/.."
: "${REACTCA_PYTHON:?set REACTCA_PYTHON to a Python that can import rxn_ca}"
cargo build --release -p calcine-cli 2>&1 | tail -n 1
bin="${CARGO_TARGET_DIR:-target}/release/calcine"
py=$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )
exec "$py" scripts/bench_react_vs_reactca.py "$bin" "$@"
