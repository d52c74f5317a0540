use super::*;
use crate::{open_frames, FrameReader, H5mdContents, H5mdReader, H5mdWriter, Thermo};

fn thermo(step: u64) -> Thermo {
    Thermo {
        step,
        time: step as f64 * 0.001,
        n_atoms: 0,
        temperature: 300.0 + step as f64,
        potential_energy: -3.5,
        kinetic_energy: 0.1,
        total_energy: -3.4,
        pressure: 12.5,
        pressure_tensor: [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        virial: [0.0; 6],
        pressure_pair: 2.5,
        volume: 512.0,
        conserved: -3.4,
        max_grade: None,
    }
}

fn frames_of(structure: &Structure, n: u64) -> Vec<Frame> {
    (0..n)
        .map(|k| {
            let mut s = structure.clone();
            for x in &mut s.atoms.positions {
                x.x += 1e-3 * k as f64;
            }
            s.to_frame(10 * k, 0.01 * k as f64)
        })
        .collect()
}

#[test]
fn h5md_round_trips_bit_for_bit_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    for (name, simbox) in [("ortho.h5", orthogonal_box()), ("tri.h5md", triclinic_box())] {
        let path = dir.path().join(name);
        let structure = sample_structure(simbox, 23, 5);
        let frames = frames_of(&sorted(&structure), 4);
        let mut w = H5mdWriter::create(&path, &frames[0], &thermo(0), H5mdContents::default()).unwrap();
        for f in &frames {
            w.append(f, &thermo(f.step.unwrap())).unwrap();
        }
        drop(w);
        let mut r = H5mdReader::open(&path, SpeciesTable::default()).unwrap();
        assert_eq!(r.n_frames(), 4);
        for want in &frames {
            let got = r.read_frame().unwrap().unwrap();
            assert_eq!((got.step, got.time), (want.step, want.time));
            assert_eq!(got.ids, want.ids);
            assert_eq!(got.species, want.species);
            assert_eq!(got.species_table, want.species_table);
            assert_eq!(got.simbox, want.simbox, "{name}");
            assert_bits_eq(&got.positions, &want.positions, "positions");
            assert_bits_eq(got.velocities.as_ref().unwrap(), want.velocities.as_ref().unwrap(), "velocities");
            assert_eq!(got.images, want.images);
        }
        assert!(r.read_frame().unwrap().is_none());
        drop(r);
        // Cut back to 2 frames and append one: 3 frames, the last the new one.
        let mut w = H5mdWriter::resume(&path, 2, H5mdContents::default()).unwrap();
        w.append(&frames[3], &thermo(30)).unwrap();
        drop(w);
        let steps: Vec<u64> = {
            let mut r = open_frames(&path, SpeciesTable::default()).unwrap();
            std::iter::from_fn(|| r.read_frame().unwrap()).map(|f| f.step.unwrap()).collect()
        };
        assert_eq!(steps, vec![0, 10, 30]);
        assert!(H5mdWriter::resume(&path, 7, H5mdContents::default()).unwrap_err().to_string().contains("fewer than"));
    }
}

#[test]
fn h5md_fields_forces_and_observables() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.h5");
    let structure = sample_structure(orthogonal_box(), 17, 3);
    let mut frames = frames_of(&sorted(&structure), 3);
    for (k, f) in frames.iter_mut().enumerate() {
        let n = f.n_atoms();
        f.forces = Some((0..n).map(|i| Vec3::new(i as f64 / 3.0, -(k as f64) * 0.1, 1e-300 * i as f64)).collect());
    }
    let all = H5mdContents::from_fields(&["force", "velocity", "image"]).unwrap();
    assert_eq!(all.fields(), ["velocity", "image", "force"]);
    let graded = |step: u64| Thermo { max_grade: Some(("gamma", 1.5 + step as f64)), ..thermo(step) };
    let mut w = H5mdWriter::create(&path, &frames[0], &graded(0), all).unwrap();
    for f in &frames[..2] {
        w.append(f, &graded(f.step.unwrap())).unwrap();
    }
    drop(w);
    // A resume asking for other fields is refused, naming the key and both lists.
    let e = H5mdWriter::resume(&path, 2, H5mdContents::default()).unwrap_err().to_string();
    assert!(
        e.contains(r#"it stores h5md_fields = ["velocity", "image", "force"], but [output] h5md_fields = ["velocity", "image"]"#),
        "{e}"
    );
    let mut w = H5mdWriter::resume(&path, 2, all).unwrap();
    w.append(&frames[2], &graded(20)).unwrap();
    drop(w);
    let mut r = H5mdReader::open(&path, SpeciesTable::default()).unwrap();
    for want in &frames {
        let got = r.read_frame().unwrap().unwrap();
        assert_bits_eq(got.forces.as_ref().unwrap(), want.forces.as_ref().unwrap(), "forces");
    }
    let file = hdf5::File::open(&path).unwrap();
    let value = |name: &str| file.dataset(&format!("observables/{name}/value")).unwrap().read_raw::<f64>().unwrap();
    assert_eq!(value("pressure_pair"), [2.5; 3]);
    assert_eq!(value("max_gamma"), [1.5, 11.5, 21.5]);
    let unit = |name: &str| {
        file.dataset(name)
            .unwrap()
            .attr("unit")
            .unwrap()
            .read_scalar::<hdf5::types::VarLenUnicode>()
            .unwrap()
            .to_string()
    };
    assert_eq!(unit("particles/all/force/value"), "eV Angstrom-1");
    assert_eq!(unit("observables/pressure_pair/value"), "bar");
    // Forces asked for and missing from a frame: an error, not a silent gap.
    let mut w = H5mdWriter::create(&dir.path().join("g.h5"), &frames[0], &thermo(0), all).unwrap();
    let mut bare = frames[0].clone();
    bare.forces = None;
    assert!(w.append(&bare, &thermo(0)).unwrap_err().to_string().contains("the frame has no forces"));
    // Unknown or repeated names.
    assert!(H5mdContents::from_fields(&["speed"]).unwrap_err().contains(r#"unknown field "speed""#));
    assert!(H5mdContents::from_fields(&["image", "image"]).unwrap_err().contains("named twice"));
    assert_eq!(H5mdContents::from_fields::<&str>(&[]).unwrap().fields(), Vec::<&str>::new());
}

#[test]
fn truncated_or_foreign_h5md_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.h5");
    let structure = sample_structure(orthogonal_box(), 8, 2);
    let frames = frames_of(&sorted(&structure), 2);
    let mut w = H5mdWriter::create(&path, &frames[0], &thermo(0), H5mdContents::default()).unwrap();
    w.append(&frames[0], &thermo(0)).unwrap();
    drop(w);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 3]).unwrap();
    let e = H5mdReader::open(&path, SpeciesTable::default()).unwrap_err().to_string();
    assert!(e.contains("t.h5: cannot open as HDF5"), "{e}");
    std::fs::write(&path, "not hdf5 at all\n").unwrap();
    assert!(H5mdReader::open(&path, SpeciesTable::default()).unwrap_err().to_string().contains("cannot open as HDF5"));
}

#[test]
fn gzipped_text_trajectories_stream() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let structure = sample_structure(orthogonal_box(), 12, 7);
    let frames = frames_of(&sorted(&structure), 3);
    let mut text = Vec::new();
    for f in &frames {
        text.extend_from_slice(
            crate::extxyz::format_frame(f, &Default::default(), std::path::Path::new("x")).unwrap().as_bytes(),
        );
    }
    let path = dir.path().join("t.xyz.gz");
    let mut gz = flate2::write::GzEncoder::new(std::fs::File::create(&path).unwrap(), flate2::Compression::default());
    gz.write_all(&text).unwrap();
    gz.finish().unwrap();
    let mut r = open_frames(&path, cu_ni()).unwrap();
    for want in &frames {
        let got = r.read_frame().unwrap().unwrap();
        assert_bits_eq(&got.positions, &want.positions, "gz positions");
    }
    assert!(r.read_frame().unwrap().is_none());
}
