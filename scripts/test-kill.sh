#!/usr/bin/env bash
# Crash safety: a run killed with SIGKILL at random moments 20 times and resumed each time
# (`calcine run --resume`) ends with the same thermo and trajectory bytes as a run that was
# never interrupted; then the same with an H5MD trajectory (HDF5 files are not appended
# byte by byte: there every dataset must hold the same values, compared with h5py).
# Run by scripts/test.sh after the Rust tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$PWD/target/release/calcine"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/base.toml" <<TOML
[system]
lattice = "fcc"
a = 3.615
cells = [8, 8, 8]
species = "Cu"
[potential]
style = "eam"
files = { Cu = "$PWD/tests/data/potentials/Cu_u3.eam" }
[run]
steps = 12000
timestep = 0.002
temperature = 2500
seed = 3
[integrator]
style = "langevin"
temperature = 2000
damping = 0.2
[neighbor]
skin = 0.5
[output]
directory = "DIR"
thermo_every = 10
trajectory = "traj.dump"
trajectory_every = 40
checkpoint_every = 40
TOML
same_trajectory() { # whole, killed
  case "$1" in
    *.h5) .venv/bin/python - "$1" "$2" <<'PY'
import sys
import h5py
import numpy as np

def datasets(path):
    out = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: out.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None)
    return out

a, b = datasets(sys.argv[1]), datasets(sys.argv[2])
bad = [k for k in a if k not in b or not np.array_equal(a[k], b[k])] + [k for k in b if k not in a]
frames = len(a.get("particles/all/position/step", []))
if bad:
    sys.exit(f"datasets differ: {bad}")
print(f"  ({len(a)} datasets, {frames} frames, equal)")
PY
      ;;
    *) cmp -s "$1" "$2" ;;
  esac
}

kill_case() { # trajectory file name
traj=$1
rm -rf "$work/whole" "$work/killed"
sed "s|DIR|$work/whole|; s|traj.dump|$traj|" "$work/base.toml" > "$work/whole.toml"
sed "s|DIR|$work/killed|; s|traj.dump|$traj|" "$work/base.toml" > "$work/killed.toml"
start=$(date +%s)
"$bin" --quiet --threads 2 run "$work/whole.toml" > /dev/null
whole_s=$(( $(date +%s) - start ))

echo "== crash safety ($traj): SIGKILL at 20 random moments, resumed each time =="
kills=0
finished=0
RANDOM=20261204
while [ "$kills" -lt 20 ]; do
  if [ -f "$work/killed/checkpoint.ckpt" ]; then mode=--resume; else mode=--overwrite; fi
  "$bin" --quiet --threads 2 run "$mode" "$work/killed.toml" > /dev/null 2> "$work/err" &
  pid=$!
  # Between 0.05 and 0.65 s: inside set-up, between steps, in the middle of a frame or
  # of a checkpoint. (The run is long enough for 20 kills of at most 0.65 s each, 13 s,
  # to leave it unfinished where the uninterrupted run takes 14 s, as on a 2-CPU EPYC.)
  sleep "0.$(printf '%02d' $(( 5 + RANDOM % 60 )))"
  if kill -9 "$pid" 2> /dev/null; then
    kills=$((kills + 1))
    wait "$pid" 2> /dev/null || true
  else
    wait "$pid" || { echo "  FAILED: a run exited with an error: $(cat "$work/err")"; exit 1; }
    finished=1
    break
  fi
done
step=$(tail -n 1 "$work/killed/thermo.csv" | cut -d, -f1)
echo "  $kills kills; the killed run's thermo had reached step $step"
if [ "$finished" -eq 0 ]; then
  "$bin" --quiet --threads 2 run --resume "$work/killed.toml" > /dev/null
fi
if cmp -s "$work/whole/thermo.csv" "$work/killed/thermo.csv" && same_trajectory "$work/whole/$traj" "$work/killed/$traj"; then
  echo "  ok: after $kills kills the thermo ($(wc -l < "$work/killed/thermo.csv") rows) and the trajectory $traj are the same as the uninterrupted run's (${whole_s}s)"
else
  echo "  FAILED: the resumed outputs differ from the uninterrupted run"
  cmp "$work/whole/thermo.csv" "$work/killed/thermo.csv" || true
  exit 1
fi
if [ "$kills" -lt 20 ]; then
  echo "  FAILED: the run finished after only $kills kills: make it longer"
  exit 1
fi
}

kill_case traj.dump
kill_case traj.h5
