//! The one place that knows every potential: input styles to `Potential` objects
//! (LAMMPS's `PairStyle(...)` lines, as one `match`).

use calcine_core::SpeciesTable;
use calcine_eam::{Eam, EamEvaluator};
use calcine_potential::{AtomGrade, LennardJones, NeighborKind, Overlay, PairMode, Pairwise, Potential, Zbl};
use calcine_snap::{Snap, SnapFiles};

use crate::sections::PotentialSection;
use crate::{InputError, InputFile};

/// Builds the potential described by `p` for the run's species.
pub fn build_potential<T>(
    file: &InputFile<T>,
    p: &PotentialSection,
    species: &SpeciesTable,
) -> Result<Box<dyn Potential>, InputError> {
    build(file, p, species, EamEvaluator::Kernel)
}

/// Whether `p` is an EAM style whose evaluator the input leaves to calcine.
fn is_eam_without_evaluator(p: &PotentialSection) -> bool {
    matches!(
        p,
        PotentialSection::EamFuncfl { evaluator: None, .. }
            | PotentialSection::EamAlloy { evaluator: None, .. }
            | PotentialSection::EamFs { evaluator: None, .. }
    )
}

/// [`build_potential`], with `eam_default` for EAM styles that name no evaluator.
fn build<T>(
    file: &InputFile<T>,
    p: &PotentialSection,
    species: &SpeciesTable,
    eam_default: EamEvaluator,
) -> Result<Box<dyn Potential>, InputError> {
    let eam_evaluator = |key: &Option<crate::sections::EamEvaluatorKey>| key.map_or(eam_default, EamEvaluator::from);
    let names = species.names();
    let has = || names.join(", ");
    Ok(match p {
        PotentialSection::EamFuncfl { files, evaluator } => {
            if let Some(name) = files.keys().find(|name| species.find(name).is_none()) {
                return Err(file.invalid(
                    "files",
                    format!(
                        "potential file given for species '{name}', which the structure does not have (it has: {})",
                        has()
                    ),
                ));
            }
            let mut paths = Vec::new();
            for name in &names {
                let Some(path) = files.get(name) else {
                    return Err(file.invalid(
                        "files",
                        format!("no funcfl file for species '{name}' (add it to files = {{ {name} = \"...\" }})"),
                    ));
                };
                paths.push(file.resolve(path));
            }
            let eam =
                Eam::funcfl(&paths, &names).map_err(|e| file.load_error("files", "loading the eam potential", e))?;
            Box::new(eam.with_evaluator(eam_evaluator(evaluator)))
        }
        PotentialSection::EamAlloy { file: path, evaluator } => {
            let eam = Eam::setfl(file.resolve(path), &names)
                .map_err(|e| file.load_error("file", "loading the eam/alloy potential", e))?;
            Box::new(eam.with_evaluator(eam_evaluator(evaluator)))
        }
        PotentialSection::EamFs { file: path, evaluator } => {
            let eam = Eam::fs(file.resolve(path), &names)
                .map_err(|e| file.load_error("file", "loading the eam/fs potential", e))?;
            Box::new(eam.with_evaluator(eam_evaluator(evaluator)))
        }
        PotentialSection::Lj { pairs, shift } => {
            let mut table = Vec::new();
            for pair in pairs {
                let mut idx = [0usize; 2];
                for (k, name) in pair.species.iter().enumerate() {
                    idx[k] = species
                        .find(name)
                        .ok_or_else(|| {
                            file.invalid(
                                "species",
                                format!(
                                    "lj pair names species '{name}', which the structure does not have (it has: {})",
                                    has()
                                ),
                            )
                        })?
                        .index();
                }
                table.push((idx[0], idx[1], pair.epsilon, pair.sigma, pair.cutoff));
            }
            let lj = LennardJones::new(species.len(), &table, *shift)
                .map_err(|e| InputError::Invalid { at: file.at_key("pairs"), message: e.to_string() })?;
            Box::new(Pairwise::new(lj))
        }
        PotentialSection::Zbl { inner, outer, z } => {
            let mut charges = Vec::new();
            for name in &names {
                let Some(&zi) = z.get(name) else {
                    return Err(file.invalid(
                        "z",
                        format!("no nuclear charge for species '{name}' (add it to z = {{ {name} = ... }})"),
                    ));
                };
                charges.push(zi);
            }
            let zbl = Zbl::new(&charges, *inner, *outer)
                .map_err(|e| InputError::Invalid { at: file.at_key("inner"), message: e.to_string() })?;
            // Each pair once: ZBL's exponentials cost more than the fixed-point scatter.
            Box::new(Pairwise::with_mode(zbl, PairMode::Once))
        }
        PotentialSection::Snap { evaluator, .. } => {
            let (files, key) = snap_files(file, p)?;
            files
                .build(&names, (*evaluator).into())
                .map_err(|e| file.load_error(key, "loading the snap potential", e))?
        }
        PotentialSection::Ace { file: path, algorithm, evaluator, .. } => {
            let ace = calcine_ace::Ace::read(file.resolve(path), &names)
                .map_err(|e| file.load_error("file", "loading the ace potential", e))?;
            Box::new(ace.with_algorithm((*algorithm).into()).with_evaluator((*evaluator).into()))
        }
        PotentialSection::Overlay { members } => {
            // Members share one neighbor list. EAM members that name no evaluator follow
            // the others: the half-list kernel, or the full-list kernel when another member
            // (ZBL, LJ, SNAP, ACE) needs a full list.
            let mut built = Vec::with_capacity(members.len());
            for m in members {
                built.push(if is_eam_without_evaluator(m) {
                    None
                } else {
                    Some(build(file, m, species, eam_default)?)
                });
            }
            let needs_full = built.iter().flatten().any(|m| m.neighbor_kind() == NeighborKind::Full);
            let eam_default = if needs_full { EamEvaluator::FullList } else { EamEvaluator::Kernel };
            let built = members
                .iter()
                .zip(built)
                .map(|(m, b)| b.map_or_else(|| build(file, m, species, eam_default), Ok))
                .collect::<Result<Vec<_>, _>>()?;
            if built.iter().any(|m| m.neighbor_kind() != built[0].neighbor_kind()) {
                let lists = built
                    .iter()
                    .map(|m| {
                        let kind = if m.neighbor_kind() == NeighborKind::Full { "a full" } else { "a half" };
                        format!("{} needs {kind} list", m.name())
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(file.invalid(
                    "members",
                    format!(
                        "overlay members share one neighbor list, but {lists}: with full-list potentials, \
                         give EAM members evaluator = \"full-list\" (or no evaluator, which picks it)"
                    ),
                ));
            }
            Box::new(Overlay::new(built).map_err(|e| file.invalid("members", e.to_string()))?)
        }
    })
}

/// The files of a `style = "snap"` section, resolved, and the key errors about them
/// should point at.
fn snap_files<T>(file: &InputFile<T>, p: &PotentialSection) -> Result<(SnapFiles, &'static str), InputError> {
    let PotentialSection::Snap { file: include, coeff, param, .. } = p else {
        unreachable!("snap_files takes a snap section")
    };
    let resolve = |p: &Option<std::path::PathBuf>| p.as_ref().map(|p| file.resolve(p));
    let key = if include.is_some() { "file" } else { "coeff" };
    SnapFiles::from_keys(resolve(include), resolve(coeff), resolve(param))
        .map(|f| (f, key))
        .ok_or_else(|| file.invalid("style", SnapFiles::KEYS_HELP))
}

/// The SNAP part of a potential section (a `snap` style, or the last SNAP member of an
/// overlay), built for `species`; `None` if there is none.
pub fn find_snap<T>(file: &InputFile<T>, p: &PotentialSection, species: &[String]) -> Result<Option<Snap>, InputError> {
    Ok(match p {
        PotentialSection::Snap { evaluator, .. } => {
            let (files, _) = snap_files(file, p)?;
            Some(
                files
                    .snap(species, (*evaluator).into())
                    .map_err(|e| file.load_error("style", "loading the snap potential", e))?,
            )
        }
        PotentialSection::Overlay { members } => {
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

/// The per-atom grade a potential section asks for (ACE's extrapolation grade γ: an `ace`
/// style, or an overlay member, with `active_set`), built for `species`; `None` if none.
pub fn build_grade<T>(
    file: &InputFile<T>,
    p: &PotentialSection,
    species: &SpeciesTable,
) -> Result<Option<Box<dyn AtomGrade>>, InputError> {
    Ok(match p {
        PotentialSection::Ace { file: path, active_set: Some(asi), .. } => {
            let is_yaml =
                path.extension().is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"));
            if !is_yaml {
                return Err(file.invalid(
                    "active_set",
                    format!(
                        "active_set: the extrapolation grade needs the potential as pacemaker's B-basis .yaml (the file the active set was built from), not '{}'",
                        path.display()
                    ),
                ));
            }
            let names = species.names();
            let grade = calcine_ace::Extrapolation::read(file.resolve(path), file.resolve(asi), &names)
                .map_err(|e| file.load_error("active_set", "loading the ace active set", e))?;
            Some(Box::new(grade))
        }
        PotentialSection::Overlay { members } => {
            let mut found = None;
            for m in members {
                if let Some(g) = build_grade(file, m, species)? {
                    if found.is_some() {
                        return Err(file.invalid("active_set", "only one member of an overlay can have an active set"));
                    }
                    found = Some(g);
                }
            }
            found
        }
        _ => None,
    })
}
