//! eam/kernel/N and eam/reference/N: one EAM Cu_u3 force call (energy and virial too) on a
//! crystal of N atoms; the throughput is atom-steps per second.

use calcine_benches::{cu_crystal, potential_path};
use calcine_eam::{Eam, Evaluator};
use calcine_neighbor::NeighborList;
use calcine_potential::{ForceInput, ForceOutput, Potential, Want};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("eam");
    g.sample_size(20);
    for cells in [8usize, 16] {
        for evaluator in [Evaluator::Kernel, Evaluator::Reference] {
            let eam = Eam::funcfl(&[potential_path("Cu_u3.eam")], &["Cu"]).unwrap().with_evaluator(evaluator);
            let (mut domain, atoms) = cu_crystal(cells, eam.cutoff() + 1.0);
            let mut list = NeighborList::new(eam.neighbor_kind(), eam.cutoff(), 1.0);
            list.build(&atoms).unwrap();
            let mut out = ForceOutput::default();
            g.throughput(Throughput::Elements(atoms.n_owned() as u64));
            let name = if evaluator == Evaluator::Kernel { "kernel" } else { "reference" };
            g.bench_function(BenchmarkId::new(name, atoms.n_owned()), |b| {
                b.iter(|| {
                    out.reset(atoms.n_owned(), atoms.n_total(), Want::ALL);
                    eam.compute(
                        &ForceInput { atoms: &atoms, neighbors: &list, want: Want::ALL },
                        &mut domain,
                        &mut out,
                    )
                    .unwrap();
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
