//! The atoms of a run: from a lattice or a structure file.

use crate::input::InputFile;
use anyhow::{bail, Context, Result};
use calcine_core::lattice::{Lattice, LatticeKind};
use calcine_core::{Atoms, SimBox, SpeciesTable};

/// Box, species and atoms of the whole system, before decomposition.
#[derive(Debug)]
pub struct System {
    pub simbox: SimBox,
    pub species: SpeciesTable,
    pub atoms: AtomSource,
}

/// Where the atoms come from. A lattice is made only once the decomposition is known, each
/// rank making its own atoms: a million-atom crystal is never held whole by every rank.
#[derive(Debug)]
pub enum AtomSource {
    Given(Atoms),
    Lattice(Lattice, calcine_core::SpeciesId),
}

impl AtomSource {
    pub fn n_atoms(&self) -> usize {
        match self {
            AtomSource::Given(a) => a.n_owned(),
            AtomSource::Lattice(l, _) => l.n_atoms(),
        }
    }

    /// The atoms at which `keep(position)` holds (all of them for a structure file; the
    /// engine keeps its own part of those).
    pub fn into_atoms(self, keep: impl Fn(&calcine_core::Vec3) -> bool) -> Atoms {
        match self {
            AtomSource::Given(a) => a,
            AtomSource::Lattice(l, s) => l.build_where(s, keep),
        }
    }
}

/// Builds the system of the input's `[system]` table.
pub fn build_system(file: &InputFile) -> Result<System> {
    let s = &file.input.system;
    let mut system = match (&s.lattice, &s.file) {
        (Some(_), Some(f)) => bail!("{}: give either lattice or file in [system], not both", file.at(f)),
        (None, None) => {
            bail!("{}: [system] needs a lattice (with a, cells, species) or a structure file", file.path.display())
        }
        (Some(kind), None) => {
            let lattice_kind: LatticeKind =
                kind.get_ref().parse().map_err(|e: String| anyhow::anyhow!("{}: {e}", file.at(kind)))?;
            let Some(a) = s.a else { bail!("{}: the lattice needs its constant a (Å)", file.at(kind)) };
            if !(a > 0.0 && a.is_finite()) {
                bail!("{}: lattice constant a must be positive, got {a}", file.at_key("a"));
            }
            let cells = s.cells.unwrap_or([1, 1, 1]);
            if cells.contains(&0) {
                bail!("{}: cells must all be at least 1, got {cells:?}", file.at_key("cells"));
            }
            let Some(name) = &s.species else {
                bail!("{}: the lattice needs a species name (species = \"Cu\")", file.at(kind))
            };
            let mut species = SpeciesTable::default();
            let id = species.find_or_add(name.get_ref(), f64::NAN);
            let mut lattice = Lattice::new(lattice_kind, a).replicate(cells);
            if let Some(c) = s.c_over_a {
                lattice.c_over_a = c;
            }
            System { simbox: lattice.simbox(), species, atoms: AtomSource::Lattice(lattice, id) }
        }
        (None, Some(path)) => {
            let resolved = file.resolve(path.get_ref());
            let ext = resolved.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
            let structure = match ext.as_str() {
                "xyz" | "extxyz" => calcine_io::read_extxyz_any_species(&resolved)?.structure,
                "data" | "lmp" | "lammps" => {
                    let Some(types) = &s.types else {
                        bail!("{}: a LAMMPS data file needs types = [\"El1\", …] naming its atom types", file.at(path));
                    };
                    let names: Vec<&str> = types.get_ref().iter().map(String::as_str).collect();
                    calcine_io::read_lammps_data(&resolved, &names)?
                }
                _ => bail!(
                    "{}: cannot tell the format of '{}': use .xyz/.extxyz or .data/.lmp/.lammps",
                    file.at(path),
                    resolved.display()
                ),
            };
            let mut structure = structure;
            structure.wrap_into_box();
            System { simbox: structure.simbox, species: structure.species, atoms: AtomSource::Given(structure.atoms) }
        }
    };
    for (name, &mass) in &s.masses {
        let Some(id) = system.species.find(name) else {
            bail!("{}: mass given for species '{name}', which the structure does not have", file.at_key(name));
        };
        if !(mass > 0.0 && mass.is_finite()) {
            bail!("{}: mass of '{name}' must be positive, got {mass}", file.at_key(name));
        }
        system.species.get_mut(id).mass = mass;
    }
    if system.atoms.n_atoms() == 0 {
        bail!("{}: the system has no atoms", file.path.display());
    }
    Ok(system)
}

/// Fills in masses the potential prescribes (as LAMMPS's EAM styles do) unless the input
/// set them, and checks that every species has one.
pub fn apply_masses(file: &InputFile, system: &mut System, from_potential: Option<Vec<f64>>) -> Result<()> {
    if let Some(masses) = from_potential {
        for (k, m) in masses.into_iter().enumerate() {
            let id = calcine_core::SpeciesId(k as u32);
            if !file.input.system.masses.contains_key(&system.species.get(id).name) {
                system.species.get_mut(id).mass = m;
            }
        }
    }
    for (_, sp) in system.species.iter() {
        if !(sp.mass > 0.0 && sp.mass.is_finite()) {
            return Err(anyhow::anyhow!(
                "{}: species '{}' has no mass: the structure file and the potential give none; add masses = {{ {} = … }} to [system]",
                file.path.display(),
                sp.name,
                sp.name
            ))
            .context("checking masses");
        }
    }
    Ok(())
}
