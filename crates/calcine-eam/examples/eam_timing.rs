use calcine_core::lattice::{Lattice, LatticeKind};
use calcine_core::{GhostSync, SpeciesId, Vec3};
use calcine_eam::{Eam, Evaluator};
use calcine_neighbor::NeighborList;
use calcine_potential::{ForceInput, ForceOutput, Potential, Want};
use std::time::Instant;

struct Images {
    owner: Vec<usize>,
}
impl GhostSync for Images {
    fn forward(&mut self, v: &mut [f64]) {
        let n = v.len() - self.owner.len();
        for (g, &o) in self.owner.iter().enumerate() {
            v[n + g] = v[o];
        }
    }
    fn reverse_sum(&mut self, v: &mut [f64]) {
        let n = v.len() - self.owner.len();
        for (g, &o) in self.owner.iter().enumerate() {
            v[o] += v[n + g];
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let cells: usize = args.get(1).map_or(20, |s| s.parse().unwrap());
    let steps: usize = args.get(2).map_or(20, |s| s.parse().unwrap());
    let evaluator = if args.get(3).map(|s| s.as_str()) == Some("ref") { Evaluator::Reference } else { Evaluator::Kernel };
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/potentials/Cu_u3.eam");
    let pot = Eam::funcfl(&[dir], &["Cu"]).unwrap().with_evaluator(evaluator);
    let a = 3.615;
    let (_b, mut atoms) = Lattice::new(LatticeKind::Fcc, a).replicate([cells; 3]).build(SpeciesId(0));
    // jitter
    for (k, x) in atoms.positions.iter_mut().enumerate() {
        let u = calcine_core::rng::uniform4(5, calcine_core::rng::Stream::Test, k as u64, 0);
        *x += Vec3::new(u[0] - 0.5, u[1] - 0.5, u[2] - 0.5) * 0.05;
    }
    let l = a * cells as f64;
    let skin = 1.0;
    let rg = pot.cutoff() + skin;
    let n = atoms.n_owned();
    let mut owner = Vec::new();
    for ix in -1i32..=1 {
        for iy in -1i32..=1 {
            for iz in -1i32..=1 {
                if (ix, iy, iz) == (0, 0, 0) {
                    continue;
                }
                let s = Vec3::new(ix as f64 * l, iy as f64 * l, iz as f64 * l);
                for i in 0..n {
                    let x = atoms.positions[i] + s;
                    if (0..3).all(|d| x[d] >= -rg && x[d] < l + rg) {
                        atoms.push_ghost(atoms.ids[i], atoms.species[i], x);
                        owner.push(i);
                    }
                }
            }
        }
    }
    let mut list = NeighborList::new(pot.neighbor_kind(), pot.cutoff(), skin);
    let t0 = Instant::now();
    list.build(&atoms);
    let tl = t0.elapsed().as_secs_f64();
    let mut ghosts = Images { owner };
    let mut out = ForceOutput::default();
    let virial = std::env::var("NO_VIRIAL").is_err();
    let want = Want { energy: true, virial, per_atom_energy: false };
    let mut best = f64::INFINITY;
    let mut total = 0.0;
    let mut e = 0.0;
    for _ in 0..steps {
        out.reset(n, atoms.n_total(), want);
        let t = Instant::now();
        pot.compute(&ForceInput { atoms: &atoms, neighbors: &list, want }, &mut ghosts, &mut out).unwrap();
        let dt = t.elapsed().as_secs_f64();
        best = best.min(dt);
        total += dt;
        e = out.energy.value();
    }
    println!(
        "{n} atoms, {} ghosts, {} list entries, threads {}: list build {:.3} s; compute best {:.3} us/atom, mean {:.3} us/atom; E/N = {:.6}",
        atoms.n_ghost(),
        list.n_entries(),
        rayon::current_num_threads(),
        tl,
        best / n as f64 * 1e6,
        total / steps as f64 / n as f64 * 1e6,
        e / n as f64
    );
}
