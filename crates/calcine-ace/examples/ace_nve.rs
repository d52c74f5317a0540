//! An NVE run with an ACE potential through the engine (`calcine_md::Md`), writing the
//! thermo CSV calcine's runs write (`Thermo::CSV_HEADER`), for `scripts/ace-nve-drift.sh`:
//!
//! ```text
//! cargo run --release -p calcine-ace --example ace_nve -- POTENTIAL ELEMENT MASS A CELLS T0 DT STEPS EVERY OUT.csv
//! ```
//!
//! builds an fcc crystal of lattice constant A (Å) with CELLS³ cubic cells, draws
//! velocities at T0 (K; seed 2026), and runs STEPS steps of DT ps, writing thermo every
//! EVERY steps.

use calcine_ace::Ace;
use calcine_comm::SerialComm;
use calcine_core::lattice::{Lattice, LatticeKind};
use calcine_core::{SpeciesId, SpeciesTable};
use calcine_domain::Domain;
use calcine_md::{Integrator, ListStorage, Md, MdSettings, Thermo};
use calcine_potential::Want;
use std::io::Write;

fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    assert_eq!(a.len(), 10, "usage: POTENTIAL ELEMENT MASS A CELLS T0 DT STEPS EVERY OUT.csv");
    let num = |k: usize| a[k].parse::<f64>().unwrap_or_else(|_| panic!("argument {} is not a number", k + 1));
    let (element, mass, lattice, cells) = (&a[1], num(2), num(3), num(4) as usize);
    let (t0, dt, steps, every) = (num(5), num(6), num(7) as u64, num(8) as u64);
    let (simbox, atoms) = Lattice::new(LatticeKind::Fcc, lattice).replicate([cells; 3]).build(SpeciesId(0));
    let mut species = SpeciesTable::default();
    species.find_or_add(element, mass);
    let ace = Ace::read(&a[0], &[element.as_str()]).expect("potential reads");
    let settings = MdSettings {
        timestep: dt,
        skin: 1.0,
        sort_every: 100,
        max_step_displacement: 1.0,
        list_storage: ListStorage::Auto,
    };
    let domain = Domain::new(SerialComm::new(simbox.periodic()), simbox.clone());
    let mut md = Md::new(domain, atoms, species, Box::new(ace), Integrator::Nve, settings).expect("md set-up");
    md.create_velocities(t0, 2026);
    let mut out = std::io::BufWriter::new(std::fs::File::create(&a[9]).expect("output file"));
    writeln!(out, "{}", Thermo::CSV_HEADER).unwrap();
    writeln!(out, "{}", md.thermo().csv_row()).unwrap();
    for step in 1..=steps {
        let sample = step % every == 0;
        md.advance(if sample { Want::ALL } else { Want::FORCES_ONLY }).expect("step");
        if sample {
            writeln!(out, "{}", md.thermo().csv_row()).unwrap();
            out.flush().unwrap();
        }
    }
}
