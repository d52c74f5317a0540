"""Reference scores from ReactCA's own DiffusionScorer for calcine's diffusion scorer.

Writes tests/data/reactca/diffusion_reference.json: the diffusion-limited score ReactCA's
`DiffusionScorer` (vir-k01/rxn-ca cf52018, `src/rxn_ca/reactions/scorers.py`) gives every
reaction between two solids of the phase table tests/data/reactca/diffusion_phases.csv
whose products all contain Ba, Ti and O, at 900, 1300 and 1700 K and precursor sizes
d = 100 nm and 10 nm, with the Onsager tensors of tests/data/reactca/Ba-Ti-O.json.
calcine's test `diffusion_scores_match_reactca` (crates/calcine-automaton) compares.

ReactCA is imported from a source snapshot outside calcine's repository (nothing of it is
copied here); give it with --reactca-src /path/to/rxn-ca (or REACTCA_SRC), and run this
script with a Python that has the packages below, e.g.

    python3 -m venv /work/venv-rxn
    /work/venv-rxn/bin/pip install reaction-network==8.3.0 pymatgen==2026.10.24 \
        pandas==3.1.1 tqdm==4.70.1 mp-api==0.46.5 executing==2.3.0 pylattica==0.1.7 \
        monty==2026.10.21 pydantic==2.14.4 'setuptools<81'
    /work/venv-rxn/bin/python scripts/reactca_diffusion_reference.py --reactca-src /tmp/rxn-ca

(numpy 2.4.6, scipy 1.17.1, sympy 1.14.0 came with them; Python 3.11.7.) ReactCA at cf52018
imports mp_api and executing at module level, and pkg_resources (setuptools < 81).

What is adapted, and why (all outside ReactCA's code, which runs unchanged):
- ReactCA reads its transport table from `rxn_ca/phases/batio_transport_coeffs.csv`, which
  cf52018 does not ship ("data will be added on publication"). `load_diffusivities` is
  replaced by one returning the same table format (columns Formula, Temperature as
  "1000.0K", L00 L01 L02 L11 L12 L22, species in the order Ba, Ti, O) built from
  Ba-Ti-O.json's `L_tensor`s (ReactCA's later transport_db file; its tensors are symmetric).
- Phase energies: ComputedEntry's with ΔG_f(T) = ΔH − TΔS per atom from the phase table (the
  same numbers calcine reads), and the elements at 0, in reaction-network's
  ChemicalPotentialDiagram at each T (its default lower bound, −100 eV).
- Reactions: reaction-network ComputedReaction's of those entries, enumerated as calcine's
  library builder does (two solid reactants, one or two products, a unique positive
  balance); only reactions whose products all contain the three elements are kept, because
  ReactCA's scorer divides the flux of species i by the i-th atomic fraction of the product
  and fails (IndexError) for a product with fewer elements.
- ReactCA's defect, recorded and corrected: `get_fluxes_across_interface` reorders Δμ from
  `chempot.chemical_system` ("Ba-O-Ti", sorted alphabetically) to the table's "Ba-Ti-O",
  but the diagram's coordinates are in the order of `chempot.elements` (pymatgen sorts
  Elements by electronegativity: Ba, Ti, O), so the reorder swaps Ti and O. `score_stock`
  is ReactCA as it is; `score` is ReactCA with the diagram's `chemical_system` reported in
  its coordinate order (so no reorder happens), which is what calcine computes.
- A score ReactCA cannot compute (OverflowError "math range error" in its softplus, which
  its docstring says to avoid by adjusting scale_factor) is recorded as null.

--make-phase-table regenerates diffusion_phases.csv from ReactCA's fixtures (see the
provenance in tests/data/README.md).
"""
import argparse
import csv
import io
import itertools
import json
import math
import os
import sys
from fractions import Fraction

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
data = os.path.join(root, "tests", "data", "reactca")
TEMPERATURES = [900, 1300, 1700]
SIZES = [1e-7, 1e-8]
SCALE_FACTOR = 5e13
ELEMENTS = ["Ba", "Ti", "O"]
# Phases of the table: the precursors, the ternaries with both a transport tensor in
# Ba-Ti-O.json and a volume and melting point in ReactCA's batio3_library.json, and
# BaTi6O12 (reduced, no tensor). BaTi6O12 balances no reaction between these oxides, so it
# only shapes the chemical-potential diagram; no product lacks a tensor, and ReactCA's
# 1e15·I fallback is not exercised.
PHASES = ["BaO", "TiO2", "BaTiO3", "Ba2TiO4", "BaTi2O5", "Ba4Ti13O30", "Ba2Ti9O20", "Ba3TiO5", "BaTi4O9",
          "BaTi5O11", "BaTi6O12"]


def make_phase_table(shared):
    """ΔG_f per atom of each phase at 900, 1300, 1700 K from the GibbsComputedEntry's of
    ReactCA's batio_enumeration.json (reaction-network's get_new_temperature), fitted by
    least squares as ΔH − TΔS; volumes and melting points from batio3_library.json."""
    import numpy as np
    from monty.json import MontyDecoder

    enum = json.load(open(os.path.join(shared, "batio_enumeration.json")))["rxn_set"]["entries"]
    entries = {}
    for e in (MontyDecoder().process_decoded(x) for x in enum):
        entries[e.composition.reduced_formula] = e
    lib = json.load(open(os.path.join(data, "batio3_library.json")))["phases"]
    out = io.StringIO()
    out.write("formula,molar_volume,melting_point,delta_h,delta_s\n")
    for f in PHASES:
        g = [entries[f].get_new_temperature(t).energy_per_atom for t in TEMPERATURES]
        slope, intercept = np.polyfit(TEMPERATURES, g, 1)
        out.write(f"{f},{lib['volumes'][f]!r},{lib['melting_points'][f]},{intercept:.6f},{-slope:.6e}\n")
    return out.getvalue()


def read_phases(path):
    rows = list(csv.DictReader(line for line in open(path) if not line.startswith("#")))
    return [
        dict(formula=r["formula"], volume=float(r["molar_volume"]), tm=float(r["melting_point"]),
             dh=float(r["delta_h"]), ds=float(r["delta_s"]))
        for r in rows
    ]


def transport_frame(path):
    import pandas as pd

    rows = []
    for d in json.load(open(path)):
        if d["species"] != ELEMENTS:
            sys.exit(f"{path}: {d['reduced_formula']} species {d['species']}, expected {ELEMENTS}")
        L = d["L_tensor"]
        row = {"Formula": d["reduced_formula"], "Temperature": f"{int(d['temperature'])}.0K"}
        for i in range(3):
            for j in range(i, 3):
                if L[i][j] != L[j][i]:
                    sys.exit(f"{path}: {d['reduced_formula']} L_tensor not symmetric")
                row[f"L{i}{j}"] = L[i][j]
        rows.append(row)
    return pd.DataFrame(rows)


def unique_positive_balance(comps_r, comps_p):
    """Coefficients (reactants, products) of the unique positive balance, or None."""
    import sympy

    cols = [(c, -1) for c in comps_r] + [(c, 1) for c in comps_p]
    els = sorted({str(e) for c, _ in cols for e in c.elements})
    m = sympy.Matrix([[s * int(c[e]) for c, s in cols] for e in els])
    ns = m.nullspace()
    if len(ns) != 1:
        return None
    v = [Fraction(int(x.p), int(x.q)) for x in ns[0]]
    if all(x < 0 for x in v):
        v = [-x for x in v]
    if not all(x > 0 for x in v):
        return None
    lcm = 1
    for x in v:
        lcm = lcm * x.denominator // math.gcd(lcm, x.denominator)
    v = [int(x * lcm) for x in v]
    g = 0
    for x in v:
        g = math.gcd(g, x)
    return [x // g for x in v]


class CoordinateOrder:
    """A chemical-potential diagram whose chemical_system lists its elements in the order
    of its coordinates (the correction of ReactCA's Δμ reorder)."""

    def __init__(self, cpd):
        self._cpd = cpd

    def __getattr__(self, name):
        return getattr(self._cpd, name)

    @property
    def chemical_system(self):
        return "-".join(e.symbol for e in self._cpd.elements)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reactca-src", default=os.environ.get("REACTCA_SRC"),
                    help="a checkout of vir-k01/rxn-ca at cf52018 (or REACTCA_SRC)")
    ap.add_argument("--phases", default=os.path.join(data, "diffusion_phases.csv"))
    ap.add_argument("--transport", default=os.path.join(data, "Ba-Ti-O.json"))
    ap.add_argument("--out", default=os.path.join(data, "diffusion_reference.json"))
    ap.add_argument("--make-phase-table", metavar="SHARED_REACTCA_DATA",
                    help="write the phase table from batio_enumeration.json in this folder, then stop")
    args = ap.parse_args()
    if args.make_phase_table:
        text = make_phase_table(args.make_phase_table)
        open(args.phases, "w").write(text)
        print(text)
        return
    if not args.reactca_src:
        sys.exit("give --reactca-src /path/to/rxn-ca (or REACTCA_SRC)")
    src = os.path.join(args.reactca_src, "src")
    sys.path.insert(0, src)
    import subprocess
    from importlib.metadata import version

    import numpy as np
    from pymatgen.entries.computed_entries import ComputedEntry
    from pymatgen.core import Composition
    from rxn_network.reactions.computed import ComputedReaction
    from rxn_network.thermo.chempot_diagram import ChemicalPotentialDiagram

    import rxn_ca.reactions.scorers as scorers
    from rxn_ca.phases.solid_phase_set import SolidPhaseSet

    commit = subprocess.run(["git", "-C", args.reactca_src, "rev-parse", "HEAD"], capture_output=True,
                            text=True).stdout.strip() or "unknown"
    frame = transport_frame(args.transport)
    scorers.load_diffusivities = lambda chemsys=None, self_diffusion=False: frame.copy()

    phases = read_phases(args.phases)
    names = [p["formula"] for p in phases]
    phase_set = SolidPhaseSet(
        phases=names,
        volumes={p["formula"]: p["volume"] for p in phases},
        gas_phases=[],
        densities={},
        melting_points={p["formula"]: p["tm"] for p in phases},
        experimentally_observed={p["formula"]: True for p in phases},
    )
    comps = {p["formula"]: Composition(p["formula"]) for p in phases}

    # Reactions as calcine's builder enumerates them: reactant pairs in table order.
    reactions = []
    for a, b in itertools.combinations(range(len(phases)), 2):
        ra, rb = names[a], names[b]
        els = set(comps[ra].elements) | set(comps[rb].elements)
        cands = [n for n in names if n not in (ra, rb) and set(comps[n].elements) <= els]
        for k in (1, 2):
            for ps in itertools.combinations(cands, k):
                nu = unique_positive_balance([comps[ra], comps[rb]], [comps[p] for p in ps])
                if nu is None:
                    continue
                if not all(len(comps[p].elements) == 3 for p in ps):
                    continue
                reactions.append(([ra, rb], list(ps), nu))

    out = {
        "provenance": {
            "reactca": f"vir-k01/rxn-ca {commit}, src/rxn_ca/reactions/scorers.py DiffusionScorer, "
                       "run from a source snapshot outside calcine's repository",
            "generator": "scripts/reactca_diffusion_reference.py (read its header for the adaptations)",
            "packages": {p: version(p) for p in
                         ["reaction-network", "pymatgen", "numpy", "scipy", "pandas", "sympy"]},
            "python": sys.version.split()[0],
            "phases": os.path.relpath(args.phases, root),
            "transport": os.path.relpath(args.transport, root) + " (L_tensor)",
            "scale_factor": SCALE_FACTOR,
            "k_B": scorers.KB,
            "N_A": scorers.Na,
            "chempot_diagram": "rxn_network.thermo.chempot_diagram.ChemicalPotentialDiagram(entries), "
                               "ComputedEntry ΔG_f(T)·atoms per phase, elements at 0; default_min_limit -100",
            "score": "DiffusionScorer(phase_set, chempot, temp=T, precursor_size=d, scale_factor, "
                     "chemsys='Ba-Ti-O').score(reaction) with chempot.chemical_system reported in "
                     "coordinate order (Ba-Ti-O); score_stock: the diagram as it is (Ba-O-Ti: Ti and O "
                     "swapped in Δμ)",
        },
        "temperatures": TEMPERATURES,
        "precursor_sizes": SIZES,
        "reactions": [],
    }
    stock_differs = 0
    overflows = {"score": 0, "score_stock": 0}
    for t in TEMPERATURES:
        entries = [ComputedEntry(Composition(e), 0.0) for e in ELEMENTS]
        for p in phases:
            c = comps[p["formula"]]
            entries.append(ComputedEntry(c, (p["dh"] - t * p["ds"]) * c.num_atoms))
        cpd = ChemicalPotentialDiagram(entries)
        coord = [e.symbol for e in cpd.elements]
        if coord != ELEMENTS or cpd.chemical_system != "Ba-O-Ti":
            sys.exit(f"unexpected diagram order {coord} / {cpd.chemical_system}")
        by_formula = {e.composition.reduced_formula: e for e in entries}
        fixed = CoordinateOrder(cpd)
        stable = sorted(cpd.domains)
        for rs, ps, nu in reactions:
            ents = [by_formula[n] for n in rs + ps]
            coeffs = [-float(x) for x in nu[:2]] + [float(x) for x in nu[2:]]
            rxn = ComputedReaction(ents, np.array(coeffs))
            if [c.reduced_formula for c in rxn.reactants] != rs:
                sys.exit(f"reactant order changed: {rxn}")
            rec = {"temperature": t, "reactants": rs, "products": ps,
                   "coefficients": [str(x) for x in nu], "delta_g": rxn.energy_per_atom,
                   "metastable_reactant": any(r not in stable for r in rs),
                   "score": [], "score_stock": []}
            for d in SIZES:
                kw = dict(phase_set=phase_set, temp=t, precursor_size=d, scale_factor=SCALE_FACTOR,
                          chemsys="Ba-Ti-O")
                for key, diagram in (("score", fixed), ("score_stock", cpd)):
                    try:
                        s = float(scorers.DiffusionScorer(chem_pot_diagram=diagram, **kw).score(rxn))
                    except OverflowError:
                        # math.exp in ReactCA's softplus: "math range error"
                        s = None
                        overflows[key] += 1
                    rec[key].append(s)
            if any(a is None or b is None or abs(a - b) > 1e-9 * abs(a)
                   for a, b in zip(rec["score"], rec["score_stock"])):
                stock_differs += 1
            out["reactions"].append(rec)
    out["summary"] = {
        "reactions_per_temperature": len(reactions),
        "records": len(out["reactions"]),
        "records_where_stock_differs": stock_differs,
        "overflow_errors": overflows,
    }
    # One reaction per line: small and diffable.
    records = out.pop("reactions")
    text = json.dumps(out, indent=1)[:-2]
    text += ',\n "reactions": [\n' + ",\n".join("  " + json.dumps(r) for r in records) + "\n ]\n}\n"
    json.loads(text)
    with open(args.out, "w") as f:
        f.write(text)
    print(json.dumps(out["summary"]), file=sys.stderr)


if __name__ == "__main__":
    main()
