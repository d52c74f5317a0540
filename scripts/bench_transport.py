"""Transport benchmark in the manner of scripts/bench.py: `calcine transport` against
kinisi's DiffusionAnalyzer and MDAnalysis's EinsteinMSD(fft=True), each reading the same
generated LAMMPS dump (Brownian particles with D = 0.5 Å²/ps, unwrapped `xu yu zu`), as
an outside user would run them:

* each tool runs as a whole process (calcine's CLI; a Python script for the others) under
  /usr/bin/time for the peak resident memory;
* one warm-up run of each, then `--pairs` rounds (at least 5), each running kinisi,
  calcine, MDAnalysis, calcine, so that a drift in the machine's speed hits all alike;
  the ratios kinisi/calcine and MDAnalysis/calcine are taken within each round and
  reported as min/median/max (never best-of-each);
* calcine computes every lag by FFT plus its GLS fits and outputs; MDAnalysis computes the
  MSD at every lag by FFT (tidynamics), with a straight-line fit over the same window as
  calcine's; kinisi computes its displacements at `--kinisi-lags` lags (its default, every
  lag, is O(frames²) and does not finish at this size) and runs its GLS + MCMC fit;
* every timed run starts from the same file-cache state (`--cache`): `warm` (default)
  reads the whole dump once just before each tool's run, so that no tool pays for a
  disk or for pages the kernel reclaimed while another tool ran; `cold` drops the page
  cache before each run instead (root only), so that every tool reads from the disk;
* the three D values are printed and must agree within 5%;
* the CPU model and the load before each round; a round during which other processes kept
  the machine busy is flagged; results as JSON and a PNG.

    .venv/bin/python scripts/bench_transport.py --atoms 1000 --frames 20000 --pairs 5

The streaming case (100,000 atoms x 20,000 frames, bounded memory on 2 ranks) is
scripts/bench-transport-streaming.sh.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import busy_cores, cpu_model, spread, timed  # noqa: E402

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
python = os.path.join(root, ".venv", "bin", "python")

KINISI = r"""
import sys, numpy as np, scipp as sc, MDAnalysis as mda
from kinisi.analyze import DiffusionAnalyzer
path, dt, lags, start = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
u = mda.Universe(path, format="LAMMPSDUMP", lammps_coordinate_convention="unwrapped", dt=dt)
n = len(u.trajectory)
steps = np.unique(np.linspace(1, n - 1, lags).astype(int))
a = DiffusionAnalyzer.from_universe(u, specie="1", time_step=dt * sc.Unit("ps"),
    step_skip=1 * sc.Unit("dimensionless"), dt=sc.array(dims=["time interval"], values=steps * dt, unit="ps"),
    progress=False)
a.diffusion(start_dt=start * sc.Unit("ps"), progress=False, random_state=np.random.RandomState(1))
d = sc.to_unit(a.D, "angstrom**2/ps").values
print(f"D {float(np.mean(d))!r} {float(np.std(d))!r}")
"""

MDANALYSIS = r"""
import sys, numpy as np, MDAnalysis as mda
from MDAnalysis.analysis.msd import EinsteinMSD
path, dt, start, end = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
u = mda.Universe(path, format="LAMMPSDUMP", lammps_coordinate_convention="unwrapped", dt=dt)
msd = EinsteinMSD(u, select="all", msd_type="xyz", fft=True).run()
t = np.arange(msd.n_frames) * dt
w = (t >= start) & (t <= end)
slope = np.polyfit(t[w], msd.results.timeseries[w], 1)[0]
print(f"D {float(slope) / 6!r}")
"""


def with_rss(cmd, tmp, tag):
    return ["/usr/bin/time", "-f", "RSS_KB %M", "-o", os.path.join(tmp, f"rss.{tag}")] + cmd


def rss(tmp, tag):
    with open(os.path.join(tmp, f"rss.{tag}")) as f:
        return 1024 * int(re.search(r"RSS_KB (\d+)", f.read()).group(1))


def prepare_cache(args, dump):
    """Puts the page cache in the state `--cache` names before a timed run of any tool."""
    if args.cache == "warm":
        with open(dump, "rb", buffering=0) as f:
            while f.readinto(prepare_cache.buffer):
                pass
    elif args.cache == "cold":
        os.sync()
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")


prepare_cache.buffer = bytearray(16 << 20)


def run_calcine(args, dump, tmp):
    out = os.path.join(tmp, "calcine-out")
    inp = os.path.join(tmp, "in.toml")
    with open(inp, "w") as f:
        f.write(f"""[transport]
trajectory = "{dump}"
temperature = 300
species = ["A"]
types = ["A"]
masses = {{ A = 40 }}
drift = "none"
frame_interval = {args.dt}
directory = "{out}"
""")
    cmd = [args.calcine, "--quiet", "--threads", str(args.threads), "transport", inp]
    if args.ranks > 1:
        cmd = [args.mpirun, "-np", str(args.ranks)] + cmd
    prepare_cache(args, dump)
    _, wall = timed(with_rss(cmd, tmp, "calcine"), tmp, "calcine")
    with open(os.path.join(out, "transport.json")) as f:
        result = json.load(f)
    return {"wall_s": wall, "rss": rss(tmp, "calcine"), "D": result["diffusion"][0]["value"],
            "D_err": result["diffusion"][0]["std_error"], "window": result["fit_window"]}


def run_python(args, code, argv, tmp, tag):
    script = os.path.join(tmp, f"run_{tag}.py")
    with open(script, "w") as f:
        f.write(code)
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), OPENBLAS_NUM_THREADS=str(args.threads))
    prepare_cache(args, argv[0])
    start = time.perf_counter()
    proc = subprocess.run(with_rss([python, script] + argv, tmp, tag), cwd=tmp, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{tag} failed (exit {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    d = float(re.search(r"^D (\S+)", proc.stdout, re.MULTILINE).group(1))
    return {"wall_s": wall, "rss": rss(tmp, tag), "D": d}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--atoms", type=int, default=1000)
    ap.add_argument("--frames", type=int, default=20000)
    ap.add_argument("--dt", type=float, default=0.01, help="ps between frames")
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1, help="threads of every tool")
    ap.add_argument("--ranks", type=int, default=1, help="calcine ranks")
    ap.add_argument("--kinisi-lags", type=int, default=100)
    ap.add_argument("--skip-kinisi", action="store_true")
    ap.add_argument("--calcine", default=os.path.join(root, "target", "release", "calcine"))
    ap.add_argument("--generator", default=os.path.join(root, "target", "release", "examples", "random_walk_dump"),
                    help="cargo build --release -p calcine-transport --example random_walk_dump")
    ap.add_argument("--mpirun", default=shutil.which("mpirun.openmpi") or "mpirun")
    ap.add_argument("--cache", choices=["warm", "cold"], default="warm",
                    help="page cache before each timed run: the dump read through (warm) or dropped (cold, root only)")
    ap.add_argument("--busy-threshold", type=float, default=0.3)
    ap.add_argument("--out", default=os.path.join(root, "runs", "bench"))
    args = ap.parse_args()
    if args.cache == "cold" and not os.access("/proc/sys/vm/drop_caches", os.W_OK):
        sys.exit("--cache cold drops the page cache through /proc/sys/vm/drop_caches, which needs root")
    if args.pairs < 5:
        sys.exit("--pairs must be at least 5: fewer pairs say nothing about the spread")
    args.calcine = os.path.abspath(args.calcine)
    os.makedirs(args.out, exist_ok=True)
    dump = os.path.join(args.out, f"walk-{args.atoms}x{args.frames}.dump")
    default_generator = os.path.join(root, "target", "release", "examples", "random_walk_dump")
    if os.path.abspath(args.generator) == default_generator or not os.path.exists(args.calcine):
        # Build what the benchmark runs (a no-op when up to date), so a fresh clone works.
        subprocess.run(["cargo", "build", "--release", "-p", "calcine-cli", "-p", "calcine-transport",
                        "--example", "random_walk_dump", "--bin", "calcine"], cwd=root, check=True)
    if not os.path.exists(dump):
        print(f"generating {dump}", flush=True)
        subprocess.run([args.generator, str(args.atoms), str(args.frames), dump, "--dt", str(args.dt)], check=True)
    print(f"\ntransport: {args.atoms} atoms x {args.frames} frames ({os.path.getsize(dump) / 1e6:.0f} MB), "
          f"{args.threads} thread(s), calcine on {args.ranks} rank(s), {args.pairs} rounds after a warm-up, "
          f"{args.cache} page cache before every run", flush=True)
    rounds = []
    with tempfile.TemporaryDirectory() as tmp:
        ours = run_calcine(args, dump, tmp)
        start, end = ours["window"]
        kin_argv = [dump, str(args.dt), str(args.kinisi_lags), str(start)]
        mda_argv = [dump, str(args.dt), str(start), str(end)]
        if not args.skip_kinisi:
            run_python(args, KINISI, kin_argv, tmp, "kinisi")
        run_python(args, MDANALYSIS, mda_argv, tmp, "mdanalysis")
        for k in range(args.pairs):
            busy = busy_cores()
            kin = None if args.skip_kinisi else run_python(args, KINISI, kin_argv, tmp, "kinisi")
            ours1 = run_calcine(args, dump, tmp)
            mda = run_python(args, MDANALYSIS, mda_argv, tmp, "mdanalysis")
            ours2 = run_calcine(args, dump, tmp)
            r = {"busy_cores_before": busy, "calcine": [ours1, ours2], "mdanalysis": mda, "kinisi": kin,
                 "mdanalysis_ratio": mda["wall_s"] / ours2["wall_s"],
                 "mdanalysis_memory_ratio": ours2["rss"] / mda["rss"]}
            if kin:
                r["kinisi_ratio"] = kin["wall_s"] / ours1["wall_s"]
                r["kinisi_memory_ratio"] = ours1["rss"] / kin["rss"]
            rounds.append(r)
            flag = "  (machine busy)" if busy > args.busy_threshold else ""
            kin_text = (f"kinisi {kin['wall_s']:.1f} s / calcine {ours1['wall_s']:.2f} s = {r['kinisi_ratio']:.1f}x, "
                        if kin else "")
            print(f"  round {k + 1}: {kin_text}MDAnalysis {mda['wall_s']:.1f} s / calcine {ours2['wall_s']:.2f} s = "
                  f"{r['mdanalysis_ratio']:.1f}x; peak RSS calcine {ours2['rss'] / 2**20:.0f} MiB, MDAnalysis "
                  f"{mda['rss'] / 2**20:.0f} MiB" + (f", kinisi {kin['rss'] / 2**20:.0f} MiB" if kin else "") + flag,
                  flush=True)
    last = rounds[-1]
    ds = {"calcine": last["calcine"][0]["D"], "mdanalysis": last["mdanalysis"]["D"]}
    if last["kinisi"]:
        ds["kinisi"] = last["kinisi"]["D"]
    print("  D (Å²/ps): " + ", ".join(f"{k} {v:.5f}" for k, v in ds.items())
          + f" (calcine ± {last['calcine'][0]['D_err']:.5f}; exact 0.5)")
    if max(ds.values()) > 1.05 * min(ds.values()):
        sys.exit("the tools disagree on D by more than 5%: they did not analyse the same data alike")
    result = {
        "atoms": args.atoms, "frames": args.frames, "threads": args.threads, "ranks": args.ranks, "cache": args.cache,
        "cpu_model": cpu_model(), "logical_cpus": os.cpu_count(),
        "busy": any(r["busy_cores_before"] > args.busy_threshold for r in rounds),
        "mdanalysis_ratio": spread([r["mdanalysis_ratio"] for r in rounds]),
        "mdanalysis_memory_ratio": spread([r["mdanalysis_memory_ratio"] for r in rounds]),
        "calcine_rss_bytes": spread([c["rss"] for r in rounds for c in r["calcine"]]),
        "D": ds, "rounds": rounds,
    }
    line = (f"  speed-up MDAnalysis/calcine: median {result['mdanalysis_ratio']['median']:.1f}x "
            f"(min {result['mdanalysis_ratio']['min']:.1f}, max {result['mdanalysis_ratio']['max']:.1f}); "
            f"memory calcine/MDAnalysis median {result['mdanalysis_memory_ratio']['median']:.2f}")
    if not args.skip_kinisi:
        result["kinisi_ratio"] = spread([r["kinisi_ratio"] for r in rounds])
        result["kinisi_memory_ratio"] = spread([r["kinisi_memory_ratio"] for r in rounds])
        line += (f"\n  speed-up kinisi/calcine: median {result['kinisi_ratio']['median']:.1f}x "
                 f"(min {result['kinisi_ratio']['min']:.1f}, max {result['kinisi_ratio']['max']:.1f}); "
                 f"memory calcine/kinisi median {result['kinisi_memory_ratio']['median']:.2f}")
    print(line)
    if result["busy"]:
        print(f"  WARNING: other processes kept more than {args.busy_threshold} cores busy before some rounds: "
              "these figures are not to be quoted")
    stem = os.path.join(args.out, f"transport-{time.strftime('%Y%m%d-%H%M%S')}")
    with open(stem + ".json", "w") as f:
        json.dump({"command": sys.argv, "result": result}, f, indent=1)
    plot(result, stem + ".png")
    print(f"\nJSON: {stem}.json   plot: {stem}.png")


def plot(result, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 3.5))
    names = [n for n in ("kinisi", "mdanalysis") if f"{n}_ratio" in result]
    for k, n in enumerate(names):
        ratios = [r[f"{n}_ratio"] for r in result["rounds"]]
        ax.scatter([k] * len(ratios), ratios, color="tab:blue", s=18)
        ax.hlines(result[f"{n}_ratio"]["median"], k - 0.25, k + 0.25, color="tab:red")
    ax.set_yscale("log")
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels([f"{n} / calcine" for n in names])
    ax.set_ylabel("whole-process time ratio")
    ax.set_title(f"{result['atoms']} atoms x {result['frames']} frames on {result['cpu_model']}", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
