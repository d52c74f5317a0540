//! NVE with Cu-PBE-core-rep through the engine itself (`calcine_md::Md`): a 108-atom fcc
//! Cu cell started at 600 K (about 300 K after equipartition), 300 steps of 1 fs. The
//! total energy must stay within 5·10⁻⁵ eV/atom of its start and its fitted drift below
//! 10⁻⁴ eV/atom/ps. (`scripts/ace-nve-drift.sh` runs the 2,048-atom, 5 ps version.)

use calcine_ace::Ace;
use calcine_comm::SerialComm;
use calcine_core::lattice::{Lattice, LatticeKind};
use calcine_core::{SpeciesId, SpeciesTable};
use calcine_domain::Domain;
use calcine_md::{Integrator, ListStorage, Md, MdSettings};
use calcine_potential::Want;
use calcine_test_support::data_path;

#[test]
fn nve_conserves_energy_cu() {
    let (simbox, atoms) = Lattice::new(LatticeKind::Fcc, 3.615).replicate([3; 3]).build(SpeciesId(0));
    let mut species = SpeciesTable::default();
    species.find_or_add("Cu", 63.546);
    let ace = Ace::read(data_path("potentials/Cu-PBE-core-rep.ace"), &["Cu"]).unwrap();
    let settings = MdSettings {
        timestep: 0.001,
        skin: 1.0,
        sort_every: 10,
        max_step_displacement: 1.0,
        list_storage: ListStorage::Auto,
        ..MdSettings::default()
    };
    let domain = Domain::new(SerialComm::new(simbox.periodic()), simbox.clone());
    let mut md = Md::new(domain, atoms, species, Box::new(ace), Integrator::Nve, settings).unwrap();
    md.create_velocities(600.0, 42);
    let n = md.n_atoms() as f64;
    let e0 = md.thermo().total_energy / n;
    let mut samples = Vec::new();
    for k in 1..=300 {
        let sample = k % 10 == 0;
        md.advance(if sample { Want::ALL } else { Want::FORCES_ONLY }).unwrap();
        if sample {
            let t = md.thermo();
            samples.push((t.time, t.total_energy / n - e0, t.temperature));
        }
    }
    let m = samples.len() as f64;
    let (mt, me) = (samples.iter().map(|s| s.0).sum::<f64>() / m, samples.iter().map(|s| s.1).sum::<f64>() / m);
    let slope = samples.iter().map(|s| (s.0 - mt) * (s.1 - me)).sum::<f64>()
        / samples.iter().map(|s| (s.0 - mt).powi(2)).sum::<f64>();
    let worst = samples.iter().map(|s| s.1.abs()).fold(0.0, f64::max);
    let mean_t = samples.iter().map(|s| s.2).sum::<f64>() / m;
    eprintln!("NVE ACE Cu 108 atoms, 0.3 ps at {mean_t:.0} K: drift {slope:.2e} eV/atom/ps, largest |E - E0| {worst:.2e} eV/atom");
    assert!((150.0..450.0).contains(&mean_t), "mean temperature {mean_t}");
    assert!(slope.abs() < 1e-4 && worst < 5e-5, "drift {slope:.2e} eV/atom/ps, |E - E0| up to {worst:.2e} eV/atom");
}
