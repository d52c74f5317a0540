//! The invariants of docs/ARCHITECTURE.md that `cargo metadata` and the sources can check:
//! the dependency direction between calcine crates, which crates may name `mpi`, `anyhow`,
//! `tracing-subscriber`, `plotters`, `png` or the raw HDF5 bindings, and that the binary only parses, dispatches and reports (no
//! input schema, no file writer, no step loop, no concrete potential).

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

/// Each library crate and the calcine crates it may depend on (those listed before it).
const ALLOWED: &[(&str, &[&str])] = &[
    ("calcine-core", &[]),
    ("calcine-comm", &[]),
    ("calcine-plot", &[]),
    ("calcine-neighbor", &["calcine-core"]),
    ("calcine-domain", &["calcine-core", "calcine-comm"]),
    ("calcine-io", &["calcine-core", "calcine-comm", "calcine-plot"]),
    ("calcine-potential", &["calcine-core", "calcine-neighbor"]),
    ("calcine-eam", &["calcine-core", "calcine-neighbor", "calcine-potential"]),
    ("calcine-snap", &["calcine-core", "calcine-neighbor", "calcine-potential"]),
    ("calcine-ace", &["calcine-core", "calcine-neighbor", "calcine-potential"]),
    ("calcine-automaton", &["calcine-core", "calcine-comm", "calcine-plot"]),
    (
        "calcine-md",
        &["calcine-core", "calcine-comm", "calcine-domain", "calcine-io", "calcine-neighbor", "calcine-potential"],
    ),
    ("calcine-transport", &["calcine-core", "calcine-comm", "calcine-io", "calcine-plot"]),
    (
        "calcine-input",
        &[
            "calcine-core",
            "calcine-comm",
            "calcine-neighbor",
            "calcine-domain",
            "calcine-io",
            "calcine-potential",
            "calcine-eam",
            "calcine-snap",
            "calcine-ace",
            "calcine-md",
            "calcine-transport",
        ],
    ),
    ("calcine-test-support", &["calcine-core", "calcine-neighbor", "calcine-potential", "calcine-md"]),
];

/// What the binary may not do, as source patterns: (pattern, what it means).
const CLI_FORBIDDEN: &[(&str, &str)] = &[
    ("Deserialize", "an input schema (serde types belong in calcine-input)"),
    ("File::create", "a file writer (writers belong in calcine-io)"),
    ("OpenOptions", "a file writer (writers belong in calcine-io)"),
    ("BufWriter", "a file writer (writers belong in calcine-io)"),
    ("fs::write", "a file writer (writers belong in calcine-io)"),
    (".advance(", "a step loop (the run loop is Md::run in calcine-md)"),
];

/// The forbidden patterns found in `text` (a source file of the binary).
fn cli_violations(text: &str) -> Vec<String> {
    CLI_FORBIDDEN
        .iter()
        .filter(|(pattern, _)| text.lines().any(|l| !l.trim_start().starts_with("//") && l.contains(pattern)))
        .map(|(pattern, what)| format!("'{pattern}': {what}"))
        .collect()
}

/// Normal (non-dev) dependencies of every workspace package.
fn dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(out.status.success(), "cargo metadata failed: {}", String::from_utf8_lossy(&out.stderr));
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON");
    let mut deps = BTreeMap::new();
    for p in meta["packages"].as_array().expect("packages") {
        let names = p["dependencies"]
            .as_array()
            .expect("dependencies")
            .iter()
            .filter(|d| d["kind"].is_null())
            .map(|d| d["name"].as_str().expect("name").to_string())
            .collect();
        deps.insert(p["name"].as_str().expect("name").to_string(), names);
    }
    deps
}

#[test]
fn crates_depend_only_on_crates_listed_before_them() {
    let deps = dependencies();
    for (krate, allowed) in ALLOWED {
        let actual: BTreeSet<&str> =
            deps[*krate].iter().map(String::as_str).filter(|d| d.starts_with("calcine-")).collect();
        let extra: Vec<_> = actual.iter().filter(|d| !allowed.contains(d)).collect();
        assert!(extra.is_empty(), "{krate} depends on {extra:?}, which ARCHITECTURE.md does not allow");
    }
    // Every calcine library crate is in the table.
    for name in deps.keys().filter(|n| n.starts_with("calcine-")) {
        let known = ALLOWED.iter().any(|(k, _)| k == name)
            || ["calcine-cli", "calcine-tests", "calcine-benches"].contains(&name.as_str());
        assert!(known, "{name} is missing from the dependency table of this test and of ARCHITECTURE.md");
    }
}

#[test]
fn only_the_designated_crates_name_mpi_anyhow_tracing_subscriber_and_plotters() {
    let deps = dependencies();
    for (name, owner) in [
        ("mpi", "calcine-comm"),
        ("anyhow", "calcine-cli"),
        ("tracing-subscriber", "calcine-cli"),
        ("plotters", "calcine-plot"),
        ("png", "calcine-plot"),
        // The raw HDF5 bindings: only the collective H5MD transfer (calcine-io, feature mpio).
        ("hdf5-metno-sys", "calcine-io"),
    ] {
        let users: Vec<&String> = deps.iter().filter(|(_, d)| d.contains(name)).map(|(k, _)| k).collect();
        assert_eq!(users, vec![owner], "only {owner} may depend on {name}");
    }
    assert!(
        !deps["calcine-potential"].contains("calcine-comm") && !deps["calcine-potential"].contains("calcine-domain")
    );
}

#[test]
fn the_binary_only_parses_dispatches_and_reports() {
    let deps = dependencies();
    for forbidden in ["serde", "toml", "calcine-eam", "calcine-snap", "calcine-domain", "calcine-neighbor"] {
        assert!(
            !deps["calcine-cli"].contains(forbidden),
            "calcine-cli depends on {forbidden}: schema and concrete potentials belong in calcine-input"
        );
    }
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/calcine-cli/src");
    let mut checked = 0;
    for entry in std::fs::read_dir(&src).expect("calcine-cli/src exists") {
        let path = entry.expect("a directory entry").path();
        if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).expect("a source file reads");
            let found = cli_violations(&text);
            assert!(found.is_empty(), "{} defines {found:?}", path.display());
            checked += 1;
        }
    }
    assert!(checked >= 3, "only {checked} source files of calcine-cli found");
}

#[test]
fn the_binary_check_finds_what_it_forbids() {
    let schema = "#[derive(Debug, Deserialize)]\nstruct RunInput { steps: u64 }";
    let writer = "let mut f = BufWriter::new(File::create(path)?);";
    let step_loop = "for _ in 0..steps {\n    md.advance(want)?;\n}";
    assert_eq!(cli_violations(schema).len(), 1);
    assert_eq!(cli_violations(writer).len(), 2);
    assert_eq!(cli_violations(step_loop).len(), 1);
    assert!(cli_violations("// md.advance(want) is the engine's job").is_empty());
}
