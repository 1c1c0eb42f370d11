//! A streaming, bounded reader of GGUF headers, written for publishing untrusted model files.
//!
//! It reads the header of a GGUF file (metadata of every value type, tensor infos, alignment and
//! data offset) through a buffered reader and never touches the tensor data, so a multi-GB file
//! is inspected in milliseconds. Every length and count is checked against [`Limits`] before
//! anything is allocated; malformed input gives a [`GgufError`], never a panic. Unknown tensor
//! types are kept as [`GgmlType::Unknown`].
//!
//! On top of the header: the quant label of a file ([`quant_label`]), split shard names
//! ([`split_name`]), a publisher's [`Summary`], and a small [`writer`] that makes valid files of
//! any quant, size and metadata for tests (sparse, so multi-GB fixtures cost nothing).
//!
//! ```
//! use ruvltra_gguf::{Summary, read_header, writer::sample_model};
//!
//! let path = std::env::temp_dir().join(format!("doc-{}-q4_k_m.gguf", std::process::id()));
//! // A qwen2-like model of about 5M parameters, Q4_K_M (general.file_type 15).
//! sample_model("qwen2", 15, 5_000_000)?.write_file(&path)?;
//! let summary = Summary::from_header(&read_header(&path)?);
//! assert_eq!(summary.architecture.as_deref(), Some("qwen2"));
//! let quant = summary.quant.expect("a label");
//! assert_eq!((quant.label, quant.guessed), ("Q4_K_M", false));
//! # std::fs::remove_file(&path)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs)]

mod error;
pub mod quant;
mod reader;
pub mod split;
mod summary;
mod tensor;
mod value;
pub mod writer;

pub use error::{GgufError, LimitKind, Result};
pub use quant::{QuantLabel, file_type_label, quant_label};
pub use reader::{
    ALIGNMENT_KEY, DEFAULT_ALIGNMENT, Header, Limits, MAGIC, MetadataEntry, read_header,
    read_header_from, read_header_with,
};
pub use split::{SplitInfo, SplitName, split_info, split_name};
pub use summary::{Summary, read_model_header};
pub use tensor::{GgmlType, TensorInfo};
pub use value::{Array, Value, ValueType};
