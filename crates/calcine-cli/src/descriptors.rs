//! `calcine descriptors`: per-atom SNAP bispectrum components of a structure (LAMMPS
//! `compute sna/atom`), for fitting potentials or classifying local environments.

use crate::report::say;
use anyhow::Result;
use calcine_potential::{NeighborKind, Potential};
use std::path::Path;

/// Writes one CSV row per atom, in `AtomId` order: `id, species, x, y, z`, then the
/// components `B1 … BK` (and, for a quadratic potential, the quadratic columns `Q…` in the
/// order of the coefficient file), with the parameters of the input's SNAP potential
/// (`[potential] style = "snap"`, or a SNAP member of an overlay).
pub fn descriptors(path: &Path, output: &Path) -> Result<()> {
    let (system, snap) = calcine_input::read_snap_structure(path)?;
    let atoms = system.atoms.into_atoms(|_| true);
    let state = calcine_md::prepare_single(&system.simbox, &atoms, NeighborKind::Full, snap.cutoff(), 0.0)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let b = snap.compute_bispectrum(state.atoms(), state.neighbors())?;
    let n_linear = snap.model().n_descriptors;
    let columns: Vec<String> = (0..b.n_columns)
        .map(|k| if k < n_linear { format!("B{}", k + 1) } else { format!("Q{}", k - n_linear + 1) })
        .collect();
    calcine_io::write_per_atom_csv(output, state.atoms(), &system.species, &columns, &b.values)?;
    say(format_args!("{} atoms × {} components written to {}", state.atoms().n_owned(), b.n_columns, output.display()));
    Ok(())
}
