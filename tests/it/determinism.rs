//! The same run gives the same bits with any number of threads: thermo rows and every
//! position, velocity and force, through neighbor rebuilds, atom sorting, wrapping across
//! periodic boundaries and Langevin noise.

use crate::common::{one_species, serial_md};
use calcine_core::lattice::{Lattice, LatticeKind};
use calcine_core::SpeciesId;
use calcine_io::Structure;
use calcine_md::{Integrator, ListStorage, MdSettings};
use calcine_potential::Want;

fn run_with_threads(n_threads: usize, integrator: Integrator) -> (Vec<String>, Vec<u64>) {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(n_threads).build().unwrap();
    pool.install(|| {
        let (simbox, atoms) = Lattice::new(LatticeKind::Fcc, 3.615).replicate([5, 5, 6]).build(SpeciesId(0));
        let s = Structure { simbox, species: one_species("Cu", 63.55), atoms };
        let eam =
            calcine_eam::Eam::funcfl(&[calcine_test_support::data_path("potentials/Cu_u3.eam")], &["Cu"]).unwrap();
        let settings = MdSettings {
            timestep: 0.002,
            skin: 0.3,
            sort_every: 1,
            max_step_displacement: 1.0,
            list_storage: ListStorage::Packed,
            ..MdSettings::default()
        };
        let mut md = serial_md(s, Box::new(eam), integrator.clone(), settings);
        md.create_velocities(2500.0, 7);
        let mut rows = Vec::new();
        for _ in 0..300 {
            md.advance(Want::ALL).unwrap();
            rows.push(md.thermo().csv_row());
        }
        assert!(md.n_rebuilds() > 5, "the run should rebuild its lists ({} builds)", md.n_rebuilds());
        let f = md.gather_frame().unwrap();
        let bits = f
            .positions
            .iter()
            .chain(f.velocities.as_ref().unwrap())
            .chain(f.forces.as_ref().unwrap())
            .flat_map(|v| [v.x.to_bits(), v.y.to_bits(), v.z.to_bits()])
            .chain(f.images.as_ref().unwrap().iter().flat_map(|im| im.map(|k| k as u64)))
            .collect();
        (rows, bits)
    })
}

#[test]
fn thread_count_does_not_change_a_bit() {
    for integrator in [Integrator::Nve, Integrator::Langevin { temperature: 1500.0, damping: 0.05, seed: 3 }] {
        let one = run_with_threads(1, integrator.clone());
        for n in [2, 3] {
            let other = run_with_threads(n, integrator.clone());
            assert_eq!(one.0, other.0, "{integrator:?}: thermo differs between 1 and {n} threads");
            assert!(one.1 == other.1, "{integrator:?}: atoms differ between 1 and {n} threads");
        }
    }
}
