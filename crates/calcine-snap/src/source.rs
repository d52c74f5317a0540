//! Which files define a SNAP potential in an input: a LAMMPS include file (ZBL + SNAP, as
//! the published potentials come) or a coefficient and a parameter file alone.

use crate::{Evaluator, Snap, SnapInclude};
use calcine_potential::{Potential, PotentialError};
use std::path::PathBuf;

/// The files of a SNAP potential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnapFiles {
    /// A LAMMPS include file such as `W_2940_2017_2.snap`.
    Include(PathBuf),
    /// A `.snapcoeff` and a `.snapparam` file.
    Pair { coeff: PathBuf, param: PathBuf },
}

impl SnapFiles {
    /// How an input must name the files, for error messages.
    pub const KEYS_HELP: &'static str = "snap needs either file = \"X.snap\" (a LAMMPS include file, ZBL + SNAP) or both coeff = \"X.snapcoeff\" and param = \"X.snapparam\"";

    /// The files an input's keys name: `file` alone, or `coeff` and `param` together;
    /// `None` for any other combination (see [`SnapFiles::KEYS_HELP`]).
    pub fn from_keys(file: Option<PathBuf>, coeff: Option<PathBuf>, param: Option<PathBuf>) -> Option<Self> {
        match (file, coeff, param) {
            (Some(include), None, None) => Some(SnapFiles::Include(include)),
            (None, Some(coeff), Some(param)) => Some(SnapFiles::Pair { coeff, param }),
            _ => None,
        }
    }

    /// The potential the files define for species named `species`: SNAP alone, or ZBL +
    /// SNAP as the include file's `pair_style hybrid/overlay` says.
    pub fn build<S: AsRef<str>>(
        &self,
        species: &[S],
        evaluator: Evaluator,
    ) -> Result<Box<dyn Potential>, PotentialError> {
        match self {
            SnapFiles::Include(path) => SnapInclude::read(path)?.build(species, evaluator),
            SnapFiles::Pair { coeff, param } => {
                Ok(Box::new(Snap::read(coeff, param, species)?.with_evaluator(evaluator)))
            }
        }
    }

    /// The SNAP part alone (without an include file's ZBL), e.g. for descriptors.
    pub fn snap<S: AsRef<str>>(&self, species: &[S], evaluator: Evaluator) -> Result<Snap, PotentialError> {
        let (coeff, param) = match self {
            SnapFiles::Include(path) => {
                let include = SnapInclude::read(path)?;
                (include.coeff_file, include.param_file)
            }
            SnapFiles::Pair { coeff, param } => (coeff.clone(), param.clone()),
        };
        Ok(Snap::read(coeff, param, species)?.with_evaluator(evaluator))
    }
}
