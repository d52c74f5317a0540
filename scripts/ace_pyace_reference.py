#!/usr/bin/env python3
"""Multi-element ACE reference data for calcine-ace's tests, made with pyace (python-ace 0.4.0rc1).

Run with the project's venv:  .venv/bin/python scripts/ace_pyace_reference.py [--out tests/data/ace]

It builds small random ACE potentials with pyace's own tools (create_multispecies_basis_config, random
coefficients drawn here with fixed numpy seeds), writes each as pacemaker's B-basis .yaml and, converted
by pyace (ACEBBasisSet.to_ACECTildeBasisSet().save_yaml), as .yace. Together they cover every radial
basis (ChebExpCos, ChebPow, ChebLinear, SBessel), every inner-cutoff type (distance, density, zbl), both
embeddings (FinnisSinclair, FinnisSinclairShiftedScaled), elements with different ndensity, and two and
three elements.

For each potential it builds three periodic structures of at least 200 atoms (a perturbed random-alloy fcc
crystal, a random "liquid" packing, and a crystal with pairs pushed into the inner cutoff) and writes one
extended XYZ file per case with full-precision positions and pyace's values: the energy, per-atom energies
(`atom_energies`), forces and the virial (LAMMPS's sign and order xx yy zz xy xz yz, in eV).

The values are those of pyace's product evaluator (ACECTildeEvaluator) on the .yace file. The script also
checks pyace against itself and records what it finds in each file's comment line: the largest
differences between the product evaluator, the recursive evaluator (ACERecursiveEvaluator with
recursive=True) and the B-basis evaluator on the .yaml (`pyace_check_*`), and pyace's forces against
central differences of its energy on a few atoms (`pyace_fd_*`).

Extrapolation grade: a fifth, smaller potential (CuNi-gamma: ChebExpCos, distance inner cutoff,
FinnisSinclairShiftedScaled with ndensity 2 for both elements) gets active sets made with pyace's own tools
(compute_B_projections, compute_active_set (MaxVol), compute_A_active_inverse, save_active_inverse_set, as
`pace_activeset` does) from a training set of 12 perturbed fcc cells made here: a linear one
(`CuNi-gamma-linear.asi`; pyace's full, non-linear active sets come out singular here, so the full grade's
arithmetic is checked with `CuNi-gamma-full-random.asi`, random well-conditioned matrices of the full size). Its
structures
are a crystal, a liquid and one far outside the training set (`compressed`: fcc at a = 3.2 A), each with pyace's
energies and forces as above, and `CuNi-gamma-gamma.json` holds pyace's per-atom gamma (PyACECalculator on the
.yaml with each active set), in atom order.

With --check it recomputes every committed case and compares (nothing is written).
"""
import argparse
import json
import os
import sys

import numpy as np
from ase import Atoms
from ase.build import bulk

from pyace import ACEBBasisSet, PyACECalculator, create_multispecies_basis_config

# name -> (elements, embeddings, bonds, functions, seed)
POTENTIALS = {
    # Two elements with different ndensity; ChebExpCos and ChebLinear bonds; distance inner cutoff.
    "AlNi-distance": dict(
        elements=["Al", "Ni"],
        embeddings={
            "Al": {"npot": "FinnisSinclair", "fs_parameters": [1, 1], "ndensity": 1},
            "Ni": {"npot": "FinnisSinclairShiftedScaled", "fs_parameters": [1, 1, 1, 0.5], "ndensity": 2},
        },
        bonds={
            "ALL": {"radbase": "ChebExpCos", "radparameters": [3.0], "rcut": 5.0, "dcut": 0.01,
                    "r_in": 1.8, "delta_in": 0.3, "core-repulsion": [200.0, 2.0], "inner_cutoff_type": "distance"},
            ("Al", "Ni"): {"radbase": "ChebLinear", "radparameters": [1.0], "rcut": 4.6, "dcut": 0.01,
                           "r_in": 1.7, "delta_in": 0.3, "core-repulsion": [150.0, 2.5],
                           "inner_cutoff_type": "distance"},
        },
        functions={"ALL": {"nradmax_by_orders": [5, 2, 2, 1], "lmax_by_orders": [0, 2, 2, 1]}},
        seed=11,
    ),
    # Three elements, ChebPow and SBessel bonds, ZBL inner cutoff.
    "AlCuNi-zbl": dict(
        elements=["Al", "Cu", "Ni"],
        embeddings={
            "ALL": {"npot": "FinnisSinclairShiftedScaled", "fs_parameters": [1, 1, 1, 0.5], "ndensity": 2},
            "Cu": {"npot": "FinnisSinclairShiftedScaled", "fs_parameters": [1, 1], "ndensity": 1},
        },
        bonds={
            "ALL": {"radbase": "ChebPow", "radparameters": [2.0], "rcut": 4.8, "dcut": 0.01,
                    "r_in": 2.0, "delta_in": 0.5, "core-repulsion": [1.0, 1.0], "inner_cutoff_type": "zbl"},
            ("Cu", "Ni"): {"radbase": "SBessel", "radparameters": [5.25], "rcut": 4.5, "dcut": 0.01,
                           "r_in": 1.9, "delta_in": 0.4, "core-repulsion": [1.0, 1.0], "inner_cutoff_type": "zbl"},
        },
        functions={"UNARY": {"nradmax_by_orders": [5, 2, 2, 1], "lmax_by_orders": [0, 2, 2, 1]},
                   "BINARY": {"nradmax_by_orders": [5, 2, 1], "lmax_by_orders": [0, 2, 1]},
                   "TERNARY": {"nradmax_by_orders": [5, 1, 1], "lmax_by_orders": [0, 1, 1]}},
        seed=12,
    ),
    # Two elements, SBessel, the old density inner cutoff (ACE switched off by the core density).
    "CuNi-density": dict(
        elements=["Cu", "Ni"],
        embeddings={
            "ALL": {"npot": "FinnisSinclair", "fs_parameters": [1, 1, 1, 0.5], "ndensity": 2,
                    "rho_core_cut": 30.0, "drho_core_cut": 25.0},
        },
        bonds={
            "ALL": {"radbase": "SBessel", "radparameters": [5.25], "rcut": 4.7, "dcut": 0.01,
                    "core-repulsion": [2000.0, 1.5], "inner_cutoff_type": "density"},
        },
        functions={"ALL": {"nradmax_by_orders": [5, 3, 2, 1], "lmax_by_orders": [0, 3, 1, 1]}},
        seed=13,
    ),
    # Three elements, ChebLinear and ChebExpCos, FinnisSinclair with a non-trivial exponent.
    "AlCuNi-distance": dict(
        elements=["Al", "Cu", "Ni"],
        embeddings={
            "ALL": {"npot": "FinnisSinclair", "fs_parameters": [1, 1, 0.5, 0.75], "ndensity": 2},
        },
        bonds={
            "ALL": {"radbase": "ChebLinear", "radparameters": [1.0], "rcut": 4.5, "dcut": 0.01,
                    "r_in": 1.7, "delta_in": 0.25, "core-repulsion": [100.0, 3.0], "inner_cutoff_type": "distance"},
            ("Al", "Al"): {"radbase": "ChebExpCos", "radparameters": [2.5], "rcut": 4.9, "dcut": 0.02,
                           "r_in": 1.7, "delta_in": 0.25, "core-repulsion": [100.0, 3.0],
                           "inner_cutoff_type": "distance"},
        },
        functions={"UNARY": {"nradmax_by_orders": [5, 2, 2, 1], "lmax_by_orders": [0, 2, 2, 1]},
                   "BINARY": {"nradmax_by_orders": [5, 2, 1], "lmax_by_orders": [0, 2, 1]},
                   "TERNARY": {"nradmax_by_orders": [4, 1], "lmax_by_orders": [0, 1]}},
        seed=14,
        coeff_factor=0.1,
    ),
}

# Scale of the random function coefficients per rank (rank 1 first), chosen so that densities are O(1)-O(10).
COEFF_SCALE = [0.05, 0.01, 1e-3, 1e-4, 1e-5, 1e-6]


def make_potential(name, spec):
    rng = np.random.default_rng(spec["seed"])
    embeddings = {k: dict(v) for k, v in spec["embeddings"].items()}
    for v in embeddings.values():
        v.setdefault("rho_core_cut", 100000.0)
        v.setdefault("drho_core_cut", 250.0)
    cfg = {"deltaSplineBins": 0.001, "elements": spec["elements"], "embeddings": embeddings,
           "bonds": {k: dict(v, NameOfCutoffFunction="cos") for k, v in spec["bonds"].items()},
           "functions": spec["functions"]}
    bconf = create_multispecies_basis_config(cfg, func_coefs_initializer="zero")
    # Random radial coefficients (around the identity pyace starts from) and function coefficients.
    # Both blocks of a bond (A-B and B-A) must hold the same radial basis: one draw per unordered pair.
    noise = {}
    for block in bconf.funcspecs_blocks:
        if block.radcoefficients:
            crad = np.array(block.radcoefficients, dtype=float)
            pair = tuple(sorted(block.block_name.split()[:2])) if len(block.block_name.split()) > 1 else (block.block_name,) * 2
            if pair not in noise:
                noise[pair] = 0.4 * rng.standard_normal(crad.shape)
            block.radcoefficients = (crad + noise[pair]).tolist()
        funcs = block.funcspecs
        for f in funcs:
            rank = len(f.ns)
            f.coeffs = list(spec.get("coeff_factor", 1.0) * COEFF_SCALE[rank - 1] * rng.standard_normal(len(f.coeffs)))
        block.funcspecs = funcs
    return bconf


def structures(elements, seed):
    """Three periodic structures of at least 200 atoms with random species."""
    rng = np.random.default_rng(seed)
    out = {}
    crystal = bulk("Cu", "fcc", a=3.75, cubic=True).repeat((4, 4, 4))  # 256 atoms
    crystal.set_chemical_symbols(rng.choice(elements, len(crystal)))
    crystal.positions += rng.normal(0.0, 0.12, crystal.positions.shape)
    out["crystal"] = (crystal, "fcc a=3.75 4x4x4 (256 atoms), random species, displacements N(0, 0.12 A)")

    # A liquid-like packing: random sequential insertion with a minimum distance of 2.1 A.
    n, box = 220, 15.2
    pos = []
    while len(pos) < n:
        p = rng.uniform(0.0, box, 3)
        if all(np.linalg.norm((p - q + box / 2) % box - box / 2) > 2.1 for q in pos):
            pos.append(p)
    liquid = Atoms(symbols=list(rng.choice(elements, n)), positions=pos, cell=[box] * 3, pbc=True)
    out["liquid"] = (liquid, f"{n} atoms inserted at random in a {box} A cube, minimum distance 2.1 A")

    # Close pairs: a crystal where 24 atoms are moved to 1.45-2.25 A of a neighbor (across the inner
    # cutoffs), keeping every other pair beyond 1.4 A.
    close = bulk("Cu", "fcc", a=3.75, cubic=True).repeat((4, 4, 4))
    close.set_chemical_symbols(rng.choice(elements, len(close)))
    close.positions += rng.normal(0.0, 0.05, close.positions.shape)
    moved = 0
    while moved < 24:
        i, j = rng.choice(len(close), 2, replace=False)
        d = rng.normal(size=3)
        d /= np.linalg.norm(d)
        old = close.positions[i].copy()
        close.positions[i] = close.positions[j] + d * rng.uniform(1.45, 2.25)
        dists = close.get_distances(i, range(len(close)), mic=True)
        dists[[i, j]] = np.inf
        if dists.min() > 1.4:
            moved += 1
        else:
            close.positions[i] = old
    close.wrap()
    out["close"] = (close, "fcc a=3.75 4x4x4 (256 atoms), displacements N(0, 0.05 A), 24 atoms moved to "
                           "1.45-2.25 A of another atom, all other pairs beyond 1.4 A")
    return out


def calculator(path, **kw):
    return PyACECalculator(path, **kw)


def evaluate(atoms, calc):
    a = atoms.copy()
    a.calc = calc
    e = a.get_potential_energy()
    f = a.get_forces().copy()
    ea = a.get_potential_energies().copy()
    s = a.get_stress(voigt=True) * a.get_volume()  # ASE: xx yy zz yz xz xy of -virial
    virial = -np.array([s[0], s[1], s[2], s[5], s[4], s[3]])
    return e, ea, f, virial


def fd_check(atoms, calc, forces, n_atoms=4, h=1e-5):
    worst = 0.0
    a = atoms.copy()
    a.calc = calc
    for i in range(0, len(a), max(1, len(a) // n_atoms))[:n_atoms]:
        for c in range(3):
            p = a.positions.copy()
            a.positions[i, c] += h
            ep = a.get_potential_energy()
            a.positions[i, c] -= 2 * h
            em = a.get_potential_energy()
            a.positions = p
            fd = -(ep - em) / (2 * h)
            worst = max(worst, abs(fd - forces[i, c]) / max(1.0, abs(forces[i, c])))
    return worst


def fmt(x):
    return repr(float(x))


def write_case(path, atoms, info, forces):
    cell = atoms.cell.array
    lattice = " ".join(fmt(v) for v in cell.reshape(-1))
    head = [f'Lattice="{lattice}"', "Properties=species:S:1:pos:R:3:forces:R:3:id:I:1", 'pbc="T T T"']
    for k, v in info.items():
        head.append(f'{k}="{v}"' if (" " in str(v) or "=" in str(v)) else f"{k}={v}")
    lines = [str(len(atoms)), " ".join(head)]
    for k, (s, p, f) in enumerate(zip(atoms.get_chemical_symbols(), atoms.positions, forces)):
        lines.append(" ".join([s] + [fmt(v) for v in p] + [fmt(v) for v in f] + [str(k + 1)]))
    with open(path, "w") as fh:
        fh.write("\n".join(lines) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "tests", "data", "ace"))
    ap.add_argument("--check", action="store_true", help="recompute the committed cases and compare")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    import pyace
    summary = {}
    for name, spec in POTENTIALS.items():
        yaml_path = os.path.join(args.out, f"{name}.yaml")
        yace_path = os.path.join(args.out, f"{name}.yace")
        if not args.check:
            bconf = make_potential(name, spec)
            bconf.save(yaml_path)
            ACEBBasisSet(yaml_path).to_ACECTildeBasisSet().save_yaml(yace_path)
        product = calculator(yace_path)
        recursive = calculator(yace_path, recursive_evaluator=True, recursive=True)
        bbasis = calculator(yaml_path)
        for sname, (atoms, desc) in structures(spec["elements"], spec["seed"] + 100).items():
            case = f"{name}-{sname}"
            e, ea, f, virial = evaluate(atoms, product)
            checks = {}
            for label, calc in [("recursive", recursive), ("yaml", bbasis)]:
                e2, ea2, f2, v2 = evaluate(atoms, calc)
                checks[f"pyace_check_{label}_energy"] = abs(e2 - e) / abs(e)
                checks[f"pyace_check_{label}_forces"] = float(np.max(np.abs(f2 - f)) / max(1.0, np.max(np.abs(f))))
            checks["pyace_fd_product"] = fd_check(atoms, product, f)
            checks["pyace_fd_recursive"] = fd_check(atoms, recursive, evaluate(atoms, recursive)[2])
            dmin = min(np.min(atoms.get_distances(i, range(i + 1, len(atoms)), mic=True)) for i in range(len(atoms) - 1))
            info = {
                "energy": fmt(e),
                "virial": " ".join(fmt(v) for v in virial),
                "atom_energies": " ".join(fmt(v) for v in ea),
                "elements": " ".join(spec["elements"]),
                "case": case,
                "potential": f"{name}.yace",
                "structure": desc,
                "min_distance": f"{dmin:.4f}",
                "reference": f"pyace {pyace.__version__} ACECTildeEvaluator (product) on {name}.yace",
            }
            info.update({k: f"{v:.3e}" for k, v in checks.items()})
            summary[case] = {"energy": e, "natoms": len(atoms), "rms_force": float(np.sqrt(np.mean(f ** 2))),
                             "min_distance": dmin, **checks}
            path = os.path.join(args.out, f"{case}.xyz")
            if args.check:
                text = open(path).read().splitlines()[1]
                old = float(text.split("energy=")[1].split()[0])
                print(f"{case}: energy {e!r} vs committed {old!r} (diff {abs(e - old):.2e})")
            else:
                write_case(path, atoms, info, f)
            print(case, json.dumps(summary[case]), file=sys.stderr)
    if not args.check:
        with open(os.path.join(args.out, "pyace-checks.json"), "w") as fh:
            json.dump(summary, fh, indent=1, sort_keys=True)
        make_gamma_references(args.out)


def training_set(elements, seed):
    rng = np.random.default_rng(seed)
    out = []
    for k in range(12):
        a = 3.4 + 0.06 * k
        s = bulk("Cu", "fcc", a=a, cubic=True).repeat((3, 3, 3))  # 108 atoms
        s.set_chemical_symbols(rng.choice(elements, len(s)))
        s.positions += rng.normal(0.0, 0.15, s.positions.shape)
        out.append(s)
    return out


GAMMA_POTENTIAL = dict(
    elements=["Cu", "Ni"],
    embeddings={"ALL": {"npot": "FinnisSinclairShiftedScaled", "fs_parameters": [1, 1, 1, 0.5], "ndensity": 2}},
    bonds={"ALL": {"radbase": "ChebExpCos", "radparameters": [3.0], "rcut": 4.6, "dcut": 0.01,
                   "r_in": 1.8, "delta_in": 0.3, "core-repulsion": [200.0, 2.0], "inner_cutoff_type": "distance"}},
    functions={"ALL": {"nradmax_by_orders": [4, 2, 1], "lmax_by_orders": [0, 2, 1]}},
    seed=21,
)


def make_gamma_references(out):
    """Active sets and pyace's gamma for the small potential CuNi-gamma (a basis small enough for its
    active sets to be small files; both elements with ndensity 2, as pyace's full active sets need)."""
    from pyace.activelearning import (compute_A_active_inverse, compute_active_set, compute_B_projections,
                                      save_active_inverse_set)
    name = "CuNi-gamma"
    spec = GAMMA_POTENTIAL
    yaml_path = os.path.join(out, f"{name}.yaml")
    yace_path = os.path.join(out, f"{name}.yace")
    make_potential(name, spec).save(yaml_path)
    ACEBBasisSet(yaml_path).to_ACECTildeBasisSet().save_yaml(yace_path)
    train = training_set(spec["elements"], 2024)
    structs = structures(spec["elements"], spec["seed"] + 100)
    del structs["close"]
    rng = np.random.default_rng(7)
    compressed = bulk("Cu", "fcc", a=3.2, cubic=True).repeat((4, 4, 4))
    compressed.set_chemical_symbols(rng.choice(spec["elements"], len(compressed)))
    compressed.positions += rng.normal(0.0, 0.05, compressed.positions.shape)
    structs["compressed"] = (compressed, "fcc a=3.2 4x4x4 (256 atoms), random species, displacements N(0, 0.05 A): "
                                         "far outside the training set")
    for sname, (atoms, desc) in structs.items():
        e, ea, f, virial = evaluate(atoms, calculator(yace_path))
        info = {"energy": fmt(e), "virial": " ".join(fmt(v) for v in virial),
                "atom_energies": " ".join(fmt(v) for v in ea), "elements": " ".join(spec["elements"]),
                "case": f"{name}-{sname}", "potential": f"{name}.yace", "structure": desc,
                "reference": f"pyace ACECTildeEvaluator (product) on {name}.yace"}
        write_case(os.path.join(out, f"{name}-{sname}.xyz"), atoms, info, f)
    gammas = {"training_set": "12 fcc 3x3x3 cells (108 atoms), a = 3.40 + 0.06 k A, random species, "
                              "displacements N(0, 0.15 A), numpy default_rng(2024)"}
    # Only the linear grade: pyace's full (non-linear) active sets for this potential come out singular (gamma
    # ~1e18 on every structure, whatever the training set), and for elements with different ndensity
    # compute_B_projections(is_full=True) fails outright.
    for kind, full in [("linear", False)]:
        proj = compute_B_projections(ACEBBasisSet(yaml_path), train, is_full=full)
        active = compute_active_set(proj)
        asi_path = os.path.join(out, f"{name}-{kind}.asi")
        save_active_inverse_set(asi_path, compute_A_active_inverse(active), elements_name=spec["elements"])
        calc = PyACECalculator(yaml_path)
        calc.set_active_set(asi_path)
        gammas[kind] = {}
        for sname, (atoms, _) in structs.items():
            a = atoms.copy()
            a.calc = calc
            a.get_potential_energy()
            g = np.array(calc.results["gamma"], dtype=float)
            gammas[kind][sname] = [float(v) for v in g]
            print(f"{name} {kind} {sname}: max gamma {g.max():.4g}", file=sys.stderr)
    # The full grade's arithmetic (b = dF/drho_p times the projections, density-major) checked with an
    # "active set" of random, well-conditioned matrices of the full size (numpy seed 99): pyace tells the kind
    # from the shape, as LAMMPS does.
    rng = np.random.default_rng(99)
    bb = ACEBBasisSet(yaml_path)
    random_asi = {}
    for st, el in enumerate(spec["elements"]):
        n = (len(bb.basis_rank1[st]) + len(bb.basis[st])) * bb.map_embedding_specifications[st].ndensity
        random_asi[st] = np.eye(n) + rng.normal(0.0, 1.0 / np.sqrt(n), (n, n))
    asi_path = os.path.join(out, f"{name}-full-random.asi")
    save_active_inverse_set(asi_path, random_asi, elements_name=spec["elements"])
    calc = PyACECalculator(yaml_path)
    calc.set_active_set(asi_path)
    gammas["full-random"] = {}
    for sname, (atoms, _) in structs.items():
        a = atoms.copy()
        a.calc = calc
        a.get_potential_energy()
        gammas["full-random"][sname] = [float(v) for v in np.array(calc.results["gamma"], dtype=float)]
    with open(os.path.join(out, f"{name}-gamma.json"), "w") as fh:
        json.dump(gammas, fh, indent=1)


if __name__ == "__main__":
    main()
