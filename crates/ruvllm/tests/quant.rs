//! The runtime's `Quant`, `ArtifactKind` and `Status` are the shared vocabulary's, the types the
//! registry and the generator use, so the generated code names cases that exist.

use ruvllm::hub::registry::{ArtifactKind, ModelSpec, Quant, Status};

#[test]
fn quant_list_matches_the_registry() {
    let runtime: Vec<(&str, u32, bool)> = Quant::ALL
        .iter()
        .map(|q| (q.label(), q.file_type(), q.is_full_precision()))
        .collect();
    let registry: Vec<(&str, u32, bool)> = ruvltra_registry::Quant::ALL
        .iter()
        .map(|q| (q.label(), q.file_type(), q.is_full_precision()))
        .collect();
    assert_eq!(
        runtime, registry,
        "update the quants! list in src/hub/registry.rs"
    );
    for quant in Quant::ALL {
        assert_eq!(format!("{quant:?}"), quant.label().to_ascii_uppercase());
        assert_eq!(
            Quant::from_label(&quant.label().to_ascii_uppercase()),
            Some(*quant)
        );
    }
}

/// The generator leaves out a kind or status equal to the vocabulary's default, so
/// `ModelSpec::EMPTY` must hold exactly those defaults.
#[test]
fn the_empty_spec_holds_the_vocabulary_defaults() {
    assert_eq!(ModelSpec::EMPTY.kind, ArtifactKind::default());
    assert_eq!(ModelSpec::EMPTY.status, Status::default());
    assert_eq!(
        (ArtifactKind::default(), Status::default()),
        (
            ruvltra_registry::ArtifactKind::default(),
            ruvltra_registry::Status::default()
        )
    );
}
