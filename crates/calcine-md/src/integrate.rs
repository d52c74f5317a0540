use crate::velocity::{global_sums, kinetic_tensor};
use calcine_comm::Communicator;
use calcine_core::rng::{gaussian3, Stream};
use calcine_core::{units, Atoms, Vec3};
use rayon::prelude::*;

/// How velocities and positions advance.
#[derive(Debug, Clone, PartialEq)]
pub enum Integrator {
    /// Velocity Verlet, constant N, V, E (LAMMPS `fix nve`).
    Nve,
    /// Langevin dynamics at `temperature` (K) with friction time `damping` (ps), in the BAOAB
    /// splitting of Leimkuhler and Matthews (Appl. Math. Res. Express 2013, 34): half kick,
    /// half drift, exact Ornstein–Uhlenbeck velocity update, half drift, force, half kick.
    /// The noise for an atom at a step is keyed by (seed, AtomId, step).
    Langevin { temperature: f64, damping: f64, seed: u64 },
    /// Nosé–Hoover chain of length `chain` at `temperature` with period `damping` (ps), in the
    /// Martyna–Tuckerman–Klein Trotter splitting used by LAMMPS `fix nvt`
    /// (Martyna, Klein, Tuckerman, J. Chem. Phys. 97, 2635 (1992); Shinoda et al., PRB 69, 134103 (2004)).
    NoseHoover { temperature: f64, damping: f64, chain: usize },
}

/// The thermostat's own variables (Nosé–Hoover chain positions, velocities, forces and
/// masses; empty for the other integrators): what a checkpoint saves to continue a run
/// bit for bit.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ThermostatState {
    pub eta: Vec<f64>,
    pub eta_dot: Vec<f64>,
    pub eta_dotdot: Vec<f64>,
    pub eta_mass: Vec<f64>,
}

impl Integrator {
    /// Default thermostat damping time (ps): Langevin friction time, Nosé–Hoover period.
    pub const DEFAULT_DAMPING: f64 = 0.1;
    /// Default Nosé–Hoover chain length (LAMMPS `fix nvt`'s `tchain`).
    pub const DEFAULT_CHAIN: usize = 3;
    /// Default seed of initial velocities and Langevin noise.
    pub const DEFAULT_SEED: u64 = 12345;
}

impl ThermostatState {
    /// The variables as one flat list (lengths first), for checkpoints.
    pub fn to_words(&self) -> Vec<f64> {
        let parts = [&self.eta, &self.eta_dot, &self.eta_dotdot, &self.eta_mass];
        let mut words: Vec<f64> = parts.iter().map(|p| p.len() as f64).collect();
        for p in parts {
            words.extend_from_slice(p);
        }
        words
    }

    /// The state [`ThermostatState::to_words`] wrote, or `None` if the words do not hold one.
    pub fn from_words(words: &[f64]) -> Option<Self> {
        let lens: Vec<usize> = words.get(..4)?.iter().map(|&l| l as usize).collect();
        if words.len() != 4 + lens.iter().sum::<usize>() {
            return None;
        }
        let mut at = 4;
        let mut take = |n: usize| {
            let v = words[at..at + n].to_vec();
            at += n;
            v
        };
        Some(Self { eta: take(lens[0]), eta_dot: take(lens[1]), eta_dotdot: take(lens[2]), eta_mass: take(lens[3]) })
    }
}

/// Atoms per rayon task in the integrator loops.
const CHUNK: usize = 4096;

impl Integrator {
    pub(crate) fn init_state(&self, n_atoms: u64) -> ThermostatState {
        match *self {
            Integrator::NoseHoover { temperature, damping, chain } => {
                let dof = 3.0 * n_atoms as f64 - 3.0;
                let t_freq = 1.0 / damping;
                let kt = units::BOLTZ * temperature;
                let mut eta_mass = vec![kt / (t_freq * t_freq); chain];
                eta_mass[0] *= dof;
                let mut eta_dotdot = vec![0.0; chain + 1];
                for k in 1..chain {
                    eta_dotdot[k] = -kt / eta_mass[k];
                }
                ThermostatState { eta: vec![0.0; chain], eta_dot: vec![0.0; chain + 1], eta_dotdot, eta_mass }
            }
            _ => ThermostatState::default(),
        }
    }

    /// Energy stored in the thermostat (zero unless Nosé–Hoover), for the conserved quantity.
    pub(crate) fn thermostat_energy(&self, state: &ThermostatState, n_atoms: u64) -> f64 {
        match *self {
            Integrator::NoseHoover { temperature, chain, .. } => {
                let kt = units::BOLTZ * temperature;
                let dof = 3.0 * n_atoms as f64 - 3.0;
                let mut e = dof * kt * state.eta[0] + 0.5 * state.eta_mass[0] * state.eta_dot[0] * state.eta_dot[0];
                for k in 1..chain {
                    e += kt * state.eta[k] + 0.5 * state.eta_mass[k] * state.eta_dot[k] * state.eta_dot[k];
                }
                e
            }
            _ => 0.0,
        }
    }

    /// Everything before the force call of step `step` (the step being computed). Collective.
    pub(crate) fn first_half<C: Communicator + ?Sized>(
        &self,
        state: &mut ThermostatState,
        atoms: &mut Atoms,
        forces: &[Vec3],
        masses: &[f64],
        dt: f64,
        step: u64,
        comm: &C,
    ) {
        if let Integrator::NoseHoover { temperature, .. } = *self {
            nhc_half_step(state, atoms, masses, temperature, dt, comm);
        }
        let n = atoms.n_owned();
        let dtf = 0.5 * dt * units::FTM2V;
        let species = &atoms.species[..n];
        let ids = &atoms.ids[..n];
        let (positions, velocities) = (&mut atoms.positions[..n], &mut atoms.velocities[..n]);
        match *self {
            Integrator::Nve | Integrator::NoseHoover { .. } => {
                positions.par_chunks_mut(CHUNK).zip(velocities.par_chunks_mut(CHUNK)).enumerate().for_each(
                    |(c, (xs, vs))| {
                        for k in 0..xs.len() {
                            let i = c * CHUNK + k;
                            let v = &mut vs[k];
                            half_kick(v, &forces[i], dtf / masses[species[i].index()]);
                            let x = &mut xs[k];
                            x.x += dt * v.x;
                            x.y += dt * v.y;
                            x.z += dt * v.z;
                        }
                    },
                );
            }
            Integrator::Langevin { temperature, damping, seed } => {
                let c1 = (-dt / damping).exp();
                let c2 = (1.0 - c1 * c1).sqrt();
                let half = 0.5 * dt;
                positions.par_chunks_mut(CHUNK).zip(velocities.par_chunks_mut(CHUNK)).enumerate().for_each(
                    |(c, (xs, vs))| {
                        for k in 0..xs.len() {
                            let i = c * CHUNK + k;
                            let m = masses[species[i].index()];
                            let dtfm = dtf / m;
                            let sigma = (units::BOLTZ * temperature / (m * units::MVV2E)).sqrt();
                            let v = &mut vs[k];
                            *v += forces[i] * dtfm;
                            xs[k] += *v * half;
                            let g = gaussian3(seed, Stream::Langevin, ids[i].0, step);
                            *v = *v * c1 + Vec3::new(g[0], g[1], g[2]) * (c2 * sigma);
                            xs[k] += *v * half;
                        }
                    },
                );
            }
        }
    }

    /// Everything after the force call. Collective.
    pub(crate) fn second_half<C: Communicator + ?Sized>(
        &self,
        state: &mut ThermostatState,
        atoms: &mut Atoms,
        forces: &[Vec3],
        masses: &[f64],
        dt: f64,
        comm: &C,
    ) {
        let n = atoms.n_owned();
        let dtf = 0.5 * dt * units::FTM2V;
        let species = &atoms.species[..n];
        atoms.velocities[..n].par_chunks_mut(CHUNK).enumerate().for_each(|(c, vs)| {
            for k in 0..vs.len() {
                let i = c * CHUNK + k;
                half_kick(&mut vs[k], &forces[i], dtf / masses[species[i].index()]);
            }
        });
        if let Integrator::NoseHoover { temperature, .. } = *self {
            nhc_half_step(state, atoms, masses, temperature, dt, comm);
        }
    }
}

/// v += dtfm·f with dtfm = ½·dt·ftm2v/m, component by component as LAMMPS `fix nve` does.
#[inline(always)]
fn half_kick(v: &mut Vec3, f: &Vec3, dtfm: f64) {
    v.x += dtfm * f.x;
    v.y += dtfm * f.y;
    v.z += dtfm * f.z;
}

/// One half step (dt/2) of the Nosé–Hoover chain acting on the velocities (LAMMPS
/// `FixNH::nhc_temp_integrate` with one loop and no drag).
fn nhc_half_step<C: Communicator + ?Sized>(
    s: &mut ThermostatState,
    atoms: &mut Atoms,
    masses: &[f64],
    t_target: f64,
    dt: f64,
    comm: &C,
) {
    let m = s.eta.len();
    let mut kin = kinetic_tensor(atoms, masses);
    global_sums(comm, &mut kin);
    let mut n = [atoms.n_owned() as u64];
    comm.sum_u64(&mut n);
    let dof = 3.0 * n[0] as f64 - 3.0;
    let kt = units::BOLTZ * t_target;
    let ke_target = dof * kt;
    let mut ke_current = kin[0].value() + kin[1].value() + kin[2].value();
    let (dthalf, dt4, dt8) = (0.5 * dt, 0.25 * dt, 0.125 * dt);

    s.eta_dotdot[0] = (ke_current - ke_target) / s.eta_mass[0];
    for k in (0..m).rev() {
        let expfac = (-dt8 * s.eta_dot[k + 1]).exp();
        s.eta_dot[k] *= expfac;
        s.eta_dot[k] += s.eta_dotdot[k] * dt4;
        s.eta_dot[k] *= expfac;
    }
    let factor = (-dthalf * s.eta_dot[0]).exp();
    let n_owned = atoms.n_owned();
    for v in &mut atoms.velocities[..n_owned] {
        *v *= factor;
    }
    ke_current *= factor * factor;
    s.eta_dotdot[0] = (ke_current - ke_target) / s.eta_mass[0];
    for k in 0..m {
        s.eta[k] += dthalf * s.eta_dot[k];
    }
    for k in 0..m {
        let expfac = (-dt8 * s.eta_dot[k + 1]).exp();
        s.eta_dot[k] *= expfac;
        if k > 0 {
            s.eta_dotdot[k] = (s.eta_mass[k - 1] * s.eta_dot[k - 1] * s.eta_dot[k - 1] - kt) / s.eta_mass[k];
        }
        s.eta_dot[k] += s.eta_dotdot[k] * dt4;
        s.eta_dot[k] *= expfac;
    }
}
