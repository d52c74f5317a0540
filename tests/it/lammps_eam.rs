//! EAM against LAMMPS's own reference values (unittest/force-styles/tests/atomic-pair-eam*.yaml):
//! energy, virial and forces at the data file's positions (`init_*`) and after four NVE
//! steps of 0.1 fs (`run_*`), within each file's epsilon (5·epsilon for run forces), with
//! LAMMPS's relative-error measure.

use crate::common::{data_metal, eam_for, serial_md, EAM_CASES};
use calcine_eam::EamEvaluator;
use calcine_md::{Integrator, ListStorage, MdSettings};
use calcine_potential::Want;
use calcine_test_support::{data_path, evaluate, rel_err, LammpsYaml};
use std::collections::BTreeMap;

fn assert_close(what: &str, got: f64, want: f64, eps: f64) {
    let e = rel_err(got, want);
    assert!(e <= eps, "{what}: calcine {got:.17e}, LAMMPS {want:.17e}, relative error {e:.3e} > {eps:.1e}");
}

fn check_forces(what: &str, got: &BTreeMap<u64, [f64; 3]>, want: &BTreeMap<u64, [f64; 3]>, eps: f64) -> f64 {
    assert_eq!(got.len(), want.len(), "{what}: atom count");
    let mut worst: f64 = 0.0;
    for (id, f) in want {
        for c in 0..3 {
            let g = got[id][c];
            worst = worst.max(rel_err(g, f[c]));
            assert_close(&format!("{what} atom {id} component {c}"), g, f[c], eps);
        }
    }
    worst
}

fn init_case(yaml: &str, style: &str, names: [&str; 2], evaluator: EamEvaluator) {
    let reference = LammpsYaml::read(&data_path(&format!("lammps-unittest/{yaml}"))).unwrap();
    let eam = eam_for(style, &names, evaluator);
    let s = data_metal(&names, &eam);
    assert_eq!(s.atoms.n_owned(), reference.natoms);
    let eval = evaluate(&eam, &s.simbox, &s.atoms, 2.0).unwrap();
    let eps = reference.epsilon;
    assert_close(&format!("{yaml} init energy"), eval.energy, reference.init_vdwl, eps);
    for k in 0..6 {
        assert_close(&format!("{yaml} init virial {k}"), eval.virial[k], reference.init_stress[k], eps);
    }
    let forces = eval.forces.iter().map(|(id, f)| (*id, [f.x, f.y, f.z])).collect();
    check_forces(&format!("{yaml} init forces"), &forces, &reference.init_forces, eps);
}

fn run_case(yaml: &str, style: &str, names: [&str; 2], evaluator: EamEvaluator) {
    let reference = LammpsYaml::read(&data_path(&format!("lammps-unittest/{yaml}"))).unwrap();
    let eam = eam_for(style, &names, evaluator);
    let s = data_metal(&names, &eam);
    let settings = MdSettings {
        timestep: 0.0001,
        skin: 2.0,
        sort_every: 0,
        max_step_displacement: 1.0,
        list_storage: ListStorage::Packed,
        ..MdSettings::default()
    };
    let mut md = serial_md(s, Box::new(eam), Integrator::Nve, settings);
    for _ in 0..4 {
        md.advance(Want::ALL).unwrap();
    }
    let thermo = md.thermo();
    let eps = reference.epsilon;
    assert_close(&format!("{yaml} run energy"), thermo.potential_energy, reference.run_vdwl, eps);
    for k in 0..6 {
        assert_close(&format!("{yaml} run virial {k}"), thermo.virial[k], reference.run_stress[k], eps);
    }
    let frame = md.gather_frame().unwrap();
    let forces = frame.ids.iter().zip(frame.forces.as_ref().unwrap()).map(|(id, f)| (id.0, [f.x, f.y, f.z])).collect();
    check_forces(&format!("{yaml} run forces"), &forces, &reference.run_forces, 5.0 * eps);
}

#[test]
fn init_matches_lammps_kernel() {
    for (yaml, style, names) in EAM_CASES {
        init_case(yaml, style, names, EamEvaluator::Kernel);
    }
}

#[test]
fn init_matches_lammps_full_list_kernel() {
    for (yaml, style, names) in EAM_CASES {
        init_case(yaml, style, names, EamEvaluator::FullList);
    }
}

#[test]
fn init_matches_lammps_reference_evaluator() {
    for (yaml, style, names) in EAM_CASES {
        init_case(yaml, style, names, EamEvaluator::Reference);
    }
}

#[test]
fn run_matches_lammps_kernel() {
    for (yaml, style, names) in EAM_CASES {
        run_case(yaml, style, names, EamEvaluator::Kernel);
    }
}

#[test]
fn run_matches_lammps_full_list_kernel() {
    for (yaml, style, names) in EAM_CASES {
        run_case(yaml, style, names, EamEvaluator::FullList);
    }
}

#[test]
fn run_matches_lammps_reference_evaluator() {
    for (yaml, style, names) in EAM_CASES {
        run_case(yaml, style, names, EamEvaluator::Reference);
    }
}
