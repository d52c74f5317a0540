"""Cross-check with ASE: an extended XYZ trajectory written by calcine must read back in
ASE (ase.io.read) with exactly the positions calcine wrote, and the box must match.

Usage: check_extxyz_ase.py path/to/calcine
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
from ase.io import read

calcine = os.path.abspath(sys.argv[1])
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
potential = os.path.join(root, "tests", "data", "potentials", "CuNi.eam.alloy")

with tempfile.TemporaryDirectory() as tmp:
    inp = os.path.join(tmp, "in.toml")
    with open(inp, "w") as f:
        f.write(f"""
[system]
lattice = "fcc"
a = 3.6
cells = [3, 3, 3]
species = "Cu"
[potential]
style = "eam/alloy"
file = "{potential}"
[run]
steps = 20
timestep = 0.002
temperature = 900
[output]
directory = "{tmp}"
thermo_every = 10
trajectory = "traj.xyz"
trajectory_every = 10
""")
    subprocess.run([calcine, "--quiet", "run", inp], check=True)
    frames = read(os.path.join(tmp, "traj.xyz"), index=":")
    assert len(frames) == 3, f"expected 3 frames, got {len(frames)}"
    # Parse the same file by hand, as text, and compare bit for bit with what ASE read.
    with open(os.path.join(tmp, "traj.xyz")) as f:
        lines = f.read().splitlines()
    k = 0
    for frame in frames:
        n = int(lines[k])
        header = lines[k + 1]
        rows = [line.split() for line in lines[k + 2 : k + 2 + n]]
        k += 2 + n
        mine = np.array([[float(v) for v in r[1:4]] for r in rows])
        assert mine.shape == frame.positions.shape
        assert np.array_equal(mine, frame.positions), "ASE positions differ from the text"
        assert all(r[0] == s for r, s in zip(rows, frame.get_chemical_symbols()))
        assert np.allclose(frame.cell.lengths(), [10.8, 10.8, 10.8], rtol=0, atol=1e-12)
        assert all(frame.pbc), "pbc lost"
    print(f"ASE read {len(frames)} frames of {len(frames[0])} atoms with identical positions")
