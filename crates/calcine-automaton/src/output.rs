//! Output files of a run: phase amounts and mole, volume and mass fractions per record
//! (CSV and JSON), their mean and spread over realisations, and a lattice slice; unless the
//! recipe turns them off, their PNG charts ([`crate::plots`]).
//!
//! Amounts are ReactCA's molar amounts: cell volumes divided by the molar volume in Å³
//! (quanta / [`QUANTA`]). Evolved gases count as phases, as in ReactCA's analysis; gases
//! taken from the atmosphere are reported separately (`atmosphere_taken`).

use crate::engine::{element_totals, Record, RunResult};
use crate::error::{AutomatonError, Result};
use crate::library::Library;
use crate::recipe::Recipe;
use crate::rules::QUANTA;
use std::fmt::Write as _;
use std::path::Path;

/// Amounts and fractions of each phase at one record.
#[derive(Debug, Clone, PartialEq)]
pub struct Fractions {
    pub moles: Vec<f64>,
    pub mole: Vec<f64>,
    pub volume: Vec<f64>,
    pub mass: Vec<f64>,
}

/// The fractions of one record (index 0, Free Space, is always zero).
pub fn fractions(library: &Library, record: &Record) -> Fractions {
    let ph = &library.phases;
    let moles: Vec<f64> = (0..ph.len()).map(|p| (record.amounts[p] + record.gases[p].max(0)) as f64 / QUANTA).collect();
    let norm = |v: Vec<f64>| {
        let s: f64 = v.iter().sum();
        v.into_iter().map(|x| if s > 0.0 { x / s } else { 0.0 }).collect::<Vec<f64>>()
    };
    let mole = norm(moles.clone());
    let volume = norm(moles.iter().enumerate().map(|(p, m)| m * ph.phases[p].molar_volume).collect());
    let mass = norm(moles.iter().enumerate().map(|(p, m)| m * ph.phases[p].formula_mass).collect());
    let mut moles = moles;
    moles[0] = 0.0;
    Fractions { moles, mole, volume, mass }
}

/// The phases that appear in any record of any realisation, in library order.
pub fn phases_seen(library: &Library, result: &RunResult) -> Vec<usize> {
    (1..library.phases.len())
        .filter(|&p| result.realisations.iter().any(|r| r.records.iter().any(|x| x.amounts[p] > 0 || x.gases[p] > 0)))
        .collect()
}

/// `fractions.csv`: one row per realisation, record and phase.
pub fn fractions_csv(library: &Library, result: &RunResult) -> String {
    let seen = phases_seen(library, result);
    let mut s = String::from("realisation,sweep,temperature,phase,moles,mole_fraction,volume_fraction,mass_fraction\n");
    for r in &result.realisations {
        for rec in &r.records {
            let f = fractions(library, rec);
            for &p in &seen {
                let _ = writeln!(
                    s,
                    "{},{},{},{},{:e},{:e},{:e},{:e}",
                    r.index,
                    rec.sweep,
                    rec.temperature,
                    library.phases.phases[p].name,
                    f.moles[p],
                    f.mole[p],
                    f.volume[p],
                    f.mass[p]
                );
            }
        }
    }
    s
}

/// `summary.csv`: mean and sample standard deviation over realisations of each fraction,
/// per record and phase.
pub fn summary_csv(library: &Library, result: &RunResult) -> String {
    let seen = phases_seen(library, result);
    let mut s = String::from(
        "sweep,temperature,phase,mole_fraction_mean,mole_fraction_std,volume_fraction_mean,volume_fraction_std,mass_fraction_mean,mass_fraction_std\n",
    );
    let n_rec = result.realisations.iter().map(|r| r.records.len()).min().unwrap_or(0);
    for k in 0..n_rec {
        let fr: Vec<Fractions> = result.realisations.iter().map(|r| fractions(library, &r.records[k])).collect();
        let rec = &result.realisations[0].records[k];
        for &p in &seen {
            let stats = |get: &dyn Fn(&Fractions) -> f64| mean_std(&fr.iter().map(get).collect::<Vec<_>>());
            let (m1, s1) = stats(&|f| f.mole[p]);
            let (m2, s2) = stats(&|f| f.volume[p]);
            let (m3, s3) = stats(&|f| f.mass[p]);
            let _ = writeln!(
                s,
                "{},{},{},{m1:e},{s1:e},{m2:e},{s2:e},{m3:e},{s3:e}",
                rec.sweep, rec.temperature, library.phases.phases[p].name
            );
        }
    }
    s
}

fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = if v.len() > 1 { v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0) } else { 0.0 };
    (m, var.sqrt())
}

/// `result.json`: the recipe, the phases seen, and per realisation and record the molar
/// amounts, the gases taken from the atmosphere and the element totals (exact integers, as
/// strings, so conservation can be checked by anyone).
pub fn result_json(recipe: &Recipe, library: &Library, result: &RunResult) -> String {
    use serde_json::{json, Map, Value};
    let seen = phases_seen(library, result);
    let reals: Vec<Value> = result
        .realisations
        .iter()
        .map(|r| {
            let recs: Vec<Value> = r
                .records
                .iter()
                .map(|rec| {
                    let f = fractions(library, rec);
                    let mut moles = Map::new();
                    let mut mole_fraction = Map::new();
                    for &p in &seen {
                        moles.insert(library.phases.phases[p].name.clone(), json!(f.moles[p]));
                        mole_fraction.insert(library.phases.phases[p].name.clone(), json!(f.mole[p]));
                    }
                    let mut taken = Map::new();
                    for (p, g) in rec.gases.iter().enumerate() {
                        if *g < 0 {
                            taken.insert(library.phases.phases[p].name.clone(), json!(-*g as f64 / QUANTA));
                        }
                    }
                    let elements: Map<String, Value> = library
                        .phases
                        .elements
                        .iter()
                        .zip(element_totals(library, rec))
                        .map(|(e, t)| (e.clone(), json!(t.to_string())))
                        .collect();
                    let pooled: f64 = rec.pooled.iter().sum::<i128>() as f64 / QUANTA;
                    json!({
                        "sweep": rec.sweep,
                        "temperature": rec.temperature,
                        "moles": moles,
                        "pooled_moles": pooled,
                        "mole_fraction": mole_fraction,
                        "atmosphere_taken": taken,
                        "element_quanta": elements,
                    })
                })
                .collect();
            json!({ "index": r.index, "visits": r.visits, "records": recs })
        })
        .collect();
    let doc = json!({
        "program": "calcine react",
        "recipe": recipe,
        "quanta_per_mole": QUANTA,
        "phases": seen.iter().map(|&p| library.phases.phases[p].name.clone()).collect::<Vec<_>>(),
        "elements": library.phases.elements,
        "realisations": reals,
    });
    let mut s = serde_json::to_string_pretty(&doc).expect("result serialises");
    s.push('\n');
    s
}

/// `slice.csv`: the phase of every cell of the middle z plane of realisation 0 at the end.
pub fn slice_csv(library: &Library, result: &RunResult) -> String {
    let mut s = String::from("x,y,phase\n");
    let l = result.slice_edge;
    for (k, p) in result.final_slice.iter().enumerate() {
        let _ = writeln!(s, "{},{},{}", k / l.max(1), k % l.max(1), library.phases.phases[*p as usize].name);
    }
    s
}

/// Writes `fractions.csv`, `summary.csv`, `result.json` and `slice.csv` into `dir`, and
/// with `recipe.plots` `fractions.png` and `slice.png`.
pub fn write_all(dir: &Path, recipe: &Recipe, library: &Library, result: &RunResult) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|source| AutomatonError::Write { path: dir.into(), source })?;
    for (name, text) in [
        ("fractions.csv", fractions_csv(library, result)),
        ("summary.csv", summary_csv(library, result)),
        ("result.json", result_json(recipe, library, result)),
        ("slice.csv", slice_csv(library, result)),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|source| AutomatonError::Write { path, source })?;
    }
    if recipe.plots {
        crate::plots::fractions_figure(library, result)
            .write_png(&dir.join("fractions.png"))
            .map_err(AutomatonError::Plot)?;
        crate::plots::slice_map(library, result).write_png(&dir.join("slice.png")).map_err(AutomatonError::Plot)?;
    }
    Ok(())
}
