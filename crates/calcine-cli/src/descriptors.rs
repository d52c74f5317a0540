//! `calcine descriptors`: per-atom SNAP bispectrum components of a structure (LAMMPS
//! `compute sna/atom`), for fitting potentials or classifying local environments.

use crate::input::{EamEvaluator, InputFile, PotentialInput};
use crate::system::{apply_masses, build_system};
use anyhow::{bail, Context, Result};
use calcine_comm::SerialComm;
use calcine_domain::Domain;
use calcine_neighbor::{NeighborKind, NeighborList};
use calcine_potential::Potential;
use calcine_snap::{Evaluator, Snap, SnapInclude};
use std::io::{BufWriter, Write};
use std::path::Path;

/// Writes one CSV row per atom, in `AtomId` order: `id, species, x, y, z`, then the
/// components `B1 … BK` (and, for a quadratic potential, the quadratic columns `Q…` in the
/// order of the coefficient file), with the parameters of the input's SNAP potential
/// (`[potential] style = "snap"`, or a SNAP member of an overlay).
pub fn descriptors(path: &Path, output: &Path) -> Result<()> {
    let file = InputFile::read(path)?;
    let mut system = build_system(&file)?;
    let snap = find_snap(&file, &file.input.potential, &system.species.names())?
        .with_context(|| format!("{}: descriptors need a snap potential", file.at_key("style")))?;
    apply_masses(&file, &mut system, None).ok();
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
            let evaluator = match evaluator {
                EamEvaluator::Kernel => Evaluator::Kernel,
                EamEvaluator::Reference => Evaluator::Reference,
            };
            let (coeff, param) = match (include, coeff, param) {
                (Some(inc), None, None) => {
                    let inc = SnapInclude::read(file.resolve(inc)).with_context(|| file.at_key("file"))?;
                    (inc.coeff_file, inc.param_file)
                }
                (None, Some(c), Some(p)) => (file.resolve(c), file.resolve(p)),
                _ => bail!("{}: snap needs either file or both coeff and param", file.at_key("style")),
            };
            Some(Snap::read(coeff, param, species).with_context(|| file.at_key("style"))?.with_evaluator(evaluator))
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
