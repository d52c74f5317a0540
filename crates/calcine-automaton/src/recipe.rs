//! Recipes: ReactCA's `ReactionRecipe` JSON read unchanged, and calcine's own TOML recipe.
//!
//! Both become a [`Recipe`]: precursors (mole ratios), lattice size, realisations, seed, the
//! update mode, inertia, packing fraction, atmosphere and a heating schedule of discrete
//! stages (ramp, hold, cool, regrind), as ReactCA runs them.

use crate::error::{AutomatonError, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// How a site visit is carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Every neighbor is considered, reactions move exact stoichiometric amounts between
    /// the two cells, and sweeps visit the sites in conflict-free colour classes, so a run
    /// is domain-decomposed and bit-identical on any rank and thread count.
    Exact,
    /// ReactCA's published scheme (master `11fa2cd`): random sites in sequence, one random
    /// neighbor per visit, each cell converting independently (elements conserved only on
    /// average). One realisation runs on one thread.
    ReactcaCompatible,
}

/// One stage of a heating schedule.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum Stage {
    /// `duration` sweeps (site visits per site) at `temperature` K.
    Heat { temperature: f64, duration: f64 },
    /// A random reshuffle of all cells.
    Regrind,
}

/// `[transport]`: the Onsager table and the diffusion scorer's settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransportSettings {
    /// A JSON list of `TransportDoc`s (ReactCA's `transport_db/<chemsys>.json`).
    pub table: PathBuf,
    #[serde(default = "default_interpolation")]
    pub interpolation: crate::transport::Interpolation,
    /// Precursor particle size (m).
    #[serde(default = "default_precursor_size")]
    pub precursor_size: f64,
    #[serde(default = "default_scale_factor")]
    pub scale_factor: f64,
}

fn default_interpolation() -> crate::transport::Interpolation {
    crate::transport::Interpolation::Arrhenius
}
fn default_precursor_size() -> f64 {
    1e-7
}
fn default_scale_factor() -> f64 {
    5e13
}

/// Everything a run needs besides the library.
#[derive(Debug, Clone, Serialize)]
pub struct Recipe {
    pub name: Option<String>,
    /// The reaction library (ReactCA JSON); resolved against the recipe's folder.
    pub library: Option<PathBuf>,
    /// Or a phase table (CSV or JSON) to build the library from ([`crate::builder`]),
    /// scored with `score`.
    pub phase_table: Option<PathBuf>,
    pub score: crate::scoring::ScoreParams,
    /// Diffusion-limited scoring of a built library (`[transport]`).
    pub transport: Option<TransportSettings>,
    /// Precursor formula and mole ratio, in the recipe's order.
    pub precursors: Vec<(String, f64)>,
    /// Lattice edge (cells); the lattice is size³.
    pub size: usize,
    pub realisations: usize,
    pub seed: u64,
    pub mode: Mode,
    /// Weight of each of the two no-op interactions of a visit (ReactCA's `inertia`).
    pub inertia: f64,
    pub packing_fraction: f64,
    /// Gases of the open atmosphere (ReactCA's `atmospheric_phases`).
    pub atmosphere: Vec<String>,
    pub exclude_phases: Vec<String>,
    pub exact_phase_set: Option<Vec<String>>,
    pub schedule: Vec<Stage>,
    /// Record the phase amounts every this many sweeps.
    pub record_every: f64,
    /// Score the reactions at each schedule temperature with these constants (from the
    /// ΔG of the nearest library temperature) instead of taking the library's scores.
    pub rescore: Option<crate::scoring::ScoreParams>,
    /// Write `fractions.png` and `slice.png` beside the numbers (`plots`, default true).
    /// Not echoed in `result.json`, which charts never change.
    #[serde(skip)]
    pub plots: bool,
}

impl Recipe {
    /// Reads a recipe, TOML or ReactCA JSON by extension.
    pub fn read(path: &Path) -> Result<Recipe> {
        let text = std::fs::read_to_string(path).map_err(|source| AutomatonError::Io { path: path.into(), source })?;
        let mut r = match path.extension().and_then(|e| e.to_str()) {
            Some("json") => Recipe::from_reactca_json(&text, path)?,
            _ => Recipe::from_toml(&text, path)?,
        };
        let dir = path.parent().unwrap_or(Path::new("."));
        let table = r.transport.as_mut().map(|t| &mut t.table);
        for p in [r.library.as_mut(), r.phase_table.as_mut(), table].into_iter().flatten() {
            if p.is_relative() {
                *p = dir.join(&*p);
            }
        }
        Ok(r)
    }

    /// The library the recipe names: ReactCA's JSON, or one built from the phase table and
    /// scored at the schedule's temperatures.
    pub fn load_library(&self) -> Result<crate::Library> {
        match (&self.library, &self.phase_table) {
            (Some(lib), _) => crate::Library::read_reactca(lib),
            (None, Some(table)) => {
                let rows = crate::builder::read_phase_table(table)?;
                let mut temps: Vec<f64> = self
                    .schedule
                    .iter()
                    .filter_map(|s| if let Stage::Heat { temperature, .. } = s { Some(*temperature) } else { None })
                    .collect();
                temps.sort_by(f64::total_cmp);
                temps.dedup();
                let diffusion = match &self.transport {
                    None => None,
                    Some(t) => Some(crate::diffusion::DiffusionScorer {
                        table: crate::transport::TransportTable::read(&t.table)?,
                        interpolation: t.interpolation,
                        precursor_size: t.precursor_size,
                        scale_factor: t.scale_factor,
                    }),
                };
                crate::builder::build_library(&rows, &temps, &self.score, diffusion.as_ref())
            }
            (None, None) => Err(AutomatonError::Setting {
                key: "library".into(),
                reason:
                    "the recipe names no library (give 'library' or 'phases', or --library for a ReactCA JSON recipe)"
                        .into(),
            }),
        }
    }

    /// Total sweeps of the schedule.
    pub fn total_sweeps(&self) -> f64 {
        self.schedule.iter().map(|s| if let Stage::Heat { duration, .. } = s { *duration } else { 0.0 }).sum()
    }

    /// ReactCA's `ReactionRecipe` (monty JSON, as in its `tests/integration/batio3_recipe.json`).
    pub fn from_reactca_json(text: &str, path: &Path) -> Result<Recipe> {
        let key =
            |k: &str, reason: &str| AutomatonError::Key { path: path.into(), key: k.into(), reason: reason.into() };
        let v: Value = serde_json::from_str(text)
            .map_err(|e| AutomatonError::Parse { path: path.into(), reason: format!("invalid JSON: {e}") })?;
        let obj = v.as_object().ok_or_else(|| key("", "expected an object"))?;
        const KNOWN: &[&str] = &[
            "@module",
            "@class",
            "@version",
            "heating_schedule",
            "reactant_amounts",
            "chem_sys",
            "simulation_size",
            "num_realizations",
            "exclude_phases",
            "exclude_theoretical",
            "exclude_pure_elements",
            "score_type",
            "additional_gas_phases",
            "exact_phase_set",
            "atmospheric_phases",
            "packing_fraction",
            "name",
            "update_scheme",
        ];
        if let Some(k) = obj.keys().find(|k| !KNOWN.contains(&k.as_str())) {
            return Err(key(k, "unknown key in a ReactCA recipe"));
        }
        let amounts = obj
            .get("reactant_amounts")
            .ok_or_else(|| key("reactant_amounts", "missing"))?
            .as_object()
            .ok_or_else(|| key("reactant_amounts", "expected an object of formula: mole ratio"))?;
        let precursors = amounts
            .iter()
            .map(|(f, x)| {
                x.as_f64()
                    .map(|x| (f.clone(), x))
                    .ok_or_else(|| key(&format!("reactant_amounts.{f}"), "expected a number"))
            })
            .collect::<Result<Vec<_>>>()?;
        let steps = obj
            .get("heating_schedule")
            .ok_or_else(|| key("heating_schedule", "missing"))?
            .get("steps")
            .and_then(Value::as_array)
            .ok_or_else(|| key("heating_schedule.steps", "expected an array"))?;
        let mut schedule = Vec::new();
        for (i, s) in steps.iter().enumerate() {
            let at = format!("heating_schedule.steps[{i}]");
            if s.get("@class").and_then(Value::as_str) == Some("RegrindStep") {
                schedule.push(Stage::Regrind);
                continue;
            }
            let num = |k: &str| {
                s.get(k).and_then(Value::as_f64).ok_or_else(|| key(&format!("{at}.{k}"), "missing or not a number"))
            };
            schedule.push(Stage::Heat { temperature: num("temperature")?, duration: num("duration")? });
        }
        let uint = |k: &str, default: u64| -> Result<u64> {
            match obj.get(k) {
                None | Some(Value::Null) => Ok(default),
                Some(x) => x.as_u64().ok_or_else(|| key(k, "expected a non-negative integer")),
            }
        };
        let strings = |k: &str| -> Result<Vec<String>> {
            match obj.get(k) {
                None | Some(Value::Null) => Ok(Vec::new()),
                Some(Value::Array(a)) => a
                    .iter()
                    .enumerate()
                    .map(|(i, x)| {
                        x.as_str().map(str::to_string).ok_or_else(|| key(&format!("{k}[{i}]"), "expected a string"))
                    })
                    .collect(),
                Some(_) => Err(key(k, "expected an array of formulas")),
            }
        };
        if let Some(s) = obj.get("update_scheme").and_then(Value::as_str) {
            if s != "independent" {
                return Err(key(
                    "update_scheme",
                    "only ReactCA's \"independent\" scheme is read from JSON; use a TOML recipe for mode = \"exact\"",
                ));
            }
        }
        let exact_phase_set = match obj.get("exact_phase_set") {
            None | Some(Value::Null) => None,
            Some(_) => Some(strings("exact_phase_set")?),
        };
        let r = Recipe {
            name: obj.get("name").and_then(Value::as_str).map(str::to_string),
            library: None,
            phase_table: None,
            score: crate::scoring::ScoreParams::current(),
            transport: None,
            precursors,
            size: uint("simulation_size", 15)? as usize,
            realisations: uint("num_realizations", 3)? as usize,
            seed: 0,
            mode: Mode::ReactcaCompatible,
            inertia: 2.0,
            packing_fraction: match obj.get("packing_fraction") {
                None | Some(Value::Null) => 1.0,
                Some(x) => x.as_f64().ok_or_else(|| key("packing_fraction", "expected a number"))?,
            },
            atmosphere: strings("atmospheric_phases")?,
            exclude_phases: strings("exclude_phases")?,
            exact_phase_set,
            schedule,
            record_every: 1.0,
            rescore: None,
            // ReactCA's recipe has no such key; `calcine react --no-plots` turns them off.
            plots: true,
        };
        r.check(path)?;
        Ok(r)
    }

    /// calcine's TOML recipe (see `docs/automaton.md`).
    pub fn from_toml(text: &str, path: &Path) -> Result<Recipe> {
        let t: TomlRecipe = toml::from_str(text)
            .map_err(|e| AutomatonError::Parse { path: path.into(), reason: e.to_string().trim_end().to_string() })?;
        let key = |k: &str, reason: String| AutomatonError::Key { path: path.into(), key: k.into(), reason };
        let mut schedule = Vec::new();
        for (i, s) in t.schedule.iter().enumerate() {
            let at = format!("schedule[{i}]");
            match s {
                TomlStage::Hold { temperature, duration } => {
                    schedule.push(Stage::Heat { temperature: *temperature, duration: *duration })
                }
                TomlStage::Ramp { from, to, step, duration } | TomlStage::Cool { from, to, step, duration } => {
                    let cooling = matches!(s, TomlStage::Cool { .. });
                    if !(*step > 0.0) {
                        return Err(key(&format!("{at}.step"), "must be a positive number of kelvin".into()));
                    }
                    if (to > from) == cooling || to == from {
                        let want = if cooling { "below" } else { "above" };
                        return Err(key(
                            &format!("{at}.to"),
                            format!("must be {want} 'from' for a {}", if cooling { "cool" } else { "ramp" }),
                        ));
                    }
                    // ReactCA's HeatingStep.sweep: from, from ± step, … while short of `to`, then `to`.
                    let sign = if cooling { -1.0 } else { 1.0 };
                    let mut k = 0.0;
                    loop {
                        let temp = from + sign * k * step;
                        if (cooling && temp <= *to) || (!cooling && temp >= *to) {
                            break;
                        }
                        schedule.push(Stage::Heat { temperature: temp, duration: *duration });
                        k += 1.0;
                    }
                    schedule.push(Stage::Heat { temperature: *to, duration: *duration });
                }
                TomlStage::Regrind {} => schedule.push(Stage::Regrind),
            }
        }
        let precursors = t
            .precursors
            .iter()
            .map(|(f, x)| match x {
                toml::Value::Float(v) => Ok((f.clone(), *v)),
                toml::Value::Integer(v) => Ok((f.clone(), *v as f64)),
                _ => Err(key(&format!("precursors.{f}"), "expected a number (mole ratio)".into())),
            })
            .collect::<Result<Vec<_>>>()?;
        if t.transport.is_some() && t.phases.is_none() {
            return Err(key("transport", "diffusion-limited scoring needs a library built from 'phases'".into()));
        }
        if t.library.is_some() == t.phases.is_some() {
            return Err(key(
                "library",
                "give exactly one of 'library' (ReactCA JSON) and 'phases' (a phase table)".into(),
            ));
        }
        let preset = |k: &str, v: &str| match v {
            "current" => Ok(crate::scoring::ScoreParams::current()),
            "legacy-2023" => Ok(crate::scoring::ScoreParams::legacy_2023()),
            other => Err(key(k, format!("'{other}': expected \"current\" or \"legacy-2023\""))),
        };
        let r = Recipe {
            name: t.name,
            library: t.library.map(PathBuf::from),
            phase_table: t.phases.map(PathBuf::from),
            score: preset("score", t.score.as_deref().unwrap_or("current"))?,
            transport: t.transport,
            precursors,
            size: t.size,
            realisations: t.realisations,
            seed: t.seed,
            mode: t.mode,
            inertia: t.inertia,
            packing_fraction: t.packing_fraction,
            atmosphere: t.atmosphere,
            exclude_phases: t.exclude_phases,
            exact_phase_set: t.exact_phase_set,
            schedule,
            record_every: t.record_every,
            rescore: t.rescore.as_deref().map(|v| preset("rescore", v)).transpose()?,
            plots: t.plots,
        };
        r.check(path)?;
        Ok(r)
    }

    /// Checks the settings that do not need the library.
    pub fn check(&self, path: &Path) -> Result<()> {
        let key =
            |k: &str, reason: &str| AutomatonError::Key { path: path.into(), key: k.into(), reason: reason.into() };
        if self.size < 3 {
            return Err(key("size", "the lattice needs at least 3 cells along each axis"));
        }
        if self.size > 4096 {
            return Err(key("size", "at most 4096 cells along an axis"));
        }
        if self.realisations == 0 {
            return Err(key("realisations", "at least one realisation"));
        }
        if self.precursors.is_empty() {
            return Err(key("precursors", "no precursors"));
        }
        for (f, x) in &self.precursors {
            if !(*x > 0.0) || !x.is_finite() {
                return Err(key(&format!("precursors.{f}"), "a mole ratio must be a positive number"));
            }
        }
        if !(self.inertia >= 0.0) || !self.inertia.is_finite() {
            return Err(key("inertia", "must be a finite number >= 0"));
        }
        if !(self.packing_fraction > 0.0 && self.packing_fraction <= 1.0) {
            return Err(key("packing_fraction", "must be in (0, 1]"));
        }
        if !(self.record_every > 0.0) || !self.record_every.is_finite() {
            return Err(key("record_every", "must be a positive number of sweeps"));
        }
        if self.schedule.is_empty() {
            return Err(key("schedule", "the heating schedule is empty"));
        }
        if matches!(self.schedule[0], Stage::Regrind) {
            return Err(key("schedule", "the schedule cannot start with a regrind"));
        }
        for (i, s) in self.schedule.iter().enumerate() {
            if let Stage::Heat { temperature, duration } = s {
                if !(*temperature > 0.0) || !temperature.is_finite() {
                    return Err(key(&format!("schedule[{i}].temperature"), "must be a positive temperature in K"));
                }
                if !(*duration > 0.0) || !duration.is_finite() {
                    return Err(key(&format!("schedule[{i}].duration"), "must be a positive number of sweeps"));
                }
            }
        }
        Ok(())
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlRecipe {
    name: Option<String>,
    library: Option<String>,
    phases: Option<String>,
    score: Option<String>,
    precursors: toml::value::Table,
    #[serde(default = "default_size")]
    size: usize,
    #[serde(default = "default_realisations")]
    realisations: usize,
    #[serde(default)]
    seed: u64,
    #[serde(default = "default_mode")]
    mode: Mode,
    #[serde(default = "default_inertia")]
    inertia: f64,
    #[serde(default = "default_packing")]
    packing_fraction: f64,
    #[serde(default)]
    atmosphere: Vec<String>,
    #[serde(default)]
    exclude_phases: Vec<String>,
    exact_phase_set: Option<Vec<String>>,
    #[serde(default = "default_record_every")]
    record_every: f64,
    rescore: Option<String>,
    #[serde(default = "default_plots")]
    plots: bool,
    transport: Option<TransportSettings>,
    schedule: Vec<TomlStage>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
enum TomlStage {
    Hold { temperature: f64, duration: f64 },
    Ramp { from: f64, to: f64, step: f64, duration: f64 },
    Cool { from: f64, to: f64, step: f64, duration: f64 },
    Regrind {},
}

fn default_size() -> usize {
    15
}
fn default_realisations() -> usize {
    3
}
fn default_mode() -> Mode {
    Mode::Exact
}
fn default_inertia() -> f64 {
    2.0
}
fn default_packing() -> f64 {
    1.0
}
fn default_plots() -> bool {
    true
}
fn default_record_every() -> f64 {
    1.0
}
