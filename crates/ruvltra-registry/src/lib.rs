//! The RuvLTRA catalog: serde types of `registry.json`, validation, canonical atomic storage
//! and the JSON Schema.
//!
//! The usual entry point is [`load`], which reads, parses and validates a registry file and
//! reports every problem at once; [`save`] writes the canonical form atomically, keeping
//! every key this version does not know.
//!
//! **Architecture invariant:** this crate knows nothing of HTTP, GGUF parsing or code
//! generation; everything else depends on it, never the other way round.

#![deny(missing_docs)]

mod labels;
pub mod model;
mod schema;
mod storage;
mod type_errors;
mod validate;

pub use model::{
    ArtifactKind, Benchmark, CatalogInfo, ExtraFile, HUB_DEFAULT_BRANCH, Hardware, HubState,
    MODELSCOPE_DEFAULT_BRANCH, Model, Registry, SCHEMA_VERSION, Status,
};
/// The file naming convention, defined in the shared vocabulary.
pub use ruvltra_vocab::naming;
pub use ruvltra_vocab::{Quant, UnknownQuant};
pub use schema::{SCHEMA_FILE_NAME, json_schema, json_schema_text};
pub use storage::{
    LoadError, load, parse, parse_bytes, save, to_canonical_json, write_file_atomically,
};
pub use type_errors::ParseError;
pub use validate::{Problem, Problems, parse_sha256, validate};
