//! The RuvLTRA vocabulary, defined once: the quantisation schemes with their GGUF file types
//! ([`Quant`]), the kinds and statuses of catalog entries ([`ArtifactKind`], [`Status`]), the
//! file naming convention ([`naming`]), the rule that turns ids into Rust names ([`ident`])
//! and the licence ids the Hub accepts ([`HUB_LICENSES`]).
//!
//! The registry (`ruvltra-registry`, which adds serde and the JSON Schema), the code generator,
//! the model card, `ruvllm`'s runtime and the GGUF reader all read these tables, so a quant or a
//! label is spelled in one place. The quant table is cross-checked against gguf-py's
//! `LlamaFileType` by this crate's tests.
//!
//! **Architecture invariant:** a leaf crate. It depends on nothing (std only: no serde, no
//! proc-macro, no workspace crate), so that `ruvllm`'s runtime and the standalone GGUF reader
//! can use it without pulling in anything else.

#![deny(missing_docs)]

pub mod ident;
mod labels;
mod license;
pub mod naming;
mod quant;

pub use labels::{ArtifactKind, Status};
pub use license::{HUB_LICENSES, is_hub_license};
pub use quant::{Quant, UnknownQuant};
