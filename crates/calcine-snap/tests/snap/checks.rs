//! The generic potential checks (forces are −∇E, the virial is the strain derivative,
//! invariance under translation, rotation, permutation and image shifts) on small
//! perturbed crystals, for every kind of SNAP potential: the LAMMPS files (W and Ta with
//! ZBL, W–Be, Mo, InP with chemflag) and synthetic ones that switch on the options no
//! shipped file uses (quadraticflag, switchinnerflag, bnormflag, wselfallflag, rmin0,
//! switchflag 0).

use crate::common::{perturbed_crystal, potential_file, synthetic_potential};
use calcine_core::lattice::LatticeKind;
use calcine_core::{Atoms, SimBox, SpeciesId};
use calcine_potential::Potential;
use calcine_snap::{Evaluator, Snap, SnapInclude};
use calcine_test_support::{check_potential, CheckTolerances};

const EVALUATORS: [Evaluator; 2] = [Evaluator::Kernel, Evaluator::Reference];

fn check(what: &str, potential: &dyn Potential, simbox: &SimBox, atoms: &Atoms) {
    if let Err(e) = check_potential(potential, simbox, atoms, 1.0, CheckTolerances::default()) {
        panic!("{what}: {e}");
    }
}

fn bcc(a: f64, species: impl Fn(usize) -> SpeciesId) -> (SimBox, Atoms) {
    perturbed_crystal(LatticeKind::Bcc, a, [3, 3, 3], 0.15, species)
}

#[test]
fn tungsten_with_zbl() {
    let include = SnapInclude::read(potential_file("W_2940_2017_2.snap")).unwrap();
    let (simbox, atoms) = bcc(3.1652, |_| SpeciesId(0));
    for evaluator in EVALUATORS {
        let potential = include.build(&["W"], evaluator).unwrap();
        check(&format!("W_2940_2017_2 {evaluator:?}"), potential.as_ref(), &simbox, &atoms);
    }
}

#[test]
fn tantalum() {
    let (simbox, atoms) = bcc(3.3, |_| SpeciesId(0));
    for evaluator in EVALUATORS {
        let snap = Snap::read(potential_file("Ta06A.snapcoeff"), potential_file("Ta06A.snapparam"), &["Ta"])
            .unwrap()
            .with_evaluator(evaluator);
        check(&format!("Ta06A {evaluator:?}"), &snap, &simbox, &atoms);
    }
}

#[test]
fn tungsten_beryllium_and_molybdenum() {
    let include = SnapInclude::read(potential_file("WBe_Wood_PRB2019.snap")).unwrap();
    let (simbox, atoms) = bcc(3.1652, |k| SpeciesId(u32::from(k % 5 == 0)));
    let potential = include.build(&["W", "Be"], Evaluator::Kernel).unwrap();
    check("WBe_Wood_PRB2019", potential.as_ref(), &simbox, &atoms);
    let include = SnapInclude::read(potential_file("Mo_Chen_PRM2017.snap")).unwrap();
    let (simbox, atoms) = bcc(3.16, |_| SpeciesId(0));
    let potential = include.build(&["Mo"], Evaluator::Kernel).unwrap();
    check("Mo_Chen_PRM2017", potential.as_ref(), &simbox, &atoms);
}

#[test]
fn indium_phosphide_chem() {
    // Zinc blende: the first four atoms of each diamond cell are In, the others P.
    let (simbox, atoms) =
        perturbed_crystal(LatticeKind::Diamond, 5.87, [2, 2, 2], 0.1, |k| SpeciesId((k % 8 >= 4) as u32));
    for evaluator in EVALUATORS {
        let potential =
            SnapInclude::read(potential_file("InP_JCPA2020.snap")).unwrap().build(&["In", "P"], evaluator).unwrap();
        check(&format!("InP_JCPA2020 {evaluator:?}"), potential.as_ref(), &simbox, &atoms);
    }
}

#[test]
fn synthetic_options() {
    let dir = tempfile::tempdir().unwrap();
    let elements = [("A", 0.5, 1.0), ("B", 0.45, 0.8)];
    let cases = [
        ("rcutfac 4.6\nquadraticflag 1\nbzeroflag 1", 4, true, false),
        ("rcutfac 4.6\nrmin0 0.3\nswitchinnerflag 1\nsinner 2.0 1.8\ndinner 0.4 0.5\nbzeroflag 0", 4, false, false),
        ("rcutfac 4.6\nchemflag 1\nbnormflag 1\nwselfallflag 1\nrfac0 0.95", 4, false, true),
        ("rcutfac 4.6\nchemflag 1\nbnormflag 0\nbzeroflag 1", 4, false, true),
        ("rcutfac 4.6\nswitchflag 0", 2, false, false),
        ("rcutfac 4.6", 6, false, false),
    ];
    let (simbox, atoms) = bcc(3.2, |k| SpeciesId(u32::from(k % 3 == 0)));
    for (params, two_j_max, quadratic, chem) in cases {
        let (coeff, param) = synthetic_potential(dir.path(), params, &elements, two_j_max, quadratic, chem);
        for evaluator in EVALUATORS {
            let snap = Snap::read(&coeff, &param, &["A", "B"]).unwrap().with_evaluator(evaluator);
            check(&format!("synthetic ({}) {evaluator:?}", params.replace('\n', ", ")), &snap, &simbox, &atoms);
        }
    }
}
