//! The quant label of a file ("Q4_K_M"): from `general.file_type`, else guessed from tensor types.
//!
//! Labels are plain strings so this crate stays independent of the registry; callers map them
//! to their own quant type.

use std::collections::BTreeMap;

use crate::reader::Header;
use crate::tensor::{GgmlType, TensorInfo};

/// The key holding llama.cpp's `llama_ftype`.
pub const FILE_TYPE_KEY: &str = "general.file_type";

/// `llama_ftype` values and their labels; absent values (4-6, 33-35) were removed upstream.
pub const FILE_TYPES: &[(u32, &str)] = &[
    (0, "F32"),
    (1, "F16"),
    (2, "Q4_0"),
    (3, "Q4_1"),
    (7, "Q8_0"),
    (8, "Q5_0"),
    (9, "Q5_1"),
    (10, "Q2_K"),
    (11, "Q3_K_S"),
    (12, "Q3_K_M"),
    (13, "Q3_K_L"),
    (14, "Q4_K_S"),
    (15, "Q4_K_M"),
    (16, "Q5_K_S"),
    (17, "Q5_K_M"),
    (18, "Q6_K"),
    (19, "IQ2_XXS"),
    (20, "IQ2_XS"),
    (21, "Q2_K_S"),
    (22, "IQ3_XS"),
    (23, "IQ3_XXS"),
    (24, "IQ1_S"),
    (25, "IQ4_NL"),
    (26, "IQ3_S"),
    (27, "IQ3_M"),
    (28, "IQ2_S"),
    (29, "IQ2_M"),
    (30, "IQ4_XS"),
    (31, "IQ1_M"),
    (32, "BF16"),
    (36, "TQ1_0"),
    (37, "TQ2_0"),
    (38, "MXFP4_MOE"),
    (39, "NVFP4"),
    (40, "Q1_0"),
];

/// The label of a `general.file_type` value, `None` for removed or unknown values.
pub fn file_type_label(file_type: u32) -> Option<&'static str> {
    FILE_TYPES
        .iter()
        .find(|(v, _)| *v == file_type)
        .map(|(_, label)| *label)
}

/// The `general.file_type` value of a label (case-insensitive), `None` when unknown.
pub fn file_type_of_label(label: &str) -> Option<u32> {
    FILE_TYPES
        .iter()
        .find(|(_, l)| l.eq_ignore_ascii_case(label))
        .map(|(v, _)| *v)
}

/// The label a file gets when most of its weights have this type: K-quant types map to their
/// usual `_M` mix (Q3_K, Q4_K, Q5_K), every other type to its own name.
pub fn label_of_tensor_type(t: GgmlType) -> Option<&'static str> {
    match t {
        GgmlType::Q3_K => Some("Q3_K_M"),
        GgmlType::Q4_K => Some("Q4_K_M"),
        GgmlType::Q5_K => Some("Q5_K_M"),
        other => other.name(),
    }
}

/// Where a quant label came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuantLabel {
    /// The upper-case label, e.g. `Q4_K_M`.
    pub label: &'static str,
    /// True when it was guessed from tensor types because `general.file_type` was absent (or
    /// held a removed or unknown value).
    pub guessed: bool,
}

/// The tensor type most of the weights have.
///
/// Counts tensors with at least two dimensions (the weight matrices; norms and biases stay F32
/// in every quantised file and would otherwise outnumber them), or all tensors when there are
/// none. Ties go to the type with more elements, then to the lower id, so the result is stable.
pub fn dominant_tensor_type(tensors: &[TensorInfo]) -> Option<GgmlType> {
    let matrices: Vec<&TensorInfo> = tensors.iter().filter(|t| t.dims.len() >= 2).collect();
    let pool: Vec<&TensorInfo> = if matrices.is_empty() {
        tensors.iter().collect()
    } else {
        matrices
    };
    let mut counts: BTreeMap<GgmlType, (u64, u64)> = BTreeMap::new();
    for t in pool {
        let entry = counts.entry(t.ggml_type).or_insert((0, 0));
        entry.0 = entry.0.saturating_add(1);
        entry.1 = entry.1.saturating_add(t.n_elements());
    }
    counts
        .into_iter()
        .max_by(|(ta, ca), (tb, cb)| ca.cmp(cb).then_with(|| tb.id().cmp(&ta.id())))
        .map(|(t, _)| t)
}

/// Derives the quant label of a header (see the module docs), `None` when neither the file
/// type nor the tensors give one.
pub fn quant_label(header: &Header) -> Option<QuantLabel> {
    if let Some(label) = header
        .get_u64(FILE_TYPE_KEY)
        .and_then(|v| u32::try_from(v).ok())
        .and_then(file_type_label)
    {
        return Some(QuantLabel {
            label,
            guessed: false,
        });
    }
    let label = label_of_tensor_type(dominant_tensor_type(&header.tensors)?)?;
    Some(QuantLabel {
        label,
        guessed: true,
    })
}
