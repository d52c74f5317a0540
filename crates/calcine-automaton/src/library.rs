//! Phases and reaction libraries: ReactCA's JSON `ReactionLibrary` read unchanged, every
//! reaction balanced exactly from its formulas.
//!
//! A library holds a [`PhaseSet`] (formula, molar volume in Å³ per formula unit, melting
//! point, gas flag) and, per temperature, a list of [`Reaction`]s in ReactCA's volume
//! stoichiometry (coefficient × molar volume, rounded to 0.01) with a score. The automaton
//! needs the exact molar coefficients too: each reaction's integer coefficients are the
//! primitive null vector of its composition matrix, checked against the volume coefficients
//! (an error names the reaction when they disagree or when no combination balances).

use crate::balance::integer_null_space;
use crate::error::{AutomatonError, Result};
use crate::formula::{formula_mass, parse_formula, Composition};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// Index of a phase in a [`PhaseSet`]; 0 is Free Space.
pub type PhaseId = u16;
/// The empty cell.
pub const FREE_SPACE: PhaseId = 0;
/// ReactCA's name for the empty cell.
pub const FREE_SPACE_NAME: &str = "Free Space";
/// ReactCA's `DEFAULT_GASES`.
pub const DEFAULT_GASES: [&str; 8] = ["H2", "O2", "H2O", "CO", "CO2", "N2", "Cl2", "H5NO"];

/// One phase: a reduced formula and its properties.
#[derive(Debug, Clone)]
pub struct Phase {
    pub name: String,
    pub composition: Composition,
    /// Å³ per formula unit.
    pub molar_volume: f64,
    /// K (ReactCA's ML-predicted melting points); infinite for Free Space.
    pub melting_point: f64,
    pub is_gas: bool,
    pub experimentally_observed: bool,
    /// g/mol per formula unit.
    pub formula_mass: f64,
}

/// The phases of a chemical system, Free Space first.
#[derive(Debug, Clone)]
pub struct PhaseSet {
    pub phases: Vec<Phase>,
    index: HashMap<String, PhaseId>,
    /// Every element of every phase, sorted.
    pub elements: Vec<String>,
}

impl PhaseSet {
    /// Builds a set from phases (Free Space is added in front).
    pub fn new(phases: Vec<Phase>) -> Result<PhaseSet> {
        let mut all = vec![Phase {
            name: FREE_SPACE_NAME.into(),
            composition: Composition::new(),
            molar_volume: 1.0,
            melting_point: f64::INFINITY,
            is_gas: false,
            experimentally_observed: true,
            formula_mass: 0.0,
        }];
        all.extend(phases);
        if all.len() > u16::MAX as usize {
            return Err(AutomatonError::Setting { key: "phases".into(), reason: "more than 65535 phases".into() });
        }
        let mut index = HashMap::new();
        for (i, p) in all.iter().enumerate() {
            if index.insert(p.name.clone(), i as PhaseId).is_some() {
                return Err(AutomatonError::Setting {
                    key: "phases".into(),
                    reason: format!("phase '{}' appears twice", p.name),
                });
            }
        }
        let mut elements: Vec<String> = all.iter().flat_map(|p| p.composition.keys().cloned()).collect();
        elements.sort();
        elements.dedup();
        Ok(PhaseSet { phases: all, index, elements })
    }

    pub fn len(&self) -> usize {
        self.phases.len()
    }

    pub fn is_empty(&self) -> bool {
        self.phases.len() <= 1
    }

    pub fn id(&self, name: &str) -> Option<PhaseId> {
        self.index.get(name).copied()
    }

    pub fn get(&self, id: PhaseId) -> &Phase {
        &self.phases[id as usize]
    }

    /// The id of `name`, or an error that says where the name came from.
    pub fn require(&self, name: &str, context: &str) -> Result<PhaseId> {
        self.id(name).ok_or_else(|| AutomatonError::MissingPhase { phase: name.into(), context: context.into() })
    }
}

/// One side of a reaction for one phase.
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    pub phase: PhaseId,
    /// The library's volume coefficient (ReactCA's stoichiometry), Å³.
    pub volume: f64,
    /// The exact integer molar coefficient.
    pub moles: u64,
}

/// A scored reaction at one temperature.
#[derive(Debug, Clone)]
pub struct Reaction {
    pub reactants: Vec<Term>,
    pub products: Vec<Term>,
    /// ReactCA's `competitiveness`.
    pub score: f64,
    /// ΔG of reaction, eV/atom, where the library gives it.
    pub energy_per_atom: Option<f64>,
    /// Reactants equal products (ReactCA's self-reactions, which do nothing).
    pub identity: bool,
}

impl Reaction {
    /// `43.45 BaO + 34.39 TiO2 -> 65.57 BaTiO3` with phase names.
    pub fn label(&self, phases: &PhaseSet) -> String {
        let side = |t: &[Term]| {
            t.iter().map(|t| format!("{} {}", t.volume, phases.get(t.phase).name)).collect::<Vec<_>>().join(" + ")
        };
        format!("{} -> {}", side(&self.reactants), side(&self.products))
    }
}

/// Phases and reactions scored at each temperature (K).
#[derive(Debug, Clone)]
pub struct Library {
    pub phases: PhaseSet,
    pub temperatures: BTreeMap<i64, Vec<Reaction>>,
}

impl Library {
    /// The reactions scored at `temperature`, which must be one of the library's.
    pub fn at(&self, temperature: f64) -> Result<&[Reaction]> {
        let key = temperature.round() as i64;
        match self.temperatures.get(&key) {
            Some(r) if (temperature - key as f64).abs() < 1e-9 => Ok(r),
            _ => Err(AutomatonError::MissingTemperature {
                temperature,
                available: self.temperatures.keys().map(|t| format!("{t} K")).collect::<Vec<_>>().join(", "),
            }),
        }
    }

    /// The reactions of the library temperature nearest to `temperature`, scored at
    /// `temperature` with `params` from their ΔG (`energy_per_atom`, as the library gives
    /// it at its own temperature). Identity reactions keep their score.
    pub fn rescored(&self, params: &crate::scoring::ScoreParams, temperature: f64) -> Result<Vec<Reaction>> {
        let (&t, rx) = self
            .temperatures
            .iter()
            .min_by(|a, b| (*a.0 as f64 - temperature).abs().total_cmp(&(*b.0 as f64 - temperature).abs()))
            .expect("a library has temperatures");
        rx.iter()
            .map(|r| {
                let mut r = r.clone();
                if !r.identity {
                    let dg = r.energy_per_atom.ok_or_else(|| AutomatonError::Setting {
                        key: "rescore".into(),
                        reason: format!("reaction {} at {t} K has no energy_per_atom", r.label(&self.phases)),
                    })?;
                    let reactants: Vec<PhaseId> = r.reactants.iter().map(|x| x.phase).collect();
                    r.score = params.score(&self.phases, &reactants, dg, temperature);
                }
                Ok(r)
            })
            .collect()
    }

    /// Reads ReactCA's `ReactionLibrary` JSON (monty format, unchanged).
    pub fn read_reactca(path: &Path) -> Result<Library> {
        let text = std::fs::read_to_string(path).map_err(|source| AutomatonError::Io { path: path.into(), source })?;
        let value: Value = serde_json::from_str(&text)
            .map_err(|e| AutomatonError::Parse { path: path.into(), reason: format!("invalid JSON: {e}") })?;
        Library::from_reactca_value(&value, path)
    }

    /// Builds a library from ReactCA's JSON already parsed; `path` names errors.
    pub fn from_reactca_value(v: &Value, path: &Path) -> Result<Library> {
        let j = Json { path };
        let ph = j.get(v, "phases", "")?;
        let names = j.array(j.get(ph, "phases", "phases")?, "phases.phases")?;
        let volumes = j.object(j.get(ph, "volumes", "phases")?, "phases.volumes")?;
        let melting = j.object(j.get(ph, "melting_points", "phases")?, "phases.melting_points")?;
        let gases: Vec<String> = match ph.get("gas_phases") {
            Some(g) => j
                .array(g, "phases.gas_phases")?
                .iter()
                .enumerate()
                .map(|(i, s)| j.string(s, &format!("phases.gas_phases[{i}]")))
                .collect::<Result<_>>()?,
            None => DEFAULT_GASES.iter().map(|s| s.to_string()).collect(),
        };
        let observed = ph.get("experimentally_observed").and_then(Value::as_object);
        let mut phases = Vec::new();
        for (i, n) in names.iter().enumerate() {
            let name = j.string(n, &format!("phases.phases[{i}]"))?;
            if name == FREE_SPACE_NAME {
                continue;
            }
            let key = format!("phases.volumes.{name}");
            let vol = j.number(volumes.get(&name).ok_or_else(|| j.key(&key, "missing"))?, &key)?;
            if !(vol > 0.0) {
                return Err(j.key(&key, "a molar volume must be positive"));
            }
            let is_gas = gases.contains(&name);
            let key = format!("phases.melting_points.{name}");
            let tm = match melting.get(&name) {
                Some(x) => j.number(x, &key)?,
                None if is_gas => 0.0,
                None => return Err(j.key(&key, "missing")),
            };
            let composition =
                parse_formula(&name).map_err(|e| j.key(&format!("phases.phases[{i}]"), &e.to_string()))?;
            phases.push(Phase {
                formula_mass: formula_mass(&composition),
                composition,
                molar_volume: vol,
                melting_point: tm,
                is_gas,
                experimentally_observed: observed.and_then(|o| o.get(&name)).and_then(Value::as_bool).unwrap_or(true),
                name,
            });
        }
        let phases = PhaseSet::new(phases)?;
        let lib = j.object(j.get(v, "lib", "")?, "lib")?;
        let mut temperatures = BTreeMap::new();
        let mut balanced = HashMap::new();
        for (t, set) in lib {
            let temp: f64 = t.parse().map_err(|_| j.key(&format!("lib.{t}"), "temperature keys must be numbers"))?;
            let rxns = j.array(j.get(set, "reactions", &format!("lib.{t}"))?, &format!("lib.{t}.reactions"))?;
            let mut out = Vec::with_capacity(rxns.len());
            for (k, r) in rxns.iter().enumerate() {
                let at = format!("lib.{t}.reactions[{k}]");
                let side = |name: &str| -> Result<Vec<(PhaseId, f64)>> {
                    let o = j.object(j.get(r, name, &at)?, &format!("{at}.{name}"))?;
                    o.iter()
                        .map(|(p, x)| {
                            let id = phases.require(p, &format!(" ({}: {at}.{name})", path.display()))?;
                            Ok((id, j.number(x, &format!("{at}.{name}.{p}"))?))
                        })
                        .collect()
                };
                let reactants = side("reactants")?;
                let products = side("products")?;
                let score = j.number(j.get(r, "competitiveness", &at)?, &format!("{at}.competitiveness"))?;
                if !(score >= 0.0) || !score.is_finite() {
                    return Err(j.key(&format!("{at}.competitiveness"), "a score must be finite and not negative"));
                }
                let energy_per_atom = r.get("energy_per_atom").and_then(Value::as_f64);
                out.push(build_reaction(&phases, reactants, products, score, energy_per_atom, &mut balanced)?);
            }
            temperatures.insert(temp.round() as i64, out);
        }
        if temperatures.is_empty() {
            return Err(j.key("lib", "no temperatures"));
        }
        Ok(Library { phases, temperatures })
    }

    /// A copy without the reactions that involve any of `names` (ReactCA's
    /// `exclude_phases`), or that involve phases outside `exact` when given
    /// (`exact_phase_set`).
    pub fn filtered(&self, exclude: &[String], exact: Option<&[String]>) -> Result<Library> {
        let mut drop = vec![false; self.phases.len()];
        for n in exclude {
            drop[self.phases.require(n, " (recipe: exclude_phases)")? as usize] = true;
        }
        if let Some(keep) = exact {
            let keep: Vec<PhaseId> =
                keep.iter().map(|n| self.phases.require(n, " (recipe: exact_phase_set)")).collect::<Result<_>>()?;
            for (i, d) in drop.iter_mut().enumerate().skip(1) {
                if !keep.contains(&(i as PhaseId)) {
                    *d = true;
                }
            }
        }
        let mut out = self.clone();
        for rxns in out.temperatures.values_mut() {
            rxns.retain(|r| r.reactants.iter().chain(&r.products).all(|t| !drop[t.phase as usize]));
        }
        Ok(out)
    }
}

/// Balances a reaction given as volume coefficients and assembles it.
pub(crate) fn build_reaction(
    phases: &PhaseSet,
    reactants: Vec<(PhaseId, f64)>,
    products: Vec<(PhaseId, f64)>,
    score: f64,
    energy_per_atom: Option<f64>,
    cache: &mut HashMap<(Vec<PhaseId>, Vec<PhaseId>), Vec<u64>>,
) -> Result<Reaction> {
    let (rs, ps) = key_of(&reactants, &products);
    let identity = rs == ps;
    let label = || {
        let side = |t: &[(PhaseId, f64)]| {
            t.iter().map(|(p, v)| format!("{v} {}", phases.get(*p).name)).collect::<Vec<_>>().join(" + ")
        };
        format!("'{} -> {}'", side(&reactants), side(&products))
    };
    if reactants.is_empty() || products.is_empty() {
        return Err(AutomatonError::Unbalanced { reaction: label(), reason: "a side is empty".into() });
    }
    if reactants.iter().chain(&products).any(|(_, v)| !(*v > 0.0) || !v.is_finite()) {
        return Err(AutomatonError::Unbalanced { reaction: label(), reason: "coefficients must be positive".into() });
    }
    if identity {
        let t = |s: &[(PhaseId, f64)]| s.iter().map(|&(phase, volume)| Term { phase, volume, moles: 1 }).collect();
        return Ok(Reaction { reactants: t(&reactants), products: t(&products), score, energy_per_atom, identity });
    }
    let key = (rs, ps);
    let moles = match cache.get(&key) {
        Some(m) => m.clone(),
        None => {
            let m = balance(phases, &reactants, &products)
                .map_err(|reason| AutomatonError::Unbalanced { reaction: label(), reason })?;
            cache.insert(key, m.clone());
            m
        }
    };
    // The coefficients come in the order of the sorted phases (the cache key); map them
    // back to the library's order.
    let (sorted_r, sorted_p) = &key_of(&reactants, &products);
    let nu_of = |p: PhaseId, reactant: bool| -> u64 {
        if reactant {
            moles[sorted_r.iter().position(|&x| x == p).expect("phase in reaction")]
        } else {
            moles[sorted_r.len() + sorted_p.iter().position(|&x| x == p).expect("phase in reaction")]
        }
    };
    let r = reactants.iter().map(|&(phase, volume)| Term { phase, volume, moles: nu_of(phase, true) }).collect();
    let p = products.iter().map(|&(phase, volume)| Term { phase, volume, moles: nu_of(phase, false) }).collect();
    Ok(Reaction { reactants: r, products: p, score, energy_per_atom, identity })
}

/// The phases of each side, sorted.
fn key_of(reactants: &[(PhaseId, f64)], products: &[(PhaseId, f64)]) -> (Vec<PhaseId>, Vec<PhaseId>) {
    let mut rs: Vec<PhaseId> = reactants.iter().map(|x| x.0).collect();
    let mut ps: Vec<PhaseId> = products.iter().map(|x| x.0).collect();
    rs.sort_unstable();
    ps.sort_unstable();
    (rs, ps)
}

/// Integer coefficients (reactants sorted by id, then products sorted by id) that balance
/// every element, checked against the volume coefficients within 1 %.
fn balance(
    phases: &PhaseSet,
    reactants: &[(PhaseId, f64)],
    products: &[(PhaseId, f64)],
) -> std::result::Result<Vec<u64>, String> {
    let mut r = reactants.to_vec();
    let mut p = products.to_vec();
    r.sort_by_key(|x| x.0);
    p.sort_by_key(|x| x.0);
    let cols: Vec<(PhaseId, f64, i64)> =
        r.iter().map(|&(id, v)| (id, v, -1)).chain(p.iter().map(|&(id, v)| (id, v, 1))).collect();
    let mut elements: Vec<&String> = cols.iter().flat_map(|c| phases.get(c.0).composition.keys()).collect();
    elements.sort();
    elements.dedup();
    let matrix: Vec<Vec<i64>> = elements
        .iter()
        .map(|el| cols.iter().map(|c| c.2 * *phases.get(c.0).composition.get(*el).unwrap_or(&0) as i64).collect())
        .collect();
    let approx: Vec<f64> = cols.iter().map(|c| c.1 / phases.get(c.0).molar_volume).collect();
    let ns = integer_null_space(&matrix, cols.len());
    let candidate = match ns.len() {
        0 => return Err("no combination of these phases conserves every element".into()),
        1 => {
            let v = &ns[0];
            let s = if v.iter().all(|&x| x > 0) {
                1
            } else if v.iter().all(|&x| x < 0) {
                -1
            } else {
                return Err("the only element-conserving combination needs a phase on the other side".into());
            };
            v.iter().map(|&x| (x * s) as u64).collect::<Vec<u64>>()
        }
        _ => {
            // Several independent balances: take the integer vector nearest to the volume
            // coefficients, scaled so the smallest is 1, 2, …, 240.
            let min = approx.iter().cloned().fold(f64::INFINITY, f64::min);
            let found = (1..=240).find_map(|scale| {
                let v: Vec<i64> = approx.iter().map(|a| (a / min * scale as f64).round() as i64).collect();
                let ok = v.iter().all(|&x| x > 0)
                    && matrix.iter().all(|row| row.iter().zip(&v).map(|(a, b)| a * b).sum::<i64>() == 0);
                ok.then(|| v.iter().map(|&x| x as u64).collect::<Vec<u64>>())
            });
            found.ok_or("the coefficients match no element-conserving combination")?
        }
    };
    // The molar coefficients must agree with the library's volume coefficients.
    let ratio0 = approx[0] / candidate[0] as f64;
    for (i, (&a, &n)) in approx.iter().zip(&candidate).enumerate() {
        let rel = (a / n as f64 / ratio0 - 1.0).abs();
        if rel > 0.01 {
            return Err(format!(
                "volume coefficients give {:.4} mol of {} per mol of {}, the balanced reaction {} ({:.1} % apart)",
                a / approx[0],
                phases.get(cols[i].0).name,
                phases.get(cols[0].0).name,
                n as f64 / candidate[0] as f64,
                rel * 100.0
            ));
        }
    }
    Ok(candidate)
}

/// Small helpers that name the file and key in every error.
struct Json<'a> {
    path: &'a Path,
}

impl Json<'_> {
    fn key(&self, key: &str, reason: &str) -> AutomatonError {
        AutomatonError::Key { path: self.path.into(), key: key.trim_start_matches('.').into(), reason: reason.into() }
    }
    fn get<'v>(&self, v: &'v Value, name: &str, at: &str) -> Result<&'v Value> {
        v.get(name).ok_or_else(|| self.key(&format!("{at}.{name}"), "missing"))
    }
    fn object<'v>(&self, v: &'v Value, at: &str) -> Result<&'v serde_json::Map<String, Value>> {
        v.as_object().ok_or_else(|| self.key(at, "expected an object"))
    }
    fn array<'v>(&self, v: &'v Value, at: &str) -> Result<&'v Vec<Value>> {
        v.as_array().ok_or_else(|| self.key(at, "expected an array"))
    }
    fn string(&self, v: &Value, at: &str) -> Result<String> {
        v.as_str().map(str::to_string).ok_or_else(|| self.key(at, "expected a string"))
    }
    fn number(&self, v: &Value, at: &str) -> Result<f64> {
        v.as_f64().ok_or_else(|| self.key(at, "expected a number"))
    }
}
