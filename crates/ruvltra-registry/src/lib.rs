//! The RuvLTRA catalog: serde types of `registry.json`, validation, canonical atomic storage
//! and the JSON Schema.
//!
//! **Architecture invariant:** this crate knows nothing of HTTP, GGUF parsing or code
//! generation; everything else depends on it, never the other way round.

#![deny(missing_docs)]

pub mod model;
pub mod quant;

pub use model::{
    ArtifactKind, Benchmark, CatalogInfo, ExtraFile, Hardware, HubState, Model, Registry, Status,
    SCHEMA_VERSION,
};
pub use quant::{Quant, UnknownQuant};
