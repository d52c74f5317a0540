//! Times one SNAP force call (energy, forces and virial) on a perturbed 2000-atom bcc
//! crystal for Ta06A (2J = 6) and W_2940_2017_2 (2J = 8), with the kernel and the
//! reference evaluator, on 1 thread and on all threads:
//!
//! ```text
//! cargo run --release -p calcine-snap --example snap_timing [kernel|reference] [Ta06A|W_2940_2017_2]
//! ```
//!
//! The optional arguments pick one evaluator or one potential.

use calcine_core::lattice::{Lattice, LatticeKind};
use calcine_core::rng::{uniform4, Stream};
use calcine_core::{SpeciesId, Vec3};
use calcine_md::{prepare_single, Timers};
use calcine_potential::{Potential, Want};
use calcine_snap::{Evaluator, Snap};
use std::path::Path;
use std::time::Instant;

fn main() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/potentials");
    let args: Vec<String> = std::env::args().skip(1).collect();
    let evaluators = match args.iter().find(|a| *a == "kernel" || *a == "reference").map(|a| a.as_str()) {
        Some("kernel") => vec![Evaluator::Kernel],
        Some(_) => vec![Evaluator::Reference],
        None => vec![Evaluator::Kernel, Evaluator::Reference],
    };
    let potentials: Vec<(&str, &str, f64)> = [("Ta06A", "Ta", 3.3), ("W_2940_2017_2", "W", 3.1652)]
        .into_iter()
        .filter(|(name, _, _)| args.iter().any(|a| a == name) || !args.iter().any(|a| a.starts_with(['T', 'W'])))
        .collect();
    let n_threads = rayon::current_num_threads();
    println!("potential        evaluator  threads  atoms  us/atom");
    for (name, element, a) in potentials {
        let (simbox, mut atoms) = Lattice::new(LatticeKind::Bcc, a).replicate([10, 10, 10]).build(SpeciesId(0));
        for k in 0..atoms.n_owned() {
            let u = uniform4(1, Stream::Test, atoms.ids[k].0, 0);
            atoms.positions[k] += Vec3::new(u[0] - 0.5, u[1] - 0.5, u[2] - 0.5) * 0.1;
            simbox.wrap(&mut atoms.positions[k]);
        }
        for &evaluator in &evaluators {
            let snap =
                Snap::read(data.join(format!("{name}.snapcoeff")), data.join(format!("{name}.snapparam")), &[element])
                    .expect("potential reads")
                    .with_evaluator(evaluator);
            let mut state = prepare_single(&simbox, &atoms, snap.neighbor_kind(), snap.cutoff(), 1.0)
                .expect("atoms are in the box");
            let mut timers = Timers::default();
            let pools = [1, n_threads];
            for threads in pools.into_iter().take(if n_threads > 1 { 2 } else { 1 }) {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("thread pool");
                let repeats = if evaluator == Evaluator::Kernel { 5 } else { 1 };
                let mut best = f64::INFINITY;
                for _ in 0..repeats {
                    let start = Instant::now();
                    pool.install(|| state.compute(&snap, Want::ALL_BUT_ATOM_VIRIALS, 0, &mut timers))
                        .expect("force call");
                    best = best.min(start.elapsed().as_secs_f64());
                }
                println!(
                    "{name:16} {:10} {threads:7} {:6} {:8.1}",
                    format!("{evaluator:?}"),
                    atoms.n_owned(),
                    best * 1e6 / atoms.n_owned() as f64
                );
            }
        }
    }
}
