//! Per-atom tables as CSV: one row per atom in `AtomId` order with its id, species and
//! position, then named columns (descriptors, per-atom energies, extrapolation grades).

use std::io::Write;
use std::path::Path;

use calcine_core::{Atoms, SpeciesTable};

use crate::IoError;

/// Writes `id,species,x,y,z,<columns…>` with one row per owned atom of `atoms`, sorted by
/// id; `values` holds `columns.len()` numbers per owned atom in the atoms' order. Numbers
/// are written in Rust's shortest round-trip `Debug` form, so they read back bit for bit.
/// The file is written in one piece; nothing is left behind on error but what the OS kept.
pub fn write_per_atom_csv(
    path: &Path,
    atoms: &Atoms,
    species: &SpeciesTable,
    columns: &[String],
    values: &[f64],
) -> Result<(), IoError> {
    let n = atoms.n_owned();
    assert_eq!(values.len(), n * columns.len(), "per-atom table: values do not match atoms × columns");
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| atoms.ids[i]);
    let mut text = String::from("id,species,x,y,z");
    for c in columns {
        text.push(',');
        text.push_str(c);
    }
    text.push('\n');
    let width = columns.len();
    for i in order {
        let x = atoms.positions[i];
        text.push_str(&format!(
            "{},{},{:?},{:?},{:?}",
            atoms.ids[i].0,
            species.get(atoms.species[i]).name,
            x.x,
            x.y,
            x.z
        ));
        for v in &values[i * width..(i + 1) * width] {
            text.push_str(&format!(",{v:?}"));
        }
        text.push('\n');
    }
    let mut file = std::fs::File::create(path).map_err(|e| IoError::io(path, e))?;
    file.write_all(text.as_bytes()).and_then(|()| file.flush()).map_err(|e| IoError::io(path, e))
}
