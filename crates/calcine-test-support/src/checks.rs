use crate::evaluate::{evaluate, Evaluation};
use calcine_core::{Atoms, SimBox, Vec3};
use calcine_potential::Potential;

/// Tolerances of [`check_potential`].
#[derive(Debug, Clone, Copy)]
pub struct CheckTolerances {
    /// Finite-difference steps in Å (and in strain). A check passes if any step agrees: a
    /// potential whose force jumps at its cutoff (shifted LJ, many EAM tables) makes the
    /// difference quotient wrong whenever a pair crosses the cutoff within the step, while
    /// a wrong derivative disagrees at every step.
    pub steps: [f64; 3],
    /// Allowed |F − F_fd| in eV/Å (and |W − W_fd| in eV, scaled by the number of atoms).
    pub force_abs: f64,
    /// Allowed relative energy change under symmetry operations.
    pub energy_rel: f64,
    /// How many atoms get finite-difference force checks.
    pub n_fd_atoms: usize,
}

impl Default for CheckTolerances {
    fn default() -> Self {
        Self { steps: [1e-5, 1e-6, 1e-7], force_abs: 1e-6, energy_rel: 1e-12, n_fd_atoms: 6 }
    }
}

/// The checks every potential must pass (STYLE §9 items 1–3): forces are −∇E by central
/// differences, the virial equals minus the strain derivative of the energy, and energy and
/// forces do not change under translation, permutation of the atom order, a 90° rotation
/// (when the box is square in x–y) and shifting an atom by a box vector.
pub fn check_potential(
    potential: &dyn Potential,
    simbox: &SimBox,
    atoms: &Atoms,
    skin: f64,
    tol: CheckTolerances,
) -> Result<(), String> {
    let eval = |b: &SimBox, a: &Atoms| evaluate(potential, b, a, skin).map_err(|e| e.to_string());
    let base = eval(simbox, atoms)?;
    let n = atoms.n_owned();

    // 1. Forces are minus the gradient of the energy.
    let stride = (n / tol.n_fd_atoms.max(1)).max(1);
    for i in (0..n).step_by(stride).take(tol.n_fd_atoms) {
        for c in 0..3 {
            let f = base.forces[&atoms.ids[i].0][c];
            let mut fds = Vec::new();
            for h in tol.steps {
                let mut plus = atoms.clone();
                plus.positions[i][c] += h;
                let mut minus = atoms.clone();
                minus.positions[i][c] -= h;
                let fd = -(eval(simbox, &plus)?.energy - eval(simbox, &minus)?.energy) / (2.0 * h);
                fds.push(fd);
                // Rounding of the energy difference grows as 1/h.
                let noise = 1e-15 * base.energy.abs().max(1.0) / h;
                if (f - fd).abs() <= tol.force_abs * (1.0 + f.abs()) + noise {
                    break;
                }
                if fds.len() == tol.steps.len() {
                    return Err(format!(
                        "force on atom {} component {c}: analytic {f}, finite differences {fds:?}",
                        atoms.ids[i].0
                    ));
                }
            }
        }
    }

    // 2. The virial is minus the strain derivative (upper-triangular strains keep the box
    //    in LAMMPS's restricted triclinic form).
    let components = [(0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2)];
    for (k, &(a, b)) in components.iter().enumerate() {
        let w = base.virial[k];
        let mut fds = Vec::new();
        for h in tol.steps {
            let mut e = [0.0; 2];
            for (s, sign) in [1.0, -1.0].into_iter().enumerate() {
                let (sb, sa) = strained(simbox, atoms, a, b, sign * h);
                e[s] = eval(&sb, &sa)?.energy;
            }
            let fd = -(e[0] - e[1]) / (2.0 * h);
            fds.push(fd);
            let noise = 1e-15 * base.energy.abs().max(1.0) / h;
            if (w - fd).abs() <= tol.force_abs * (n as f64) * (1.0 + w.abs() / n as f64) + noise {
                break;
            }
            if fds.len() == tol.steps.len() {
                return Err(format!("virial component {k}: analytic {w}, strain derivatives {fds:?}"));
            }
        }
    }

    // 3. Invariances.
    let compare = |what: &str, other: &Evaluation, rotate: &dyn Fn(Vec3) -> Vec3| -> Result<(), String> {
        if (other.energy - base.energy).abs() > tol.energy_rel * base.energy.abs().max(1.0) {
            return Err(format!("{what}: energy {} became {}", base.energy, other.energy));
        }
        for (id, f) in &base.forces {
            let g = other.forces[id];
            if (rotate(*f) - g).norm() > 1e-9 * (1.0 + f.norm()) {
                return Err(format!("{what}: force on atom {id} {f:?} became {g:?}"));
            }
        }
        Ok(())
    };
    let identity = |v: Vec3| v;

    let mut moved = atoms.clone();
    let t = Vec3::new(0.37, -1.21, 2.03);
    for x in &mut moved.positions {
        *x += t;
    }
    compare("translation", &eval(simbox, &moved)?, &identity)?;

    let mut permuted = Atoms::new();
    for i in (0..n).rev() {
        permuted.push_owned(atoms.ids[i], atoms.species[i], atoms.positions[i], atoms.velocities[i], atoms.images[i]);
    }
    compare("permutation", &eval(simbox, &permuted)?, &identity)?;

    let mut imaged = atoms.clone();
    let periodic = simbox.periodic();
    for (k, axis) in (0..3).filter(|&a| periodic[a]).enumerate() {
        imaged.positions[k % n] += simbox.edge(axis) * if k % 2 == 0 { 1.0 } else { -2.0 };
    }
    compare("image shift", &eval(simbox, &imaged)?, &identity)?;

    let l = simbox.lengths();
    if !simbox.is_triclinic() && l[0] == l[1] && periodic[0] == periodic[1] {
        // A 90° rotation about z maps the square x–y cross-section onto itself.
        let lo = simbox.lo();
        let rot = |v: Vec3| Vec3::new(-v.y, v.x, v.z);
        let mut rotated = atoms.clone();
        for x in &mut rotated.positions {
            let d = *x - lo;
            *x = lo + Vec3::new(l[0] - d.y, d.x, d.z);
        }
        compare("rotation", &eval(simbox, &rotated)?, &rot)?;
    }
    Ok(())
}

/// The box and atoms under a homogeneous strain x → (1 + ε e_a e_bᵀ) x about the box origin.
fn strained(simbox: &SimBox, atoms: &Atoms, a: usize, b: usize, eps: f64) -> (SimBox, Atoms) {
    let lo = simbox.lo();
    let deform = |v: Vec3| {
        let mut w = v;
        w[a] += eps * v[b];
        w
    };
    // Edges of the strained box, read back into lengths and tilts.
    let ea = deform(simbox.edge(0));
    let eb = deform(simbox.edge(1));
    let ec = deform(simbox.edge(2));
    let sb =
        simbox.with_lengths_and_tilt([ea.x, eb.y, ec.z], [eb.x, ec.x, ec.y]).expect("small strain keeps a valid box");
    let mut sa = atoms.clone();
    for x in &mut sa.positions {
        *x = lo + deform(*x - lo);
    }
    (sb, sa)
}
