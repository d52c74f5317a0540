//! eam/kernel/N (half list), eam/full-list/N and eam/reference/N: one EAM Cu_u3 force call (energy and virial too) on a
//! crystal of N atoms; the throughput is atom-steps per second.

use calcine_benches::{cu_atoms, potential_path};
use calcine_eam::{Eam, EamEvaluator};
use calcine_md::{prepare_single, Timers};
use calcine_potential::{Potential, Want};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("eam");
    g.sample_size(20);
    for cells in [8usize, 16] {
        for evaluator in [EamEvaluator::Kernel, EamEvaluator::FullList, EamEvaluator::Reference] {
            let eam = Eam::funcfl(&[potential_path("Cu_u3.eam")], &["Cu"]).unwrap().with_evaluator(evaluator);
            let (simbox, atoms) = cu_atoms(cells);
            let mut state = prepare_single(&simbox, &atoms, eam.neighbor_kind(), eam.cutoff(), 1.0).unwrap();
            let mut timers = Timers::default();
            g.throughput(Throughput::Elements(atoms.n_owned() as u64));
            g.bench_function(BenchmarkId::new(evaluator.name(), atoms.n_owned()), |b| {
                b.iter(|| state.compute(&eam, Want::ALL_BUT_ATOM_VIRIALS, 0, &mut timers).unwrap())
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
