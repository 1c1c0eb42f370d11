//! Where a model is mirrored on ModelScope: the repository and revision rules, and the
//! `modelscope` sync state that the validator checks like the Hub's.

use ruvltra_registry::{MODELSCOPE_DEFAULT_BRANCH, parse, validate};

const REGISTRY: &str = r#"{
  "schema_version": 1,
  "repo": "ruv/ruvltra",
  "revision": "main",
  "catalog": { "modelscope_repo": "ruvnet/ruvltra" },
  "models": [
    { "id": "ruvltra-0.5b-q4_k_m", "file": "ruvltra-0.5b-q4_k_m.gguf", "quant": "q4_k_m",
      "size": "0.5b", "kind": "gguf", "status": "planned" },
    { "id": "ruvltra-1b-q4_k_m", "file": "ruvltra-1b-q4_k_m.gguf", "quant": "q4_k_m",
      "size": "1b", "kind": "gguf", "status": "planned", "revision": "experiment-rope",
      "modelscope_repo": "someone/else" },
    { "id": "ruvltra-3b-q4_k_m", "file": "ruvltra-3b-q4_k_m.gguf", "quant": "q4_k_m",
      "size": "3b", "kind": "gguf", "status": "planned", "repo": "ruv/ruvltra-3b",
      "revision": "v1.0.0" }
  ]
}"#;

#[test]
fn repositories_and_revisions_map_from_the_hub_to_modelscope() {
    let reg = parse(REGISTRY).unwrap();
    let [a, b, c] = &reg.models[..] else {
        panic!("three models")
    };
    // The catalog's repository is mirrored to the catalog's ModelScope repository.
    assert_eq!(a.modelscope_repo_name(&reg), "ruvnet/ruvltra");
    assert_eq!(a.modelscope_revision(&reg), MODELSCOPE_DEFAULT_BRANCH);
    // A model's own ModelScope repository wins, and an experiment branch keeps its name.
    assert_eq!(b.modelscope_repo_name(&reg), "someone/else");
    assert_eq!(b.modelscope_revision(&reg), "experiment-rope");
    // A model in another Hub repository keeps that name, and a tag stays a tag.
    assert_eq!(c.modelscope_repo_name(&reg), "ruv/ruvltra-3b");
    assert_eq!(c.modelscope_revision(&reg), "v1.0.0");
}

#[test]
fn the_modelscope_state_is_validated_like_the_hub_state() {
    let good = REGISTRY.replacen(
        r#""status": "planned" },"#,
        r#""status": "planned", "modelscope": { "commit": "0123456789abcdef0123456789abcdef01234567", "synced_at": "2026-11-26T00:00:00Z" } },"#,
        1,
    );
    validate(&parse(&good).unwrap()).unwrap();
    let bad = good.replace("0123456789abcdef0123456789abcdef01234567", "not-a-commit");
    let problems = validate(&parse(&bad).unwrap()).unwrap_err().to_string();
    assert!(
        problems.contains("/models/0/modelscope/commit"),
        "{problems}"
    );
}
