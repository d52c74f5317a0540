use crate::velocity::{global_sums, kinetic_tensor};
use calcine_comm::Communicator;
use calcine_core::{units, Atoms, ExactSum, Virial};

/// Global observables of one step, in LAMMPS metal units and conventions.
#[derive(Debug, Clone, PartialEq)]
pub struct Thermo {
    pub step: u64,
    /// Simulated time in ps.
    pub time: f64,
    pub n_atoms: u64,
    /// Temperature in K with 3N−3 degrees of freedom (LAMMPS `compute temp`).
    pub temperature: f64,
    /// Potential energy, kinetic energy and their sum, in eV.
    pub potential_energy: f64,
    pub kinetic_energy: f64,
    pub total_energy: f64,
    /// Scalar pressure in bar: (dof·k_B·T + tr W)/(3V) (LAMMPS `compute pressure`).
    pub pressure: f64,
    /// Pressure tensor in bar, xx yy zz xy xz yz: (Σ m v_a v_b + W_ab)/V.
    pub pressure_tensor: [f64; 6],
    /// The pair virial W in eV (as LAMMPS's unit tests report it).
    pub virial: Virial,
    pub volume: f64,
    /// The thermostat's conserved quantity (total energy plus thermostat energy), in eV.
    pub conserved: f64,
}

impl Thermo {
    /// Column names of [`Thermo::csv_row`].
    pub const CSV_HEADER: &'static str =
        "step,time_ps,temp_K,pe_eV,ke_eV,etotal_eV,econserved_eV,press_bar,pxx_bar,pyy_bar,pzz_bar,pxy_bar,pxz_bar,pyz_bar,volume_A3";

    /// One CSV line (shortest round-trip formatting, so the text is exact and deterministic).
    pub fn csv_row(&self) -> String {
        let p = &self.pressure_tensor;
        format!(
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            self.step,
            self.time,
            self.temperature,
            self.potential_energy,
            self.kinetic_energy,
            self.total_energy,
            self.conserved,
            self.pressure,
            p[0],
            p[1],
            p[2],
            p[3],
            p[4],
            p[5],
            self.volume
        )
    }

    /// Computes the observables. Collective.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn compute<C: Communicator + ?Sized>(
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
            volume,
            conserved: pe + ke + thermostat_energy,
        }
    }
}
