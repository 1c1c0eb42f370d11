//! The checked-in `registry.json` at the repository root: valid, canonical, and holding what
//! is really published on the Hub today.

use std::path::PathBuf;

use ruvltra_registry::{ArtifactKind, Status, load, to_canonical_json};

fn registry_path() -> PathBuf {
    test_support::workspace_file("registry.json")
}

#[test]
fn registry_json_is_valid_and_canonical() {
    let path = registry_path();
    let registry = load(&path).unwrap_or_else(|err| panic!("{err}"));
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        to_canonical_json(&registry) == text,
        "registry.json is not in canonical form; load and save it (e.g. through `cargo xtask sync`)"
    );
    assert_eq!(registry.repo, "ruv/ruvltra");
    assert_eq!(
        registry.extra.get("$schema").and_then(|v| v.as_str()),
        Some("./registry.schema.json")
    );
}

#[test]
fn registry_json_holds_the_published_models_and_the_phase_2_plan() {
    let registry = load(&registry_path()).unwrap();
    let published: Vec<&str> = registry
        .models
        .iter()
        .filter(|m| m.status == Status::Published)
        .map(|m| m.file.as_str())
        .collect();
    assert_eq!(
        published,
        [
            "ruvltra-claude-code-0.5b-q4_k_m.gguf",
            "ruvltra-small-0.5b-q4_k_m.gguf",
            "ruvltra-medium-1.1b-q4_k_m.gguf",
        ]
    );
    for variant in ["claude-code-0.5b", "small-0.5b", "medium-1.1b"] {
        for (quant, kind) in [
            ("q8_0", ArtifactKind::Gguf),
            ("f16", ArtifactKind::GgufFullPrecision),
        ] {
            let id = format!("ruvltra-{variant}-{quant}");
            let model = registry
                .models
                .iter()
                .find(|m| m.id == id)
                .unwrap_or_else(|| panic!("{id} is missing"));
            assert_eq!((model.status, model.kind), (Status::Planned, kind), "{id}");
        }
    }
}
