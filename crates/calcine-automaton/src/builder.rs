//! A reaction library built from a table of phases, for users without ReactCA.
//!
//! Each phase gives its formula, molar volume (Å³ per formula unit), melting point (K),
//! whether it is a gas, and its formation free energy per atom either as `delta_h` (eV/atom)
//! and `delta_s` (eV/atom/K), `ΔG_f(T) = ΔH − TΔS`, or as a table of `(T, ΔG_f)` points
//! interpolated linearly (JSON only). Every set of one or two reactants (solids, or a solid
//! and a gas) and one or two products that balances with a unique positive combination is
//! a reaction; its ΔG per atom (of reactants) is scored at each temperature with ReactCA's
//! formulas ([`ScoreParams`]), and its volume coefficients are ν × V_m rounded to 0.01 Å³,
//! as ReactCA writes them.
//!
//! CSV columns: `formula,molar_volume,melting_point,delta_h,delta_s[,gas]`.
//! JSON: `[{"formula": …, "molar_volume": …, "melting_point": …, "delta_h": …, "delta_s": …}
//! or {…, "delta_g": [[T, ΔG], …]}, …]`.

use crate::error::{AutomatonError, Result};
use crate::formula::{formula_mass, parse_formula};
use crate::library::{build_reaction, Library, Phase, PhaseId, PhaseSet, Reaction};
use crate::scoring::ScoreParams;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// (phase, integer coefficient) of one side of a reaction.
type Side = Vec<(PhaseId, u64)>;

/// One row of the phase table.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhaseRow {
    pub formula: String,
    pub molar_volume: f64,
    #[serde(default)]
    pub melting_point: f64,
    pub delta_h: Option<f64>,
    pub delta_s: Option<f64>,
    /// (T in K, ΔG_f in eV/atom) points.
    pub delta_g: Option<Vec<[f64; 2]>>,
    #[serde(default)]
    pub gas: bool,
}

impl PhaseRow {
    /// ΔG of formation per atom (eV) at `t`.
    pub fn delta_g_at(&self, t: f64) -> f64 {
        if let Some(points) = &self.delta_g {
            let k = points.partition_point(|p| p[0] < t).clamp(1, points.len().max(2) - 1);
            if points.len() == 1 {
                return points[0][1];
            }
            let (a, b) = (points[k - 1], points[k]);
            a[1] + (b[1] - a[1]) * (t - a[0]) / (b[0] - a[0])
        } else {
            self.delta_h.unwrap_or(0.0) - t * self.delta_s.unwrap_or(0.0)
        }
    }
}

/// Reads a phase table (CSV or JSON by extension); errors name the file, row and column.
pub fn read_phase_table(path: &Path) -> Result<Vec<PhaseRow>> {
    let text = std::fs::read_to_string(path).map_err(|source| AutomatonError::Io { path: path.into(), source })?;
    let key = |k: String, reason: String| AutomatonError::Key { path: path.into(), key: k, reason };
    let rows: Vec<PhaseRow> = if path.extension().and_then(|e| e.to_str()) == Some("json") {
        serde_json::from_str(&text).map_err(|e| AutomatonError::Parse { path: path.into(), reason: e.to_string() })?
    } else {
        let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'));
        let header: Vec<String> = lines
            .next()
            .ok_or_else(|| key("header".into(), "empty table".into()))?
            .1
            .split(',')
            .map(|s| s.trim().to_string())
            .collect();
        for need in ["formula", "molar_volume", "melting_point", "delta_h", "delta_s"] {
            if !header.iter().any(|h| h == need) {
                return Err(key("header".into(), format!("missing column '{need}'")));
            }
        }
        let mut rows = Vec::new();
        for (n, line) in lines {
            let cells: Vec<&str> = line.split(',').map(str::trim).collect();
            if cells.len() != header.len() {
                return Err(key(
                    format!("line {}", n + 1),
                    format!("{} columns, the header has {}", cells.len(), header.len()),
                ));
            }
            let get = |c: &str| cells[header.iter().position(|h| h == c).expect("checked")];
            let num = |c: &str| -> Result<f64> {
                get(c)
                    .parse()
                    .map_err(|_| key(format!("line {}, column {c}", n + 1), format!("'{}' is not a number", get(c))))
            };
            rows.push(PhaseRow {
                formula: get("formula").to_string(),
                molar_volume: num("molar_volume")?,
                melting_point: num("melting_point")?,
                delta_h: Some(num("delta_h")?),
                delta_s: Some(num("delta_s")?),
                delta_g: None,
                gas: header.iter().any(|h| h == "gas") && matches!(get("gas"), "true" | "1" | "yes"),
            });
        }
        rows
    };
    for (i, r) in rows.iter().enumerate() {
        if !(r.molar_volume > 0.0) {
            return Err(key(format!("row {} ({}), molar_volume", i + 1, r.formula), "must be positive".into()));
        }
        if r.delta_g.is_none() && r.delta_h.is_none() {
            return Err(key(format!("row {} ({})", i + 1, r.formula), "give delta_h and delta_s, or delta_g".into()));
        }
    }
    Ok(rows)
}

/// Builds a library scored at `temperatures` from `rows`; with `diffusion`, reactions
/// between two solids with ΔG ≤ 0.01 eV/atom take the diffusion-limited score
/// ([`crate::diffusion`]).
pub fn build_library(
    rows: &[PhaseRow],
    temperatures: &[f64],
    params: &ScoreParams,
    diffusion: Option<&crate::diffusion::DiffusionScorer>,
) -> Result<Library> {
    let mut phases = Vec::new();
    for r in rows {
        let composition = parse_formula(&r.formula)?;
        phases.push(Phase {
            name: r.formula.clone(),
            formula_mass: formula_mass(&composition),
            composition,
            molar_volume: r.molar_volume,
            melting_point: if r.gas { 0.0 } else { r.melting_point },
            is_gas: r.gas,
            experimentally_observed: true,
        });
    }
    let set = PhaseSet::new(phases)?;
    let n = set.len();
    let atoms = |p: PhaseId| set.get(p).composition.values().sum::<u32>() as f64;
    let mut elements_of: Vec<Vec<&String>> = vec![Vec::new(); n];
    for (p, e) in elements_of.iter_mut().enumerate().skip(1) {
        *e = set.phases[p].composition.keys().collect();
    }
    // Reactant sets: one solid, two solids, or a solid and a gas.
    let mut reactant_sets: Vec<Vec<PhaseId>> = Vec::new();
    for a in 1..n as PhaseId {
        if set.get(a).is_gas {
            continue;
        }
        reactant_sets.push(vec![a]);
        // Each pair of solids once, and every solid with every gas.
        for b in 1..n as PhaseId {
            if b != a && (b > a || set.get(b).is_gas) {
                reactant_sets.push(vec![a, b]);
            }
        }
    }
    let mut found: Vec<(Side, Side)> = Vec::new();
    for rs in &reactant_sets {
        let mut els: Vec<&String> = rs.iter().flat_map(|&p| elements_of[p as usize].clone()).collect();
        els.sort();
        els.dedup();
        let candidates: Vec<PhaseId> = (1..n as PhaseId)
            .filter(|p| !rs.contains(p) && elements_of[*p as usize].iter().all(|e| els.contains(e)))
            .collect();
        let mut product_sets: Vec<Vec<PhaseId>> = candidates.iter().map(|&p| vec![p]).collect();
        for (i, &p) in candidates.iter().enumerate() {
            for &q in &candidates[i + 1..] {
                product_sets.push(vec![p, q]);
            }
        }
        for ps in product_sets {
            if let Some(nu) = balance_exactly(&set, rs, &ps) {
                let (r, p) = nu.split_at(rs.len());
                found.push((
                    rs.iter().copied().zip(r.iter().copied()).collect(),
                    ps.iter().copied().zip(p.iter().copied()).collect(),
                ));
            }
        }
    }
    let mut temperatures_map = BTreeMap::new();
    let mut cache = HashMap::new();
    for &t in temperatures {
        let domains = diffusion.map(|_| crate::diffusion::domains(&set, rows, t));
        let mut rx: Vec<Reaction> = Vec::with_capacity(found.len());
        for (r, p) in &found {
            let g = |side: &[(PhaseId, u64)]| -> f64 {
                side.iter().map(|&(ph, nu)| nu as f64 * atoms(ph) * rows[ph as usize - 1].delta_g_at(t)).sum()
            };
            let n_atoms: f64 = r.iter().map(|&(ph, nu)| nu as f64 * atoms(ph)).sum();
            let dg = (g(p) - g(r)) / n_atoms;
            let ids: Vec<PhaseId> = r.iter().map(|x| x.0).collect();
            let solid_reactants = ids.iter().filter(|&&p| !set.get(p).is_gas).count();
            let score = match (diffusion, &domains) {
                (Some(d), Some(dom)) if solid_reactants == 2 && dg <= 0.01 => {
                    let prods: Vec<PhaseId> = p.iter().map(|x| x.0).collect();
                    d.score(&set, dom, params, &ids, &prods, dg, t)
                }
                _ => params.score(&set, &ids, dg, t),
            };
            let vol = |side: &[(PhaseId, u64)]| -> Vec<(PhaseId, f64)> {
                side.iter()
                    .map(|&(ph, nu)| (ph, (nu as f64 * set.get(ph).molar_volume * 100.0).round() / 100.0))
                    .collect()
            };
            rx.push(build_reaction(&set, vol(r), vol(p), score, Some(dg), &mut cache)?);
        }
        temperatures_map.insert(t.round() as i64, rx);
    }
    Ok(Library { phases: set, temperatures: temperatures_map })
}

/// The unique positive primitive integer coefficients balancing `rs → ps`, if any.
fn balance_exactly(set: &PhaseSet, rs: &[PhaseId], ps: &[PhaseId]) -> Option<Vec<u64>> {
    let cols: Vec<(PhaseId, i64)> = rs.iter().map(|&p| (p, -1)).chain(ps.iter().map(|&p| (p, 1))).collect();
    let mut els: Vec<&String> = cols.iter().flat_map(|c| set.get(c.0).composition.keys()).collect();
    els.sort();
    els.dedup();
    let matrix: Vec<Vec<i64>> = els
        .iter()
        .map(|e| cols.iter().map(|c| c.1 * *set.get(c.0).composition.get(*e).unwrap_or(&0) as i64).collect())
        .collect();
    let ns = crate::balance::integer_null_space(&matrix, cols.len());
    if ns.len() != 1 {
        return None;
    }
    let v = &ns[0];
    let s = if v.iter().all(|&x| x > 0) {
        1
    } else if v.iter().all(|&x| x < 0) {
        -1
    } else {
        return None;
    };
    Some(v.iter().map(|&x| (x * s) as u64).collect())
}
