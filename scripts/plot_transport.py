"""Plots of `calcine transport` outputs: for each run, the tracer MSDs and the collective
(cross-)MSDs with their fitted lines, the fit window shaded and the ±1 standard-error band
of the slope; the Arrhenius plot of several runs; the distribution of kinosons.

Usage: plot_transport.py OUTPUT_DIR   (writes PNG files next to the JSON and CSV files)
"""
import csv
import glob
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def read_csv(path):
    with open(path) as f:
        rows = list(csv.reader(f))
    header, data = rows[0], np.array(rows[1:], dtype=float)
    return {name: data[:, i] for i, name in enumerate(header)}


def fit_line(ax, t, fit, color):
    f = fit["fit"]
    slope, se, intercept = f["slope"]["value"], f["slope"]["std_error"], f["intercept"]["value"]
    w = (t >= f["start"]) & (t <= f["end"])
    tw = t[w]
    ax.plot(tw, intercept + slope * tw, color=color, lw=1.2, ls="--")
    ax.fill_between(tw, intercept + (slope - se) * tw, intercept + (slope + se) * tw, color=color, alpha=0.25, lw=0)


def plot_run(json_path):
    tag = os.path.basename(json_path)[len("transport"):-len(".json")]
    folder = os.path.dirname(json_path)
    with open(json_path) as f:
        r = json.load(f)
    c = read_csv(os.path.join(folder, f"curves{tag}.csv"))
    t = c["time_ps"]
    fits = {f["name"]: f for f in r["fits"]}
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    start, end = r["fit_window"]
    for ax in axes:
        ax.axvspan(start, end, color="0.92", zorder=0)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, s in enumerate(r["species"]):
        d = r["diffusion"][i]
        axes[0].plot(t, c[f"msd_{s}_A2"], color=colors[i % 10],
                     label=f"{s}: D* = {d['value']:.4g} ± {d['std_error']:.2g} Å²/ps")
        fit_line(axes[0], t, fits[f"msd {s}"], colors[i % 10])
    axes[0].set_xlabel("lag time (ps)")
    axes[0].set_ylabel("tracer MSD (Å²)")
    axes[0].legend(fontsize=8)
    k = 0
    for i, a in enumerate(r["species"]):
        for b in r["species"][i:]:
            key = f"collective_{a}_{b}_A2"
            if key in c:
                axes[1].plot(t, c[key], color=colors[k % 10], label=f"⟨ΔX_{a}·ΔX_{b}⟩")
                name = f"collective {a} {b}"
                if name in fits and r["reference_frame"] == "barycentric":
                    fit_line(axes[1], t, fits[name], colors[k % 10])
                k += 1
    axes[1].set_xlabel("lag time (ps)")
    axes[1].set_ylabel("collective cross-MSD (Å²)")
    axes[1].legend(fontsize=8)
    fig.suptitle(f"{r['temperature']} K, {r['n_frames']} frames, fit window {start:.3g}–{end:.3g} ps "
                 f"({'automatic' if all(r['fit_window_automatic']) else 'given'})", fontsize=9)
    fig.tight_layout()
    out = os.path.join(folder, f"msd{tag}.png")
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def plot_arrhenius(path):
    with open(path) as f:
        a = json.load(f)
    kb = 8.617343e-5
    x = 1000.0 / np.array(a["temperatures"])
    fig, ax = plt.subplots(figsize=(5, 4))
    for i, s in enumerate(a["species"]):
        v = np.array([d["value"] for d in a["diffusion"][i]])
        e = np.array([d["std_error"] for d in a["diffusion"][i]])
        ax.errorbar(x, v, yerr=e, fmt="o", label=s)
        fit = a["diffusion_fits"][i]
        if fit:
            xs = np.linspace(x.min(), x.max(), 50)
            ax.plot(xs, fit["prefactor"]["value"] * np.exp(-fit["activation_energy"]["value"] * xs / (1000 * kb)),
                    lw=1, label=f"{s}: Ea = {fit['activation_energy']['value']:.3f} ± "
                                f"{fit['activation_energy']['std_error']:.3f} eV")
    ax.set_yscale("log")
    ax.set_xlabel("1000 / T (1/K)")
    ax.set_ylabel("D* (Å²/ps)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    out = path.replace(".json", ".png")
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def plot_kinosons(path):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    fig, ax = plt.subplots(figsize=(5, 4))
    for s in sorted({r["species"] for r in rows}):
        k = np.array([float(r["kinoson_A2_per_ps"]) for r in rows if r["species"] == s])
        k = k[k > 0]
        if len(k):
            ax.hist(np.log10(k), bins=60, weights=k, histtype="step", label=f"{s} (D = Σκ = {k.sum():.4g} Å²/ps)")
    ax.set_xlabel("log10 kinoson (Å²/ps)")
    ax.set_ylabel("contribution to D (Å²/ps)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    out = path.replace("hops.csv", "kinosons.png")
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def main():
    folder = sys.argv[1]
    made = [plot_run(p) for p in sorted(glob.glob(os.path.join(folder, "transport*.json")))
            if not os.path.basename(p).startswith("transport_doc")]
    if os.path.exists(os.path.join(folder, "arrhenius.json")):
        made.append(plot_arrhenius(os.path.join(folder, "arrhenius.json")))
    if os.path.exists(os.path.join(folder, "hops.csv")):
        made.append(plot_kinosons(os.path.join(folder, "hops.csv")))
    print("\n".join(made))


if __name__ == "__main__":
    main()
