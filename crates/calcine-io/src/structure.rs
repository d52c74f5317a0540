//! A starting configuration ([`Structure`]): what a data file holds and what a run starts from.

use std::path::Path;

use calcine_core::{AtomId, Atoms, SimBox, SpeciesId, SpeciesTable, Vec3};

use crate::{Frame, IoError, PositionKind};

/// A whole configuration: the box, the species and the owned atoms, sorted by [`AtomId`].
///
/// Readers never wrap positions into the box: a file's positions come back bit for bit,
/// with image flags where the file has them and `[0, 0, 0]` otherwise. Call
/// [`Structure::wrap_into_box`] before handing the atoms to a domain decomposition.
#[derive(Debug, Clone, PartialEq)]
pub struct Structure {
    pub simbox: SimBox,
    pub species: SpeciesTable,
    pub atoms: Atoms,
}

impl Structure {
    /// This structure as a frame (velocities and image flags included) at `step` and
    /// `time` (ps).
    pub fn to_frame(&self, step: u64, time: f64) -> Frame {
        let n = self.atoms.n_owned();
        Frame {
            step: Some(step),
            time: Some(time),
            simbox: self.simbox.clone(),
            species_table: self.species.clone(),
            ids: self.atoms.ids[..n].to_vec(),
            species: self.atoms.species[..n].to_vec(),
            positions: self.atoms.positions[..n].to_vec(),
            position_kind: PositionKind::Wrapped,
            velocities: Some(self.atoms.velocities[..n].to_vec()),
            forces: None,
            images: Some(self.atoms.images[..n].to_vec()),
            per_atom_energy: None,
            per_atom_virial: None,
            extra: Vec::new(),
            info: Default::default(),
        }
    }

    /// Wraps every owned atom into the box along periodic axes and adds the removed
    /// periodic shifts to its image flags, so unwrapped positions do not change.
    pub fn wrap_into_box(&mut self) {
        let atoms = &mut self.atoms;
        for atom_idx in 0..atoms.n_owned() {
            let shift = self.simbox.wrap(&mut atoms.positions[atom_idx]);
            for axis in 0..3 {
                atoms.images[atom_idx][axis] += shift[axis];
            }
        }
    }
}

/// Builds owned atoms from per-atom vectors already checked by a reader, sorted by id.
pub(crate) fn atoms_sorted_by_id(
    order: &[usize],
    ids: &[u64],
    species: &[SpeciesId],
    positions: &[Vec3],
    velocities: &[Vec3],
    images: &[[i32; 3]],
) -> Atoms {
    let mut atoms = Atoms::with_capacity(order.len());
    for &k in order {
        atoms.push_owned(AtomId(ids[k]), species[k], positions[k], velocities[k], images[k]);
    }
    atoms
}

/// Checks that a species name can stand in a whitespace-separated column.
pub(crate) fn check_species_names(table: &SpeciesTable, path: &Path) -> Result<(), IoError> {
    for (_, species) in table.iter() {
        let name = &species.name;
        if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c == '"' || c == '\'' || c == '#') {
            return Err(IoError::Unwritable {
                path: path.to_path_buf(),
                reason: format!("species name '{name}' is empty or holds whitespace, quotes or '#'"),
            });
        }
    }
    Ok(())
}
