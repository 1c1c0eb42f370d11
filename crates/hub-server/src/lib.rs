//! A Hugging Face Hub-compatible HTTP server backed by an on-disk store, so publishing,
//! syncing and downloading can be tested for real without reaching huggingface.co.
//!
//! It speaks the endpoints the official `huggingface_hub` client uses (see
//! `docs/HUB-PROTOCOL-NOTES.md#local-server`): whoami, repos, model info, tree, paths-info,
//! preupload, the LFS batch API with basic and multipart transfers, the NDJSON commit, refs,
//! tags, branches, commit history and `resolve` downloads with ranges. Tests can inject faults
//! per instance.
//!
//! ```no_run
//! use hub_server::{Action, Fault, HubServer, Match, ServerConfig};
//!
//! let server = HubServer::spawn(ServerConfig::new("/tmp/hub")).unwrap();
//! // HF_ENDPOINT = server.url(), token "hf_test_write".
//! server.faults().add(Fault::new(
//!     Match::any().method("PUT").path_contains("/lfs-upload/"),
//!     2,
//!     Action::Status(503),
//! ));
//! server.stop();
//! ```
//!
//! # Behaviour where the Hub is not public
//! * Auth: `write_tokens` may write every namespace; `read_tokens` read everything, private repos
//!   included; `guest_tokens` belong to another user and see private repos as 404
//!   `RepoNotFound`. Anonymous callers get 401 `RepoNotFound` for private repos, 401 for writes;
//!   read-only tokens get 403 for writes; unknown tokens get 401 everywhere except presigned URLs.
//! * Preupload says `lfs` when a `.gitattributes` `filter=lfs` pattern of the revision matches,
//!   when the size is over 10 MiB, or when the sample is binary (NUL byte or invalid UTF-8).
//! * Inline `file` entries over 10 MiB, or binary over 1,000,000 bytes, are refused with 400.
//! * Upload URLs are `/lfs-upload/{48 random hex}` (basic PUT), `.../part/{n}` (multipart, each
//!   answering an `ETag`) and `.../complete`; they live in memory, so a restart invalidates the
//!   ones in flight (clients ask the batch endpoint again). Objects are shared by all repos and
//!   kept when a repo is deleted.
//! * With `lfs_redirect`, LFS downloads answer 302 to `/lfs-cdn/{sha256}/{name}?expires=&signature=`
//!   on a second port: another origin, so clients must drop the token there.
//! * Deleting `main` is 403; commit ids are sha1 of a git-like commit text, tree ids real git
//!   tree hashes of the manifest.
//! * Branch and tag names follow git's `check-ref-format`, plus no whitespace, no `refs/` prefix
//!   and no 40-hex name (it would read as a commit id), in both modes (`store/refs.rs`).
//! * A ModelScope-compatible mode is served alongside, under `/api/v1` and `/openapi/v1` (paths
//!   the Hub never uses): see the `modelscope` module. Its models live in
//!   `{data_dir}/modelscope/`, on branch `master`, and it is checked with the official
//!   `modelscope` SDK.
//!
//! # Layout
//! The modules are layers that depend one way (ARCHITECTURE.md, checked by `tests/layers.rs`):
//! `server` → `routing` → `hub`, `modelscope` → `transfer` → `context` → `error` → `store`,
//! with `config` and `fault` at the bottom.

mod config;
mod context;
mod error;
mod fault;
mod hub;
mod modelscope;
mod routing;
mod server;
mod store;
mod transfer;

pub use config::{ServerConfig, ServerError};
pub use context::Stats;
pub use fault::{Action, Fault, Faults, Match};
pub use server::HubServer;
pub use store::{DEFAULT_GITATTRIBUTES, RepoKind, git_blob_id, lfs_pointer, verify_stored_objects};
