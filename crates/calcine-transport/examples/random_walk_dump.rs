//! Writes a LAMMPS dump (`id type xu yu zu`, unwrapped) of Brownian particles with a known
//! diffusion coefficient, for benchmarks: fast enough to make 10⁹ atom-frames, and able to
//! write to a named pipe so that a benchmark streams a trajectory larger than the disk.
//!
//! ```text
//! cargo run --release -p calcine-transport --example random_walk_dump -- \
//!     ATOMS FRAMES PATH [--d 0.5] [--dt 0.01] [--box 50] [--seed 1]
//! ```
//! PATH `-` writes to standard output. Frames are steps 0, 1, 2, … and `dt` ps apart (the
//! dump has no `ITEM: TIME`, which MDAnalysis's reader does not take: give the reader the
//! time between frames).

use std::io::Write;

use calcine_core::rng::{gaussian3, Stream};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        eprintln!("usage: random_walk_dump ATOMS FRAMES PATH [--d D] [--dt DT] [--box L] [--seed S]");
        std::process::exit(2);
    }
    let atoms: usize = args[1].parse().expect("ATOMS is a number");
    let frames: usize = args[2].parse().expect("FRAMES is a number");
    let opt = |name: &str, default: f64| -> f64 {
        args.iter().position(|a| a == name).map_or(default, |i| args[i + 1].parse().expect("a number"))
    };
    let (d, dt, l, seed) = (opt("--d", 0.5), opt("--dt", 0.01), opt("--box", 50.0), opt("--seed", 1.0) as u64);
    let out: Box<dyn Write> = if args[3] == "-" {
        Box::new(std::io::stdout().lock())
    } else {
        Box::new(std::fs::File::create(&args[3]).expect("the output can be created"))
    };
    let mut out = std::io::BufWriter::with_capacity(1 << 22, out);
    let side = (atoms as f64).cbrt().ceil() as usize;
    let spacing = l / side as f64;
    let mut x: Vec<[f64; 3]> = (0..atoms)
        .map(|i| {
            [(i % side) as f64 * spacing, (i / side % side) as f64 * spacing, (i / (side * side)) as f64 * spacing]
        })
        .collect();
    let s = (2.0 * d * dt).sqrt();
    let mut text = String::with_capacity(atoms * 48);
    for k in 0..frames {
        use std::fmt::Write as _;
        text.clear();
        let _ = write!(
            text,
            "ITEM: TIMESTEP\n{k}\nITEM: NUMBER OF ATOMS\n{atoms}\nITEM: BOX BOUNDS pp pp pp\n0 {l:?}\n0 {l:?}\n0 {l:?}\nITEM: ATOMS id type xu yu zu\n"
        );
        for (i, p) in x.iter().enumerate() {
            let _ = writeln!(text, "{} 1 {:.5} {:.5} {:.5}", i + 1, p[0], p[1], p[2]);
        }
        if out.write_all(text.as_bytes()).is_err() {
            // The reader went away (a closed pipe): stop quietly.
            return;
        }
        for (i, p) in x.iter_mut().enumerate() {
            let g = gaussian3(seed, Stream::Test, i as u64, k as u64);
            for c in 0..3 {
                p[c] += s * g[c];
            }
        }
    }
    let _ = out.flush();
}
