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
