//! Generators of trajectories with exact transport coefficients (transport.md §5), made in
//! the tests, never by our own MD.

use calcine_core::rng::{gaussian3, Stream};

/// Three standard normal numbers for (seed, id, step).
pub fn normal3(seed: u64, id: u64, step: u64) -> [f64; 3] {
    gaussian3(seed, Stream::Test, id, step)
}

/// A Brownian path with diffusion coefficient `d` (per axis variance 2·d·dt per frame),
/// starting at `start`.
pub fn brownian(seed: u64, id: u64, frames: usize, d: f64, dt: f64, start: [f64; 3]) -> Vec<[f64; 3]> {
    let s = (2.0 * d * dt).sqrt();
    let mut x = start;
    let mut out = Vec::with_capacity(frames);
    for k in 0..frames {
        out.push(x);
        let g = normal3(seed, id, k as u64);
        for c in 0..3 {
            x[c] += s * g[c];
        }
    }
    out
}
