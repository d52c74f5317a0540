"""H5MD written by calcine read by h5py and MDAnalysis, and H5MD written by MDAnalysis read
by calcine (issue 10's interoperability checks), run by scripts/test.sh.

1. The same run twice, once with an extended XYZ trajectory (read by ASE) and once with an
   H5MD one: h5py gives bit-identical positions, velocities and box lengths to ASE's, and
   MDAnalysis's H5MD reader the same (to its float32 storage), with times in ps.
2. MDAnalysis writes an H5MD file; calcine starts a run from its second frame and writes it
   back as extended XYZ at step 0: ASE reads MDAnalysis's positions and box exactly.

    .venv/bin/python tests/python/check_h5md.py ./target/release/calcine
"""
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np
from ase.io import read

calcine = os.path.abspath(sys.argv[1])
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
potential = os.path.join(root, "tests", "data", "potentials", "Cu_u3.eam")


def run(tmp, name, system, trajectory, steps, every):
    path = os.path.join(tmp, f"{name}.toml")
    with open(path, "w") as f:
        f.write(f"""[system]
{system}
[potential]
style = "eam"
files = {{ Cu = "{potential}" }}
[run]
steps = {steps}
timestep = 0.002
temperature = 1200
seed = 9
[integrator]
style = "langevin"
temperature = 1000
[output]
directory = "{os.path.join(tmp, name)}"
thermo_every = 10
trajectory = "{trajectory}"
trajectory_every = {every}
""")
    subprocess.run([calcine, "--quiet", "run", "--overwrite", path], check=True)
    return os.path.join(tmp, name, trajectory)


with tempfile.TemporaryDirectory() as tmp:
    lattice = 'lattice = "fcc"\na = 3.615\ncells = [4, 4, 5]\nspecies = "Cu"'
    xyz = run(tmp, "xyz", lattice, "traj.xyz", 60, 20)
    h5 = run(tmp, "h5", lattice, "traj.h5", 60, 20)
    frames = read(xyz, index=":")
    with h5py.File(h5) as f:
        pos = f["particles/all/position/value"][:]
        vel = f["particles/all/velocity/value"][:]
        edges = f["particles/all/box/edges/value"][:]
        steps = f["particles/all/position/step"][:]
        assert list(f["h5md"].attrs["version"]) == [1, 1]
        assert f["particles/all/position/value"].attrs["unit"] == "Angstrom"
    assert len(frames) == pos.shape[0] == 4, (len(frames), pos.shape)
    for k, atoms in enumerate(frames):
        assert np.array_equal(atoms.positions, pos[k]), f"frame {k}: positions differ"
        assert np.array_equal(atoms.arrays["velo"], vel[k]), f"frame {k}: velocities differ"
        assert np.array_equal(atoms.cell.lengths(), edges[k]), f"frame {k}: box differs"
    print(f"h5py: {pos.shape[0]} frames of {pos.shape[1]} atoms bit-identical to ASE's reading of the same run; steps {list(steps)}")

    from MDAnalysis.coordinates.H5MD import H5MDReader
    r = H5MDReader(h5)
    assert r.n_frames == 4 and r.n_atoms == pos.shape[1]
    for k, ts in enumerate(r):
        assert np.array_equal(ts.positions, pos[k].astype(np.float32)), f"MDAnalysis frame {k}: positions"
        assert np.array_equal(ts.velocities, vel[k].astype(np.float32)), f"MDAnalysis frame {k}: velocities"
        assert np.allclose(ts.dimensions[:3], edges[k], rtol=0, atol=1e-5) and np.allclose(ts.dimensions[3:], 90)
        assert abs(ts.time - 0.04 * k) < 1e-12, ts.time
    print("MDAnalysis H5MDReader: the same positions, velocities, box and times")

    # MDAnalysis writes; calcine reads.
    import MDAnalysis as mda
    from MDAnalysis.coordinates.H5MD import H5MDWriter
    n = 108
    u = mda.Universe.empty(n, trajectory=True, velocities=True)
    rng = np.random.default_rng(4)
    base = read(xyz, index=0)
    mda_path = os.path.join(tmp, "mda.h5md")
    u.trajectory.units = {"time": "ps", "length": "Angstrom", "velocity": "Angstrom/ps", "force": None}
    w = H5MDWriter(mda_path, n, velocities=True, positions=True, convert_units=False)
    for k in range(3):
        u.atoms.positions = (base.positions[:n] + rng.normal(scale=0.05, size=(n, 3))) % 14.46
        u.atoms.velocities = rng.normal(size=(n, 3))
        u.dimensions = [14.46, 14.46, 18.075, 90, 90, 90]
        u.trajectory.ts.time = 0.5 * k
        w.write(u)
    w.close()
    r.close()
    del w, r
    import gc
    gc.collect()
    with h5py.File(mda_path) as f:
        want_pos = f["particles/trajectory/position/value"][1].astype(np.float64)
    back = run(tmp, "frommda", f'file = "{mda_path}"\nframe = 1\ntypes = ["Cu"]', "start.xyz", 0, 1)
    got = read(back, index=0)
    assert np.array_equal(got.positions, want_pos), "calcine's start frame differs from MDAnalysis's frame 1"
    assert np.allclose(got.cell.lengths(), [14.46, 14.46, 18.075], rtol=0, atol=1e-5)
    print(f"calcine reads MDAnalysis's H5MD (frame 1 of 3, {n} atoms) exactly")
