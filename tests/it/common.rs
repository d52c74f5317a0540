//! Shared set-up for the integration tests.

use calcine_comm::SerialComm;
use calcine_core::{SpeciesId, SpeciesTable};
use calcine_domain::Domain;
use calcine_eam::{Eam, EamEvaluator};
use calcine_io::Structure;
use calcine_md::{Integrator, Md, MdSettings};
use calcine_potential::Potential;
use calcine_test_support::data_path;

/// The three LAMMPS EAM unit tests: yaml file, EAM style, type names.
pub const EAM_CASES: [(&str, &str, [&str; 2]); 3] = [
    ("atomic-pair-eam.yaml", "eam", ["Al", "Cu"]),
    ("atomic-pair-eam_alloy.yaml", "eam/alloy", ["Cu", "Ni"]),
    ("atomic-pair-eam_fs.yaml", "eam/fs", ["Al", "Fe"]),
];

/// The EAM potential of a LAMMPS unit test, for species `names`.
pub fn eam_for(style: &str, names: &[&str], evaluator: impl Into<EamEvaluator>) -> Eam {
    let p = |f: &str| data_path(&format!("potentials/{f}"));
    let eam = match style {
        "eam" => Eam::funcfl(&[p("Al_jnp.eam"), p("Cu_u3.eam")], names),
        "eam/alloy" => Eam::setfl(p("CuNi.eam.alloy"), names),
        "eam/fs" => Eam::fs(p("AlFe_mm.eam.fs"), names),
        _ => unreachable!("unknown style {style}"),
    };
    eam.expect("potential file loads").with_evaluator(evaluator)
}

/// `data.metal` with the given type names and the potential's masses (as LAMMPS's EAM styles do).
pub fn data_metal(names: &[&str], potential: &dyn Potential) -> Structure {
    let mut s = calcine_io::read_lammps_data(data_path("lammps-unittest/data.metal"), names).expect("data.metal reads");
    if let Some(masses) = potential.masses() {
        for (k, m) in masses.into_iter().enumerate() {
            s.species.get_mut(SpeciesId(k as u32)).mass = m;
        }
    }
    s.wrap_into_box();
    s
}

/// An MD engine on one rank.
pub fn serial_md(
    s: Structure,
    potential: Box<dyn Potential>,
    integrator: Integrator,
    settings: MdSettings,
) -> Md<SerialComm> {
    let domain = Domain::new(SerialComm::new(s.simbox.periodic()), s.simbox.clone());
    Md::new(domain, s.atoms, s.species, potential, integrator, settings).expect("md set-up")
}

/// A species table with one species.
pub fn one_species(name: &str, mass: f64) -> SpeciesTable {
    let mut t = SpeciesTable::default();
    t.find_or_add(name, mass);
    t
}
