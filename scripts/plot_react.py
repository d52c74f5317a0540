"""Plots the output of `calcine react`: phase mole fractions against sweeps (mean over
realisations with a ±1 standard deviation band) with the temperature profile, and the
lattice slice coloured by phase (PNG).

Usage: plot_react.py OUTPUT_DIR [--min-fraction 1e-3]
Writes OUTPUT_DIR/fractions.png and OUTPUT_DIR/slice.png.
"""
import argparse
import csv
import os
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("dir")
ap.add_argument("--min-fraction", type=float, default=1e-4, help="hide phases whose mean never reaches this")
args = ap.parse_args()

rows = list(csv.DictReader(open(os.path.join(args.dir, "summary.csv"))))
series = defaultdict(list)
temps = {}
for r in rows:
    s = float(r["sweep"])
    series[r["phase"]].append((s, float(r["mole_fraction_mean"]), float(r["mole_fraction_std"])))
    temps[s] = float(r["temperature"])
fig, ax = plt.subplots(figsize=(8, 5))
for phase, v in sorted(series.items(), key=lambda kv: -max(x[1] for x in kv[1])):
    v = np.array(v)
    if v[:, 1].max() < args.min_fraction:
        continue
    (line,) = ax.plot(v[:, 0], v[:, 1], label=phase)
    ax.fill_between(v[:, 0], v[:, 1] - v[:, 2], v[:, 1] + v[:, 2], color=line.get_color(), alpha=0.2)
ax.set_yscale("log")
ax.set_xlabel("sweeps (site visits per site)")
ax.set_ylabel("mole fraction")
ax.legend(fontsize=8, loc="lower right")
tax = ax.twinx()
ts = sorted(temps)
tax.step(ts, [temps[s] for s in ts], where="post", color="black", linestyle=":", label="temperature")
tax.set_ylabel("temperature (K), dotted")
ax.set_title(f"calcine react: {os.path.abspath(args.dir)}", fontsize=9)
fig.tight_layout()
fig.savefig(os.path.join(args.dir, "fractions.png"), dpi=110)

cells = list(csv.DictReader(open(os.path.join(args.dir, "slice.csv"))))
n = int(round(len(cells) ** 0.5))
names = sorted({c["phase"] for c in cells})
grid = np.zeros((n, n), dtype=int)
for c in cells:
    grid[int(c["x"]), int(c["y"])] = names.index(c["phase"])
fig, ax = plt.subplots(figsize=(6, 5))
cmap = plt.get_cmap("tab20", len(names))
im = ax.imshow(grid.T, origin="lower", cmap=cmap, vmin=-0.5, vmax=len(names) - 0.5, interpolation="nearest")
bar = fig.colorbar(im, ticks=range(len(names)))
bar.ax.set_yticklabels(names, fontsize=8)
ax.set_xlabel("x (cells)")
ax.set_ylabel("y (cells)")
ax.set_title("final lattice, middle z plane, realisation 0", fontsize=9)
fig.tight_layout()
fig.savefig(os.path.join(args.dir, "slice.png"), dpi=110)
print(f"plots written to {args.dir}/fractions.png and slice.png")
