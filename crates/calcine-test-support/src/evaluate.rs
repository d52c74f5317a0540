use calcine_core::{Atoms, SimBox, Vec3, Virial};
use calcine_md::{single_point, MdError};
use calcine_potential::Potential;
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
    /// Per-atom virials (eV, xx yy zz xy xz yz) by `AtomId`.
    pub per_atom_virial: BTreeMap<u64, Virial>,
}

/// Evaluates `potential` on the owned atoms of `atoms` in `simbox` on one rank, through
/// the engine's migration, ghost, neighbor-list and force code (skin `skin`).
pub fn evaluate(potential: &dyn Potential, simbox: &SimBox, atoms: &Atoms, skin: f64) -> Result<Evaluation, MdError> {
    let state = single_point(potential, simbox, atoms, skin)?;
    let (atoms, out) = (state.atoms(), state.output());
    let n = atoms.n_owned();
    Ok(Evaluation {
        energy: out.energy.value(),
        virial: out.virial_value(),
        forces: (0..n).map(|i| (atoms.ids[i].0, out.forces[i])).collect(),
        per_atom_energy: (0..n).map(|i| (atoms.ids[i].0, out.per_atom_energy[i])).collect(),
        per_atom_virial: (0..n).map(|i| (atoms.ids[i].0, out.per_atom_virial[i])).collect(),
    })
}
