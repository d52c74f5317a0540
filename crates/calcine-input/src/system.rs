//! The atoms of a run (`[system]`): a lattice or a structure file.

use calcine_core::lattice::{Lattice, LatticeKind};
use calcine_core::{Atoms, SimBox, Species, SpeciesId, SpeciesTable, Vec3};
use calcine_io::Frame;
use std::path::{Path, PathBuf};
use toml::Spanned;

use crate::sections::SystemSection;
use crate::{InputError, InputFile};

/// Box, species and atoms of the whole system, before decomposition.
#[derive(Debug)]
pub struct System {
    pub simbox: SimBox,
    pub species: SpeciesTable,
    pub atoms: AtomSource,
    /// Where the atoms' starting velocities come from, for `validate` to say.
    pub velocities: String,
}

/// Where the atoms come from. A lattice is made only once the decomposition is known, each
/// rank making its own atoms: a million-atom crystal is never held whole by every rank.
#[derive(Debug)]
pub enum AtomSource {
    Given(Atoms),
    Lattice(Lattice, SpeciesId),
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
    pub fn into_atoms(self, keep: impl Fn(&Vec3) -> bool) -> Atoms {
        match self {
            AtomSource::Given(a) => a,
            AtomSource::Lattice(l, s) => l.build_where(s, keep),
        }
    }
}

/// Checks a lattice's keys and counts its atoms with checked arithmetic; nothing is
/// allocated, so an absurd replication is refused before it costs memory.
pub(crate) fn lattice_of<T>(file: &InputFile<T>, s: &SystemSection) -> Result<Option<(Lattice, u64)>, InputError> {
    let Some(kind) = &s.lattice else { return Ok(None) };
    let lattice_kind: LatticeKind =
        kind.get_ref().parse().map_err(|e: String| InputError::Invalid { at: file.at(kind), message: e })?;
    let Some(a) = s.a else {
        return Err(InputError::Invalid { at: file.at(kind), message: "the lattice needs its constant a (Å)".into() });
    };
    if !(a > 0.0 && a.is_finite()) {
        return Err(file.invalid("a", format!("lattice constant a must be positive, got {a}")));
    }
    let cells = s.cells.unwrap_or([1, 1, 1]);
    if cells.contains(&0) {
        return Err(file.invalid("cells", format!("cells must all be at least 1, got {cells:?}")));
    }
    let mut lattice = Lattice::new(lattice_kind, a);
    if let Some(c) = s.c_over_a {
        if !(c > 0.0 && c.is_finite()) {
            return Err(file.invalid("c_over_a", format!("c_over_a must be positive, got {c}")));
        }
        lattice.c_over_a = c;
    }
    let basis = lattice.n_atoms() as u64;
    let n = cells.iter().try_fold(basis, |n, &c| n.checked_mul(c)).filter(|&n| usize::try_from(n).is_ok());
    let Some(n) = n else {
        return Err(file.invalid(
            "cells",
            format!("cells = {cells:?} makes more than 2^64 atoms ({basis} per cell): the number overflows"),
        ));
    };
    let cells = cells.map(|c| c as usize);
    Ok(Some((lattice.replicate(cells), n)))
}

/// Builds the system of an input's `[system]` table.
pub(crate) fn build_system<T>(file: &InputFile<T>, s: &SystemSection) -> Result<System, InputError> {
    let mut system = match (&s.lattice, &s.file) {
        (Some(_), Some(f)) => {
            return Err(InputError::Invalid {
                at: file.at(f),
                message: "give either lattice or file in [system], not both".into(),
            })
        }
        (None, None) => {
            return Err(InputError::Invalid {
                at: file.at_file(),
                message: "[system] needs a lattice (with a, cells, species) or a structure file".into(),
            })
        }
        (Some(kind), None) => {
            let (lattice, _) = lattice_of(file, s)?.expect("a lattice is given");
            let Some(name) = &s.species else {
                return Err(InputError::Invalid {
                    at: file.at(kind),
                    message: "the lattice needs a species name (species = \"Cu\")".into(),
                });
            };
            let mut species = SpeciesTable::default();
            let id = species.find_or_add(name.get_ref(), f64::NAN);
            System {
                simbox: lattice.simbox(),
                species,
                atoms: AtomSource::Lattice(lattice, id),
                velocities: "none in a lattice".into(),
            }
        }
        (None, Some(path)) => {
            let resolved = file.resolve_structure(path.get_ref());
            let read_error = |e: calcine_io::IoError| InputError::Load {
                at: file.at(path),
                what: "reading the structure".into(),
                cause: e.to_string(),
            };
            let lower = resolved.to_string_lossy().to_ascii_lowercase();
            let stem = lower.trim_end_matches(".gz");
            let is = |exts: &[&str]| exts.iter().any(|e| stem.ends_with(&format!(".{e}")));
            let frame_index = s.frame.unwrap_or(0);
            let (structure, velocities) = if is(&["data", "lmp", "lammps"]) && !lower.ends_with(".gz") {
                if s.frame.is_some() {
                    return Err(
                        file.invalid("frame", "a LAMMPS data file holds one configuration: frame does not apply")
                    );
                }
                let names = type_names(file, s, path)?;
                let names: Vec<&str> = names.iter().map(String::as_str).collect();
                let structure = calcine_io::read_lammps_data(&resolved, &names).map_err(read_error)?;
                let v = if structure.atoms.velocities.iter().any(|v| *v != Vec3::zeros()) {
                    "from its Velocities section (Å/ps)"
                } else {
                    "none in the file"
                };
                (structure, v.to_string())
            } else if is(&["xyz", "extxyz"]) && frame_index == 0 && !lower.ends_with(".gz") {
                let frame = calcine_io::read_extxyz_any_species(&resolved).map_err(read_error)?;
                let v = velocity_source(&frame);
                (frame.into_structure(), v)
            } else if is(&["xyz", "extxyz", "dump", "lammpstrj", "h5", "h5md"]) {
                // Dumps number their types; H5MD files without species names too.
                let species = if is(&["dump", "lammpstrj"]) || s.types.is_some() {
                    let names = type_names(file, s, path)?;
                    SpeciesTable::new(names.iter().map(|n| Species { name: n.to_string(), mass: f64::NAN }).collect())
                } else {
                    SpeciesTable::default()
                };
                let frame = nth_frame(&resolved, species, frame_index).map_err(read_error)?.ok_or_else(|| {
                    InputError::Invalid {
                        at: file.at_key("frame"),
                        message: format!("'{}' has no frame {frame_index}", resolved.display()),
                    }
                })?;
                let v = velocity_source(&frame);
                (frame.into_structure(), v)
            } else {
                return Err(InputError::Invalid {
                    at: file.at(path),
                    message: format!(
                        "cannot tell the format of '{}': use .xyz/.extxyz, .dump/.lammpstrj (.gz too), .h5/.h5md or .data/.lmp/.lammps",
                        resolved.display()
                    ),
                });
            };
            let mut structure = structure;
            if let (Some(types), false) = (&s.types, is(&["data", "lmp", "lammps", "dump", "lammpstrj"])) {
                reorder_species(&mut structure, types.get_ref())
                    .map_err(|message| InputError::Invalid { at: file.at(types), message })?;
            }
            structure.wrap_into_box();
            System {
                simbox: structure.simbox,
                species: structure.species,
                atoms: AtomSource::Given(structure.atoms),
                velocities: format!("{} of {}", velocities, path.get_ref().display()),
            }
        }
    };
    for (name, &mass) in &s.masses {
        let Some(id) = system.species.find(name) else {
            return Err(
                file.invalid(name, format!("mass given for species '{name}', which the structure does not have"))
            );
        };
        if !(mass > 0.0 && mass.is_finite()) {
            return Err(file.invalid(name, format!("mass of '{name}' must be positive, got {mass}")));
        }
        system.species.get_mut(id).mass = mass;
    }
    if system.atoms.n_atoms() == 0 {
        return Err(InputError::Invalid { at: file.at_file(), message: "the system has no atoms".into() });
    }
    Ok(system)
}

/// The `types` of a LAMMPS data file or dump: species names of types 1, 2, …
fn type_names<T>(file: &InputFile<T>, s: &SystemSection, path: &Spanned<PathBuf>) -> Result<Vec<String>, InputError> {
    match &s.types {
        Some(types) => Ok(types.get_ref().clone()),
        None => Err(InputError::Invalid {
            at: file.at(path),
            message: "a LAMMPS data file or dump needs types = [\"El1\", …] naming its atom types".into(),
        }),
    }
}

/// Puts the species of `structure` in the order `types` declares (what dump type numbers
/// and H5MD species indices follow), keeping their masses; every species of the structure
/// must be declared, and declared species without atoms stay in the table.
fn reorder_species(structure: &mut calcine_io::Structure, types: &[String]) -> Result<(), String> {
    let old = &structure.species;
    let mut table = SpeciesTable::default();
    for name in types {
        let mass = old.find(name).map_or(f64::NAN, |id| old.get(id).mass);
        if table.find(name).is_some() {
            return Err(format!("species '{name}' is declared twice in types"));
        }
        table.find_or_add(name, mass);
    }
    let mut map = Vec::with_capacity(old.len());
    for (_, sp) in old.iter() {
        let id = table
            .find(&sp.name)
            .ok_or_else(|| format!("the structure has species '{}', which types does not declare", sp.name))?;
        map.push(id);
    }
    for s in &mut structure.atoms.species {
        *s = map[s.index()];
    }
    structure.species = table;
    Ok(())
}

/// Frame `index` of a trajectory (from the end when negative), streamed.
fn nth_frame(path: &Path, species: SpeciesTable, index: i64) -> Result<Option<Frame>, calcine_io::IoError> {
    let mut reader = calcine_io::open_frames(path, species)?;
    if index >= 0 {
        for _ in 0..index {
            if reader.read_frame()?.is_none() {
                return Ok(None);
            }
        }
        return reader.read_frame();
    }
    // From the end: keep the last |index| frames while streaming.
    let keep = index.unsigned_abs() as usize;
    let mut last: std::collections::VecDeque<Frame> = std::collections::VecDeque::with_capacity(keep);
    while let Some(f) = reader.read_frame()? {
        if last.len() == keep {
            last.pop_front();
        }
        last.push_back(f);
    }
    Ok(if last.len() == keep { last.pop_front() } else { None })
}

/// "from its velo column (Å/ps)", or "none in the file".
fn velocity_source(frame: &Frame) -> String {
    match &frame.velocities {
        Some(_) => "from the frame's velocities (Å/ps)".into(),
        None => "none in the file".into(),
    }
}

/// Fills in masses the potential prescribes (as LAMMPS's EAM styles do) unless the input
/// set them, and checks that every species has one.
pub(crate) fn apply_masses<T>(
    file: &InputFile<T>,
    s: &SystemSection,
    system: &mut System,
    from_potential: Option<Vec<f64>>,
) -> Result<(), InputError> {
    if let Some(masses) = from_potential {
        for (k, m) in masses.into_iter().enumerate() {
            let id = SpeciesId(k as u32);
            if !s.masses.contains_key(&system.species.get(id).name) {
                system.species.get_mut(id).mass = m;
            }
        }
    }
    for (_, sp) in system.species.iter() {
        if !(sp.mass > 0.0 && sp.mass.is_finite()) {
            return Err(InputError::Invalid {
                at: file.at_file(),
                message: format!(
                    "checking masses: species '{}' has no mass: the structure file and the potential give none; add masses = {{ {} = … }} to [system]",
                    sp.name, sp.name
                ),
            });
        }
    }
    Ok(())
}
