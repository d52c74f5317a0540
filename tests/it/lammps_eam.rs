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

/// Forces stored in an H5MD trajectory (`h5md_fields` with "force", through the gathered
/// frame the writer is given) and read back, against LAMMPS's `init_forces`: the values
/// must survive the file bit for bit, so they match LAMMPS as the engine's own do.
#[test]
fn h5md_stored_forces_match_lammps() {
    use calcine_io::{FrameReader, H5mdContents, H5mdReader, H5mdWriter};
    let dir = std::env::temp_dir().join(format!("calcine-h5md-forces-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (yaml, style, names) in EAM_CASES {
        let reference = LammpsYaml::read(&data_path(&format!("lammps-unittest/{yaml}"))).unwrap();
        let eam = eam_for(style, &names, EamEvaluator::Kernel);
        let s = data_metal(&names, &eam);
        let md = serial_md(s, Box::new(eam), Integrator::Nve, MdSettings { skin: 2.0, ..MdSettings::default() });
        let frame = md.gather_frame().unwrap();
        let path = dir.join(format!("{yaml}.h5"));
        let fields = H5mdContents::from_fields(&["velocity", "image", "force"]).unwrap();
        let mut w = H5mdWriter::create(&path, &frame, &md.thermo(), fields).unwrap();
        w.append(&frame, &md.thermo()).unwrap();
        drop(w);
        let back = H5mdReader::open(&path, Default::default()).unwrap().read_frame().unwrap().unwrap();
        let stored = back.forces.as_ref().expect("the file stores forces");
        for (a, b) in stored.iter().zip(frame.forces.as_ref().unwrap()) {
            assert_eq!([a.x, a.y, a.z].map(f64::to_bits), [b.x, b.y, b.z].map(f64::to_bits), "{yaml}: stored forces");
        }
        let forces = back.ids.iter().zip(stored).map(|(id, f)| (id.0, [f.x, f.y, f.z])).collect();
        let worst = check_forces(&format!("{yaml} H5MD forces"), &forces, &reference.init_forces, 1e-13);
        println!("{yaml}: H5MD forces against LAMMPS init_forces, worst relative error {worst:.2e}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
