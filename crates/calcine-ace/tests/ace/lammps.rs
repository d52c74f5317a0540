//! ACE against LAMMPS's own reference values (unittest/force-styles/tests/
//! manybody-pair-pace_product.yaml and _recursive.yaml: Cu-PBE-core-rep.ace on the 64
//! atoms of data.manybody): energy, virial and forces at the data file's positions
//! (`init_*`) and after four NVE steps (`run_*`). The files' own epsilons are 5·10⁻¹³
//! (product) and 7.5·10⁻⁹ (recursive, whose LAMMPS run drifts from the product one);
//! calcine is held to 10⁻¹² on both, with LAMMPS's relative-error measure.

use crate::common::{data_manybody, potential_file, serial_md, Worst};
use calcine_ace::{Ace, Algorithm, Evaluator};
use calcine_potential::Want;
use calcine_test_support::{data_path, evaluate, LammpsYaml};

const CASES: [(&str, Algorithm); 2] = [
    ("manybody-pair-pace_product.yaml", Algorithm::Product),
    ("manybody-pair-pace_recursive.yaml", Algorithm::Recursive),
];

/// calcine's bounds (tighter than the recursive file's epsilon): energies, virials, and
/// forces relative to max(|f|, 1 eV/Å) at the data file's positions; after four steps
/// the forces and virial may differ by 5 times as much.
const ENERGY: f64 = 1e-13;
const VIRIAL: f64 = 5e-12;
const FORCE: f64 = 1e-12;

fn reference(yaml: &str) -> LammpsYaml {
    LammpsYaml::read(&data_path(&format!("lammps-unittest/{yaml}"))).expect("yaml reads")
}

fn potential(reference: &LammpsYaml, evaluator: Evaluator, algorithm: Algorithm) -> Ace {
    let coeff: Vec<&str> = reference.raw["pair_coeff"].split_whitespace().collect();
    assert_eq!(&coeff[..3], &["*", "*", "Cu-PBE-core-rep.ace"]);
    Ace::read(potential_file(coeff[2]), &["Cu"])
        .expect("potential reads")
        .with_evaluator(evaluator)
        .with_algorithm(algorithm)
}

fn init_case(yaml: &str, evaluator: Evaluator, algorithm: Algorithm) -> [f64; 4] {
    let reference = reference(yaml);
    let s = data_manybody("Cu");
    assert_eq!(s.atoms.n_owned(), reference.natoms);
    let ace = potential(&reference, evaluator, algorithm);
    let eval = evaluate(&ace, &s.simbox, &s.atoms, 2.0).expect("evaluates");
    let (mut energy, mut virial, mut forces) = (Worst::default(), Worst::default(), Worst::default());
    energy.check(&format!("{yaml} init energy"), eval.energy, reference.init_vdwl, ENERGY);
    for k in 0..6 {
        virial.check(&format!("{yaml} init virial {k}"), eval.virial[k], reference.init_stress[k], VIRIAL);
    }
    let got = eval.forces.iter().map(|(id, f)| (*id, [f.x, f.y, f.z])).collect();
    let lammps_measure = forces.forces(&format!("{yaml} init forces"), &got, &reference.init_forces, FORCE);
    [energy.0, virial.0, forces.0, lammps_measure]
}

fn run_case(yaml: &str, evaluator: Evaluator, algorithm: Algorithm) -> [f64; 4] {
    let reference = reference(yaml);
    let s = data_manybody("Cu");
    let ace = potential(&reference, evaluator, algorithm);
    // LAMMPS's unit tests run with dt = 0.1 fs.
    let mut md = serial_md(s, Box::new(ace), 0.0001);
    for _ in 0..4 {
        md.advance(Want::ALL).unwrap();
    }
    let thermo = md.thermo();
    let (mut energy, mut virial, mut forces) = (Worst::default(), Worst::default(), Worst::default());
    energy.check(&format!("{yaml} run energy"), thermo.potential_energy, reference.run_vdwl, ENERGY);
    for k in 0..6 {
        virial.check(&format!("{yaml} run virial {k}"), thermo.virial[k], reference.run_stress[k], 5.0 * VIRIAL);
    }
    let frame = md.gather_frame().unwrap();
    let got = frame.ids.iter().zip(frame.forces.as_ref().unwrap()).map(|(id, f)| (id.0, [f.x, f.y, f.z])).collect();
    let lammps_measure = forces.forces(&format!("{yaml} run forces"), &got, &reference.run_forces, 5.0 * FORCE);
    [energy.0, virial.0, forces.0, lammps_measure]
}

fn report(what: &str, evaluator: Evaluator, algorithm: Algorithm, worst: [f64; 4]) {
    eprintln!(
        "{what} ({evaluator:?}, {algorithm:?}): worst relative error energy {:.2e}, virial {:.2e}, forces {:.2e} \
         (LAMMPS's per-component measure {:.2e})",
        worst[0], worst[1], worst[2], worst[3]
    );
}

#[test]
fn init_matches_lammps() {
    for evaluator in [Evaluator::Kernel, Evaluator::Reference] {
        for (yaml, algorithm) in CASES {
            report(&format!("{yaml} init"), evaluator, algorithm, init_case(yaml, evaluator, algorithm));
        }
    }
}

#[test]
fn run_matches_lammps() {
    for evaluator in [Evaluator::Kernel, Evaluator::Reference] {
        for (yaml, algorithm) in CASES {
            report(&format!("{yaml} run"), evaluator, algorithm, run_case(yaml, evaluator, algorithm));
        }
    }
}
