//! The one place that knows every potential: input styles to `Potential` objects
//! (LAMMPS's `PairStyle(...)` lines, as one `match`).

use crate::input::EamEvaluator;
use crate::input::{InputFile, PotentialInput};
use anyhow::{bail, Context, Result};
use calcine_core::SpeciesTable;
use calcine_eam::{Eam, Evaluator};
use calcine_potential::{LennardJones, Overlay, Pairwise, Potential, Zbl};
use calcine_snap::{Snap, SnapInclude};

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
            let evaluator = match evaluator {
                EamEvaluator::Kernel => calcine_snap::Evaluator::Kernel,
                EamEvaluator::Reference => calcine_snap::Evaluator::Reference,
            };
            match (include, coeff, param) {
                (Some(path), None, None) => SnapInclude::read(file.resolve(path))
                    .and_then(|inc| inc.build(&names, evaluator))
                    .with_context(|| format!("{}: loading the snap potential", file.at_key("file")))?,
                (None, Some(coeff), Some(param)) => Box::new(
                    Snap::read(file.resolve(coeff), file.resolve(param), &names)
                        .with_context(|| format!("{}: loading the snap potential", file.at_key("coeff")))?
                        .with_evaluator(evaluator),
                ),
                _ => bail!(
                    "{}: snap needs either file = \"X.snap\" (a LAMMPS include file, ZBL + SNAP) or both coeff = \"X.snapcoeff\" and param = \"X.snapparam\"",
                    file.at_key("style")
                ),
            }
        }
        PotentialInput::Overlay { members } => {
            let built = members.iter().map(|m| build_potential(file, m, species)).collect::<Result<Vec<_>>>()?;
            Box::new(Overlay::new(built)?)
        }
    })
}

fn eam_evaluator(e: EamEvaluator) -> Evaluator {
    match e {
        EamEvaluator::Kernel => Evaluator::Kernel,
        EamEvaluator::Reference => Evaluator::Reference,
    }
}
