//! Times the ACE force call (energy, forces, virial) on a structure read from an extended
//! XYZ file: the evaluator call itself (`Potential::compute`, including the exact scatter
//! and reverse sum), with the neighbor list and ghosts built beforehand. Prints one JSON
//! line per repetition set for `scripts/bench_ace_vs_pyace.py`:
//!
//! ```text
//! cargo run --release -p calcine-ace --example ace_timing -- POTENTIAL STRUCTURE.xyz \
//!     [--algorithm product|recursive] [--evaluator kernel|reference] [--repeats N] [--threads N]
//! ```
//!
//! Elements are taken from the structure's species names, in the order the potential
//! lists them.

use calcine_ace::{read_model, Ace, Algorithm, Evaluator};
use calcine_core::{Species, SpeciesTable};
use calcine_io::read_extxyz;
use calcine_md::{prepare_single, Timers};
use calcine_potential::{Potential, Want};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| args.iter().position(|a| a == flag).map(|k| args[k + 1].clone());
    let potential_path = &args[0];
    let structure_path = &args[1];
    let algorithm: Algorithm = value("--algorithm").map_or(Algorithm::Recursive, |s| s.parse().expect("algorithm"));
    let evaluator: Evaluator = value("--evaluator").map_or(Evaluator::Kernel, |s| s.parse().expect("evaluator"));
    let repeats: usize = value("--repeats").map_or(5, |s| s.parse().expect("repeats"));
    let threads: usize = value("--threads").map_or(1, |s| s.parse().expect("threads"));

    let model = read_model(potential_path).expect("potential reads");
    let species = SpeciesTable::new(model.elements.iter().map(|e| Species { name: e.clone(), mass: 1.0 }).collect());
    let frame = read_extxyz(structure_path, &species).expect("structure reads");
    let s = frame.into_structure();
    let ace = Ace::new(model, &s.species.names())
        .expect("potential builds")
        .with_algorithm(algorithm)
        .with_evaluator(evaluator);
    let mut state =
        prepare_single(&s.simbox, &s.atoms, ace.neighbor_kind(), ace.cutoff(), 1.0).expect("atoms in the box");
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("thread pool");
    let mut timers = Timers::default();
    let mut times = Vec::with_capacity(repeats);
    for _ in 0..repeats {
        let start = Instant::now();
        pool.install(|| state.compute(&ace, Want::ALL_BUT_ATOM_VIRIALS, 0, &mut timers)).expect("force call");
        times.push(start.elapsed().as_secs_f64());
    }
    let (atoms, out) = (state.atoms(), state.output());
    let times: Vec<String> = times.iter().map(|t| format!("{t:.6}")).collect();
    // The bits of the energy and of every owned force, hashed (FNV-1a), to tell whether a
    // change to the kernel kept its results bit for bit.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let owned_forces = out.forces[..atoms.n_owned()].iter().flat_map(|f| [f.x, f.y, f.z]);
    for v in std::iter::once(out.energy.value()).chain(owned_forces) {
        hash = (hash ^ v.to_bits()).wrapping_mul(0x0100_0000_01b3);
    }
    println!(
        "{{\"atoms\": {}, \"energy\": {:.12}, \"bits\": \"{hash:016x}\", \"algorithm\": \"{}\", \"threads\": {threads}, \"times\": [{}]}}",
        atoms.n_owned(),
        out.energy.value(),
        algorithm.name(),
        times.join(", ")
    );
}
