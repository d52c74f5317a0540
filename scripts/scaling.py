"""Strong and weak scaling of calcine under mpirun on the benchmark systems of
scripts/bench.py (the same input template): one JSON record per run, read from the run's
own run.json (ranks, threads, atoms, atom-steps/s, peak memory per atom, commit, CPU),
then parallel efficiencies and a PNG plot (scripts/plot_scaling.py).

Strong: the same crystal (cells³) on each rank count. Weak: cells³ per rank (the crystal
grows along x with the rank count). Efficiency is the rate on P ranks over P times the
rate on the first rank count of the series.

    .venv/bin/python scripts/scaling.py --ranks 1,2 --cells 24 --out runs/scaling

The ACE benchmarks of issue 9 (Cu-PBE-core-rep; strong scaling only):

    scripts/scaling.sh --system ace --series strong --cells 20 --steps 100 --ranks 1,2 --out runs/ace-32k
    scripts/scaling.sh --system ace --series strong --cells 40 --steps 10 --ranks 2 --out runs/ace-256k
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import SYSTEMS, busy_cores, calcine_input, root  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("--system", default="eam", choices=sorted(SYSTEMS))
ap.add_argument("--ranks", default="1,2")
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--cells", type=int, default=24)
ap.add_argument("--steps", type=int, default=100)
ap.add_argument("--series", default="strong,weak", help="strong, weak or both (comma-separated)")
ap.add_argument("--skin", type=float, default=1.0)
ap.add_argument("--out", default=os.path.join(root, "runs", "scaling"))
ap.add_argument("--calcine", default=os.path.join(root, "target", "release", "calcine"))
ap.add_argument("--mpirun", default=shutil.which("mpirun.openmpi") or "mpirun")
ap.add_argument("--busy-threshold", type=float, default=0.3,
                help="cores kept busy by other processes, sampled for a second before each run, above which the run is flagged")
args = ap.parse_args()
system = SYSTEMS[args.system]
os.makedirs(args.out, exist_ok=True)
path = os.path.join(args.out, "scaling.json")
records = []
cores = len(os.sched_getaffinity(0))
for series in args.series.split(","):
    if series not in ("strong", "weak"):
        sys.exit(f"--series: unknown series '{series}' (strong, weak)")
    for ranks in (int(r) for r in args.ranks.split(",")):
        cells = [args.cells * (ranks if series == "weak" else 1), args.cells, args.cells]
        run_dir = os.path.abspath(os.path.join(args.out, f"{series}-np{ranks}"))
        os.makedirs(run_dir, exist_ok=True)
        inp = os.path.join(run_dir, "in.toml")
        with open(inp, "w") as f:
            f.write(calcine_input(system, cells, args.steps, args.skin, run_dir))
        cmd = [args.mpirun, "-np", str(ranks), args.calcine, "--quiet", "--threads", str(args.threads), "run", "--overwrite", inp]
        other = busy_cores(1.0)
        load_before = os.getloadavg()[0]
        with open(os.path.join(run_dir, "stdout"), "w") as out:
            subprocess.run(cmd, check=True, stdout=out)
        load_after = os.getloadavg()[0]
        with open(os.path.join(run_dir, "run.json")) as f:
            s = json.load(f)
        if s["ranks"] != ranks:
            sys.exit(f"{run_dir}: calcine ran on {s['ranks']} ranks, expected {ranks} (wrong mpirun?)")
        record = {"series": series, "system": args.system, "ranks": ranks, "threads": s["threads"],
                  "atoms": s["atoms"], "steps": s["steps"], "atom_steps_per_s": s["atom_steps_per_s"],
                  "bytes_per_atom": s["memory"]["bytes_per_atom"], "commit": s["commit"],
                  "cpu_model": s["machine"]["cpu_model"],
                  "cpu_identity": s["machine"].get("cpu_identity", "unknown"), "load_before": load_before, "load_after": load_after,
                  # Busy: other processes kept cores busy just before the run (from /proc/stat,
                  # as in bench.py; the load average lags a minute behind, so it would flag
                  # the run after a busy one).
                  "other_load_cores": other, "busy": other > args.busy_threshold,
                  # More ranks x threads than cores: the run measures the scheduler, not scaling.
                  "oversubscribed": ranks * args.threads > cores}
        records.append(record)
        print(f"{series:6s} ranks {ranks:<3d} atoms {s['atoms']:<9d} {s['atom_steps_per_s']:12.4g} atom-steps/s  "
              f"{s['memory']['bytes_per_atom']:.0f} B/atom  other load {other:.2f} cores"
              f"{'  BUSY' if record['busy'] else ''}"
              f"{f'  OVERSUBSCRIBED ({cores} cores): not a scaling figure' if record['oversubscribed'] else ''}",
              flush=True)
with open(path, "w") as f:
    for r in records:
        f.write(json.dumps(r) + "\n")
subprocess.run([sys.executable, os.path.join(root, "scripts", "plot_scaling.py"), path,
                os.path.join(args.out, "scaling.png")], check=True)
print(f"JSON: {path}   plot: {os.path.join(args.out, 'scaling.png')}")
