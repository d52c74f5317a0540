//! Times reading a LAMMPS dump with calcine's dump reader, the way a profile of the
//! reader alone wants it: `read_dump FILE [THREADS]` prints frames, atoms and seconds.
//! Every atom type is one species.

use std::time::Instant;

use calcine_core::{Species, SpeciesTable};
use calcine_io::DumpReader;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: read_dump FILE [THREADS]")?;
    let threads: usize = args.next().map(|t| t.parse()).transpose()?.unwrap_or(1);
    rayon::ThreadPoolBuilder::new().num_threads(threads).build_global()?;
    let species = SpeciesTable::new((1..=8).map(|k| Species { name: format!("T{k}"), mass: 1.0 }).collect());
    let start = Instant::now();
    let (mut frames, mut atoms, mut sum) = (0usize, 0usize, 0.0f64);
    for frame in DumpReader::open(&path, species)? {
        let frame = frame?;
        frames += 1;
        atoms += frame.positions.len();
        sum += frame.positions.last().map_or(0.0, |x| x.x);
    }
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{frames} frames, {atoms} atom lines, {seconds:.3} s, {:.1} ns per atom line (check {sum})",
        1e9 * seconds / atoms as f64
    );
    Ok(())
}
