#!/usr/bin/env bash
# Multi-rank tests under OpenMPI's mpirun (run by scripts/test.sh after the Rust tests):
#  1. the communicator really has N ranks (a binary started by the wrong MPI's mpirun runs
#     N copies of rank 0: we check the rank count calcine reports);
#  2. thermo and trajectory are byte-identical on 1, 2, 3 and 4 ranks and with 1 and 2
#     threads, for a hot EAM Cu crystal whose atoms cross subdomain boundaries (500 steps;
#     the half-list kernel, and the full-list kernel on 1-3 ranks) and for a triclinic
#     cell, with packed list rows, and with plain rows on 3 ranks, and on 2 unbound ranks
#     with the default thread count (the node's cores shared among its ranks),
#     and for SNAP (W + ZBL), whose pair terms are reverse-summed in fixed point; also with
#     per-atom virials as a trajectory column (EAM half- and full-list kernels, SNAP), whose
#     ghost halves are reverse-summed as integers;
#  3. the reaction automaton's outputs (tables and PNG charts) are byte-identical on 1-4 ranks
#     and 1-2 threads;
#  4. an invalid state on one rank (two atoms too close) stops every rank with one clear
#     message and a non-zero exit, within seconds;
#  5. ACE's extrapolation grade (thermo max_gamma, structures dumped above a grade) is
#     byte-identical on 1-4 ranks and 2 threads;
#  6. calcine transport (per-atom work split over ranks and threads) writes byte-identical
#     results, curves, TransportDoc and msd.png on 1, 2, 3 and 4 ranks and with 2 threads,
#     and kinosons at several temperatures (from hop lists, and from the hops found in
#     every trajectory of [[transport.runs]]) the same JSON, hop tables and PNGs;
#  7. H5MD written collectively (parallel HDF5) on 1-4 ranks holds the same datasets, and
#     the same compressed chunk bytes, as the gathered writer's on 1 rank (h5py), also
#     after resuming on another rank count (a collective file continued gathered or
#     collectively; a gathered file collectively is refused clearly: HDF5 1.10.8 hangs),
#     with forces and per-atom virials stored (h5md_fields); also for 23,328 atoms (not a multiple of the
#     8192-atom chunk) with dense and with gapped AtomIds on 3 ranks; a resume with other
#     h5md_fields is refused naming both lists.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$PWD/target/release/calcine"
source scripts/mpi-env.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pot="$PWD/tests/data/potentials/Cu_u3.eam"
passed=0
failed=0
ok() { echo "  ok: $*"; passed=$((passed + 1)); }
fail() { echo "  FAILED: $*"; failed=$((failed + 1)); }

write_input() { # name, system table, steps
  cat > "$work/$1.toml" <<TOML
[system]
$2
[potential]
style = "eam"
files = { Cu = "$pot" }
[run]
steps = $3
timestep = 0.002
temperature = 2500
seed = 11
[integrator]
style = "langevin"
temperature = 2000
damping = 0.2
[neighbor]
skin = 0.5
storage = "packed"
[output]
directory = "out"
thermo_every = 10
trajectory = "traj.xyz"
trajectory_every = 100
TOML
}

run_case() { # name, ranks, threads -> output dir
  local dir="$work/$1-np$2-t$3"
  mkdir -p "$dir"
  sed "s|directory = \"out\"|directory = \"$dir\"|" "$work/$1.toml" > "$dir/in.toml"
  timeout 300 "$mpirun" -np "$2" "$bin" --quiet --threads "$3" run "$dir/in.toml" > "$dir/stdout" 2> "$dir/stderr" || {
    fail "$1 on $2 ranks x $3 threads exited with an error: $(tail -n 3 "$dir/stderr")"; return; }
  if grep -q "\"ranks\": $2," "$dir/run.json"; then
    ok "$1: communicator has $2 ranks"
  else
    fail "$1: expected $2 ranks, run.json says: $(grep .ranks. "$dir/run.json")"
  fi
}

compare() { # name, reference dir suffix, other suffix
  local a="$work/$1-$2" b="$work/$1-$3"
  if cmp -s "$a/thermo.csv" "$b/thermo.csv" && cmp -s "$a/traj.xyz" "$b/traj.xyz"; then
    ok "$1: $3 byte-identical to $2 ($(wc -l < "$a/thermo.csv") thermo rows)"
  else
    fail "$1: $3 differs from $2"
  fi
}

echo "== MPI: byte-identical results on 1-4 ranks (orthogonal box) =="
write_input hot 'lattice = "fcc"
a = 3.615
cells = [6, 6, 6]
species = "Cu"' 500
for n in 1 2 3 4; do run_case hot "$n" 1; done
run_case hot 2 2
for n in 2 3 4; do compare hot np1-t1 "np$n-t1"; done
compare hot np1-t1 np2-t2
# Without --threads or RAYON_NUM_THREADS, ranks the launcher did not bind share the node's
# cores (not a thread per core each), and give the same bytes.
d="$work/hot-np2-default"
mkdir -p "$d"
sed "s|directory = \"out\"|directory = \"$d\"|" "$work/hot.toml" > "$d/in.toml"
want=$(( $(nproc --all) / 2 )); [ "$want" -ge 1 ] || want=1
if env -u RAYON_NUM_THREADS timeout 300 "$mpirun" -np 2 --bind-to none "$bin" --quiet run "$d/in.toml" > "$d/stdout" 2> "$d/stderr" \
    && grep -q "\"threads\": $want," "$d/run.json" && cmp -s "$work/hot-np1-t1/thermo.csv" "$d/thermo.csv"; then
  ok "default threads: 2 unbound ranks on $(nproc --all) cores take $want each, same bytes"
else
  fail "default threads: 2 unbound ranks on $(nproc --all) cores, expected $want threads each and the same bytes: $(grep -o '"threads": [0-9]*' "$d/run.json" 2>/dev/null) $(tail -n 3 "$d/stderr")"
fi
# Plain rows (4-byte indices) on 3 ranks give the same bytes as packed rows on one.
sed 's/storage = "packed"/storage = "plain"/' "$work/hot.toml" > "$work/hotplain.toml"
run_case hotplain 3 1
cp -r "$work/hot-np1-t1" "$work/hotplain-np1-t1"
compare hotplain np1-t1 np3-t1
# LAMMPS's every/delay/check policy: the decision to rebuild is global, so 1, 3 and 4
# ranks and 2 threads rebuild at the same steps and give the same bytes.
sed 's/storage = "packed"/storage = "packed"\nevery = 2\ndelay = 6/' "$work/hot.toml" > "$work/hotdelay.toml"
for n in 1 3 4; do run_case hotdelay "$n" 1; done
run_case hotdelay 2 2
for other in np3-t1 np4-t1 np2-t2; do compare hotdelay np1-t1 "$other"; done
# The full-list EAM kernel (each pair from both sides, per-owner sums) stays covered.
sed 's|^files = .*|&\nevaluator = "full-list"|' "$work/hot.toml" > "$work/hotfull.toml"
for n in 1 3; do run_case hotfull "$n" 1; done
run_case hotfull 2 2
compare hotfull np1-t1 np3-t1
compare hotfull np1-t1 np2-t2

echo "== MPI: byte-identical results on 1-4 ranks (triclinic cell) =="
.venv/bin/python - "$work/tri.xyz" <<'PY'
import sys
from ase.build import bulk
from ase.io import write
atoms = bulk("Cu", "fcc", a=3.615).repeat((7, 6, 5))  # primitive rhombohedral cell
atoms.rattle(0.05, seed=3)
write(sys.argv[1], atoms, format="extxyz")
PY
write_input tri "file = \"$work/tri.xyz\"" 500
for n in 1 2 3 4; do run_case tri "$n" 1; done
for n in 2 3 4; do compare tri np1-t1 "np$n-t1"; done

echo "== MPI: byte-identical results for a slab (non-periodic z, Nose-Hoover), split along z =="
.venv/bin/python - "$work/slab.xyz" <<'PY' 2>/dev/null
import sys
from ase.build import fcc111
from ase.io import write
slab = fcc111("Cu", size=(6, 6, 8), a=3.615, vacuum=8.0)
slab.pbc = (True, True, False)
slab.rattle(0.05, seed=1)
write(sys.argv[1], slab, format="extxyz")
PY
write_input slab "file = \"$work/slab.xyz\"" 300
sed -i 's/^style = "langevin"/style = "nose-hoover"/; /^damping = 0.2$/d' "$work/slab.toml"
run_case slab 1 1
for n in 2 4; do run_case slab "$n" 1; done
for n in 2 4; do compare slab np1-t1 "np$n-t1"; done

echo "== MPI: SNAP (W + ZBL, forces scattered to neighbors and reverse-summed) byte-identical on 1-4 ranks =="
write_input snap 'lattice = "bcc"
a = 3.1652
cells = [6, 6, 6]
species = "W"
masses = { W = 183.84 }' 120
sed -i "s|^style = \"eam\"|style = \"snap\"|; s|^files = .*|file = \"$PWD/tests/data/potentials/W_2940_2017_2.snap\"|; s|^timestep = 0.002|timestep = 0.001|; s|^temperature = 2500|temperature = 4000|; s|^skin = 0.5|skin = 0.3|; s|^trajectory_every = 100|trajectory_every = 40|" "$work/snap.toml"
for n in 1 2 3 4; do run_case snap "$n" 1; done
run_case snap 2 2
for n in 2 3 4; do compare snap np1-t1 "np$n-t1"; done
compare snap np1-t1 np2-t2

echo "== MPI: ACE (Cu-PBE-core-rep, forces scattered to neighbors and reverse-summed) byte-identical on 1-4 ranks =="
write_input ace 'lattice = "fcc"
a = 3.615
cells = [4, 4, 4]
species = "Cu"
masses = { Cu = 63.546 }' 40
sed -i "s|^style = \"eam\"|style = \"ace\"|; s|^files = .*|file = \"$PWD/tests/data/potentials/Cu-PBE-core-rep.ace\"|; s|^timestep = 0.002|timestep = 0.001|; s|^skin = 0.5|skin = 0.3|; s|^trajectory_every = 100|trajectory_every = 20|" "$work/ace.toml"
for n in 1 2 3 4; do run_case ace "$n" 1; done
run_case ace 2 2
for n in 2 3 4; do compare ace np1-t1 "np$n-t1"; done
compare ace np1-t1 np2-t2

echo "== MPI: per-atom virials as a trajectory column byte-identical on 1-4 ranks and 2 threads =="
# The hot crystal (EAM half-list kernel, then the full-list kernel) and SNAP + ZBL, with
# virial:R:6 in the extended XYZ trajectory.
sed 's/^steps = 500/steps = 150/; s/^trajectory_every = 100/trajectory_every = 50\ntrajectory_virials = true/' \
  "$work/hot.toml" > "$work/virial.toml"
for n in 1 2 3 4; do run_case virial "$n" 1; done
run_case virial 2 2
for n in 2 3 4; do compare virial np1-t1 "np$n-t1"; done
compare virial np1-t1 np2-t2
sed 's|^files = .*|&\nevaluator = "full-list"|' "$work/virial.toml" > "$work/virialfull.toml"
for n in 1 3; do run_case virialfull "$n" 1; done
run_case virialfull 2 2
compare virialfull np1-t1 np3-t1
compare virialfull np1-t1 np2-t2
sed 's/^steps = 120/steps = 40/; s/^trajectory_every = 40/trajectory_every = 20\ntrajectory_virials = true/' \
  "$work/snap.toml" > "$work/virialsnap.toml"
for n in 1 3 4; do run_case virialsnap "$n" 1; done
run_case virialsnap 2 2
for other in np3-t1 np4-t1 np2-t2; do compare virialsnap np1-t1 "$other"; done
for c in virial virialfull virialsnap; do
  if head -n 2 "$work/$c-np1-t1/traj.xyz" | grep -q ':virial:R:6:'; then
    ok "$c: the trajectory has the per-atom virial column"
  else
    fail "$c: no virial:R:6 column in $(head -n 2 "$work/$c-np1-t1/traj.xyz" | tail -n 1)"
  fi
done

echo "== MPI: ACE extrapolation grade (max_gamma column, structures dumped above a grade) byte-identical on 1-4 ranks =="
ace="$PWD/tests/data/ace"
cat > "$work/gamma.toml" <<TOML
[system]
file = "$ace/CuNi-gamma-crystal.xyz"
masses = { Cu = 63.546, Ni = 58.6934 }
[potential]
style = "ace"
file = "$ace/CuNi-gamma.yaml"
active_set = "$ace/CuNi-gamma-linear.asi"
[run]
steps = 60
timestep = 0.002
temperature = 3000
seed = 11
[integrator]
style = "langevin"
temperature = 3000
damping = 0.05
[output]
directory = "out"
thermo_every = 10
trajectory = "traj.xyz"
trajectory_every = 30
[extrapolation]
every = 5
dump_above = 1.5
TOML
for n in 1 2 3 4; do run_case gamma "$n" 1; done
run_case gamma 2 2
for n in 2 3 4; do compare gamma np1-t1 "np$n-t1"; done
compare gamma np1-t1 np2-t2
for other in np2-t1 np3-t1 np4-t1 np2-t2; do
  if [ -s "$work/gamma-np1-t1/extrapolative.extxyz" ] && cmp -s "$work/gamma-np1-t1/extrapolative.extxyz" "$work/gamma-$other/extrapolative.extxyz"; then
    ok "gamma: structures dumped on $other byte-identical to np1-t1 ($(grep -c Lattice "$work/gamma-np1-t1/extrapolative.extxyz") frames)"
  else
    fail "gamma: structures dumped on $other differ from np1-t1 (or none were dumped)"
  fi
done

echo "== MPI: LAMMPS's half-list algorithm (reverse sums of densities and forces) on 1-4 ranks =="
write_input half 'lattice = "fcc"
a = 3.615
cells = [6, 6, 6]
species = "Cu"' 100
sed -i 's|^files = .*|&\nevaluator = "reference"|' "$work/half.toml"
for n in 1 2 4; do run_case half "$n" 1; done
for n in 2 4; do
  if .venv/bin/python - "$work/half-np1-t1/thermo.csv" "$work/half-np$n-t1/thermo.csv" <<'PY'
import sys
import numpy as np
a = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1)
b = np.loadtxt(sys.argv[2], delimiter=",", skiprows=1)
assert a.shape == b.shape, (a.shape, b.shape)
rel = np.abs(a - b) / np.maximum(np.abs(a), 1e-300)
# Columns 3 and 7: potential energy and pressure. Step 0 is one force call; later rows
# let round-off from the order of the reverse sums grow through the dynamics.
assert rel[0, [3, 7]].max() < 1e-11, rel[0]
assert rel[:, [3, 4, 5]].max() < 1e-8, rel[:, [3, 4, 5]].max()
print(f"max relative difference: step 0 {rel[0, [3, 7]].max():.1e}, all steps {rel[:, [3, 4, 5]].max():.1e}")
PY
  then ok "half-list reference: $n ranks agree with 1 rank"; else fail "half-list reference: $n ranks differ from 1 rank"; fi
done

echo "== MPI: a run resumed from a checkpoint on another rank or thread count is byte-identical =="
# The hot crystal again: stopped at step 230 with checkpoints every 70 steps (the last at
# 210), then resumed to step 500 on another rank or thread count.
sed 's|^trajectory_every = 100|trajectory_every = 100\ncheckpoint_every = 70|' "$work/hot.toml" > "$work/restart.toml"
for case in "1 1 2 1" "1 1 1 2" "3 1 2 1" "2 2 1 1"; do
  set -- $case
  dir="$work/restart-$1x$2-$3x$4"
  mkdir -p "$dir"
  sed "s|directory = \"out\"|directory = \"$dir\"|" "$work/restart.toml" > "$dir/in.toml"
  sed 's/^steps = 500/steps = 230/' "$dir/in.toml" > "$dir/first.toml"
  if timeout 300 "$mpirun" -np "$1" "$bin" --quiet --threads "$2" run "$dir/first.toml" > /dev/null 2> "$dir/stderr" \
    && timeout 300 "$mpirun" -np "$3" "$bin" --quiet --threads "$4" run --resume "$dir/in.toml" > /dev/null 2>> "$dir/stderr" \
    && cmp -s "$work/hot-np1-t1/thermo.csv" "$dir/thermo.csv" && cmp -s "$work/hot-np1-t1/traj.xyz" "$dir/traj.xyz"; then
    ok "restart: $1 rank(s) x $2 thread(s) -> $3 rank(s) x $4 thread(s) byte-identical to the uninterrupted run"
  else
    fail "restart: $1x$2 -> $3x$4 differs or failed: $(tail -n 3 "$dir/stderr")"
  fi
done

echo "== MPI: an error on one rank stops all ranks =="
cat > "$work/close.xyz" <<XYZ
4
Lattice="20 0 0 0 20 0 0 0 20" Properties=species:S:1:pos:R:3 pbc="T T T"
Cu 2 2 2
Cu 8 2 2
Cu 17 17 17
Cu 17.002 17 17
XYZ
write_input close "file = \"$work/close.xyz\"" 10
start=$(date +%s)
set +e
timeout 60 "$mpirun" -np 4 "$bin" --quiet run "$work/close.toml" > "$work/close.out" 2> "$work/close.err"
code=$?
set -e
elapsed=$(( $(date +%s) - start ))
if [ "$code" -ne 0 ] && [ "$code" -ne 124 ] && grep -q "closer than" "$work/close.err" && [ "$(grep -c '^error' "$work/close.err")" -eq 1 ]; then
  ok "error on one rank: exit $code after ${elapsed}s, one message: $(grep '^error' "$work/close.err" | head -c 160)"
else
  fail "error injection: exit $code after ${elapsed}s; stderr: $(head -c 600 "$work/close.err")"
fi

echo "== MPI: an error in the middle of a run stops all ranks, outputs stay complete =="
cat > "$work/leave.xyz" <<XYZ
3
Lattice="20 0 0 0 20 0 0 0 20" Properties=species:S:1:pos:R:3:velo:R:3 pbc="T T F"
Cu 5 5 5 0 0 0
Cu 15 15 10 0 0 0
Cu 10 17 19 0 0 40
XYZ
write_input leave "file = \"$work/leave.xyz\"" 1000
sed -i 's/^style = "langevin"/style = "nve"/; /^temperature = 2000$/d; /^damping = 0.2$/d; /^temperature = 2500$/d; s|^directory = "out"|directory = "'"$work"'/leave-out"|' "$work/leave.toml"
set +e
timeout 60 "$mpirun" -np 4 "$bin" --quiet --grid 2x2x1 run "$work/leave.toml" > "$work/leave.out" 2> "$work/leave.err"
code=$?
set -e
rows=$(wc -l < "$work/leave-out/thermo.csv" 2>/dev/null || echo 0)
complete=$(awk -F, 'NF != 16 {bad++} END {print bad + 0}' "$work/leave-out/thermo.csv" 2>/dev/null || echo 1)
if [ "$code" -ne 0 ] && [ "$code" -ne 124 ] && grep -q "left the box" "$work/leave.err" && [ "$rows" -gt 2 ] && [ "$complete" -eq 0 ]; then
  ok "error mid-run: exit $code, $rows complete thermo rows kept: $(grep '^error' "$work/leave.err" | head -c 160)"
else
  fail "error mid-run: exit $code, $rows thermo rows ($complete incomplete); stderr: $(head -c 600 "$work/leave.err")"
fi

echo "== MPI: the reaction automaton (calcine react) byte-identical on 1-4 ranks and 1-2 threads =="
# L = 16 (not a multiple of 3: 64 colour classes), a fractional stage, a regrind.
cat > "$work/react.toml" <<TOML
library = "$PWD/tests/data/reactca/batio3_library.json"
size = 16
realisations = 3
seed = 5
[precursors]
BaO = 1
TiO2 = 1
[[schedule]]
kind = "hold"
temperature = 1000
duration = 2.5
[[schedule]]
kind = "regrind"
[[schedule]]
kind = "hold"
temperature = 1000
duration = 1
TOML
react_case() { # recipe name, ranks, threads
  local dir="$work/$1-np$2-t$3"
  timeout 300 "$mpirun" -np "$2" "$bin" --quiet --threads "$3" react "$work/$1.toml" -o "$dir" > "$dir.stdout" 2> "$dir.stderr" || {
    fail "$1 on $2 ranks x $3 threads exited with an error: $(tail -n 3 "$dir.stderr")"; return; }
  grep -q "on $2 rank(s)" "$dir.stdout" && ok "$1: communicator has $2 ranks" || fail "$1: expected $2 ranks: $(head -n 1 "$dir.stdout")"
}
react_compare() { # name, reference suffix, other suffix
  local a="$work/$1-$2" b="$work/$1-$3" same=1
  for f in fractions.csv summary.csv result.json slice.csv fractions.png slice.png; do cmp -s "$a/$f" "$b/$f" || same=0; done
  if [ "$same" -eq 1 ]; then ok "$1: $3 byte-identical to $2 ($(wc -l < "$a/fractions.csv") rows)"; else fail "$1: $3 differs from $2"; fi
}
for n in 1 2 3 4; do react_case react "$n" 1; done
react_case react 2 2
react_case react 4 2
for x in np2-t1 np3-t1 np4-t1 np2-t2 np4-t2; do react_compare react np1-t1 "$x"; done
# ReactCA-compatible mode spreads whole realisations over ranks and threads.
sed 's/^seed = 5/seed = 5\nmode = "reactca-compatible"/; s/^realisations = 3/realisations = 5/' "$work/react.toml" > "$work/compat.toml"
react_case compat 1 1
react_case compat 2 2
react_compare compat np1-t1 np2-t2

echo "== MPI: calcine transport byte-identical on 1-4 ranks and 1-2 threads (FFT and multi-tau) =="
.venv/bin/python - "$work/ions.dump" <<'PY'
import sys
import numpy as np
rng = np.random.default_rng(5)
n, frames, box, dt = 101, 300, 15.0, 0.05
types = np.array([1 + (i % 3 == 0) for i in range(n)])
d = np.where(types == 1, 0.5, 0.15)
x = rng.uniform(0, box, (n, 3))
with open(sys.argv[1], "w") as f:
    for k in range(frames):
        image = np.floor(x / box).astype(int)
        w = x - image * box
        f.write(f"ITEM: TIMESTEP\n{k * 50}\nITEM: NUMBER OF ATOMS\n{n}\nITEM: BOX BOUNDS pp pp pp\n0 {box}\n0 {box}\n0 {box}\nITEM: ATOMS id type x y z ix iy iz\n")
        for i in range(n):
            f.write(f"{i + 1} {types[i]} {float(w[i,0])!r} {float(w[i,1])!r} {float(w[i,2])!r} {image[i,0]} {image[i,1]} {image[i,2]}\n")
        x += rng.normal(size=(n, 3)) * np.sqrt(2 * d * dt)[:, None]
PY
for method in fft multi-tau; do
  for case in "1 1" "2 1" "3 1" "4 1" "2 2"; do
    set -- $case
    dir="$work/transport-$method-np$1-t$2"
    mkdir -p "$dir"
    cat > "$dir/in.toml" <<TOML
[transport]
trajectory = "$work/ions.dump"
temperature = 800
species = ["Li", "Cl"]
charges = { Li = 1, Cl = -1 }
types = ["Li", "Cl"]
masses = { Li = 6.94, Cl = 35.45 }
timestep = 0.001
method = "$method"
directory = "$dir/out"
TOML
    if (cd "$dir" && timeout 300 "$mpirun" -np "$1" "$bin" --quiet --threads "$2" transport in.toml > stdout 2> stderr); then
      :
    else
      fail "transport $method on $1 ranks x $2 threads exited with an error: $(tail -n 3 "$dir/stderr")"
    fi
  done
  ref="$work/transport-$method-np1-t1/out"
  for other in np2-t1 np3-t1 np4-t1 np2-t2; do
    o="$work/transport-$method-$other/out"
    if cmp -s "$ref/transport.json" "$o/transport.json" && cmp -s "$ref/curves.csv" "$o/curves.csv" \
      && cmp -s "$ref/transport_doc.json" "$o/transport_doc.json" && cmp -s "$ref/msd.png" "$o/msd.png"; then
      ok "transport ($method): $other byte-identical to np1-t1 ($(wc -l < "$ref/curves.csv") curve rows)"
    else
      fail "transport ($method): $other differs from np1-t1"
    fi
  done
done

echo "== MPI: kinosons at several temperatures byte-identical on 1-4 ranks and 2 threads (hop lists; hops found in every trajectory) =="
# A vacancy on a simple cubic lattice (4^3 sites, a = 2 A), exchanges at nu*exp(-Ea/kT):
# hop lists at three temperatures, and extended XYZ trajectories at two.
.venv/bin/python - "$work" <<'PY'
import sys
import numpy as np
work = sys.argv[1]
m, a = 4, 2.0
coords = [(s // (m * m), s // m % m, s % m) for s in range(m ** 3)]
site = lambda p: ((p[0] % m) * m + p[1] % m) * m + p[2] % m
def xyz(path, positions, comment=""):
    with open(path, "w") as f:
        f.write(f"{len(positions)}\nLattice=\"8 0 0 0 8 0 0 0 8\" Properties=species:S:1:pos:R:3 pbc=\"T T T\" {comment}\n")
        for p in positions:
            f.write(f"Cu {p[0]!r} {p[1]!r} {p[2]!r}\n")
xyz(f"{work}/sites.xyz", [[c * a for c in coords[s]] for s in range(m ** 3)])
xyz(f"{work}/start.xyz", [[c * a for c in coords[s]] for s in range(1, m ** 3)])
jumps = [(1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0), (0, 0, 1), (0, 0, -1)]
for k, t in enumerate([600.0, 800.0, 1000.0]):
    rng = np.random.default_rng(40 + k)
    w = 5.0 * np.exp(-0.3 / (8.617333262e-5 * t))
    occupant = [None] + list(range(m ** 3 - 1))
    vacancy, time = 0, 0.0
    x = [np.array(coords[s], float) * a for s in range(1, m ** 3)]
    frames, dt, next_frame = [], 0.5 / w, 0.0
    with open(f"{work}/kmc{k}.csv", "w") as f:
        f.write("time,atom,from,to\n")
        for n in range(3000):
            time += rng.exponential(1.0 / (6 * w))
            while next_frame < time and len(frames) < 300:
                frames.append((next_frame, [p.copy() for p in x]))
                next_frame += dt
            j = jumps[rng.integers(6)]
            p = coords[vacancy]
            target = site((p[0] + j[0], p[1] + j[1], p[2] + j[2]))
            atom = occupant[target]
            occupant[target], occupant[vacancy] = None, atom
            x[atom] = x[atom] - np.array(j, float) * a
            f.write(f"{time!r},{atom},{target},{vacancy}\n")
            vacancy = target
    if k < 2:
        with open(f"{work}/kmc{k}.xyz", "w") as f:
            for tf, pos in frames:
                f.write(f"{len(pos)}\nLattice=\"8 0 0 0 8 0 0 0 8\" Properties=species:S:1:pos:R:3 Time={float(tf)!r} pbc=\"T T T\"\n")
                for q in pos:
                    q = [float(c) % 8.0 for c in q]
                    f.write(f"Cu {q[0]!r} {q[1]!r} {q[2]!r}\n")
PY
for source in lists runs; do
  for case in "1 1" "2 1" "3 1" "4 1" "2 2"; do
    set -- $case
    dir="$work/kinosons-$source-np$1-t$2"
    mkdir -p "$dir"
    if [ "$source" = lists ]; then
      cat > "$dir/in.toml" <<TOML
[transport]
trajectory = "$work/ions.dump"
temperature = 800
species = ["Li", "Cl"]
types = ["Li", "Cl"]
masses = { Li = 6.94, Cl = 35.45 }
timestep = 0.001
directory = "$dir/out"
[kinosons]
sites = "$work/sites.xyz"
cutoff = 4.1
TOML
      for k in 0 1 2; do
        printf '[[kinosons.lists]]\nhops = "%s"\ntemperature = %s\ninitial = "%s"\n' \
          "$work/kmc$k.csv" "$((600 + 200 * k))" "$work/start.xyz" >> "$dir/in.toml"
      done
    else
      cat > "$dir/in.toml" <<TOML
[transport]
species = ["Cu"]
masses = { Cu = 63.55 }
unwrap = "minimum-image"
directory = "$dir/out"
[[transport.runs]]
trajectory = "$work/kmc0.xyz"
temperature = 600
[[transport.runs]]
trajectory = "$work/kmc1.xyz"
temperature = 800
[kinosons]
sites = "$work/sites.xyz"
cutoff = 4.1
TOML
    fi
    if (cd "$dir" && timeout 300 "$mpirun" -np "$1" "$bin" --quiet --threads "$2" transport in.toml > stdout 2> stderr); then
      :
    else
      fail "kinosons ($source) on $1 ranks x $2 threads exited with an error: $(tail -n 3 "$dir/stderr")"
    fi
  done
  ref="$work/kinosons-$source-np1-t1/out"
  for other in np2-t1 np3-t1 np4-t1 np2-t2; do
    o="$work/kinosons-$source-$other/out"
    same=1
    for f in kinosons.json kinosons.png kinosons_arrhenius.png hops_600K.csv hops_800K.csv; do
      cmp -s "$ref/$f" "$o/$f" || same=0
    done
    if [ "$source" = lists ]; then cmp -s "$ref/hops_1000K.csv" "$o/hops_1000K.csv" || same=0; fi
    if [ "$source" = runs ]; then cmp -s "$ref/arrhenius.json" "$o/arrhenius.json" || same=0; fi
    if [ "$same" -eq 1 ]; then
      ok "kinosons ($source): $other byte-identical to np1-t1 ($(wc -l < "$ref/hops_800K.csv") rows at 800 K)"
    else
      fail "kinosons ($source): $other differs from np1-t1"
    fi
  done
done

echo "7. H5MD: collective writes (parallel HDF5) against the gathered writer"
h5md_system='lattice = "fcc"
a = 3.615
cells = [16, 16, 16]
species = "Cu"'
h5md_fields='["velocity", "image", "force", "virial"]'
h5md_input() { # dir, writer, steps, [system lines], [h5md_fields]
  mkdir -p "$1"
  local system="${4:-$h5md_system}" fields="${5:-$h5md_fields}"
  cat > "$1/in.toml" <<TOML
[system]
$system
[potential]
style = "eam"
files = { Cu = "$pot" }
[run]
steps = $3
timestep = 0.002
temperature = 2500
seed = 11
[integrator]
style = "langevin"
temperature = 2000
damping = 0.2
[output]
directory = "$1"
thermo_every = 10
trajectory = "traj.h5"
trajectory_every = 10
checkpoint_every = 30
h5md_write = "$2"
h5md_fields = $fields
TOML
}
h5md_run() { # dir, ranks, [--resume]
  timeout 300 "$mpirun" -np "$2" "$bin" --quiet run ${3:-} "$1/in.toml" > "$1/stdout" 2> "$1/stderr" || {
    fail "H5MD run $1 on $2 ranks ${3:-} exited with an error: $(grep -m 2 -i 'error' "$1/stderr" || tail -n 3 "$1/stderr")"
    return 1; }
}
# The datasets' values and each per-atom dataset's compressed chunks, byte for byte.
h5md_same() { # reference, other, [virial: the files store per-atom virials]
  .venv/bin/python - "$1" "$2" "${3:-}" <<'PY'
import sys, h5py
def datasets(f):
    out = {}
    f.visititems(lambda n, o: out.__setitem__(n, o) if isinstance(o, h5py.Dataset) else None)
    return out
def chunks(d):
    return [d.id.read_direct_chunk(d.id.get_chunk_info(i).chunk_offset) for i in range(d.id.get_num_chunks())]
with h5py.File(sys.argv[1]) as a, h5py.File(sys.argv[2]) as b:
    A, B = datasets(a), datasets(b)
    assert sorted(A) == sorted(B), (sorted(A), sorted(B))
    for n in A:
        assert A[n].dtype == B[n].dtype and A[n].shape == B[n].shape, n
        assert A[n][()].tobytes() == B[n][()].tobytes(), n
        if A[n].ndim == 3 and n.startswith("particles/"):
            assert A[n].chunks == B[n].chunks and len(chunks(A[n])) > 1, n
            assert chunks(A[n]) == chunks(B[n]), n + ": compressed chunks differ"
    assert A["particles/all/position/value"].shape[0] == 7
    assert "particles/all/force/value" in A
    assert ("particles/all/virial/value" in A) == (sys.argv[3] == "virial"), "particles/all/virial"
PY
}
ref="$work/h5-gathered-np1"
h5md_input "$ref" gathered 60 && h5md_run "$ref" 1
for n in 1 2 3 4; do
  d="$work/h5-collective-np$n"
  h5md_input "$d" collective 60
  if h5md_run "$d" "$n"; then
    if cmp -s "$ref/thermo.csv" "$d/thermo.csv" && h5md_same "$ref/traj.h5" "$d/traj.h5" virial; then
      ok "H5MD collective on $n ranks: datasets and compressed chunks identical to gathered on 1 rank"
    else
      fail "H5MD collective on $n ranks differs from gathered on 1 rank"
    fi
  fi
done
# Resume across writers and rank counts: 30 steps, then continued to 60 with --resume.
# `auto` writes collectively on several ranks and gathered on one, and continues a gathered
# file gathered.
for case in "collective 3 gathered 2" "collective 2 collective 3" "gathered 1 gathered 4" "auto 1 auto 4" \
  "auto 2 auto 3"; do
  set -- $case
  d="$work/h5-resume-$1$2-$3$4"
  h5md_input "$d" "$1" 30
  h5md_run "$d" "$2" || continue
  h5md_input "$d" "$3" 60
  h5md_run "$d" "$4" --resume || continue
  if cmp -s "$ref/thermo.csv" "$d/thermo.csv" && h5md_same "$ref/traj.h5" "$d/traj.h5" virial; then
    ok "H5MD $1 on $2 ranks resumed $3 on $4 ranks: identical to the uninterrupted run"
  else
    fail "H5MD $1 on $2 ranks resumed $3 on $4 ranks differs from the uninterrupted run"
  fi
done
# A gathered file is not continued collectively (HDF5 1.10.8 hangs there): a clear refusal.
d="$work/h5-resume-refused"
h5md_input "$d" gathered 30
if h5md_run "$d" 1; then
  h5md_input "$d" collective 60
  if timeout 120 "$mpirun" -np 2 "$bin" --quiet run --resume "$d/in.toml" > "$d/stdout" 2> "$d/stderr"; then
    fail "a gathered H5MD file was resumed collectively"
  elif grep -q 'resume with \[output\] h5md_write = "gathered"' "$d/stderr"; then
    ok "a gathered H5MD file resumed collectively: refused ($(grep -o 'it was written gathered[^:]*' "$d/stderr" | head -n 1))"
  else
    fail "a gathered H5MD file resumed collectively: unclear error or hang: $(tail -n 3 "$d/stderr")"
  fi
fi
# A resume asking for other per-atom fields than the file stores: refused, naming both lists.
d="$work/h5-resume-fields"
h5md_input "$d" gathered 30
if h5md_run "$d" 1; then
  h5md_input "$d" gathered 60 "" '["velocity", "image"]'
  if timeout 120 "$bin" --quiet run --resume "$d/in.toml" > "$d/stdout" 2> "$d/stderr"; then
    fail "an H5MD file with forces was resumed without them"
  elif grep -q 'it stores h5md_fields = \["velocity", "image", "force", "virial"\], but \[output\] h5md_fields = \["velocity", "image"\]' "$d/stderr"; then
    ok "a resume with other h5md_fields: refused ($(grep -o 'it stores h5md_fields[^:]*' "$d/stderr" | head -n 1))"
  else
    fail "a resume with other h5md_fields: unclear error: $(tail -n 3 "$d/stderr")"
  fi
fi
# 23,328 atoms: the last 8192-atom chunk is partial. Such files on 3 ranks were now and
# then corrupted by OpenMPI 4.1.4's MPI-IO writing back stale blocks without locks (h5py:
# "filter returned failure during read"); calcine now asks it to lock the ranges it
# writes (docs/parallel.md). Dense ids, then gapped ids.
.venv/bin/python - "$work/gapped.data" <<'PY'
import sys
import numpy as np
cell = 3.615 * np.array([[0, 0, 0], [0, .5, .5], [.5, 0, .5], [.5, .5, 0]])
n = 18
grid = np.array([[i, j, k] for i in range(n) for j in range(n) for k in range(n)], dtype=float) * 3.615
x = (grid[:, None, :] + cell[None, :, :]).reshape(-1, 3)
ids = 3 * np.arange(1, len(x) + 1) + np.arange(len(x)) % 2  # gaps of 1 and 3
length = n * 3.615
with open(sys.argv[1], "w") as f:
    f.write(f"fcc Cu, gapped atom ids\n\n{len(x)} atoms\n1 atom types\n\n")
    f.write("".join(f"0 {length!r} {a}lo {a}hi\n" for a in "xyz"))
    f.write("\nMasses\n\n1 63.546\n\nAtoms # atomic\n\n")
    f.write("".join(f"{i} 1 {p[0]!r} {p[1]!r} {p[2]!r}\n" for i, p in zip(ids.tolist(), x.tolist())))
PY
for ids in dense gapped; do
  if [ "$ids" = dense ]; then
    system='lattice = "fcc"
a = 3.615
cells = [18, 18, 18]
species = "Cu"'
  else
    system="file = \"$work/gapped.data\"
types = [\"Cu\"]"
  fi
  r="$work/h5-$ids-gathered-np1"
  h5md_input "$r" gathered 60 "$system" '["velocity", "image", "force"]' && h5md_run "$r" 1 || continue
  for n in 2 3; do
    d="$work/h5-$ids-collective-np$n"
    h5md_input "$d" collective 60 "$system" '["velocity", "image", "force"]'
    h5md_run "$d" "$n" || continue
    if cmp -s "$r/thermo.csv" "$d/thermo.csv" && h5md_same "$r/traj.h5" "$d/traj.h5"; then
      ok "H5MD 23,328 atoms, $ids ids, collective on $n ranks: readable, datasets and compressed chunks identical to gathered on 1 rank"
    else
      fail "H5MD 23,328 atoms, $ids ids, collective on $n ranks differs from gathered on 1 rank (or h5py cannot read it)"
    fi
  done
done
# Collective writing outside MPI is refused with the key's name.
d="$work/h5-refused"
h5md_input "$d" collective 10
if CALCINE_MPI=0 "$bin" --quiet run "$d/in.toml" > "$d/stdout" 2> "$d/stderr"; then
  fail "h5md_write = collective ran without MPI"
elif grep -q 'h5md_write = "collective" needs a run under MPI' "$d/stderr"; then
  ok "h5md_write = collective without MPI: refused ($(head -c 150 "$d/stderr" | tr '\n' ' '))"
else
  fail "h5md_write = collective without MPI: unclear error: $(cat "$d/stderr")"
fi

echo "MPI tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
