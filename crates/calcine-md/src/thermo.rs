//! The thermo observables of a step ([`Thermo`], whose schema lives in `calcine-io`).

use crate::velocity::{global_sums, kinetic_tensor};
use calcine_comm::Communicator;
use calcine_core::{units, Atoms, ExactSum};
use calcine_io::Thermo;

/// Computes the observables of a step. Collective.
#[allow(clippy::too_many_arguments)]
pub(crate) fn compute_thermo<C: Communicator + ?Sized>(
    comm: &C,
    step: u64,
    time: f64,
    atoms: &Atoms,
    masses: &[f64],
    energy: &ExactSum,
    virial: &[ExactSum; 6],
    volume: f64,
    thermostat_energy: f64,
) -> Thermo {
    let kin = kinetic_tensor(atoms, masses);
    let mut sums: Vec<ExactSum> = Vec::with_capacity(13);
    sums.extend_from_slice(&kin);
    sums.extend_from_slice(virial);
    sums.push(*energy);
    global_sums(comm, &mut sums);
    let mut n = [atoms.n_owned() as u64];
    comm.sum_u64(&mut n);
    let k: [f64; 6] = std::array::from_fn(|a| sums[a].value());
    let w: [f64; 6] = std::array::from_fn(|a| sums[6 + a].value());
    let pe = sums[12].value();
    let ke = 0.5 * (k[0] + k[1] + k[2]);
    let dof = (3.0 * n[0] as f64 - 3.0).max(1.0);
    let temperature = 2.0 * ke / (dof * units::BOLTZ);
    let inv_v = 1.0 / volume;
    let pressure = (dof * units::BOLTZ * temperature + w[0] + w[1] + w[2]) / 3.0 * inv_v * units::NKTV2P;
    let pressure_tensor = std::array::from_fn(|a| (k[a] + w[a]) * inv_v * units::NKTV2P);
    Thermo {
        step,
        time,
        n_atoms: n[0],
        temperature,
        potential_energy: pe,
        kinetic_energy: ke,
        total_energy: pe + ke,
        pressure,
        pressure_tensor,
        virial: w,
        pressure_pair: (w[0] + w[1] + w[2]) / 3.0 * inv_v * units::NKTV2P,
        volume,
        conserved: pe + ke + thermostat_energy,
        max_grade: None,
    }
}
