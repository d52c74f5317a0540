//! The extrapolation grade γ against pyace (PyACECalculator on the B-basis `.yaml` with
//! the same `.asi`), as `scripts/ace_pyace_reference.py` wrote it: the potential
//! CuNi-gamma with a linear active set made by pyace's MaxVol from 12 training cells, on a
//! crystal, a liquid and a compressed crystal far outside the training set (γ up to 10.8).
//! Per-atom γ within 10⁻⁸ relative (the bound); the worst error is printed. The
//! full (non-linear) grade is checked with random matrices of the full size.

use crate::pyace::{compare, Case};
use calcine_ace::{Extrapolation, GradeKind};
use calcine_potential::{NeighborKind, Potential};
use calcine_test_support::data_path;

const GAMMA: f64 = 1e-8;

fn reference() -> serde_like::Gammas {
    serde_like::read(&data_path("ace/CuNi-gamma-gamma.json"))
}

/// A reader for the small JSON file of γ lists (no JSON crate in this crate's tests).
mod serde_like {
    use std::collections::BTreeMap;
    use std::path::Path;

    pub type Gammas = BTreeMap<String, BTreeMap<String, Vec<f64>>>;

    /// Reads `{"training_set": "...", "linear": {"crystal": [..], ...}, "full-random": {..}}`.
    pub fn read(path: &Path) -> Gammas {
        let text = std::fs::read_to_string(path).unwrap();
        let mut out = Gammas::new();
        for kind in ["linear", "full-random"] {
            let Some(start) = text.find(&format!("\"{kind}\": {{")) else { continue };
            let body = &text[start..];
            let body = &body[body.find('{').unwrap() + 1..];
            let end = body.find('}').unwrap();
            let mut cases = BTreeMap::new();
            for part in body[..end].split(']').filter(|p| p.contains('[')) {
                let (name, values) = part.split_once('[').unwrap();
                let name = name.trim().trim_start_matches(',').trim().trim_end_matches(':').trim().trim_matches('"');
                let values = values.split(',').map(|v| v.trim().parse::<f64>().unwrap()).collect();
                cases.insert(name.to_string(), values);
            }
            out.insert(kind.to_string(), cases);
        }
        out
    }
}

/// Checks calcine's γ against pyace's for every structure of `kind` with the active set
/// `asi`; returns the largest γ.
fn check(kind: &str, asi: &str, grade: GradeKind) -> f64 {
    let gammas = reference();
    let cases = &gammas[kind];
    assert_eq!(cases.len(), 3);
    let ext = Extrapolation::read(data_path("ace/CuNi-gamma.yaml"), data_path(asi), &["Cu", "Ni"])
        .expect("potential and active set read");
    assert_eq!(ext.kind(), grade);
    let mut largest: f64 = 0.0;
    for (structure, want) in cases {
        let case = Case::read("CuNi-gamma", structure);
        // The potential of the .yaml gives pyace's energies and forces on these structures too.
        compare(&case, ext.potential());
        let s = case.frame.clone().into_structure();
        let state =
            calcine_md::prepare_single(&s.simbox, &s.atoms, NeighborKind::Full, ext.potential().cutoff(), 1.0).unwrap();
        let (atoms, list) = (state.atoms(), state.neighbors());
        let got = ext.compute_gamma(atoms, list).expect("gamma");
        assert_eq!(got.len(), want.len());
        let mut worst: f64 = 0.0;
        for k in 0..atoms.n_owned() {
            let id = atoms.ids[k].0 as usize;
            let (g, w) = (got[k], want[id - 1]);
            let e = (g - w).abs() / w.abs();
            assert!(
                e <= GAMMA,
                "{kind} {structure} atom {id}: calcine {g:.17e}, pyace {w:.17e}, relative error {e:.2e}"
            );
            worst = worst.max(e);
            largest = largest.max(w);
        }
        let max = want.iter().fold(0.0f64, |m, &g| m.max(g));
        eprintln!("CuNi-gamma {kind} {structure}: max γ {max:.3}, worst relative error {worst:.2e}");
    }
    largest
}

#[test]
fn linear_gamma_matches_pyace() {
    let largest = check("linear", "ace/CuNi-gamma-linear.asi", GradeKind::Linear);
    assert!(largest > 5.0, "one structure must be far outside the training set (max γ {largest})");
}

/// The full grade (∂F/∂ρ_p times the projections) with random matrices of the full size:
/// pyace's own full active sets for this potential are singular, so this checks the
/// arithmetic rather than a physical grade.
#[test]
fn full_gamma_matches_pyace() {
    check("full-random", "ace/CuNi-gamma-full-random.asi", GradeKind::Full);
}
