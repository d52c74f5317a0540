//! `calcine descriptors`: per-atom SNAP bispectrum components of a structure (LAMMPS
//! `compute sna/atom`), for fitting potentials or classifying local environments.

use crate::input::{InputFile, PotentialInput};
use crate::registry::{snap_evaluator, snap_source, SnapSource};
use crate::system::build_system;
use anyhow::{bail, Context, Result};
use calcine_comm::SerialComm;
use calcine_domain::Domain;
use calcine_neighbor::{NeighborKind, NeighborList};
use calcine_potential::Potential;
use calcine_snap::Snap;
use std::io::{BufWriter, Write};
use std::path::Path;

/// Writes one CSV row per atom, in `AtomId` order: `id, species, x, y, z`, then the
/// components `B1 … BK` (and, for a quadratic potential, the quadratic columns `Q…` in the
/// order of the coefficient file), with the parameters of the input's SNAP potential
/// (`[potential] style = "snap"`, or a SNAP member of an overlay).
pub fn descriptors(path: &Path, output: &Path) -> Result<()> {
    let file = InputFile::read(path)?;
    let system = build_system(&file)?;
    let snap = find_snap(&file, &file.input.potential, &system.species.names())?
        .with_context(|| format!("{}: descriptors need a snap potential", file.at_key("style")))?;
    let mut atoms = system.atoms.into_atoms(|_| true);
    let mut domain = Domain::new(SerialComm::new(system.simbox.periodic()), system.simbox.clone());
    domain.migrate(&mut atoms, 0).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    domain.build_ghosts(&mut atoms, snap.cutoff());
    let mut list = NeighborList::new(NeighborKind::Full, snap.cutoff(), 0.0);
    if let Err(e) = list.build(&atoms) {
        bail!("{}: atom {} has a non-finite position", path.display(), atoms.ids[e.atom_idx].0);
    }
    let b = snap.compute_bispectrum(&atoms, &list)?;
    let n_linear = snap.model().n_descriptors;
    let mut order: Vec<usize> = (0..atoms.n_owned()).collect();
    order.sort_by_key(|&i| atoms.ids[i]);
    let names = system.species.names();
    let mut out =
        BufWriter::new(std::fs::File::create(output).with_context(|| format!("cannot create {}", output.display()))?);
    write!(out, "id,species,x,y,z")?;
    for k in 0..b.n_columns {
        if k < n_linear {
            write!(out, ",B{}", k + 1)?;
        } else {
            write!(out, ",Q{}", k - n_linear + 1)?;
        }
    }
    writeln!(out)?;
    for i in order {
        let x = atoms.positions[i];
        write!(out, "{},{},{:?},{:?},{:?}", atoms.ids[i].0, names[atoms.species[i].index()], x.x, x.y, x.z)?;
        for v in b.row(i) {
            write!(out, ",{v:?}")?;
        }
        writeln!(out)?;
    }
    out.flush().with_context(|| format!("writing {}", output.display()))?;
    println!("{} atoms × {} components written to {}", atoms.n_owned(), b.n_columns, output.display());
    Ok(())
}

/// The SNAP part of a potential input, built for `species`.
fn find_snap(file: &InputFile, p: &PotentialInput, species: &[String]) -> Result<Option<Snap>> {
    Ok(match p {
        PotentialInput::Snap { file: include, coeff, param, evaluator } => {
            let (coeff, param) = match snap_source(file, include, coeff, param)? {
                SnapSource::Include(inc) => (inc.coeff_file, inc.param_file),
                SnapSource::Files(coeff, param) => (coeff, param),
            };
            Some(
                Snap::read(coeff, param, species)
                    .with_context(|| file.at_key("style"))?
                    .with_evaluator(snap_evaluator(*evaluator)),
            )
        }
        PotentialInput::Overlay { members } => {
            let mut found = None;
            for m in members {
                if let Some(s) = find_snap(file, m, species)? {
                    found = Some(s);
                }
            }
            found
        }
        _ => None,
    })
}
