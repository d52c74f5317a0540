//! `calcine transport` end to end on a generated LAMMPS dump of Brownian ions with known
//! diffusion coefficients, and its refusals.

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Output};

use calcine_core::rng::{gaussian3, Stream};

/// Writes `frames` frames of `n` cations (type 1, D = 0.6 Å²/ps) and `n` anions (type 2,
/// D = 0.2 Å²/ps) doing Brownian motion, frames 0.05 ps apart, wrapped into a 20 Å box
/// with image flags.
fn brownian_dump(path: &Path, n: usize, frames: usize) {
    let (dt, l): (f64, f64) = (0.05, 20.0);
    let d: [f64; 2] = [0.6, 0.2];
    let mut x: Vec<[f64; 3]> =
        (0..2 * n).map(|i| [(i % 7) as f64 * 2.5, (i / 7 % 7) as f64 * 2.5, (i / 49) as f64 * 2.5]).collect();
    let mut text = String::new();
    for k in 0..frames {
        let _ = write!(
            text,
            "ITEM: TIMESTEP\n{k}\nITEM: NUMBER OF ATOMS\n{}\nITEM: BOX BOUNDS pp pp pp\n0 {l}\n0 {l}\n0 {l}\nITEM: ATOMS id type x y z ix iy iz\n",
            2 * n
        );
        for (i, p) in x.iter().enumerate() {
            let image = p.map(|c| (c / l).floor());
            let w: Vec<f64> = (0..3).map(|c| p[c] - image[c] * l).collect();
            let _ = writeln!(
                text,
                "{} {} {:?} {:?} {:?} {} {} {}",
                i + 1,
                i % 2 + 1,
                w[0],
                w[1],
                w[2],
                image[0],
                image[1],
                image[2]
            );
        }
        for (i, p) in x.iter_mut().enumerate() {
            let g = gaussian3(17, Stream::Test, i as u64, k as u64);
            let s = (2.0 * d[i % 2] * dt).sqrt();
            for c in 0..3 {
                p[c] += s * g[c];
            }
        }
    }
    std::fs::write(path, text).unwrap();
}

fn run_transport(dir: &Path, input: &str) -> Output {
    let p = dir.join("in.toml");
    std::fs::write(&p, input).unwrap();
    Command::new(env!("CARGO_BIN_EXE_calcine"))
        .arg("--quiet")
        .arg("transport")
        .arg(&p)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn input(extra: &str) -> String {
    format!(
        "[transport]\ntrajectory = \"ions.dump\"\ntemperature = 600\nspecies = [\"Li\", \"F\"]\ncharges = {{ Li = 1, F = -1 }}\ntypes = [\"Li\", \"F\"]\nmasses = {{ Li = 6.94, F = 19.0 }}\nframe_interval = 0.05\ndirectory = \"out\"\n{extra}"
    )
}

fn dir_with_dump() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    brownian_dump(&dir.path().join("ions.dump"), 60, 800);
    dir
}

#[test]
fn transport_of_brownian_ions_gives_their_diffusion_coefficients() {
    let dir = dir_with_dump();
    let out = run_transport(dir.path(), &input(""));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "stderr: {}\nstdout: {stdout}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("Fit window:") && stdout.contains("automatic"), "{stdout}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("out/transport.json")).unwrap()).unwrap();
    for (i, exact) in [0.6, 0.2].into_iter().enumerate() {
        let d = &json["diffusion"][i];
        let (v, e) = (d["value"].as_f64().unwrap(), d["std_error"].as_f64().unwrap());
        // The centre of mass of 120 atoms is removed: D is lowered by about 1/120.
        assert!((v - exact).abs() < 3.0 * e + 0.01 * exact, "species {i}: D = {v} ± {e}, exact {exact}");
    }
    let h = &json["haven_ratio"];
    assert!((h["value"].as_f64().unwrap() - 1.0).abs() < 3.0 * h["std_error"].as_f64().unwrap() + 0.02);
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("out/transport_doc.json")).unwrap()).unwrap();
    assert_eq!(doc["reduced_formula"], "LiF");
    assert_eq!(doc["species"][1], "F");
    let csv = std::fs::read_to_string(dir.path().join("out/curves.csv")).unwrap();
    assert_eq!(csv.lines().count(), 801, "a header and one row per lag");
    let png = calcine_plot::Image::read_png(&dir.path().join("out/msd.png")).unwrap();
    assert_eq!((png.width, png.height), (1400, 560));
    assert!(stdout.contains("msd.png"), "{stdout}");

    // plots = false: the same numbers, no chart.
    let out = run_transport(
        dir.path(),
        &input(
            "plots = false
",
        )
        .replace("directory = \"out\"", "directory = \"bare\""),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!dir.path().join("bare/msd.png").exists());
    for f in ["transport.json", "transport_doc.json", "curves.csv"] {
        let same = std::fs::read(dir.path().join("out").join(f)).unwrap()
            == std::fs::read(dir.path().join("bare").join(f)).unwrap();
        assert!(same, "{f} depends on plots");
    }
}

#[test]
fn transport_refuses_what_it_cannot_analyse() {
    let dir = dir_with_dump();
    let cases: [(&str, &str); 3] = [
        ("species = [\"Na\"]\n", "species 'Na' is not in the trajectory"),
        ("fit_start = 30\nfit_end = 45\n", "fit window 30 to 45 ps is outside the data"),
        ("fixed_box = true\nunwrap = \"sideways\"\n", "in.toml:11: unknown variant `sideways`"),
    ];
    for (extra, expected) in cases {
        let text = if extra.starts_with("species") {
            input("").replace("species = [\"Li\", \"F\"]\ncharges = { Li = 1, F = -1 }\n", extra)
        } else {
            input(extra)
        };
        let out = run_transport(dir.path(), &text);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{extra}: should fail");
        assert!(stderr.contains(expected), "{extra}: stderr {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

/// A vacancy walk on a simple cubic lattice (4³ sites, a = 2 Å, every exchange at rate 1
/// per ps) as a hop list, with the sites and the starting atoms as extended XYZ.
fn vacancy_files(dir: &Path) -> f64 {
    vacancy_files_at(dir, "hops.csv", 1.0, 9, 20000)
}

/// The same with every exchange at `rate` per ps, `n` hops written to `name`; returns the
/// last hop's time.
fn vacancy_files_at(dir: &Path, name: &str, rate: f64, seed: u64, n: u64) -> f64 {
    use calcine_core::rng::uniform4;
    let (m, a) = (4i64, 2.0);
    let site = |p: [i64; 3]| ((p[0].rem_euclid(m) * m + p[1].rem_euclid(m)) * m + p[2].rem_euclid(m)) as usize;
    let coords = |s: usize| [s as i64 / (m * m), s as i64 / m % m, s as i64 % m];
    let xyz = |n: usize, skip: Option<usize>| {
        let mut text = format!("{n}\nLattice=\"8 0 0 0 8 0 0 0 8\" Properties=species:S:1:pos:R:3 pbc=\"T T T\"\n");
        for s in 0..64 {
            if Some(s) != skip {
                let c = coords(s);
                let _ = writeln!(text, "Cu {} {} {}", c[0] as f64 * a, c[1] as f64 * a, c[2] as f64 * a);
            }
        }
        text
    };
    std::fs::write(dir.join("sites.xyz"), xyz(64, None)).unwrap();
    std::fs::write(dir.join("start.xyz"), xyz(63, Some(0))).unwrap();
    // Atom k starts on site k + 1.
    let mut occupant: Vec<Option<usize>> = (0..64).map(|s: usize| s.checked_sub(1)).collect();
    let (mut vacancy, mut time) = (0usize, 0.0);
    let jumps = [[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]];
    let mut hops = String::from("time,atom,from,to\n");
    for n in 0..n {
        let u = uniform4(seed, Stream::Test, 0, n);
        time += -u[0].ln() / (6.0 * rate);
        let j = jumps[((u[1] * 6.0) as usize).min(5)];
        let p = coords(vacancy);
        let target = site([p[0] + j[0], p[1] + j[1], p[2] + j[2]]);
        let atom = occupant[target].take().unwrap();
        occupant[vacancy] = Some(atom);
        let _ = writeln!(hops, "{time:?},{atom},{target},{vacancy}");
        vacancy = target;
    }
    std::fs::write(dir.join(name), hops).unwrap();
    time
}

#[test]
fn kinosons_from_hop_lists_at_several_temperatures() {
    let dir = dir_with_dump();
    // Exchanges at w = ν·exp(−Ea/(k_B·T)), ν = 5 /ps, Ea = 0.3 eV.
    let (nu, ea, kb): (f64, f64, f64) = (5.0, 0.3, 8.617333262e-5);
    let temperatures = [600.0, 800.0, 1000.0];
    let mut lists = String::new();
    for (i, t) in temperatures.iter().enumerate() {
        let name = format!("hops{i}.csv");
        let duration = vacancy_files_at(dir.path(), &name, nu * (-ea / (kb * t)).exp(), 20 + i as u64, 6000);
        let _ = write!(
            lists,
            "[[kinosons.lists]]\nhops = \"{name}\"\ntemperature = {t:?}\ninitial = \"start.xyz\"\nduration = {duration:?}\n"
        );
    }
    let text = format!("{}\n[kinosons]\nsites = \"sites.xyz\"\ncutoff = 4.1\n{lists}", input(""));
    let out = run_transport(dir.path(), &text);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("Kinosons Cu at 800 K: 6000 hops of 63 atoms"), "{stdout}");
    assert!(stdout.contains("Arrhenius kinoson D0(Cu): Ea = "), "{stdout}");
    let k: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("out/kinosons.json")).unwrap()).unwrap();
    assert_eq!(k["temperatures"].as_array().unwrap().len(), 3);
    assert_eq!(k["runs"][1]["temperature"].as_f64(), Some(800.0));
    // D0 = z·w·ℓ²/(6·N): the fit of D0 gives Ea and the prefactor z·ν·ℓ²/(6·N).
    let fit = &k["uncorrelated_fits"][0];
    let (e, se) =
        (fit["activation_energy"]["value"].as_f64().unwrap(), fit["activation_energy"]["std_error"].as_f64().unwrap());
    assert!((e - ea).abs() < 4.0 * se && se < 0.02, "Ea(D0) = {e} ± {se}, exact {ea}");
    let p = fit["prefactor"]["value"].as_f64().unwrap();
    let exact_p = 6.0 * nu * 4.0 / (6.0 * 63.0);
    assert!((p / exact_p - 1.0).abs() < 0.3, "prefactor {p} vs {exact_p}");
    let fit = &k["diffusion_fits"][0];
    let (e, se) =
        (fit["activation_energy"]["value"].as_f64().unwrap(), fit["activation_energy"]["std_error"].as_f64().unwrap());
    assert!((e - ea).abs() < 4.0 * se, "Ea(D) = {e} ± {se}, exact {ea}");
    assert!(fit["covariance"][0][1].as_f64().unwrap() != 0.0);
    for i in 0..3 {
        let f = k["runs"][i]["correlation_factor"][0]["value"].as_f64().unwrap();
        assert!(f > 0.653109 * 0.99 && f < 0.8, "f = {f} at {} K", temperatures[i]);
        let hops = std::fs::read_to_string(dir.path().join(format!("out/hops_{}K.csv", temperatures[i]))).unwrap();
        assert_eq!(hops.lines().count(), 6001);
    }
    assert!(!dir.path().join("out/hops.csv").exists());
    let png = calcine_plot::Image::read_png(&dir.path().join("out/kinosons.png")).unwrap();
    assert_eq!((png.width, png.height), (620, 520), "one panel: Cu");
    for t in 0..3 {
        assert!(png.count(calcine_plot::curve_colour(t), (0, 0), (620, 520)) > 50, "a histogram for temperature {t}");
    }
    let png = calcine_plot::Image::read_png(&dir.path().join("out/kinosons_arrhenius.png")).unwrap();
    for c in 0..2 {
        assert!(png.count(calcine_plot::curve_colour(c), (0, 0), (png.width, png.height)) > 50, "D and D0: colour {c}");
    }
}

#[test]
fn kinoson_list_errors_name_the_entry() {
    let dir = dir_with_dump();
    vacancy_files(dir.path());
    let entry = |t: f64, hops: &str| {
        format!("[[kinosons.lists]]\nhops = \"{hops}\"\ntemperature = {t:?}\ninitial = \"start.xyz\"\n")
    };
    for (lists, expected) in [
        (entry(600.0, "hops.csv") + &entry(700.0, "hops.csv") + &entry(800.0, "nope.csv"), "kinosons.lists[2].hops"),
        (entry(600.0, "hops.csv") + &entry(600.0, "hops.csv"), "kinosons.lists[1].temperature: 600 K is also"),
        (entry(-1.0, "hops.csv"), "kinosons.lists[0].temperature: must be positive"),
        ("hops = \"hops.csv\"\n".to_string() + &entry(600.0, "hops.csv"), "with [[kinosons.lists]] each entry"),
    ] {
        let (head, tail) = match lists.strip_prefix("hops = ") {
            Some(_) => lists.split_at(lists.find("[[").unwrap()),
            None => ("", lists.as_str()),
        };
        let text = format!("{}\n[kinosons]\nsites = \"sites.xyz\"\ncutoff = 4.1\n{head}{tail}", input(""));
        let out = run_transport(dir.path(), &text);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{lists}: should fail");
        assert!(stderr.contains(expected), "{lists}: stderr {stderr}");
    }
}

#[test]
fn kinosons_from_a_hop_list() {
    let dir = dir_with_dump();
    let duration = vacancy_files(dir.path());
    let text = format!(
        "{}\n[kinosons]\nsites = \"sites.xyz\"\nhops = \"hops.csv\"\ninitial = \"start.xyz\"\ncutoff = 4.1\nduration = {duration:?}\n",
        input("")
    );
    let out = run_transport(dir.path(), &text);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("Kinosons Cu: 20000 hops of 63 atoms"), "{stdout}");
    let k: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("out/kinosons.json")).unwrap()).unwrap();
    // D0 = z·w·ℓ²/(6·N) exactly in expectation; f is bounded below by the exact sc value.
    let d0 = k["uncorrelated"][0]["value"].as_f64().unwrap();
    let exact_d0 = 6.0 * 4.0 / (6.0 * 63.0);
    assert!((d0 / exact_d0 - 1.0).abs() < 0.05, "D0 {d0} vs {exact_d0}");
    let f = k["correlation_factor"][0]["value"].as_f64().unwrap();
    eprintln!("kinosons on sc: D0 {d0} (exact {exact_d0}), f {f}");
    assert!(f > 0.653109 * 0.99 && f < 0.8, "f = {f} (exact sc value 0.653109; the basis gives an upper bound)");
    let hops = std::fs::read_to_string(dir.path().join("out/hops.csv")).unwrap();
    assert_eq!(hops.lines().count(), 20001);
    let png = calcine_plot::Image::read_png(&dir.path().join("out/kinosons.png")).unwrap();
    assert_eq!((png.width, png.height), (620, 520), "one histogram: Cu");
}

/// A hot EAM Cu run whose `[transport]` table analyses its own frames every 10 steps.
fn on_the_fly_input(transport: &str) -> String {
    let eam = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/potentials/Cu_u3.eam");
    format!(
        r#"[system]
lattice = "fcc"
a = 3.615
cells = [3, 3, 3]
species = "Cu"

[potential]
style = "eam"
files = {{ Cu = "{}" }}

[run]
steps = 3000
timestep = 0.002
temperature = 3000
seed = 4

[integrator]
style = "langevin"
temperature = 2500
damping = 0.1

[output]
directory = "md"
thermo_every = 1000
trajectory = "traj.xyz"
trajectory_every = 10

[transport]
{transport}
"#,
        eam.canonicalize().unwrap().display()
    )
}

fn run_md(dir: &Path, input: &str) -> Output {
    let p = dir.join("md.toml");
    std::fs::write(&p, input).unwrap();
    Command::new(env!("CARGO_BIN_EXE_calcine"))
        .args(["--quiet", "run", "--overwrite"])
        .arg(&p)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
}

#[test]
fn transport_inside_a_run_gives_what_the_trajectory_gives() {
    let dir = tempfile::tempdir().unwrap();
    let o = run_md(dir.path(), &on_the_fly_input("every = 10\nspecies = [\"Cu\"]"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let live = json(&dir.path().join("md/transport.json"));
    for file in ["transport_doc.json", "curves.csv", "msd.png"] {
        assert!(dir.path().join("md").join(file).exists(), "{file} is written beside transport.json");
    }
    assert_eq!(live["method"], "multi-tau", "multi-tau by default inside a run");
    assert_eq!(live["n_frames"].as_u64(), Some(301));
    assert_eq!(live["temperature"].as_f64(), Some(2500.0), "the thermostat's temperature");

    // The same frames, written to the trajectory every 10 steps, analysed afterwards.
    let offline = "[transport]\ntrajectory = \"md/traj.xyz\"\ntemperature = 2500\nspecies = [\"Cu\"]\nmasses = { Cu = 63.55 }\nmethod = \"multi-tau\"\ndirectory = \"offline\"\n";
    let o = run_transport(dir.path(), offline);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let after = json(&dir.path().join("offline/transport.json"));
    let d = |v: &serde_json::Value, key: &str| v["diffusion"][0][key].as_f64().unwrap();
    let (a, b) = (d(&live, "value"), d(&after, "value"));
    assert!(a > 0.0 && (a - b).abs() <= 1e-9 * a, "D on the fly {a}, from the trajectory {b}");
    let (ea, eb) = (d(&live, "std_error"), d(&after, "std_error"));
    assert!((ea - eb).abs() <= 1e-6 * ea, "error bars {ea} and {eb}");
}

#[test]
fn transport_inside_a_run_refuses_what_has_no_meaning_there() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(String, &[&str]); 4] = [
        (on_the_fly_input("species = [\"Cu\"]"), &["md.toml:", "needs every = N"]),
        (
            on_the_fly_input("every = 10\nspecies = [\"Cu\"]\ntrajectory = \"t.xyz\""),
            &["md.toml:", "trajectory has no meaning"],
        ),
        (
            on_the_fly_input("every = 10\nspecies = [\"Li\"]"),
            &["md.toml:", "species 'Li' is not in the system (it has: Cu)"],
        ),
        (
            on_the_fly_input("every = 10\nspecies = [\"Cu\"]")
                .replace("style = \"langevin\"\ntemperature = 2500\ndamping = 0.1", "style = \"nve\""),
            &["md.toml:", "needs the temperature"],
        ),
    ];
    for (text, needles) in cases {
        let o = run_md(dir.path(), &text);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{err}");
        for n in needles {
            assert!(err.contains(n), "message lacks '{n}':\n{err}");
        }
    }
}
