//! SNAP + ZBL against LAMMPS's own reference values (unittest/force-styles/tests/
//! manybody-pair-snap.yaml: Ta06A; manybody-pair-snap_chem.yaml: InP with chemflag):
//! energy, virial and forces at the data file's positions (`init_*`) and after four NVE
//! steps of 0.1 fs (`run_*`), within each file's epsilon (5·epsilon for run forces), with
//! LAMMPS's relative-error measure.

use crate::common::{data_manybody, potential_file, serial_md};
use calcine_potential::Want;
use calcine_snap::{Evaluator, SnapInclude};
use calcine_test_support::{data_path, evaluate, rel_err, LammpsYaml};
use std::collections::BTreeMap;

/// The two unit tests with the include file that defines the same potential.
const CASES: [(&str, &str); 2] =
    [("manybody-pair-snap.yaml", "Ta06A.snap"), ("manybody-pair-snap_chem.yaml", "InP_JCPA2020.snap")];

fn reference(yaml: &str) -> LammpsYaml {
    LammpsYaml::read(&data_path(&format!("lammps-unittest/{yaml}"))).expect("yaml reads")
}

/// The test's `pair_style` and `pair_coeff` lines read as a LAMMPS include file.
fn yaml_potential(yaml: &str, reference: &LammpsYaml) -> SnapInclude {
    let mut text = format!("pair_style {}\n", reference.raw["pair_style"]);
    for line in reference.raw["pair_coeff"].lines() {
        text.push_str(&format!("pair_coeff {line}\n"));
    }
    SnapInclude::parse(&text, yaml, data_path("potentials")).expect("the yaml's pair commands parse")
}

/// The worst relative error over a set of comparisons, failing at the first one above `eps`.
#[derive(Default)]
struct Worst(f64);

impl Worst {
    fn check(&mut self, what: &str, got: f64, want: f64, eps: f64) {
        let e = rel_err(got, want);
        assert!(e <= eps, "{what}: calcine {got:.17e}, LAMMPS {want:.17e}, relative error {e:.3e} > {eps:.1e}");
        self.0 = self.0.max(e);
    }

    fn forces(&mut self, what: &str, got: &BTreeMap<u64, [f64; 3]>, want: &BTreeMap<u64, [f64; 3]>, eps: f64) {
        assert_eq!(got.len(), want.len(), "{what}: atom count");
        for (id, f) in want {
            for c in 0..3 {
                self.check(&format!("{what} atom {id} component {c}"), got[id][c], f[c], eps);
            }
        }
    }
}

#[test]
fn include_files_define_the_yaml_potentials() {
    for (yaml, include) in CASES {
        let from_yaml = yaml_potential(yaml, &reference(yaml));
        let from_file = SnapInclude::read(potential_file(include)).expect("include file parses");
        assert_eq!(from_yaml.coeff_file, from_file.coeff_file, "{yaml}");
        assert_eq!(from_yaml.param_file, from_file.param_file, "{yaml}");
        let (zy, zf) = (from_yaml.zbl.as_ref().unwrap(), from_file.zbl.as_ref().unwrap());
        assert_eq!((zy.inner, zy.outer), (zf.inner, zf.outer), "{yaml}");
        for element in &from_file.type_elements {
            assert_eq!(from_yaml.zbl_charge(element).unwrap(), from_file.zbl_charge(element).unwrap(), "{yaml}");
        }
    }
    let ta = SnapInclude::read(potential_file("Ta06A.snap")).unwrap();
    let zbl = ta.zbl.as_ref().unwrap();
    assert_eq!((zbl.inner, zbl.outer, ta.zbl_charge("Ta").unwrap()), (4.0, 4.8, 73.0));
    let inp = SnapInclude::read(potential_file("InP_JCPA2020.snap")).unwrap();
    assert_eq!((inp.zbl_charge("In").unwrap(), inp.zbl_charge("P").unwrap()), (49.0, 15.0));
}

fn init_case(yaml: &str, evaluator: Evaluator) -> [f64; 3] {
    let reference = reference(yaml);
    let include = yaml_potential(yaml, &reference);
    let s = data_manybody(&include.type_elements);
    assert_eq!(s.atoms.n_owned(), reference.natoms);
    let potential = include.build(&s.species.names(), evaluator).expect("potential builds");
    let eval = evaluate(potential.as_ref(), &s.simbox, &s.atoms, 2.0).expect("evaluates");
    let eps = reference.epsilon;
    let (mut energy, mut virial, mut forces) = (Worst::default(), Worst::default(), Worst::default());
    energy.check(&format!("{yaml} init energy"), eval.energy, reference.init_vdwl, eps);
    for k in 0..6 {
        virial.check(&format!("{yaml} init virial {k}"), eval.virial[k], reference.init_stress[k], eps);
    }
    let got = eval.forces.iter().map(|(id, f)| (*id, [f.x, f.y, f.z])).collect();
    forces.forces(&format!("{yaml} init forces"), &got, &reference.init_forces, eps);
    [energy.0, virial.0, forces.0]
}

fn run_case(yaml: &str, evaluator: Evaluator) -> [f64; 3] {
    let reference = reference(yaml);
    let include = yaml_potential(yaml, &reference);
    let s = data_manybody(&include.type_elements);
    let potential = include.build(&s.species.names(), evaluator).expect("potential builds");
    let mut md = serial_md(s, potential);
    for _ in 0..4 {
        md.advance(Want::ALL).unwrap();
    }
    let thermo = md.thermo();
    let eps = reference.epsilon;
    let (mut energy, mut virial, mut forces) = (Worst::default(), Worst::default(), Worst::default());
    energy.check(&format!("{yaml} run energy"), thermo.potential_energy, reference.run_vdwl, eps);
    for k in 0..6 {
        virial.check(&format!("{yaml} run virial {k}"), thermo.virial[k], reference.run_stress[k], eps);
    }
    let frame = md.gather_frame().unwrap();
    let got = frame.ids.iter().zip(frame.forces.as_ref().unwrap()).map(|(id, f)| (id.0, [f.x, f.y, f.z])).collect();
    forces.forces(&format!("{yaml} run forces"), &got, &reference.run_forces, 5.0 * eps);
    [energy.0, virial.0, forces.0]
}

fn report(what: &str, evaluator: Evaluator, worst: [f64; 3]) {
    eprintln!(
        "{what} ({evaluator:?}): worst relative error energy {:.2e}, virial {:.2e}, forces {:.2e}",
        worst[0], worst[1], worst[2]
    );
}

#[test]
fn init_matches_lammps() {
    for evaluator in [Evaluator::Kernel, Evaluator::Reference] {
        for (yaml, _) in CASES {
            report(&format!("{yaml} init"), evaluator, init_case(yaml, evaluator));
        }
    }
}

#[test]
fn run_matches_lammps() {
    for evaluator in [Evaluator::Kernel, Evaluator::Reference] {
        for (yaml, _) in CASES {
            report(&format!("{yaml} run"), evaluator, run_case(yaml, evaluator));
        }
    }
}
