//! The one place that knows every potential: input styles to `Potential` objects
//! (LAMMPS's `PairStyle(...)` lines, as one `match`).

use crate::input::EvaluatorInput;
use crate::input::{InputFile, PotentialInput};
use anyhow::{bail, Context, Result};
use calcine_core::SpeciesTable;
use calcine_eam::{Eam, Evaluator};
use calcine_potential::{LennardJones, Overlay, Pairwise, Potential, Zbl};
use calcine_snap::{Snap, SnapInclude};
use std::path::PathBuf;

/// Builds the potential described by `p` for the run's species.
pub fn build_potential(file: &InputFile, p: &PotentialInput, species: &SpeciesTable) -> Result<Box<dyn Potential>> {
    let names = species.names();
    Ok(match p {
        PotentialInput::EamFuncfl { files, evaluator } => {
            for name in files.keys() {
                if species.find(name).is_none() {
                    bail!(
                        "{}: potential file given for species '{name}', which the structure does not have (it has: {})",
                        file.at_key("files"),
                        names.join(", ")
                    );
                }
            }
            let mut paths = Vec::new();
            for name in &names {
                let Some(path) = files.get(name) else {
                    bail!(
                        "{}: no funcfl file for species '{name}' (add it to files = {{ {name} = \"...\" }})",
                        file.at_key("files")
                    );
                };
                paths.push(file.resolve(path));
            }
            Box::new(
                Eam::funcfl(&paths, &names)
                    .with_context(|| format!("{}: loading the eam potential", file.at_key("files")))?
                    .with_evaluator(eam_evaluator(*evaluator)),
            )
        }
        PotentialInput::EamAlloy { file: path, evaluator } => Box::new(
            Eam::setfl(file.resolve(path), &names)
                .with_context(|| format!("{}: loading the eam/alloy potential", file.at_key("file")))?
                .with_evaluator(eam_evaluator(*evaluator)),
        ),
        PotentialInput::EamFs { file: path, evaluator } => Box::new(
            Eam::fs(file.resolve(path), &names)
                .with_context(|| format!("{}: loading the eam/fs potential", file.at_key("file")))?
                .with_evaluator(eam_evaluator(*evaluator)),
        ),
        PotentialInput::Lj { pairs, shift } => {
            let mut table = Vec::new();
            for pair in pairs {
                let mut idx = [0usize; 2];
                for (k, name) in pair.species.iter().enumerate() {
                    idx[k] = species
                        .find(name)
                        .with_context(|| {
                            format!(
                                "{}: lj pair names species '{name}', which the structure does not have (it has: {})",
                                file.at_key("species"),
                                names.join(", ")
                            )
                        })?
                        .index();
                }
                table.push((idx[0], idx[1], pair.epsilon, pair.sigma, pair.cutoff));
            }
            let lj = LennardJones::new(species.len(), &table, *shift).with_context(|| file.at_key("pairs"))?;
            Box::new(Pairwise::new(lj))
        }
        PotentialInput::Zbl { inner, outer, z } => {
            let mut charges = Vec::new();
            for name in &names {
                let Some(&zi) = z.get(name) else {
                    bail!(
                        "{}: no nuclear charge for species '{name}' (add it to z = {{ {name} = ... }})",
                        file.at_key("z")
                    );
                };
                charges.push(zi);
            }
            Box::new(Pairwise::new(Zbl::new(&charges, *inner, *outer).with_context(|| file.at_key("inner"))?))
        }
        PotentialInput::Snap { file: include, coeff, param, evaluator } => {
            let evaluator = snap_evaluator(*evaluator);
            match snap_source(file, include, coeff, param)? {
                SnapSource::Include(inc) => inc
                    .build(&names, evaluator)
                    .with_context(|| format!("{}: loading the snap potential", file.at_key("file")))?,
                SnapSource::Files(coeff, param) => Box::new(
                    Snap::read(coeff, param, &names)
                        .with_context(|| format!("{}: loading the snap potential", file.at_key("coeff")))?
                        .with_evaluator(evaluator),
                ),
            }
        }
        PotentialInput::Overlay { members } => {
            let built = members.iter().map(|m| build_potential(file, m, species)).collect::<Result<Vec<_>>>()?;
            Box::new(Overlay::new(built)?)
        }
    })
}

/// Where the potential of a `style = "snap"` input comes from.
pub enum SnapSource {
    /// A LAMMPS include file (ZBL + SNAP, as published).
    Include(SnapInclude),
    /// A coefficient and a parameter file.
    Files(PathBuf, PathBuf),
}

/// Reads what a snap input names: `file` (an include file) or both `coeff` and `param`.
pub fn snap_source(
    file: &InputFile,
    include: &Option<PathBuf>,
    coeff: &Option<PathBuf>,
    param: &Option<PathBuf>,
) -> Result<SnapSource> {
    match (include, coeff, param) {
        (Some(path), None, None) => Ok(SnapSource::Include(
            SnapInclude::read(file.resolve(path))
                .with_context(|| format!("{}: loading the snap potential", file.at_key("file")))?,
        )),
        (None, Some(coeff), Some(param)) => Ok(SnapSource::Files(file.resolve(coeff), file.resolve(param))),
        _ => bail!(
            "{}: snap needs either file = \"X.snap\" (a LAMMPS include file, ZBL + SNAP) or both coeff = \"X.snapcoeff\" and param = \"X.snapparam\"",
            file.at_key("style")
        ),
    }
}

pub fn snap_evaluator(e: EvaluatorInput) -> calcine_snap::Evaluator {
    match e {
        EvaluatorInput::Kernel => calcine_snap::Evaluator::Kernel,
        EvaluatorInput::Reference => calcine_snap::Evaluator::Reference,
    }
}

fn eam_evaluator(e: EvaluatorInput) -> Evaluator {
    match e {
        EvaluatorInput::Kernel => Evaluator::Kernel,
        EvaluatorInput::Reference => Evaluator::Reference,
    }
}
