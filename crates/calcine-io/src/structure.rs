//! What readers return ([`Structure`]) and what writers take ([`FrameRef`]).

use std::path::Path;

use calcine_core::{AtomId, Atoms, SimBox, SpeciesId, SpeciesTable, Vec3};

use crate::lines::sort_order;
use crate::IoError;

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
    /// A writer's view of this structure at `step` and `time` (ps), without forces.
    pub fn frame(&self, step: u64, time: f64) -> FrameRef<'_> {
        let n = self.atoms.n_owned();
        FrameRef {
            simbox: &self.simbox,
            species_table: &self.species,
            ids: &self.atoms.ids[..n],
            species: &self.atoms.species[..n],
            positions: &self.atoms.positions[..n],
            velocities: &self.atoms.velocities[..n],
            forces: None,
            images: Some(&self.atoms.images[..n]),
            step,
            time,
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

/// One frame as writers take it: borrowed per-atom slices plus the box, the species
/// table, the step and the time (ps).
///
/// The slices should be in [`AtomId`] order, as a gather by id produces them; writers sort
/// them by id if they are not. All slices must have the same length (a mismatch is a bug
/// in the caller and panics).
#[derive(Debug, Clone, Copy)]
pub struct FrameRef<'a> {
    pub simbox: &'a SimBox,
    pub species_table: &'a SpeciesTable,
    pub ids: &'a [AtomId],
    pub species: &'a [SpeciesId],
    /// Positions in Å.
    pub positions: &'a [Vec3],
    /// Velocities in Å/ps.
    pub velocities: &'a [Vec3],
    /// Forces in eV/Å; written only where the format has columns for them.
    pub forces: Option<&'a [Vec3]>,
    /// Periodic image flags; written only where the format has columns for them.
    pub images: Option<&'a [[i32; 3]]>,
    pub step: u64,
    /// Simulation time in ps.
    pub time: f64,
}

impl<'a> FrameRef<'a> {
    /// A frame at step 0, time 0, without forces or images.
    pub fn new(
        simbox: &'a SimBox,
        species_table: &'a SpeciesTable,
        ids: &'a [AtomId],
        species: &'a [SpeciesId],
        positions: &'a [Vec3],
        velocities: &'a [Vec3],
    ) -> Self {
        Self {
            simbox,
            species_table,
            ids,
            species,
            positions,
            velocities,
            forces: None,
            images: None,
            step: 0,
            time: 0.0,
        }
    }

    pub fn with_forces(mut self, forces: &'a [Vec3]) -> Self {
        self.forces = Some(forces);
        self
    }

    pub fn with_images(mut self, images: &'a [[i32; 3]]) -> Self {
        self.images = Some(images);
        self
    }

    pub fn at(mut self, step: u64, time: f64) -> Self {
        self.step = step;
        self.time = time;
        self
    }

    pub fn n_atoms(&self) -> usize {
        self.ids.len()
    }

    /// Checks the slices and species and returns the atom indices in increasing id order.
    pub(crate) fn write_order(&self, path: &Path) -> Result<Vec<usize>, IoError> {
        let n = self.ids.len();
        assert_eq!(self.species.len(), n, "frame has {n} ids but {} species", self.species.len());
        assert_eq!(self.positions.len(), n, "frame has {n} ids but {} positions", self.positions.len());
        assert_eq!(self.velocities.len(), n, "frame has {n} ids but {} velocities", self.velocities.len());
        if let Some(forces) = self.forces {
            assert_eq!(forces.len(), n, "frame has {n} ids but {} forces", forces.len());
        }
        if let Some(images) = self.images {
            assert_eq!(images.len(), n, "frame has {n} ids but {} image flags", images.len());
        }
        let unwritable = |reason: String| IoError::Unwritable { path: path.to_path_buf(), reason };
        if let Some(bad) = self.species.iter().find(|s| s.index() >= self.species_table.len()) {
            return Err(unwritable(format!(
                "species id {} is not in the species table ({} species)",
                bad.0,
                self.species_table.len()
            )));
        }
        if let Some(zero) = self.ids.iter().find(|id| id.0 == 0) {
            return Err(unwritable(format!("atom id {} is not positive", zero.0)));
        }
        let raw: Vec<u64> = self.ids.iter().map(|id| id.0).collect();
        sort_order(&raw).map_err(|(a, _)| unwritable(format!("atom id {} appears twice", raw[a])))
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
