//! The quant label of a file ("Q4_K_M"): from `general.file_type`, else guessed from tensor types.
//!
//! Labels are plain strings (a guess from tensor types can name a ggml type that is no quant
//! scheme); callers map them to [`ruvltra_vocab::Quant`] with `Quant::from_label`.

use std::collections::BTreeMap;

use ruvltra_vocab::Quant;

use crate::reader::Header;
use crate::tensor::{GgmlType, TensorInfo};

/// The key holding llama.cpp's `llama_ftype`.
pub const FILE_TYPE_KEY: &str = "general.file_type";

/// `llama_ftype` values and their upper-case labels, in value order; absent values (4-6,
/// 33-35) were removed upstream. Derived from the project's one quant table,
/// [`ruvltra_vocab::Quant`], which a test checks against gguf-py.
pub const FILE_TYPES: &[(u32, &str)] = &FILE_TYPE_TABLE;

const FILE_TYPE_TABLE: [(u32, &str); Quant::ALL.len()] = {
    let mut table = [(0, ""); Quant::ALL.len()];
    let mut i = 0;
    while i < table.len() {
        table[i] = (Quant::ALL[i].file_type(), Quant::ALL[i].name());
        i += 1;
    }
    table
};

/// The label of a `general.file_type` value, `None` for removed or unknown values.
pub fn file_type_label(file_type: u32) -> Option<&'static str> {
    Quant::from_file_type(file_type).map(Quant::name)
}

/// The `general.file_type` value of a label (case-insensitive), `None` when unknown.
pub fn file_type_of_label(label: &str) -> Option<u32> {
    Quant::from_label(label).map(Quant::file_type)
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
