use calcine_comm::SerialComm;
use calcine_core::{Atoms, SimBox, Vec3, Virial};
use calcine_domain::Domain;
use calcine_neighbor::NeighborList;
use calcine_potential::{ForceInput, ForceOutput, Potential, PotentialError, Want};
use std::collections::BTreeMap;

/// Energy, forces and virial of one configuration.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub energy: f64,
    pub virial: Virial,
    /// Forces by `AtomId`.
    pub forces: BTreeMap<u64, Vec3>,
    /// Per-atom energies by `AtomId`.
    pub per_atom_energy: BTreeMap<u64, f64>,
}

/// Evaluates `potential` on the owned atoms of `atoms` in `simbox` on one rank, through
/// the real migration, ghost and neighbor-list code (skin `skin`).
pub fn evaluate(
    potential: &dyn Potential,
    simbox: &SimBox,
    atoms: &Atoms,
    skin: f64,
) -> Result<Evaluation, PotentialError> {
    let mut atoms = atoms.clone();
    atoms.clear_ghosts();
    let mut domain = Domain::new(SerialComm::new(simbox.periodic()), simbox.clone());
    domain.migrate(&mut atoms, 0).map_err(|e| PotentialError::Config(e.to_string()))?;
    domain.build_ghosts(&mut atoms, potential.cutoff() + skin);
    let mut list = NeighborList::new(potential.neighbor_kind(), potential.cutoff(), skin);
    list.build(&atoms).map_err(|e| PotentialError::NonFinite {
        potential: potential.name().to_string(),
        what: "position",
        id: atoms.ids[e.atom_idx].0,
    })?;
    let mut out = ForceOutput::default();
    out.reset(atoms.n_owned(), atoms.n_total(), Want::ALL);
    potential.compute(&ForceInput { atoms: &atoms, neighbors: &list, want: Want::ALL }, &mut domain, &mut out)?;
    if out.ghost_forces {
        domain.reverse_forces(&mut out.forces);
    }
    let n = atoms.n_owned();
    Ok(Evaluation {
        energy: out.energy.value(),
        virial: out.virial_value(),
        forces: (0..n).map(|i| (atoms.ids[i].0, out.forces[i])).collect(),
        per_atom_energy: (0..n).map(|i| (atoms.ids[i].0, out.per_atom_energy[i])).collect(),
    })
}
