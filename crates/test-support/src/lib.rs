//! The test suites' shared helpers, so that each exists once: the workspace root, sha256 hex
//! digests, scratch folders, sample bytes and catalogs, fuzz corpora, the local Hub fixture,
//! fast retries, and [`cli_snapshot!`], the one way a command's output is checked as a user
//! sees it.
//!
//! These are test helpers: every failure is a panic that says what went wrong.
//!
//! # Who may use which part
//!
//! This crate is only ever a dev-dependency. Its default features use no workspace crate
//! but `dev-python` (which uses none), so every crate, the standalone ones included, may take
//! it. Two features pull in workspace crates, and a crate must never enable a feature that
//! pulls in itself (its tests would build a second copy of its own types, and the dependency
//! graph would get a cycle):
//!
//! | feature | what it adds | pulls in | not for |
//! |---|---|---|---|
//! | `hub-server` | [`LocalHub`]: `hub-server` on loopback with a temp data folder and a token | `hub-server` | `hub-server` |
//! | `hub-client` | [`fast_retries`], [`client_builder`] (and [`LocalHub::client`] with both) | `hub-client` | `hub-client` and the crates it uses |
//!
//! `tests/tests/tidy.rs` checks this: no crate enables a feature whose crates reach it back.

pub mod catalog;
mod corpus;
mod digest;
mod root;
mod sample;
mod scratch;
pub mod snapshot;

#[cfg(feature = "hub-client")]
mod client;
#[cfg(feature = "hub-server")]
mod local_hub;

pub use corpus::fuzz_inputs;
pub use digest::{sha256, sha256_file_hex, sha256_hex};
pub use root::{workspace_file, workspace_files, workspace_root};
pub use sample::pseudo_random;
pub use scratch::{files_under, fresh_dir};
pub use snapshot::{CliRun, Filters};

#[cfg(feature = "hub-client")]
pub use client::{client_builder, fast_retries};
#[cfg(feature = "hub-server")]
pub use local_hub::{LocalHub, TOKEN};

/// insta, re-exported for [`cli_snapshot!`]'s expansion (callers need no insta dependency).
#[doc(hidden)]
pub use insta;
