#!/usr/bin/env python3
"""calcine's ACE kernel against pyace's C++ evaluators (python-ace 0.4.0rc1, ML-PACE inside), one core.

    cargo build --release -p calcine-ace --example ace_timing
    .venv/bin/python scripts/bench_ace_vs_pyace.py [--pairs 7] [--out bench-ace.json]

Structures (built here, same file for both sides): 2,048 atoms of fcc Cu at 300 K (a = 3.615 A, 8x8x8 cells,
every atom displaced by N(0, 0.08 A) per axis, the thermal amplitude of Cu at 300 K; numpy seed 300) with
Cu-PBE-core-rep.ace; and a random 50/50 Cu-Ni alloy of the same lattice with a larger two-element potential
made here with pyace (random coefficients, seed 5; ChebExpCos, rcut 5.5 A, nradmax by order 12/4/3/2,
lmax 0/4/3/2).

What is timed, on both sides, is the evaluator call alone with the neighbor list already built:
- calcine: `Potential::compute` (energy, forces, virial; the exact fixed-point scatter and reverse sum included)
  in the `ace_timing` example, run in its own process on a one-thread pool; its ghosts and list are built
  before the clock starts. Each run times 3 calls and keeps the median.
- pyace: `ACECalculator.compute(atomic_environment)` (the C++ evaluator over a prebuilt neighbor list, energy
  and forces and virial), 3 calls, median; OMP/MKL threads pinned to 1. Product = ACECTildeEvaluator,
  recursive = ACERecursiveEvaluator with recursive=True.

Protocol: one warm-up of everything, then `--pairs` rounds, each running calcine (product and recursive) and
pyace (product and recursive) back to back, the order alternating between rounds. For each round the ratio is
(the faster pyace evaluator's time) / (calcine's time); min/median/max over rounds are reported for each calcine
algorithm. The energies of both sides are compared as a check. The CPU model, the load average before and after,
and a `busy` flag (load average above half the cores) are recorded.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from ase.build import bulk  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))


def write_xyz(path, atoms):
    lines = [str(len(atoms)), 'Lattice="%s" Properties=species:S:1:pos:R:3 pbc="T T T"'
             % " ".join(repr(float(v)) for v in atoms.cell.array.reshape(-1))]
    for s, p in zip(atoms.get_chemical_symbols(), atoms.positions):
        lines.append(" ".join([s] + [repr(float(v)) for v in p]))
    with open(path, "w") as fh:
        fh.write("\n".join(lines) + "\n")


def cu_300k(symbols=None, seed=300):
    rng = np.random.default_rng(seed)
    at = bulk("Cu", "fcc", a=3.615, cubic=True).repeat((8, 8, 8))
    if symbols is not None:
        at.set_chemical_symbols(rng.choice(symbols, len(at)))
    at.positions += rng.normal(0.0, 0.08, at.positions.shape)
    at.wrap()
    return at


def make_large_potential(path):
    from pyace import ACEBBasisSet, create_multispecies_basis_config
    rng = np.random.default_rng(5)
    cfg = {"deltaSplineBins": 0.001, "elements": ["Cu", "Ni"],
           "embeddings": {"ALL": {"npot": "FinnisSinclairShiftedScaled", "fs_parameters": [1, 1, 1, 0.5],
                                  "ndensity": 2}},
           "bonds": {"ALL": {"radbase": "ChebExpCos", "radparameters": [5.25], "rcut": 5.5, "dcut": 0.01,
                             "r_in": 1.5, "delta_in": 0.3, "core-repulsion": [100.0, 5.0],
                             "inner_cutoff_type": "distance", "NameOfCutoffFunction": "cos"}},
           "functions": {"ALL": {"nradmax_by_orders": [12, 4, 3, 2], "lmax_by_orders": [0, 4, 3, 2]}}}
    bconf = create_multispecies_basis_config(cfg, func_coefs_initializer="zero")
    scale = [0.05, 0.01, 1e-3, 1e-4, 1e-5]
    for block in bconf.funcspecs_blocks:
        funcs = block.funcspecs
        for f in funcs:
            f.coeffs = list(scale[len(f.ns) - 1] * rng.standard_normal(len(f.coeffs)))
        block.funcspecs = funcs
    yaml_path = path.replace(".yace", ".yaml")
    bconf.save(yaml_path)
    ACEBBasisSet(yaml_path).to_ACECTildeBasisSet().save_yaml(path)


def calcine_time(potential, xyz, algorithm):
    exe = os.path.join(TARGET, "release", "examples", "ace_timing")
    out = subprocess.run([exe, potential, xyz, "--algorithm", algorithm, "--repeats", "3", "--threads", "1"],
                         check=True, capture_output=True, text=True, env=dict(os.environ, RAYON_NUM_THREADS="1"))
    r = json.loads(out.stdout.strip().splitlines()[-1])
    return statistics.median(r["times"]), r["energy"]


class Pyace:
    def __init__(self, potential, xyz, recursive):
        from ase.io import read
        from pyace import PyACECalculator
        kw = dict(recursive_evaluator=True, recursive=True) if recursive else {}
        self.atoms = read(xyz)
        self.calc = PyACECalculator(potential, **kw)
        self.atoms.calc = self.calc
        self.energy = self.atoms.get_potential_energy()
        self.ae = self.calc.get_atomic_env(self.atoms)

    def time(self):
        ts = []
        for _ in range(3):
            t = time.perf_counter()
            self.calc.ace.compute(self.ae, compute_projections=False)
            ts.append(time.perf_counter() - t)
        return statistics.median(ts)


def cpu_model():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pairs", type=int, default=7)
    ap.add_argument("--out", default="bench-ace.json")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="bench-ace-")
    cases = []
    cu = os.path.join(tmp, "cu2048.xyz")
    write_xyz(cu, cu_300k())
    cases.append(("Cu-PBE-core-rep", os.path.join(ROOT, "tests/data/potentials/Cu-PBE-core-rep.ace"), cu))
    large = os.path.join(tmp, "CuNi-large.yace")
    make_large_potential(large)
    cuni = os.path.join(tmp, "cuni2048.xyz")
    write_xyz(cuni, cu_300k(["Cu", "Ni"], seed=301))
    cases.append(("CuNi-large (pyace-made)", large, cuni))
    load_before = os.getloadavg()
    report = {"cpu": cpu_model(), "cores": os.cpu_count(), "load_before": load_before, "pairs": args.pairs,
              "cases": {}}
    for name, potential, xyz in cases:
        py = {"product": Pyace(potential, xyz, False), "recursive": Pyace(potential, xyz, True)}
        # Warm-up.
        for alg in ("product", "recursive"):
            calcine_time(potential, xyz, alg)
            py[alg].time()
        rounds = []
        for k in range(args.pairs):
            r = {}
            order = ["calcine", "pyace"] if k % 2 == 0 else ["pyace", "calcine"]
            for side in order:
                for alg in ("product", "recursive"):
                    if side == "calcine":
                        r[f"calcine_{alg}"], e = calcine_time(potential, xyz, alg)
                        r[f"energy_check_{alg}"] = abs(e - py[alg].energy) / abs(py[alg].energy)
                    else:
                        r[f"pyace_{alg}"] = py[alg].time()
            fastest = min(r["pyace_product"], r["pyace_recursive"])
            r["ratio_product"] = fastest / r["calcine_product"]
            r["ratio_recursive"] = fastest / r["calcine_recursive"]
            rounds.append(r)
            print(name, k, {kk: round(v, 4) if "energy" not in kk else f"{v:.1e}" for kk, v in r.items()},
                  file=sys.stderr)
        natoms = 2048
        summary = {}
        for key in ("calcine_product", "calcine_recursive", "pyace_product", "pyace_recursive"):
            summary[key + "_us_per_atom_median"] = statistics.median(r[key] for r in rounds) * 1e6 / natoms
        for alg in ("product", "recursive"):
            ratios = [r[f"ratio_{alg}"] for r in rounds]
            summary[f"ratio_{alg}"] = {"min": min(ratios), "median": statistics.median(ratios), "max": max(ratios)}
        summary["energy_check_max"] = max(max(r["energy_check_product"], r["energy_check_recursive"]) for r in rounds)
        report["cases"][name] = {"rounds": rounds, "summary": summary}
    report["load_after"] = os.getloadavg()
    report["busy"] = max(report["load_before"][0], report["load_after"][0]) > 0.5 * (os.cpu_count() or 1)
    with open(args.out, "w") as fh:
        json.dump(report, fh, indent=1)
    for name, c in report["cases"].items():
        s = c["summary"]
        print(f"{name}: calcine product {s['calcine_product_us_per_atom_median']:.0f} us/atom, recursive "
              f"{s['calcine_recursive_us_per_atom_median']:.0f}; pyace product {s['pyace_product_us_per_atom_median']:.0f},"
              f" recursive {s['pyace_recursive_us_per_atom_median']:.0f}; faster pyace / calcine: product "
              f"{s['ratio_product']['min']:.2f}/{s['ratio_product']['median']:.2f}/{s['ratio_product']['max']:.2f}, "
              f"recursive {s['ratio_recursive']['min']:.2f}/{s['ratio_recursive']['median']:.2f}/"
              f"{s['ratio_recursive']['max']:.2f} (min/median/max)")
    print(f"CPU {report['cpu']}, load average before {load_before[0]:.2f}, after {report['load_after'][0]:.2f}"
          f"{' (BUSY: numbers unreliable)' if report['busy'] else ''}")


if __name__ == "__main__":
    main()
