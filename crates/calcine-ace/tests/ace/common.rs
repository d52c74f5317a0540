//! Shared set-up: potential files, the LAMMPS unit-test inputs, worst-error tracking.

use calcine_comm::SerialComm;
use calcine_domain::Domain;
use calcine_io::Structure;
use calcine_md::{Integrator, Md, MdSettings};
use calcine_potential::Potential;
use calcine_test_support::{data_path, rel_err};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// A file of `tests/data/potentials`.
pub fn potential_file(name: &str) -> PathBuf {
    data_path(&format!("potentials/{name}"))
}

/// `data.manybody` with every LAMMPS type named `element`, wrapped into the box.
pub fn data_manybody(element: &str) -> Structure {
    let names = vec![element; 8];
    let mut s =
        calcine_io::read_lammps_data(data_path("lammps-unittest/data.manybody"), &names).expect("data.manybody reads");
    s.wrap_into_box();
    s
}

/// An NVE engine on one rank with the given timestep.
pub fn serial_md(s: Structure, potential: Box<dyn Potential>, timestep: f64) -> Md<SerialComm> {
    let settings =
        MdSettings { timestep, skin: 2.0, sort_every: 0, max_step_displacement: 1.0, ..MdSettings::default() };
    let domain = Domain::new(SerialComm::new(s.simbox.periodic()), s.simbox.clone());
    Md::new(domain, s.atoms, s.species, potential, Integrator::Nve, settings).expect("md set-up")
}

/// The worst relative error over a set of comparisons, failing at the first one above `eps`.
#[derive(Default)]
pub struct Worst(pub f64);

impl Worst {
    pub fn check(&mut self, what: &str, got: f64, want: f64, eps: f64) {
        let e = rel_err(got, want);
        assert!(e <= eps, "{what}: calcine {got:.17e}, reference {want:.17e}, relative error {e:.3e} > {eps:.1e}");
        self.0 = self.0.max(e);
    }

    /// Forces component by component, each error relative to the larger of the reference
    /// component and 1 eV/Å (LAMMPS's measure, |a − b|/min(|a|, |b|), makes components that
    /// nearly cancel fail on rounding alone); returns the worst error in LAMMPS's measure too.
    pub fn forces(
        &mut self,
        what: &str,
        got: &BTreeMap<u64, [f64; 3]>,
        want: &BTreeMap<u64, [f64; 3]>,
        eps: f64,
    ) -> f64 {
        assert_eq!(got.len(), want.len(), "{what}: atom count");
        let mut lammps_measure: f64 = 0.0;
        for (id, f) in want {
            for c in 0..3 {
                let (a, b) = (got[id][c], f[c]);
                let e = (a - b).abs() / b.abs().max(1.0);
                assert!(
                    e <= eps,
                    "{what} atom {id} component {c}: calcine {a:.17e}, reference {b:.17e}, error {e:.3e} > {eps:.1e}"
                );
                self.0 = self.0.max(e);
                lammps_measure = lammps_measure.max(rel_err(a, b));
            }
        }
        lammps_measure
    }
}
