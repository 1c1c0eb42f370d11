//! An async client of the Hugging Face Hub HTTP API, for publishing and fetching models.
//!
//! It speaks the parts of the protocol listed in `docs/HUB-PROTOCOL-NOTES.md`: identity,
//! repositories, repository info, paginated trees, paths-info, preupload, the LFS batch API
//! with basic and multipart transfers, NDJSON commits with `parentCommit`, refs, tags,
//! branches, commit history, `/resolve/` metadata and ranged downloads, and model-card YAML
//! validation, and Xet: CAS tokens kept fresh ([`xet`]).
//!
//! ```no_run
//! # async fn demo() -> Result<(), hub_client::HubError> {
//! use hub_client::{HubClient, RepoId};
//! let client = HubClient::from_env(None)?; // HF_ENDPOINT / HF_TOKEN (or the token file)
//! let repo = RepoId::new("ruv/ruvltra-claude-code")?;
//! let tree = client.list_tree(&repo, "main", None, true).await?;
//! # Ok(()) }
//! ```
//!
//! # Guarantees
//! * Every request goes through one [`Transport`](http_transport::Transport) (crate
//!   `http-transport`, shared with the ModelScope client): the [`Token`] is never printed,
//!   logged, put in a URL or an error, and is sent only in an `Authorization` header to the
//!   endpoint's own origin; redirects are followed by hand ([`MAX_REDIRECTS`]) and an
//!   https-to-http redirect is refused. Presigned upload URLs never receive it.
//! * Retries follow [`RetryPolicy`]: 408, 429, 5xx and broken connections, backoff with
//!   jitter, `Retry-After` honoured up to a limit beyond which the call fails fast.
//! * A commit whose answer was lost is never blindly sent again (see [`commit`]).
//! * Every path from the server (trees, paths-info, siblings) is checked with
//!   [`validate_repo_path`] before it is handed out.
//! * Uploads stream from the file with constant memory; downloads are streams of chunks.
#![deny(missing_docs)]

mod api;
mod client;
pub mod commit;
mod download;
mod endpoint;
mod error;
mod lfs;
mod link;
mod repo;
mod sha;
mod token;
mod types;
pub mod xet;

pub use api::PATHS_INFO_BATCH;
pub use client::{DEFAULT_USER_AGENT, HubClient, HubClientBuilder, Limits};
pub use commit::{CommitOp, CommitResult, NewCommit};
pub use download::{ByteStream, Download, RangeAnswer};
pub use endpoint::{DEFAULT_ENDPOINT, resolve_endpoint, resolve_endpoint_with};
pub use error::HubError;
/// The transport's types, re-exported so that callers of the Hub client need no second crate.
pub use http_transport::{
    Endpoint, MAX_MESSAGE_CHARS, MAX_REDIRECTS, RetryDecision, RetryPolicy, Token, is_loopback,
    is_retryable_status, parse_retry_after, quote_path, quote_segment, same_origin, without_query,
};
pub use lfs::{
    BatchObject, LFS_BATCH, LfsAction, LfsObject, PREUPLOAD_BATCH, PreuploadAnswer, PreuploadFile,
    ProgressCallback, Transfer, TransferProgress, UploadMode, UploadOutcome,
};
pub use link::next_link;
pub use repo::{
    MAX_COMPONENT_LEN, MAX_PATH_LEN, RepoId, RepoType, validate_repo_path, validate_revision,
};
pub use sha::{Sha256, git_blob_sha1};
pub use token::{
    TOKEN_ENV_VARS, TokenSource, token_file_path, token_from_env, token_from_env_with,
};
pub use types::{
    CommitAuthor, CommitInfo, CreatedRepo, EntryKind, FileMetadata, GitRef, LfsPointer, ModelInfo,
    Organization, Refs, Sibling, SiblingLfs, TreeEntry, WhoAmI, YamlValidation,
};
