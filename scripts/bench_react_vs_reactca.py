"""Cell updates per second: calcine react against ReactCA on ReactCA's BaTiO3 fixture.

ReactCA runs its own `run_single_sim` on the fixture (with the four adaptations the
fixture needs at ReactCA 11fa2cd, as in tests/data/reactca/reference_batio3_L15.json);
its rate is L^3 x 3 updates over the time of that call. calcine runs the same recipe
(--threads 1, more realisations so that a run lasts long enough to time) and its rate is
the "cell updates/s" it reports (loop time, set-up excluded, as for ReactCA's call).
"""
import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
fixture = os.path.join(root, "tests", "data", "reactca")

REACTCA_DRIVER = r"""
import json, sys, time, random
import numpy as np
from rxn_ca.core.recipe import ReactionRecipe
from rxn_ca.core.heating import HeatingSchedule, HeatingStep
from rxn_ca.reactions import ReactionLibrary
from rxn_ca.utilities.single_sim import run_single_sim
fixture, size = sys.argv[1], int(sys.argv[2])
d = json.load(open(fixture + "/batio3_recipe.json"))
d.pop("chem_sys")
d["heating_schedule"] = HeatingSchedule([HeatingStep(s["duration"], s["temperature"]) for s in d["heating_schedule"]["steps"]])
for k in ("@module", "@class", "@version"):
    d.pop(k, None)
recipe = ReactionRecipe(**d)
recipe.simulation_size = size
lib = json.load(open(fixture + "/batio3_library.json"))
lib["phases"]["densities"] = {}
lib["phases"]["phases"] = [p for p in lib["phases"]["phases"] if p != "Free Space"]
lib = ReactionLibrary.from_dict(lib)
random.seed(0)
t = time.perf_counter()
doc = run_single_sim(recipe, reaction_lib=lib)
el = time.perf_counter() - t
n = len(doc.results[0]) - 1
print(json.dumps({"updates": n, "seconds": el}))
"""


def reactca_rate(size):
    env = dict(os.environ)
    if os.environ.get("REACTCA_SRC"):
        env["PYTHONPATH"] = os.environ["REACTCA_SRC"] + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run(
        ["taskset", "-c", "0", os.environ["REACTCA_PYTHON"], "-c", REACTCA_DRIVER, fixture, str(size)],
        check=True, capture_output=True, text=True, env=env,
    ).stdout
    r = json.loads(out.strip().splitlines()[-1])
    return r["updates"] / r["seconds"]


def calcine_rate(binary, size, mode, realisations, work):
    recipe = os.path.join(work, f"{mode}-{size}.toml")
    with open(recipe, "w") as f:
        f.write(
            f'library = "{fixture}/batio3_library.json"\nsize = {size}\nrealisations = {realisations}\n'
            f'seed = 1\nmode = "{mode}"\n[precursors]\nBaO = 1\nTiO2 = 1\n'
            '[[schedule]]\nkind = "hold"\ntemperature = 1000\nduration = 3\n'
        )
    out = subprocess.run(
        ["taskset", "-c", "0", binary, "--quiet", "--threads", "1", "react", recipe, "-o", os.path.join(work, "out")],
        check=True, capture_output=True, text=True,
    ).stdout
    return float(re.search(r"([0-9.eE+]+) cell updates/s", out).group(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("calcine")
    ap.add_argument("--sizes", default="15,30")
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--json", default="bench-react-vs-reactca.json")
    args = ap.parse_args()
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    results = {"cpu": cpu, "load_before": os.getloadavg(), "pairs": args.pairs, "sizes": {}}
    with tempfile.TemporaryDirectory() as work:
        for size in [int(s) for s in args.sizes.split(",")]:
            # Enough realisations for about 2e6 calcine updates per run.
            reals = max(1, round(2e6 / (3 * size**3)))
            reactca_rate(size), calcine_rate(args.calcine, size, "reactca-compatible", reals, work)  # warm-up
            rows = []
            for k in range(args.pairs):
                a = reactca_rate(size)
                b = calcine_rate(args.calcine, size, "reactca-compatible", reals, work)
                c = calcine_rate(args.calcine, size, "exact", reals, work)
                rows.append({"reactca": a, "calcine_compatible": b, "calcine_exact": c})
                print(f"L={size} pair {k + 1}: ReactCA {a:.0f}/s, calcine compatible {b:.3e}/s ({b / a:.0f}x), exact {c:.3e}/s ({c / a:.0f}x)", flush=True)
            summary = {}
            for key in ("calcine_compatible", "calcine_exact"):
                ratios = [r[key] / r["reactca"] for r in rows]
                summary[key] = {"min": min(ratios), "median": statistics.median(ratios), "max": max(ratios)}
            results["sizes"][str(size)] = {"realisations_calcine": reals, "pairs": rows, "ratio": summary,
                                           "reactca_median_rate": statistics.median(r["reactca"] for r in rows)}
            print(f"L={size}: ReactCA median {results['sizes'][str(size)]['reactca_median_rate']:.0f} updates/s; "
                  + "; ".join(f"{k} / ReactCA min {v['min']:.0f} median {v['median']:.0f} max {v['max']:.0f}" for k, v in summary.items()))
    results["load_after"] = os.getloadavg()
    if max(results["load_before"][0], results["load_after"][0]) > 1.5:
        results["busy"] = True
        print("warning: the machine was busy (load average above 1.5); ratios are noisier", file=sys.stderr)
    with open(args.json, "w") as f:
        json.dump(results, f, indent=1)
    print(f"CPU: {cpu}; wrote {args.json}")


if __name__ == "__main__":
    main()
