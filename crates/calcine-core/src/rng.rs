//! Counter-based random numbers (Philox4x32-10).
//!
//! A counter-based generator turns a key and a counter into random bits with no hidden
//! state, so the number drawn for (seed, atom, step) is the same whichever rank or thread
//! draws it, in whatever order. Philox4x32-10 is the generator of Salmon, Moraes, Dror and
//! Shaw, "Parallel random numbers: as easy as 1, 2, 3", SC'11; the known-answer tests below
//! are that paper's Random123 `kat_vectors`.

const M0: u32 = 0xD251_1F53;
const M1: u32 = 0xCD9E_8D57;
const W0: u32 = 0x9E37_79B9;
const W1: u32 = 0xBB67_AE85;

/// Philox4x32 with 10 rounds: 128-bit counter, 64-bit key, 128 random bits out.
#[inline]
pub fn philox4x32_10(counter: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let mut c = counter;
    let mut k = key;
    for round in 0..10 {
        if round > 0 {
            k[0] = k[0].wrapping_add(W0);
            k[1] = k[1].wrapping_add(W1);
        }
        let p0 = (M0 as u64) * (c[0] as u64);
        let p1 = (M1 as u64) * (c[2] as u64);
        let (hi0, lo0) = ((p0 >> 32) as u32, p0 as u32);
        let (hi1, lo1) = ((p1 >> 32) as u32, p1 as u32);
        c = [hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0];
    }
    c
}

/// Streams separate the different uses of randomness for the same atom and step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Stream {
    InitialVelocity = 1,
    Langevin = 2,
    Automaton = 3,
    Test = 99,
}

/// Four uniform numbers in (0, 1) for (seed, stream, id, step).
#[inline]
pub fn uniform4(seed: u64, stream: Stream, id: u64, step: u64) -> [f64; 4] {
    let key = [seed as u32, ((seed >> 32) as u32) ^ ((stream as u32).wrapping_mul(0x9E37_79B9))];
    let counter = [id as u32, (id >> 32) as u32, step as u32, (step >> 32) as u32];
    let r = philox4x32_10(counter, key);
    // (k + 0.5) / 2³² is strictly inside (0, 1).
    r.map(|x| (x as f64 + 0.5) * (1.0 / 4_294_967_296.0))
}

/// Three standard normal numbers for (seed, stream, id, step), by Box–Muller.
#[inline]
pub fn gaussian3(seed: u64, stream: Stream, id: u64, step: u64) -> [f64; 3] {
    let u = uniform4(seed, stream, id, step);
    let r1 = (-2.0 * u[0].ln()).sqrt();
    let r2 = (-2.0 * u[2].ln()).sqrt();
    let t1 = std::f64::consts::TAU * u[1];
    let t2 = std::f64::consts::TAU * u[3];
    [r1 * t1.cos(), r1 * t1.sin(), r2 * t2.cos()]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Known-answer vectors of Random123 (`kat_vectors`, philox4x32 10 rounds).
    #[test]
    fn philox_known_answers() {
        assert_eq!(philox4x32_10([0, 0, 0, 0], [0, 0]), [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]);
        assert_eq!(philox4x32_10([u32::MAX; 4], [u32::MAX; 2]), [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]);
        assert_eq!(
            philox4x32_10([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0]),
            [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]
        );
    }

    #[test]
    fn gaussian_moments() {
        let n = 200_000u64;
        let (mut s1, mut s2) = (0.0, 0.0);
        for id in 0..n {
            for g in gaussian3(7, Stream::Test, id, 3) {
                s1 += g;
                s2 += g * g;
            }
        }
        let m = s1 / (3 * n) as f64;
        let var = s2 / (3 * n) as f64 - m * m;
        assert!(m.abs() < 0.01, "mean {m}");
        assert!((var - 1.0).abs() < 0.01, "variance {var}");
    }
}
