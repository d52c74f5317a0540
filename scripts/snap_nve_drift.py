"""Energy conservation of an NVE run from a calcine thermo CSV.

Prints the drift of the total energy (slope of a least-squares line, eV/atom/ps), the largest
excursion max |E(t) - E(0)| per atom, and the fluctuation about the line; writes a PNG of
the total energy per atom against time next to the thermo file.

Usage: snap_nve_drift.py thermo.csv n_atoms [label]
"""
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

path, n_atoms = sys.argv[1], int(sys.argv[2])
label = sys.argv[3] if len(sys.argv) > 3 else path
data = np.genfromtxt(path, delimiter=",", names=True)
t = data["time_ps"]
# NVE: the conserved energy is the total energy; use the conserved column so that the same
# analysis stays right for a thermostatted run.
e = data["econserved_eV"] / n_atoms
de = e - e[0]
slope, intercept = np.polyfit(t, e, 1)
residual = e - (slope * t + intercept)
kinetic = data["ke_eV"] / n_atoms

print(f"{label}: {n_atoms} atoms, {len(t)} thermo rows, {t[-1]:g} ps")
print(f"  T: {data['temp_K'][0]:.1f} K at t = 0, mean {data['temp_K'][len(t) // 2:].mean():.1f} K over the second half")
print(f"  E(0) = {e[0]:.9f} eV/atom, E(end) - E(0) = {de[-1]:+.3e} eV/atom")
print(f"  drift (linear fit): {slope:+.3e} eV/atom/ps ({slope * t[-1]:+.3e} eV/atom over the run,"
      f" {abs(slope * t[-1]) / kinetic.mean():.2e} of the mean kinetic energy)")
# Velocity Verlet's energy error depends on the state; starting from a perfect lattice (zero
# forces) it settles to a constant offset within the first few vibrations. A fit that leaves
# out the first tenth of the run separates that offset from a genuine drift.
late = t >= 0.1 * t[-1]
late_slope = np.polyfit(t[late], e[late], 1)[0]
print(f"  drift after {t[late][0]:g} ps:  {late_slope:+.3e} eV/atom/ps")
print(f"  max |E(t) - E(0)|:  {np.abs(de).max():.3e} eV/atom")
print(f"  rms about the line: {residual.std():.3e} eV/atom")

png = os.path.join(os.path.dirname(os.path.abspath(path)), "energy.png")
fig, ax = plt.subplots(figsize=(7, 4))
ax.plot(t, 1e6 * de, lw=1, label="E(t) − E(0)")
ax.plot(t, 1e6 * (slope * t + intercept - e[0]), "--", lw=1,
        label=f"linear fit: {slope:+.2e} eV/atom/ps")
ax.set_xlabel("time (ps)")
ax.set_ylabel("total energy change (µeV/atom)")
ax.set_title(label, fontsize=9)
ax.legend(fontsize=8)
fig.tight_layout()
fig.savefig(png, dpi=110)
print(f"  plot written to {png}")
