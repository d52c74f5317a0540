"""Plots a calcine thermo CSV: temperature, energies and pressure against time (PNG).

Usage: plot_thermo.py thermo.csv [out.png]
"""
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

path = sys.argv[1]
png = sys.argv[2] if len(sys.argv) > 2 else path.rsplit(".", 1)[0] + ".png"
data = np.genfromtxt(path, delimiter=",", names=True)
t = data["time_ps"]
fig, axes = plt.subplots(3, 1, figsize=(7, 8), sharex=True)
axes[0].plot(t, data["temp_K"], color="tab:red")
axes[0].set_ylabel("temperature (K)")
axes[1].plot(t, data["etotal_eV"] - data["etotal_eV"][0], label="total − initial")
axes[1].plot(t, data["econserved_eV"] - data["econserved_eV"][0], "--", label="conserved − initial")
axes[1].set_ylabel("energy change (eV)")
axes[1].legend(fontsize=8)
axes[2].plot(t, data["press_bar"] / 1e3, color="tab:green")
axes[2].set_ylabel("pressure (kbar)")
axes[2].set_xlabel("time (ps)")
axes[0].set_title(f"calcine thermo: {path}")
fig.tight_layout()
fig.savefig(png, dpi=110)
print(f"plot written to {png}")
