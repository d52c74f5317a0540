"""Cross-check with kinisi: the tracer diffusion coefficient of one random-walk trajectory
from `calcine transport` and from kinisi's DiffusionAnalyzer (GLS + MCMC with the
random-walk covariance) must agree within their joint error bars, and both must be within
their error bars of the exact D = w·a² of a continuous-time fcc lattice walk.

Usage: check_transport_kinisi.py path/to/calcine
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import scipp as sc
from ase import Atoms
from ase.io import write
from kinisi.analyze import DiffusionAnalyzer

calcine = os.path.abspath(sys.argv[1])
rng = np.random.default_rng(2024)

# Continuous-time random walk on an fcc lattice: z = 12 jumps of length a/sqrt(2), each at
# rate w, so D = z·w·ℓ²/6 = w·a².
a, w, dt, frames, walkers, box = 2.0, 0.5, 0.2, 600, 64, 24.0
jumps = np.array([[s1, s2, 0] for s1 in (-1, 1) for s2 in (-1, 1)] + [[s1, 0, s2] for s1 in (-1, 1) for s2 in (-1, 1)]
                 + [[0, s1, s2] for s1 in (-1, 1) for s2 in (-1, 1)], dtype=float) * a / 2
exact = w * a * a
counts = rng.poisson(len(jumps) * w * dt, size=(frames - 1, walkers))
steps = np.zeros((frames - 1, walkers, 3))
for k in range(frames - 1):
    for i in range(walkers):
        if counts[k, i]:
            steps[k, i] = jumps[rng.integers(0, len(jumps), counts[k, i])].sum(axis=0)
start = rng.uniform(0, box, (walkers, 3))
paths = np.concatenate([start[None], start[None] + np.cumsum(steps, axis=0)])

with tempfile.TemporaryDirectory() as tmp:
    traj = [Atoms("Li" * walkers, positions=p, cell=[box] * 3, pbc=True) for p in paths]
    for atoms in traj:
        atoms.wrap()
    xyz = os.path.join(tmp, "walk.xyz")
    write(xyz, traj, format="extxyz")
    with open(os.path.join(tmp, "in.toml"), "w") as f:
        f.write(f"""[transport]
trajectory = "walk.xyz"
temperature = 300
species = ["Li"]
masses = {{ Li = 6.94 }}
frame_interval = {dt}
drift = "none"
directory = "{tmp}/out"
""")
    subprocess.run([calcine, "--quiet", "transport", "in.toml"], check=True, cwd=tmp, stdout=subprocess.DEVNULL)
    with open(os.path.join(tmp, "out", "transport.json")) as f:
        result = json.load(f)
    d_calcine = result["diffusion"][0]["value"]
    se_calcine = result["diffusion"][0]["std_error"]
    start_dt = result["fit_window"][0]

    analyzer = DiffusionAnalyzer.from_ase(
        traj, specie="Li", time_step=dt * sc.Unit("ps"), step_skip=1 * sc.Unit("dimensionless"), progress=False
    )
    analyzer.diffusion(start_dt=start_dt * sc.Unit("ps"), progress=False, random_state=np.random.RandomState(7))
    samples = sc.to_unit(analyzer.D, "angstrom**2/ps").values
    d_kinisi, se_kinisi = float(np.mean(samples)), float(np.std(samples))

print(f"exact D {exact:.5f} A^2/ps; calcine {d_calcine:.5f} +- {se_calcine:.5f}; kinisi {d_kinisi:.5f} +- {se_kinisi:.5f}")
joint = np.hypot(se_calcine, se_kinisi)
assert abs(d_calcine - d_kinisi) < 3 * joint, "calcine and kinisi disagree beyond their joint error bars"
assert abs(d_calcine - exact) < 3 * se_calcine, "calcine is more than 3 standard errors from the exact D"
assert abs(d_kinisi - exact) < 3 * se_kinisi, "kinisi is more than 3 standard errors from the exact D"
assert 0.5 < se_calcine / se_kinisi < 2.0, "the two error bars differ by more than a factor of 2"
print("kinisi cross-check passed")
