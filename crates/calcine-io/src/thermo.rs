//! The thermo record of a step and its CSV schema.

use calcine_core::Virial;

/// Global observables of one step, in LAMMPS metal units and conventions. The engine
/// (`calcine-md`) computes them; writers here give them their file form.
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
    /// The pair (virial) part of the pressure alone, in bar: tr W/(3V) (LAMMPS `compute
    /// pressure NULL pair`).
    pub pressure_pair: f64,
    pub volume: f64,
    /// The thermostat's conserved quantity (total energy plus thermostat energy), in eV.
    pub conserved: f64,
    /// The largest per-atom grade of the step (ACE's extrapolation grade γ) and the
    /// grade's name, when the run computes one: the thermo CSV then ends with a
    /// `max_<name>` column.
    pub max_grade: Option<(&'static str, f64)>,
}

impl Thermo {
    /// Column names of [`Thermo::csv_row`], in order.
    pub const COLUMNS: [&'static str; 16] = [
        "step",
        "time_ps",
        "temp_K",
        "pe_eV",
        "ke_eV",
        "etotal_eV",
        "econserved_eV",
        "press_bar",
        "pxx_bar",
        "pyy_bar",
        "pzz_bar",
        "pxy_bar",
        "pxz_bar",
        "pyz_bar",
        "volume_A3",
        "press_pair_bar",
    ];

    /// The CSV header line (without its line break), ending with `max_<grade>` when the
    /// run computes a per-atom grade of that name.
    pub fn csv_header(grade: Option<&str>) -> String {
        let mut header = Self::COLUMNS.join(",");
        if let Some(name) = grade {
            header.push_str(",max_");
            header.push_str(name);
        }
        header
    }

    /// The values in the order of [`Thermo::COLUMNS`].
    pub fn values(&self) -> [f64; 16] {
        let p = &self.pressure_tensor;
        [
            self.step as f64,
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
            self.volume,
            self.pressure_pair,
        ]
    }

    /// One CSV line (shortest round-trip formatting, so the text is exact and deterministic).
    pub fn csv_row(&self) -> String {
        let mut row = self.step.to_string();
        for v in &self.values()[1..] {
            row.push(',');
            row.push_str(&v.to_string());
        }
        if let Some((_, max)) = self.max_grade {
            row.push(',');
            row.push_str(&max.to_string());
        }
        row
    }
}
