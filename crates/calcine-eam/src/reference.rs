//! The reference EAM evaluator: LAMMPS's `PairEAM::compute` with `newton on`, serial.
//!
//! On a half list each pair is visited once:
//! 1. ρ is accumulated on both atoms of each pair, ghosts included;
//! 2. `reverse_sum` adds ghost densities into their owners;
//! 3. F(ρ) and F′(ρ) are evaluated on owned atoms;
//! 4. `forward` copies F′ to the ghosts;
//! 5. each pair's force −ψ′/r · (x_i − x_j) goes to i and, negated, to j, ghosts included,
//!    and the engine reverse-sums the ghost forces (`ghost_forces = true`).
//!
//! It is the oracle the kernel is tested against, so it stays plain.

use crate::table::{cubic_derivative, cubic_value, radial_point};
use crate::Scratch;
use calcine_core::GhostSync;
use calcine_potential::{AtomVirials, ForceInput, ForceOutput, PotentialError};

pub(crate) fn compute(
    eam: &crate::Eam,
    input: &ForceInput<'_>,
    ghosts: &mut dyn GhostSync,
    out: &mut ForceOutput,
    scratch: &mut Scratch,
) -> Result<(), PotentialError> {
    let atoms = input.atoms;
    let list = input.neighbors;
    let t = &eam.tables;
    let want = input.want;
    let n_owned = atoms.n_owned();
    let n_total = atoms.n_total();
    let cutoff_sq = t.cutoff() * t.cutoff();
    let min_distance_sq = t.dr() * t.dr();
    let x = &atoms.positions;
    let species = |k: usize| atoms.species[k].index();

    let rho = &mut scratch.rho;
    rho.clear();
    rho.resize(n_total, 0.0);
    // A failure is kept until the two halo exchanges are done: other ranks are waiting in
    // them, and returning early would leave them hanging.
    let mut failure: Option<PotentialError> = None;
    'density: for i in 0..n_owned {
        for j in list.neighbors(i) {
            let j = j as usize;
            let d = x[i] - x[j];
            let rsq = d.x * d.x + d.y * d.y + d.z * d.z;
            if rsq >= cutoff_sq {
                continue;
            }
            if rsq.is_nan() {
                let id = if x[i].iter().all(|v| v.is_finite()) { atoms.ids[j].0 } else { atoms.ids[i].0 };
                failure = Some(PotentialError::NonFinite { potential: eam.name.to_string(), what: "position", id });
                break 'density;
            }
            if rsq < min_distance_sq {
                failure = Some(PotentialError::TooClose {
                    potential: eam.name.to_string(),
                    id_i: atoms.ids[i].0,
                    id_j: atoms.ids[j].0,
                    distance: rsq.sqrt(),
                    min_distance: t.dr(),
                });
                break 'density;
            }
            let (m, p) = radial_point(rsq.sqrt(), t.rdr(), t.nr());
            rho[i] += cubic_value(t.density_table(species(i), species(j)).row(m), p);
            rho[j] += cubic_value(t.density_table(species(j), species(i)).row(m), p);
        }
    }
    ghosts.reverse_sum(rho);

    let fp = &mut scratch.fp;
    fp.clear();
    fp.resize(n_total, f64::NAN);
    for i in 0..n_owned {
        if failure.is_some() {
            break;
        }
        if !rho[i].is_finite() {
            failure = Some(PotentialError::NonFinite {
                potential: eam.name.to_string(),
                what: "density",
                id: atoms.ids[i].0,
            });
            break;
        }
        let (f, f_prime) = t.embedding(species(i), rho[i]);
        fp[i] = f_prime;
        if want.energy {
            out.energy.add(f);
        }
        if want.per_atom_energy {
            out.per_atom_energy[i] += f;
        }
    }
    ghosts.forward(fp);
    if let Some(e) = failure {
        return Err(e);
    }

    // Pair energies are split half and half between the two atoms, ghosts included, and
    // the ghost halves are reverse-summed into their owners.
    let pair_energy = &mut scratch.embedding;
    if want.per_atom_energy {
        pair_energy.clear();
        pair_energy.resize(n_total, 0.0);
    }
    // Each pair's virial is split half and half too (LAMMPS's `ev_tally`).
    let mut virials = AtomVirials::default();
    if want.per_atom_virial {
        virials.reset(n_total);
    }
    for i in 0..n_owned {
        for j in list.neighbors(i) {
            let j = j as usize;
            let d = x[i] - x[j];
            let rsq = d.x * d.x + d.y * d.y + d.z * d.z;
            if rsq >= cutoff_sq {
                continue;
            }
            let r = rsq.sqrt();
            let (m, p) = radial_point(r, t.rdr(), t.nr());
            let (si, sj) = (species(i), species(j));
            let rhoip = cubic_derivative(t.density_table(sj, si).row(m), p);
            let rhojp = cubic_derivative(t.density_table(si, sj).row(m), p);
            let c = t.r_phi_table(si, sj).row(m);
            let z2p = cubic_derivative(c, p);
            let z2 = cubic_value(c, p);
            let recip = 1.0 / r;
            let phi = z2 * recip;
            let phip = z2p * recip - phi * recip;
            let psip = fp[i] * rhojp + fp[j] * rhoip + phip;
            let fpair = -psip * recip;
            let f = d * fpair;
            out.forces[i] += f;
            out.forces[j] -= f;
            if want.energy {
                out.energy.add(phi);
            }
            if want.per_atom_energy {
                pair_energy[i] += 0.5 * phi;
                pair_energy[j] += 0.5 * phi;
            }
            if want.virial || want.per_atom_virial {
                let w = [
                    d.x * d.x * fpair,
                    d.y * d.y * fpair,
                    d.z * d.z * fpair,
                    d.x * d.y * fpair,
                    d.x * d.z * fpair,
                    d.y * d.z * fpair,
                ];
                out.tally_pair_virial(&mut virials, i, j, &w, want);
            }
        }
    }
    if want.per_atom_virial {
        virials.reverse_sum(ghosts);
        virials.add_into(&mut out.per_atom_virial[..n_owned]);
    }
    if want.per_atom_energy {
        ghosts.reverse_sum(pair_energy);
        for i in 0..n_owned {
            out.per_atom_energy[i] += pair_energy[i];
        }
    }
    out.ghost_forces = true;
    if let Some(i) = out.forces[..n_total].iter().position(|f| !(f.x.is_finite() && f.y.is_finite() && f.z.is_finite()))
    {
        return Err(PotentialError::NonFinite { potential: eam.name.to_string(), what: "force", id: atoms.ids[i].0 });
    }
    Ok(())
}
