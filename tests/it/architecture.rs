//! The invariants of docs/ARCHITECTURE.md that `cargo metadata` can check: the dependency
//! direction between calcine crates, and which crates may name `mpi`, `anyhow` or
//! `tracing-subscriber`.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

/// Each library crate and the calcine crates it may depend on (those listed before it).
const ALLOWED: &[(&str, &[&str])] = &[
    ("calcine-core", &[]),
    ("calcine-comm", &[]),
    ("calcine-neighbor", &["calcine-core"]),
    ("calcine-domain", &["calcine-core", "calcine-comm"]),
    ("calcine-io", &["calcine-core", "calcine-comm"]),
    ("calcine-potential", &["calcine-core", "calcine-neighbor"]),
    ("calcine-eam", &["calcine-core", "calcine-neighbor", "calcine-potential"]),
    ("calcine-snap", &["calcine-core", "calcine-neighbor", "calcine-potential"]),
    ("calcine-ace", &["calcine-core", "calcine-neighbor", "calcine-potential"]),
    ("calcine-md", &["calcine-core", "calcine-comm", "calcine-domain", "calcine-neighbor", "calcine-potential"]),
    (
        "calcine-test-support",
        &["calcine-core", "calcine-comm", "calcine-domain", "calcine-neighbor", "calcine-potential"],
    ),
];

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
fn only_the_designated_crates_name_mpi_anyhow_and_tracing_subscriber() {
    let deps = dependencies();
    for (name, owner) in [("mpi", "calcine-comm"), ("anyhow", "calcine-cli"), ("tracing-subscriber", "calcine-cli")] {
        let users: Vec<&String> = deps.iter().filter(|(_, d)| d.contains(name)).map(|(k, _)| k).collect();
        assert_eq!(users, vec![owner], "only {owner} may depend on {name}");
    }
    assert!(
        !deps["calcine-potential"].contains("calcine-comm") && !deps["calcine-potential"].contains("calcine-domain")
    );
}
