//! A bounded reader of safetensors headers and checks of SONA (PEFT LoRA) adapter folders,
//! written for publishing untrusted adapter files.
//!
//! [`read_header`] reads the 8-byte length and the JSON header of a safetensors file and checks
//! every rule of the format without touching the tensor data: the length is capped and within
//! the file, the header starts with `{` and is UTF-8 JSON without duplicate keys, every dtype is
//! one the format defines, `end - begin == product(shape) * dtype size` (checked arithmetic),
//! and the tensors cover the data section exactly, with no overlap and no hole (the reference
//! implementation refuses holes too: they could hide a second file). Malformed input gives a
//! [`SafetensorsError`], never a panic.
//!
//! [`check_adapter_dir`] runs that and the checks of `adapter_config.json`
//! ([`check_adapter_config`]) and of `patterns.jsonl` / `preferences.jsonl` ([`check_jsonl`]) on
//! a SONA export folder, and compares the LoRA weights with the config. The [`writer`] makes
//! valid files and whole export folders for tests.
//!
//! ```
//! use ruvltra_safetensors::{check_adapter_dir, writer::sample_sona_export};
//!
//! let dir = std::env::temp_dir().join(format!("doc-sona-{}", std::process::id()));
//! sample_sona_export(&dir, "Qwen/Qwen2.5-0.5B-Instruct", 8)?;
//! let summary = check_adapter_dir(&dir)?;
//! assert_eq!(summary.config.r, 8);
//! assert_eq!(summary.config.base_model_name_or_path, "Qwen/Qwen2.5-0.5B-Instruct");
//! let a = summary.header.tensor("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight");
//! assert_eq!(a.map(|t| t.shape.clone()), Some(vec![8, 896]));
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs)]

pub mod adapter;
mod dtype;
mod error;
mod header;
pub mod writer;

pub use adapter::{
    ADAPTER_FILES, AdapterConfig, AdapterLimits, AdapterSummary, JsonlSummary, TargetModules,
    check_adapter_config, check_adapter_dir, check_adapter_dir_with, check_jsonl, check_jsonl_from,
    check_weights_match_config,
};
pub use dtype::Dtype;
pub use error::{Result, SafetensorsError};
pub use header::{
    Limits, METADATA_KEY, SafetensorsHeader, TensorInfo, read_header, read_header_from,
    read_header_with,
};
