use calcine_comm::Communicator;
use calcine_core::rng::{gaussian3, Stream};
use calcine_core::{units, Atoms, ExactSum, Vec3};

/// Sums each accumulator over all ranks, exactly.
pub fn global_sums<C: Communicator + ?Sized>(comm: &C, sums: &mut [ExactSum]) {
    let mut acc: Vec<i128> = sums.iter().map(|s| s.to_parts().0).collect();
    let mut bad: Vec<u64> = sums.iter().map(|s| s.to_parts().1 as u64).collect();
    comm.sum_i128(&mut acc);
    comm.sum_u64(&mut bad);
    for (k, s) in sums.iter_mut().enumerate() {
        *s = ExactSum::from_parts(acc[k], bad[k] > 0);
    }
}

/// Kinetic energy tensor Σ m v_a v_b · mvv2e of this rank's owned atoms, as exact sums (Voigt order).
pub(crate) fn kinetic_tensor(atoms: &Atoms, masses: &[f64]) -> [ExactSum; 6] {
    let mut t = [ExactSum::new(); 6];
    for i in 0..atoms.n_owned() {
        let m = masses[atoms.species[i].index()] * units::MVV2E;
        let v = atoms.velocities[i];
        t[0].add(m * v.x * v.x);
        t[1].add(m * v.y * v.y);
        t[2].add(m * v.z * v.z);
        t[3].add(m * v.x * v.y);
        t[4].add(m * v.x * v.z);
        t[5].add(m * v.y * v.z);
    }
    t
}

/// Gives the owned atoms Gaussian velocities at `temperature` (LAMMPS `velocity create
/// ... dist gaussian mom yes`): each atom's draw is keyed by (seed, AtomId), the total
/// momentum is removed, and velocities are scaled so that the temperature with 3N−3
/// degrees of freedom is exactly `temperature`. The result does not depend on the number
/// of ranks. Collective.
pub fn create_velocities<C: Communicator + ?Sized>(
    atoms: &mut Atoms,
    masses: &[f64],
    temperature: f64,
    seed: u64,
    comm: &C,
) {
    let n_owned = atoms.n_owned();
    for i in 0..n_owned {
        let m = masses[atoms.species[i].index()];
        let sigma = (units::BOLTZ * temperature / (m * units::MVV2E)).sqrt();
        let g = gaussian3(seed, Stream::InitialVelocity, atoms.ids[i].0, 0);
        atoms.velocities[i] = Vec3::new(g[0], g[1], g[2]) * sigma;
    }
    // Remove the centre-of-mass velocity.
    let mut sums = [ExactSum::new(); 4];
    for i in 0..n_owned {
        let m = masses[atoms.species[i].index()];
        let v = atoms.velocities[i];
        sums[0].add(m * v.x);
        sums[1].add(m * v.y);
        sums[2].add(m * v.z);
        sums[3].add(m);
    }
    global_sums(comm, &mut sums);
    let total_mass = sums[3].value();
    let vcm = Vec3::new(sums[0].value(), sums[1].value(), sums[2].value()) / total_mass;
    for v in &mut atoms.velocities[..n_owned] {
        *v -= vcm;
    }
    // Scale to the exact temperature.
    let mut ke = kinetic_tensor(atoms, masses);
    global_sums(comm, &mut ke);
    let mut n = [n_owned as u64];
    comm.sum_u64(&mut n);
    let dof = 3.0 * n[0] as f64 - 3.0;
    let two_ke = ke[0].value() + ke[1].value() + ke[2].value();
    if two_ke > 0.0 && dof > 0.0 && temperature > 0.0 {
        let current = two_ke / (dof * units::BOLTZ);
        let factor = (temperature / current).sqrt();
        for v in &mut atoms.velocities[..n_owned] {
            *v *= factor;
        }
    }
}
