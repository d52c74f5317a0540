//! The per-atom series store gives back exactly (x − x₀) − shift for every kind of value
//! (decimals from text, full doubles, −0, values far apart, tiny and huge ones), in memory
//! and through the scratch file, whole or in batches, on any number of threads.

use calcine_core::rng::{uniform4, Stream};

use crate::store::{Reference, SeriesStore};

/// Frames of `width` values: decimal text (`decimals` digits) for most frames, with
/// frames of other kinds of value mixed in when `mixed`.
fn frames(width: usize, n: usize, decimals: i32, mixed: bool) -> Vec<Vec<[f64; 3]>> {
    let scale = 10f64.powi(decimals);
    let mut walk: Vec<[f64; 3]> = (0..width).map(|a| [40.0 * a as f64 / width as f64 - 0.5, 1.0, 2.0]).collect();
    (0..n)
        .map(|k| {
            (0..width)
                .map(|a| {
                    let u = uniform4(11, Stream::Test, a as u64, k as u64);
                    let mut v = [0.0; 3];
                    for c in 0..3 {
                        walk[a][c] += 0.2 * (u[c] - 0.5);
                        // What a parser gives for "%.{decimals}f" text: m / 10^decimals
                        // (−0 for "-0.000" included).
                        v[c] = (walk[a][c] * scale).round() / scale;
                    }
                    if mixed {
                        match k % 13 {
                            3 => v[0] = walk[a][0] + u[3] * 1e-3, // a full double
                            5 if a == 1 => v[1] = -0.0,
                            7 if a == 0 => v[2] = 1.5e-12,
                            8 if a == 2 => v[0] = 3.0e9, // far from any base
                            9 if a == 2 => v[0] = 2.5e-7,
                            _ => {}
                        }
                    }
                    v
                })
                .collect()
        })
        .collect()
}

fn shifts(n: usize) -> Vec<[f64; 3]> {
    (0..n).map(|k| [0.001 * k as f64, -0.37 * (k % 5) as f64, 1.0 / (k + 3) as f64]).collect()
}

fn check(data: &[Vec<[f64; 3]>], budget: usize, reference: Reference, batch: usize) -> SeriesStore {
    let width = data[0].len();
    let dir = tempfile::tempdir().unwrap();
    let mut store = SeriesStore::new(width, budget, dir.path(), reference);
    let sh = shifts(data.len());
    for (f, s) in data.iter().zip(&sh) {
        store.push(f, *s).unwrap();
    }
    let mut out = Vec::new();
    let mut start = 0;
    while start < width {
        let end = (start + batch).min(width);
        store.read_atoms_into(start..end, &mut out).unwrap();
        for (i, series) in out.iter().enumerate() {
            let a = start + i;
            assert_eq!(series.len(), data.len());
            for (k, got) in series.iter().enumerate() {
                for c in 0..3 {
                    let origin = match reference {
                        Reference::FirstFrame => data[0][a][c],
                        Reference::Zero => 0.0,
                    };
                    let want = (data[k][a][c] - origin) - sh[k][c];
                    assert_eq!(got[c].to_bits(), want.to_bits(), "atom {a} frame {k} component {c}: {got:?}");
                }
            }
        }
        start = end;
    }
    store
}

#[test]
fn decimal_text_is_kept_as_integers_and_read_back_exactly() {
    for decimals in [0, 3, 5, 8] {
        let data = frames(7, 300, decimals, false);
        let store = check(&data, 1 << 30, Reference::FirstFrame, 3);
        assert!(!store.spilled());
        assert!(store.decimal_frames() >= 290, "{decimals} decimals: {} decimal frames", store.decimal_frames());
    }
}

#[test]
fn every_kind_of_value_reads_back_bit_for_bit_in_memory_and_from_the_scratch_file() {
    let data = frames(5, 400, 5, true);
    for budget in [1 << 30, 4096, 1] {
        for reference in [Reference::FirstFrame, Reference::Zero] {
            for batch in [1, 2, 5] {
                let store = check(&data, budget, reference, batch);
                assert_eq!(store.spilled(), budget < 1 << 20, "budget {budget}");
                // Frames 3 and 7 of every 13 are not decimals.
                assert!(store.decimal_frames() > 330, "budget {budget}: {}", store.decimal_frames());
                assert!(store.decimal_frames() < 400);
            }
        }
    }
}

#[test]
fn full_doubles_stay_doubles() {
    let data: Vec<Vec<[f64; 3]>> = (0..100)
        .map(|k| (0..4).map(|a| uniform4(5, Stream::Test, a, k).map(|u| 20.0 * u)[..3].try_into().unwrap()).collect())
        .collect();
    let store = check(&data, 1 << 30, Reference::FirstFrame, 4);
    assert_eq!(store.decimal_frames(), 0);
    check(&data, 1, Reference::FirstFrame, 3);
}

#[test]
fn reads_are_the_same_on_any_number_of_threads() {
    let data = frames(9, 250, 5, true);
    for threads in [1, 2, 3, 8] {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            check(&data, 1 << 30, Reference::FirstFrame, 9);
            check(&data, 2000, Reference::FirstFrame, 4);
        });
    }
}
