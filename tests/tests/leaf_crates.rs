//! The architecture invariants of the leaf crates, checked with `cargo metadata`: `atomic-file`,
//! `ruvltra-vocab` and `dev-python` depend on nothing at all, and the standalone readers
//! `ruvltra-gguf` and `ruvltra-safetensors` depend on no workspace crate but those leaves.

use std::collections::BTreeMap;
use std::process::Command;

use serde_json::Value;

/// Crates that must have no normal or build dependency at all.
const LEAVES: &[&str] = &["atomic-file", "ruvltra-vocab", "dev-python"];

/// Crates whose normal and build dependencies may name, of the workspace, only leaves.
const STANDALONE: &[&str] = &["ruvltra-gguf", "ruvltra-safetensors"];

/// Each workspace crate with its normal and build dependencies: (name, is a workspace crate).
fn workspace_dependencies() -> BTreeMap<String, Vec<(String, bool)>> {
    let out = Command::new(env!("CARGO"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .output()
        .expect("cannot run cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let metadata: Value = serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON");
    let packages = metadata["packages"].as_array().expect("a package list");
    packages
        .iter()
        .map(|package| {
            let deps = package["dependencies"]
                .as_array()
                .expect("a dependency list")
                .iter()
                .filter(|dep| dep["kind"].as_str() != Some("dev"))
                .map(|dep| {
                    let name = dep["name"].as_str().expect("a name").to_owned();
                    (name, dep.get("path").is_some_and(Value::is_string))
                })
                .collect();
            (package["name"].as_str().expect("a name").to_owned(), deps)
        })
        .collect()
}

#[test]
fn leaf_crates_depend_on_nothing() {
    let all = workspace_dependencies();
    for leaf in LEAVES {
        let deps = all
            .get(*leaf)
            .unwrap_or_else(|| panic!("{leaf} is not in the workspace"));
        assert!(
            deps.is_empty(),
            "{leaf} is a leaf crate (ARCHITECTURE.md) but depends on {deps:?}"
        );
    }
}

#[test]
fn standalone_readers_depend_on_no_workspace_crate_but_the_leaves() {
    let all = workspace_dependencies();
    for reader in STANDALONE {
        let deps = all
            .get(*reader)
            .unwrap_or_else(|| panic!("{reader} is not in the workspace"));
        let internal: Vec<&str> = deps
            .iter()
            .filter(|(_, internal)| *internal)
            .map(|(name, _)| name.as_str())
            .collect();
        assert!(
            internal.iter().all(|name| LEAVES.contains(name)),
            "{reader} may depend only on the leaf crates {LEAVES:?} of the workspace, not {internal:?}"
        );
    }
    // The listing really sees workspace dependencies.
    assert!(
        all["ruvltra-gguf"].contains(&("ruvltra-vocab".to_owned(), true)),
        "{:?}",
        all["ruvltra-gguf"]
    );
}
