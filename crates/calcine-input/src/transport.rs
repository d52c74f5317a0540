//! `calcine transport`: the `[transport]` table (and `[kinosons]`) of a transport input,
//! its checks and defaults (the defaults are `calcine_transport::TransportSpec`'s), made
//! into a [`TransportJob`]. Every key is documented on its field.
//!
//! ```toml
//! [transport]
//! trajectory = "traj.dump"       # or [[transport.runs]] with trajectory and temperature
//! temperature = 1000             # K
//! species = ["Li", "P", "S"]     # analysed species, in this order
//! charges = { Li = 1, P = 5, S = -2 }
//! types = ["Li", "P", "S"]       # LAMMPS dumps: species of types 1, 2, …
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use calcine_core::{Species, SpeciesTable, Vec3};
use calcine_transport::kinoson::{read_hop_list, Hop, Sites};
use calcine_transport::spec::{Drift, FitWindow, Method, Reference, SpeciesSpec, TransportSpec, Unwrap};
use calcine_transport::EstimateOptions;
use serde::Deserialize;

use crate::{InputError, InputFile};

/// A transport input: `[transport]` and, optionally, `[kinosons]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransportDocument {
    pub transport: TransportSection,
    pub kinosons: Option<KinosonSection>,
}

/// One trajectory at one temperature.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunEntry {
    pub trajectory: PathBuf,
    pub temperature: f64,
}

/// `[transport]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransportSection {
    /// The trajectory: `.xyz`/`.extxyz` or `.dump`/`.lammpstrj` (and what `open_frames`
    /// reads), relative to the input file; `{rank}` in the name stands for the rank.
    pub trajectory: Option<PathBuf>,
    /// Temperature in K of `trajectory`.
    pub temperature: Option<f64>,
    /// Several trajectories at several temperatures (for Arrhenius fits).
    #[serde(default)]
    pub runs: Vec<RunEntry>,
    /// The species analysed, in order.
    pub species: Vec<String>,
    /// Charges in e by species (0 when absent).
    #[serde(default)]
    pub charges: BTreeMap<String, f64>,
    /// Species of LAMMPS dump types 1, 2, … (dumps only).
    #[serde(default)]
    pub types: Vec<String>,
    /// Masses in g/mol by species, overriding the trajectory's.
    #[serde(default)]
    pub masses: BTreeMap<String, f64>,
    /// Time between frames in ps, overriding what the frames say.
    pub frame_interval: Option<f64>,
    /// MD timestep in ps, for frames that carry a step but no time.
    pub timestep: Option<f64>,
    /// "auto", "images" or "minimum-image".
    #[serde(default)]
    pub unwrap: UnwrapKey,
    /// "centre-of-mass" (default) or "none".
    #[serde(default)]
    pub drift: DriftKey,
    /// Species whose centre of mass is the framework: its drift is removed instead.
    #[serde(default)]
    pub framework: Vec<String>,
    /// "barycentric" (default) or the name of a solvent/framework species.
    pub reference: Option<String>,
    /// "fft" or "multi-tau" (default "fft" for `calcine transport`, "multi-tau" inside
    /// `calcine run`).
    pub method: Option<MethodKey>,
    /// Inside `calcine run` only: steps between the frames analysed.
    pub every: Option<u64>,
    pub multi_tau_points: Option<usize>,
    pub multi_tau_factor: Option<usize>,
    /// The box may not change (default true).
    pub fixed_box: Option<bool>,
    /// Blocks for block-averaged error bars of the collective terms.
    pub blocks: Option<usize>,
    /// Fit window in ps (automatic when absent).
    pub fit_start: Option<f64>,
    pub fit_end: Option<f64>,
    /// Lags used by each fit.
    pub fit_points: Option<usize>,
    /// Green–Kubo from velocities (default: when the frames have velocities).
    pub green_kubo: Option<bool>,
    /// Per-atom series kept in memory before a scratch file is used, in MiB.
    pub memory_budget_mb: Option<f64>,
    /// Folder of the scratch file.
    pub scratch_dir: Option<PathBuf>,
    /// Output folder, relative to the current directory (default "transport").
    pub directory: Option<PathBuf>,
    /// Free text stored in the TransportDoc `metadata`.
    pub metadata: Option<String>,
    /// PNG charts beside the numbers (default true).
    pub plots: Option<bool>,
}

#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UnwrapKey {
    #[default]
    Auto,
    Images,
    MinimumImage,
}

#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DriftKey {
    #[default]
    CentreOfMass,
    None,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MethodKey {
    Fft,
    MultiTau,
}

/// `[kinosons]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KinosonSection {
    /// Reference structure holding every site (extended XYZ).
    pub sites: PathBuf,
    /// A hop list (CSV: time, atom, from, to); without it hops are detected in the
    /// (first) trajectory.
    pub hops: Option<PathBuf>,
    /// With a hop list: the atoms at the start (extended XYZ; each on its nearest site).
    pub initial: Option<PathBuf>,
    /// Residence time in ps before a change of site counts as a hop (default 0).
    pub residence: Option<f64>,
    /// Cutoff in Å of the site vectors in the relaxation-vector basis.
    pub cutoff: f64,
    /// Duration of a hop list's run in ps (default: the last hop's time).
    pub duration: Option<f64>,
    /// Blocks in time for the error bars (default 10).
    pub blocks: Option<usize>,
    /// Hop lists at several temperatures (`[[kinosons.lists]]`), instead of `hops`.
    #[serde(default)]
    pub lists: Vec<KinosonListEntry>,
}

/// One `[[kinosons.lists]]` entry: a hop list at one temperature.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KinosonListEntry {
    /// The hop list (CSV: time, atom, from, to).
    pub hops: PathBuf,
    /// Temperature in K of the run the hops come from.
    pub temperature: f64,
    /// The atoms at the start (extended XYZ; each on its nearest site).
    pub initial: PathBuf,
    /// Duration of the run in ps (default: the last hop's time).
    pub duration: Option<f64>,
}

/// A trajectory to analyse and its temperature.
#[derive(Debug, Clone, PartialEq)]
pub struct TransportRun {
    /// The trajectory; `{rank}` in it stands for the rank that reads it (a copy or a pipe
    /// per rank).
    pub trajectory: PathBuf,
    pub temperature: f64,
}

impl TransportRun {
    /// The trajectory that rank `rank` reads.
    pub fn trajectory_for(&self, rank: usize) -> PathBuf {
        PathBuf::from(self.trajectory.to_string_lossy().replace("{rank}", &rank.to_string()))
    }
}

/// What a kinoson analysis needs.
#[derive(Debug, Clone)]
pub struct KinosonJob {
    pub sites: Sites,
    /// Hop lists, with the atoms' first sites and species (`hops`, or one per
    /// `[[kinosons.lists]]` entry); empty: detect hops in every trajectory.
    pub hop_lists: Vec<HopList>,
    pub residence: f64,
    /// With hops detected in one trajectory: the duration in ps, overriding its span.
    pub duration: Option<f64>,
    pub blocks: usize,
}

/// A hop list with the atoms it moves.
#[derive(Debug, Clone)]
pub struct HopList {
    pub hops: Vec<Hop>,
    pub initial: Vec<usize>,
    pub species: Vec<usize>,
    pub names: Vec<String>,
    /// K (`[[kinosons.lists]]`; `None` for a single `hops`).
    pub temperature: Option<f64>,
    /// ps (default: the last hop's time).
    pub duration: Option<f64>,
}

/// A transport input made ready to run.
#[derive(Debug)]
pub struct TransportJob {
    pub file: InputFile<TransportDocument>,
    pub runs: Vec<TransportRun>,
    /// Settings of the first run (the temperature is each run's).
    pub spec: TransportSpec,
    /// Species for the trajectory reader (dump types in order).
    pub species_table: SpeciesTable,
    pub directory: PathBuf,
    pub metadata: String,
    /// Write PNG charts beside the JSON and CSV files (`plots`, default true).
    pub plots: bool,
    pub kinosons: Option<KinosonJob>,
}

fn positive<T>(file: &InputFile<T>, key: &str, v: Option<f64>) -> Result<(), InputError> {
    match v {
        Some(x) if !(x > 0.0 && x.is_finite()) => Err(file.invalid(key, format!("{key} must be positive, got {x}"))),
        _ => Ok(()),
    }
}

impl TransportJob {
    /// Reads and checks a transport input: keys and values, species and charges, the
    /// trajectories' existence and format, the fit window's order, the kinoson files.
    pub fn read(path: &Path) -> Result<Self, InputError> {
        let file: InputFile<TransportDocument> = InputFile::read(path)?;
        let t = &file.doc.transport;
        let mut runs = Vec::new();
        match (&t.trajectory, t.temperature, t.runs.is_empty()) {
            (Some(traj), Some(temperature), true) => {
                runs.push(TransportRun { trajectory: file.resolve(traj), temperature })
            }
            (None, None, false) => {
                for r in &t.runs {
                    runs.push(TransportRun { trajectory: file.resolve(&r.trajectory), temperature: r.temperature });
                }
            }
            (Some(_), None, true) => return Err(file.invalid("trajectory", "the trajectory needs a temperature (K)")),
            (None, _, true) => {
                return Err(file
                    .invalid("transport", "[transport] needs a trajectory and a temperature, or [[transport.runs]]"))
            }
            _ => {
                return Err(
                    file.invalid("runs", "give either trajectory and temperature, or [[transport.runs]], not both")
                )
            }
        }
        for r in &runs {
            if !(r.temperature > 0.0 && r.temperature.is_finite()) {
                return Err(file.invalid("temperature", format!("temperature must be positive, got {}", r.temperature)));
            }
            calcine_io::TrajectoryFormat::of(&r.trajectory)
                .map_err(|e| file.load_error("trajectory", "unknown trajectory format", e))?;
            if !r.trajectory_for(0).exists() {
                return Err(file.load_error(
                    "trajectory",
                    format!("{}", r.trajectory_for(0).display()),
                    "no such file",
                ));
            }
        }
        if t.every.is_some() {
            return Err(file.invalid(
                "every",
                "every (steps between frames) is for [transport] inside a calcine run input; a trajectory's frames are all analysed",
            ));
        }
        let spec = spec_of(&file, t, runs[0].temperature, Method::Fft)?;
        let species_table = SpeciesTable::new(
            t.types
                .iter()
                .map(|n| Species { name: n.clone(), mass: t.masses.get(n).copied().unwrap_or(f64::NAN) })
                .collect(),
        );
        let kinosons = match &file.doc.kinosons {
            None => None,
            Some(k) => Some(read_kinosons(&file, k, runs.len())?),
        };
        Ok(Self {
            directory: t.directory.clone().unwrap_or_else(|| PathBuf::from("transport")),
            metadata: t.metadata.clone().unwrap_or_else(|| format!("calcine transport {}", file.path.display())),
            plots: t.plots.unwrap_or(true),
            file,
            runs,
            spec,
            species_table,
            kinosons,
        })
    }

    /// The settings of `run`.
    pub fn spec_for(&self, run: &TransportRun) -> TransportSpec {
        let mut spec = self.spec.clone();
        spec.temperature = run.temperature;
        spec
    }

    /// How the estimators run.
    pub fn estimate_options(&self) -> EstimateOptions {
        EstimateOptions {
            fit_window: self.spec.fit_window,
            fit_points: self.spec.fit_points,
            reference: self.spec.reference.clone(),
        }
    }
}

/// The analysis settings of a `[transport]` table (everything but where the frames come
/// from), checked.
fn spec_of<T>(
    file: &InputFile<T>,
    t: &TransportSection,
    temperature: f64,
    default_method: Method,
) -> Result<TransportSpec, InputError> {
    if t.species.is_empty() {
        return Err(file.invalid("species", "name at least one species to analyse"));
    }
    for (i, s) in t.species.iter().enumerate() {
        if t.species[..i].contains(s) {
            return Err(file.invalid("species", format!("species '{s}' is listed twice")));
        }
    }
    for name in t.charges.keys() {
        if !t.species.contains(name) {
            return Err(file.invalid("charges", format!("a charge for '{name}', which is not in species")));
        }
    }
    positive(file, "frame_interval", t.frame_interval)?;
    positive(file, "timestep", t.timestep)?;
    positive(file, "memory_budget_mb", t.memory_budget_mb)?;
    if let (Some(a), Some(b)) = (t.fit_start, t.fit_end) {
        if !(a < b) {
            return Err(file.invalid("fit_start", format!("fit_start ({a} ps) must be before fit_end ({b} ps)")));
        }
    }
    if let Some(a) = t.fit_start {
        if !(a >= 0.0) {
            return Err(file.invalid("fit_start", format!("fit_start must be >= 0 ps, got {a}")));
        }
    }
    if matches!(t.fit_points, Some(p) if p < 2) {
        return Err(file.invalid("fit_points", "a fit needs at least 2 points"));
    }
    let species: Vec<SpeciesSpec> = t
        .species
        .iter()
        .map(|s| SpeciesSpec { name: s.clone(), charge: t.charges.get(s).copied().unwrap_or(0.0) })
        .collect();
    let mut spec = TransportSpec::new(species, temperature);
    spec.masses = t.masses.iter().map(|(k, v)| (k.clone(), *v)).collect();
    spec.frame_interval = t.frame_interval;
    spec.timestep = t.timestep;
    spec.unwrap = match t.unwrap {
        UnwrapKey::Auto => Unwrap::Auto,
        UnwrapKey::Images => Unwrap::Images,
        UnwrapKey::MinimumImage => Unwrap::MinimumImage,
    };
    spec.drift = if !t.framework.is_empty() {
        Drift::Framework(t.framework.clone())
    } else {
        match t.drift {
            DriftKey::CentreOfMass => Drift::CentreOfMass,
            DriftKey::None => Drift::None,
        }
    };
    spec.reference = match t.reference.as_deref() {
        None | Some("barycentric") => Reference::Barycentric,
        Some(name) => {
            if !t.species.iter().any(|s| s == name) {
                return Err(file.invalid(
                    "reference",
                    format!("reference '{name}' must be \"barycentric\" or one of the analysed species"),
                ));
            }
            Reference::Relative(name.to_string())
        }
    };
    spec.method = match t.method {
        None => default_method,
        Some(MethodKey::Fft) => Method::Fft,
        Some(MethodKey::MultiTau) => {
            let (points, factor) = match Method::multi_tau() {
                Method::MultiTau { points, factor } => {
                    (t.multi_tau_points.unwrap_or(points), t.multi_tau_factor.unwrap_or(factor))
                }
                Method::Fft => unreachable!("multi_tau() is multi-tau"),
            };
            if factor < 2 || points < 2 * factor || !points.is_multiple_of(factor) {
                return Err(file.invalid(
                        "multi_tau_points",
                        format!("multi-tau needs factor >= 2 and points a multiple of factor, at least 2 x factor (points {points}, factor {factor})"),
                    ));
            }
            Method::MultiTau { points, factor }
        }
    };
    if let Some(b) = t.fixed_box {
        spec.fixed_box = b;
    }
    if let Some(b) = t.blocks {
        spec.blocks = b;
    }
    spec.fit_window = FitWindow { start: t.fit_start, end: t.fit_end };
    if let Some(p) = t.fit_points {
        spec.fit_points = p;
    }
    spec.green_kubo = t.green_kubo;
    if let Some(mb) = t.memory_budget_mb {
        spec.memory_budget = (mb * 1024.0 * 1024.0) as usize;
    }
    spec.scratch_dir = t.scratch_dir.as_ref().map(|d| file.resolve(d));
    Ok(spec)
}

/// `[transport]` inside a `calcine run` input: the same analysis on the frames of the run
/// itself, every `every` steps (multiple-tau by default, so memory stays flat however long
/// the run), written to the run's output folder when it ends.
#[derive(Debug, Clone)]
pub struct OnTheFly {
    pub spec: TransportSpec,
    pub every: u64,
    pub metadata: String,
    /// Write `msd.png` with the results (`plots`, default true).
    pub plots: bool,
}

/// Reads `[transport]` of an MD input. The temperature defaults to the thermostat's; the
/// species must be the run's; keys about trajectory files have no meaning here.
pub fn read_on_the_fly<T>(
    file: &InputFile<T>,
    t: &TransportSection,
    thermostat: Option<f64>,
    system_species: &[String],
) -> Result<OnTheFly, InputError> {
    for (key, given) in [
        ("trajectory", t.trajectory.is_some()),
        ("runs", !t.runs.is_empty()),
        ("types", !t.types.is_empty()),
        ("frame_interval", t.frame_interval.is_some()),
        ("timestep", t.timestep.is_some()),
        ("directory", t.directory.is_some()),
    ] {
        if given {
            return Err(file.invalid(
                key,
                format!("{key} has no meaning for [transport] in a run input: the frames are the run's own (every `every` steps), and the results go to its output folder"),
            ));
        }
    }
    let every = match t.every {
        None => {
            return Err(file.invalid(
                "transport",
                "[transport] in a run input needs every = N (steps between the frames analysed)",
            ))
        }
        Some(0) => return Err(file.invalid("every", "every must be at least 1 step")),
        Some(n) => n,
    };
    let temperature = match (t.temperature, thermostat) {
        (Some(x), _) => x,
        (None, Some(x)) => x,
        (None, None) => return Err(file.invalid(
            "transport",
            "[transport] needs the temperature (K) for conductivities: give temperature = …, or run with a thermostat",
        )),
    };
    if !(temperature > 0.0 && temperature.is_finite()) {
        return Err(file.invalid("temperature", format!("temperature must be positive, got {temperature}")));
    }
    for s in &t.species {
        if !system_species.contains(s) {
            return Err(file.invalid(
                "species",
                format!("species '{s}' is not in the system (it has: {})", system_species.join(", ")),
            ));
        }
    }
    let spec = spec_of(file, t, temperature, Method::multi_tau())?;
    let metadata = t.metadata.clone().unwrap_or_else(|| format!("calcine run {} (on the fly)", file.path.display()));
    Ok(OnTheFly { spec, every, metadata, plots: t.plots.unwrap_or(true) })
}

fn read_kinosons(
    file: &InputFile<TransportDocument>,
    k: &KinosonSection,
    n_runs: usize,
) -> Result<KinosonJob, InputError> {
    if !(k.cutoff > 0.0) {
        return Err(file.invalid("cutoff", format!("the basis cutoff must be positive, got {} Å", k.cutoff)));
    }
    positive(file, "duration", k.duration)?;
    let residence = k.residence.unwrap_or(0.0);
    if !(residence >= 0.0) {
        return Err(file.invalid("residence", format!("the residence time must be >= 0 ps, got {residence}")));
    }
    if !k.lists.is_empty() {
        for (key, given) in
            [("hops", k.hops.is_some()), ("initial", k.initial.is_some()), ("duration", k.duration.is_some())]
        {
            if given {
                return Err(file.invalid(
                    key,
                    format!("{key} is for a single hop list; with [[kinosons.lists]] each entry has its own"),
                ));
            }
        }
    }
    if k.hops.is_none() && k.lists.is_empty() && k.duration.is_some() && n_runs > 1 {
        return Err(file.invalid(
            "duration",
            "duration overrides the span of one trajectory; hops found in several trajectories each take their own span",
        ));
    }
    const LISTS: &str = "kinosons.lists";
    for (i, entry) in k.lists.iter().enumerate() {
        let t = entry.temperature;
        if !(t > 0.0 && t.is_finite()) {
            return Err(file.invalid_in(LISTS, i, "temperature", format!("must be positive, got {t} K")));
        }
        if let Some(j) = k.lists[..i].iter().position(|e| e.temperature == t) {
            return Err(file.invalid_in(
                LISTS,
                i,
                "temperature",
                format!("{t} K is also the temperature of {LISTS}[{j}]; the outputs are named by temperature"),
            ));
        }
        if let Some(d) = entry.duration {
            if !(d > 0.0 && d.is_finite()) {
                return Err(file.invalid_in(LISTS, i, "duration", format!("must be positive, got {d} ps")));
            }
        }
    }
    let sites_path = file.resolve(&k.sites);
    let sites_structure = calcine_io::read_extxyz_any_species(&sites_path)
        .map_err(|e| file.load_error("sites", "cannot read the sites", e))?
        .into_structure();
    let positions: Vec<Vec3> = sites_structure.atoms.positions[..sites_structure.atoms.n_owned()].to_vec();
    let sites = Sites::new(positions, sites_structure.simbox.clone(), k.cutoff);
    // The atoms of a hop list at the start: each on its nearest site.
    // (initial sites, species indices, species names)
    type Start = (Vec<usize>, Vec<usize>, Vec<String>);
    let start_of = |path: &Path| -> Result<Start, String> {
        let start = calcine_io::read_extxyz_any_species(path).map_err(|e| e.to_string())?.into_structure();
        let n = start.atoms.n_owned();
        let initial = start.atoms.positions[..n].iter().map(|x| sites.nearest(x)).collect();
        let species = start.atoms.species[..n].iter().map(|s| s.index()).collect();
        Ok((initial, species, start.species.names()))
    };
    let mut hop_lists = Vec::new();
    if let Some(h) = &k.hops {
        let hops =
            read_hop_list(&file.resolve(h)).map_err(|e| file.load_error("hops", "cannot read the hop list", e))?;
        let Some(initial) = &k.initial else {
            return Err(file.invalid("hops", "a hop list needs the initial structure (initial = \"start.xyz\")"));
        };
        let (initial, species, names) = start_of(&file.resolve(initial))
            .map_err(|e| file.load_error("initial", "cannot read the initial structure", e))?;
        hop_lists.push(HopList { hops, initial, species, names, temperature: None, duration: k.duration });
    }
    for (i, entry) in k.lists.iter().enumerate() {
        let t = entry.temperature;
        let hops = read_hop_list(&file.resolve(&entry.hops))
            .map_err(|e| file.load_error_in(LISTS, i, "hops", "cannot read the hop list", e))?;
        let (initial, species, names) = start_of(&file.resolve(&entry.initial))
            .map_err(|e| file.load_error_in(LISTS, i, "initial", "cannot read the initial structure", e))?;
        if let Some(first) = hop_lists.first() {
            let first: &HopList = first;
            if first.names != names {
                return Err(file.invalid_in(
                    LISTS,
                    i,
                    "initial",
                    format!(
                        "species {:?}, but {LISTS}[0] has {:?}: every list needs the same species",
                        names, first.names
                    ),
                ));
            }
        }
        hop_lists.push(HopList { hops, initial, species, names, temperature: Some(t), duration: entry.duration });
    }
    Ok(KinosonJob { sites, hop_lists, residence, duration: k.duration, blocks: k.blocks.unwrap_or(10) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<TransportJob, InputError> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("traj.xyz"), "").unwrap();
        let path = dir.path().join("in.toml");
        std::fs::write(&path, text).unwrap();
        TransportJob::read(&path)
    }

    #[test]
    fn a_minimal_input_gets_the_defaults() {
        let job = read("[transport]\ntrajectory = \"traj.xyz\"\ntemperature = 900\nspecies = [\"Li\", \"O\"]\ncharges = { Li = 1, O = -2 }\n").unwrap();
        assert_eq!(job.runs.len(), 1);
        assert_eq!(job.spec.species[1].charge, -2.0);
        assert_eq!(job.spec.method, Method::Fft);
        assert_eq!(job.spec.drift, Drift::CentreOfMass);
        assert_eq!(job.spec.blocks, TransportSpec::DEFAULT_BLOCKS);
        assert_eq!(job.directory, PathBuf::from("transport"));
    }

    #[test]
    fn kinoson_list_errors_name_the_entry_and_its_line() {
        let e = read("[transport]\ntrajectory = \"traj.xyz\"\ntemperature = 900\nspecies = [\"Li\"]\n[kinosons]\nsites = \"traj.xyz\"\ncutoff = 3\n[[kinosons.lists]]\nhops = \"a.csv\"\ntemperature = 600\ninitial = \"s.xyz\"\n[[kinosons.lists]]\nhops = \"b.csv\"\ninitial = \"s.xyz\"\ntemperature = -600\n")
            .unwrap_err();
        assert!(e.to_string().contains("in.toml:15: kinosons.lists[1].temperature: must be positive"), "{e}");
    }

    #[test]
    fn wrong_inputs_name_their_line() {
        let e = read("[transport]\ntrajectory = \"traj.xyz\"\nspecies = [\"Li\"]\n").unwrap_err();
        assert!(e.to_string().contains("needs a temperature"), "{e}");
        let e = read("[transport]\ntrajectory = \"traj.xyz\"\ntemperature = 900\nspecies = [\"Li\"]\nfit_start = 5\nfit_end = 2\n")
            .unwrap_err();
        assert!(e.to_string().contains("in.toml:5: fit_start (5 ps) must be before fit_end"), "{e}");
        let e = read(
            "[transport]\ntrajectory = \"traj.xyz\"\ntemperature = 900\nspecies = [\"Li\"]\ncharges = { Na = 1 }\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("not in species"), "{e}");
        let e =
            read("[transport]\ntrajectory = \"missing.dump\"\ntemperature = 900\nspecies = [\"Li\"]\n").unwrap_err();
        assert!(e.to_string().contains("no such file"), "{e}");
        let e =
            read("[transport]\ntrajectory = \"traj.xyz\"\ntemperature = 900\nspecies = [\"Li\"]\nmethod = \"fast\"\n")
                .unwrap_err();
        assert!(e.to_string().contains("in.toml:5"), "{e}");
        let e =
            read("[transport]\ntrajectory = \"traj.xyz\"\ntemperature = 900\nspecies = [\"Li\"]\nreference = \"O\"\n")
                .unwrap_err();
        assert!(e.to_string().contains("reference 'O'"), "{e}");
    }
}
