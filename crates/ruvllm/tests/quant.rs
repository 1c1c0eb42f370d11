//! The hand-written `Quant` of the runtime must match the registry's list exactly, since the
//! generated code names its cases by the registry's labels.

use ruvllm::hub::registry::Quant;

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
