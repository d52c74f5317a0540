//! neighbor/full/N and neighbor/half/N: building Verlet lists (cutoff 4.95 Å + skin 1 Å,
//! EAM Cu) over a crystal with its ghosts; ghosts/N: building the ghosts themselves.

use calcine_benches::cu_crystal;
use calcine_neighbor::{NeighborKind, NeighborList};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("neighbor");
    for cells in [8usize, 16] {
        let (_, atoms) = cu_crystal(cells, 5.95);
        g.throughput(Throughput::Elements(atoms.n_owned() as u64));
        for kind in [NeighborKind::Full, NeighborKind::Half] {
            let name = if kind == NeighborKind::Full { "full" } else { "half" };
            g.bench_with_input(BenchmarkId::new(name, atoms.n_owned()), &atoms, |b, atoms| {
                let mut list = NeighborList::new(kind, 4.95, 1.0);
                b.iter(|| list.build(atoms).unwrap());
            });
        }
        g.bench_with_input(BenchmarkId::new("ghosts", atoms.n_owned()), &cells, |b, &cells| {
            let (mut domain, mut atoms) = cu_crystal(cells, 5.95);
            b.iter(|| domain.build_ghosts(&mut atoms, 5.95));
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
