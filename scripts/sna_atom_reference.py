"""LAMMPS `compute sna/atom` reference for `calcine descriptors`.

Builds a perturbed 128-atom bcc W cell (seeded), evaluates LAMMPS's per-atom bispectrum
components with the parameters of W_2940_2017_2.snapparam/.snapcoeff (rcutfac 4.73442,
twojmax 8, rfac0 0.99363, rmin0 0, bzeroflag 0, radius 0.5, weight 1), and writes
tests/data/sna-atom/W_2940_128.xyz (the structure, extended XYZ) and
tests/data/sna-atom/W_2940_128.sna.csv (id, then B1..B55 at full precision).

    source scripts/lammps-env.sh && .venv/bin/python scripts/sna_atom_reference.py
"""

import sys
from pathlib import Path

import numpy as np
from ase.build import bulk
from lammps import lammps

root = Path(__file__).resolve().parent.parent
out = root / "tests" / "data" / "sna-atom"
out.mkdir(parents=True, exist_ok=True)

atoms = bulk("W", "bcc", a=3.1652, cubic=True).repeat((4, 4, 4))
rng = np.random.default_rng(2940)
atoms.positions += rng.uniform(-0.15, 0.15, size=atoms.positions.shape)
atoms.wrap()
# Positions at full precision (ASE's writer rounds to 8 decimals).
with open(out / "W_2940_128.xyz", "w") as f:
    L = [float(v) for v in atoms.cell.lengths()]
    f.write(f"{len(atoms)}\n")
    f.write(f'Lattice="{L[0]!r} 0.0 0.0 0.0 {L[1]!r} 0.0 0.0 0.0 {L[2]!r}" Properties=species:S:1:pos:R:3 pbc="T T T"\n')
    for x in atoms.positions:
        f.write(f"W {float(x[0])!r} {float(x[1])!r} {float(x[2])!r}\n")

lmp = lammps(cmdargs=["-log", "none", "-screen", "none", "-nocite"])
cell = atoms.cell.lengths()
lmp.commands_list(
    [
        "units metal",
        "atom_style atomic",
        "atom_modify map array sort 0 0",
        f"region box block 0 {float(cell[0])!r} 0 {float(cell[1])!r} 0 {float(cell[2])!r}",
        "create_box 1 box",
        "mass 1 183.84",
    ]
)
for x in atoms.positions:
    lmp.command(f"create_atoms 1 single {float(x[0])!r} {float(x[1])!r} {float(x[2])!r} units box remap no")
lmp.commands_list(
    [
        "pair_style zero 5.0",
        "pair_coeff * *",
        "compute sna all sna/atom 4.73442 0.99363 8 0.5 1.0 rmin0 0 bzeroflag 0 quadraticflag 0 switchflag 1",
        "run 0 post no",
    ]
)
n = lmp.get_natoms()
ids = np.array(lmp.numpy.extract_atom("id")[:n])
sna = np.array(lmp.numpy.extract_compute("sna", 1, 2)[:n])
order = np.argsort(ids)
version = lmp.version()
with open(out / "W_2940_128.sna.csv", "w") as f:
    f.write(f"# LAMMPS {version} compute sna/atom 4.73442 0.99363 8 0.5 1.0 rmin0 0 bzeroflag 0 quadraticflag 0 switchflag 1\n")
    f.write("id," + ",".join(f"B{k + 1}" for k in range(sna.shape[1])) + "\n")
    for i in order:
        f.write(f"{ids[i]}," + ",".join(repr(float(v)) for v in sna[i]) + "\n")
print(f"{n} atoms x {sna.shape[1]} components -> {out}", file=sys.stderr)
