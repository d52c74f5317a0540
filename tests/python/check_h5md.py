"""H5MD written by calcine read by h5py and MDAnalysis, and H5MD written by MDAnalysis read
by calcine (issue 10's interoperability checks), run by scripts/test.sh.

1. The same run twice, once with an extended XYZ trajectory (read by ASE) and once with an
   H5MD one: h5py gives bit-identical positions, velocities and box lengths to ASE's, and
   MDAnalysis's H5MD reader the same (to its float32 storage), with times in ps.
   With `h5md_fields = ["velocity", "image", "force"]`, forces too: h5py gives ASE's
   forces bit for bit, and MDAnalysis reads them once eV/Angstrom is registered with it
   (MDAnalysis 2.11 knows no eV force unit; the registration is in docs/input.md).
2. Every column of the thermo CSV equals its H5MD observable bit for bit at the frames'
   steps (step, time and the pressure tensor included), for that EAM run and for an ACE run
   with the extrapolation grade (max_gamma).
3. MDAnalysis writes an H5MD file; calcine starts a run from its second frame and writes it
   back as extended XYZ at step 0: ASE reads MDAnalysis's positions and box exactly.

    .venv/bin/python tests/python/check_h5md.py ./target/release/calcine
"""
import os
import subprocess
import sys
import tempfile

import csv

import h5py
import numpy as np
from ase.io import read

calcine = os.path.abspath(sys.argv[1])
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
potential = os.path.join(root, "tests", "data", "potentials", "Cu_u3.eam")
ace = os.path.join(root, "tests", "data", "ace")
EAM = f'style = "eam"\nfiles = {{ Cu = "{potential}" }}'
ACE = f'style = "ace"\nfile = "{ace}/CuNi-gamma.yaml"\nactive_set = "{ace}/CuNi-gamma-linear.asi"'
ALL_FIELDS = 'h5md_fields = ["velocity", "image", "force"]'

# The H5MD observable of each thermo CSV column: (observable, column of its value).
OBSERVABLE_OF = {
    "temp_K": ("temperature", None),
    "pe_eV": ("potential_energy", None),
    "ke_eV": ("kinetic_energy", None),
    "etotal_eV": ("total_energy", None),
    "econserved_eV": ("conserved_energy", None),
    "press_bar": ("pressure", None),
    "volume_A3": ("volume", None),
    "press_pair_bar": ("pressure_pair", None),
    "max_gamma": ("max_gamma", None),
    **{f"p{c}_bar": ("pressure_tensor", k) for k, c in enumerate(["xx", "yy", "zz", "xy", "xz", "yz"])},
}


def check_observables(h5, thermo_csv):
    """Every thermo column at every frame's step equals the H5MD observable bit for bit."""
    with open(thermo_csv) as f:
        rows = {int(r["step"]): r for r in csv.DictReader(f)}
    columns = list(next(iter(rows.values())))
    with h5py.File(h5) as f:
        obs = f["observables"]
        steps = obs["temperature/step"][:]
        assert list(steps) == list(f["particles/all/position/step"][:])
        assert set(rows) >= set(steps), (sorted(rows), list(steps))
        for column in columns:
            if column == "step":
                continue
            if column == "time_ps":
                got, want = obs["temperature/time"][:], [float(rows[s][column]) for s in steps]
            else:
                name, k = OBSERVABLE_OF[column]
                value = obs[f"{name}/value"][:]
                got = value if k is None else value[:, k]
                want = [float(rows[s][column]) for s in steps]
                assert list(obs[f"{name}/step"][:]) == list(steps), name
            assert np.array_equal(np.asarray(got, dtype=np.float64), np.asarray(want)), f"{h5}: {column}"
    return columns


def run(tmp, name, system, trajectory, steps, every, pot=EAM, extra=""):
    path = os.path.join(tmp, f"{name}.toml")
    with open(path, "w") as f:
        f.write(f"""[system]
{system}
[potential]
{pot}
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
{extra}
""")
    subprocess.run([calcine, "--quiet", "run", "--overwrite", path], check=True)
    return os.path.join(tmp, name, trajectory)


with tempfile.TemporaryDirectory() as tmp:
    lattice = 'lattice = "fcc"\na = 3.615\ncells = [4, 4, 5]\nspecies = "Cu"'
    xyz = run(tmp, "xyz", lattice, "traj.xyz", 60, 20)
    h5 = run(tmp, "h5", lattice, "traj.h5", 60, 20, extra=ALL_FIELDS)
    frames = read(xyz, index=":")
    with h5py.File(h5) as f:
        pos = f["particles/all/position/value"][:]
        vel = f["particles/all/velocity/value"][:]
        force = f["particles/all/force/value"][:]
        assert f["particles/all/force/value"].attrs["unit"] == "eV Angstrom-1"
        edges = f["particles/all/box/edges/value"][:]
        steps = f["particles/all/position/step"][:]
        assert list(f["h5md"].attrs["version"]) == [1, 1]
        assert f["particles/all/position/value"].attrs["unit"] == "Angstrom"
    assert len(frames) == pos.shape[0] == 4, (len(frames), pos.shape)
    for k, atoms in enumerate(frames):
        assert np.array_equal(atoms.positions, pos[k]), f"frame {k}: positions differ"
        assert np.array_equal(atoms.arrays["velo"], vel[k]), f"frame {k}: velocities differ"
        assert np.array_equal(atoms.get_forces(), force[k]), f"frame {k}: forces differ"
        assert np.array_equal(atoms.cell.lengths(), edges[k]), f"frame {k}: box differs"
    print(f"h5py: {pos.shape[0]} frames of {pos.shape[1]} atoms (positions, velocities, forces) bit-identical to ASE's reading of the same run; steps {list(steps)}")

    columns = check_observables(h5, os.path.join(tmp, "h5", "thermo.csv"))
    print(f"EAM: the {len(columns)} thermo CSV columns equal their H5MD observables bit for bit")
    gamma = run(tmp, "gamma", f'file = "{ace}/CuNi-gamma-crystal.xyz"\nmasses = {{ Cu = 63.546, Ni = 58.6934 }}',
                "traj.h5", 20, 10, pot=ACE, extra=ALL_FIELDS)
    columns = check_observables(gamma, os.path.join(tmp, "gamma", "thermo.csv"))
    assert "max_gamma" in columns, columns
    print(f"ACE with gamma: the {len(columns)} thermo CSV columns (max_gamma included) equal their H5MD observables bit for bit")

    # MDAnalysis 2.11 refuses a force unit it does not know, and it knows no eV: register
    # eV/Angstrom (1 eV/Angstrom = 96.485332 kJ/(mol Angstrom)), as docs/input.md says.
    import MDAnalysis.units
    from MDAnalysis.coordinates.H5MD import H5MDReader
    H5MDReader._unit_translation["force"]["eV Angstrom-1"] = "eV/Angstrom"
    MDAnalysis.units.forceUnit_factor["eV/Angstrom"] = 1 / 96.48533212331002
    r = H5MDReader(h5, convert_units=False)
    assert r.n_frames == 4 and r.n_atoms == pos.shape[1]
    for k, ts in enumerate(r):
        assert np.array_equal(ts.positions, pos[k].astype(np.float32)), f"MDAnalysis frame {k}: positions"
        assert np.array_equal(ts.velocities, vel[k].astype(np.float32)), f"MDAnalysis frame {k}: velocities"
        assert np.array_equal(ts.forces, force[k].astype(np.float32)), f"MDAnalysis frame {k}: forces"
        assert np.allclose(ts.dimensions[:3], edges[k], rtol=0, atol=1e-5) and np.allclose(ts.dimensions[3:], 90)
        assert abs(ts.time - 0.04 * k) < 1e-12, ts.time
    print("MDAnalysis H5MDReader: the same positions, velocities, forces, box and times")
    converted = H5MDReader(h5)
    for k, ts in enumerate(converted):
        want = (force[k] * 96.48533212331002).astype(np.float32)
        assert np.allclose(ts.forces, want, rtol=1e-6, atol=0), f"MDAnalysis frame {k}: converted forces"
    converted.close()
    print("MDAnalysis H5MDReader with unit conversion: forces in kJ/(mol Angstrom) as registered")

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
