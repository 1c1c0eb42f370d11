//! An async client of the ModelScope hub API, the second destination of the RuvLTRA models.
//!
//! It speaks the endpoints the official `modelscope` SDK uses for publishing (checked against
//! its source, `modelscope_hub/_legacy_api.py`, and against the local server's ModelScope
//! mode): `POST /api/v1/models` (create), `GET /api/v1/models/{id}` (exists), the LFS batch
//! `POST /api/v1/repos/models/{id}/info/lfs/objects/batch`, a streamed `PUT` to each upload
//! URL, the one-request commit `POST /api/v1/repos/models/{id}/commit/{revision}` (LFS actions
//! by sha256, small files inline as base64), `GET /api/v1/models/{id}/repo/files` (listing),
//! `GET /api/v1/models/{id}/revisions`, `POST /api/v1/models/{id}/repo/tag` and
//! `GET /api/v1/models/{id}/repo?Revision=&FilePath=` (download).
//!
//! ```no_run
//! # async fn demo() -> Result<(), modelscope_client::ModelScopeError> {
//! use modelscope_client::{LocalFile, ModelId, ModelScopeClient, Visibility};
//! // MODELSCOPE_ENDPOINT / MODELSCOPE_DOMAIN, MODELSCOPE_API_TOKEN.
//! let client = ModelScopeClient::from_env(None)?;
//! let id = ModelId::new("ruvnet/ruvltra-claude-code")?;
//! client.create_model(&id, Visibility::Public, "apache-2.0").await?;
//! let files = [LocalFile { path_in_repo: "model.gguf".into(), local: "model.gguf".into() }];
//! client.upload_files(&id, "master", &files, "Publish").await?;
//! # Ok(()) }
//! ```
//!
//! The [`Token`](hub_client::Token) type, the endpoint rules and the [`RetryPolicy`](hub_client::RetryPolicy)
//! come from `hub-client`; the request executor of `hub-client` is private to it, so this crate
//! has its own with the same rules (token to the endpoint's origin only, redirects by hand, no
//! https-to-http downgrade, `Retry-After` honoured up to a limit).
#![deny(missing_docs)]

mod client;
mod error;
mod model;

pub use client::{
    BATCH_SIZE, DEFAULT_ENDPOINT, DEFAULT_REVISION, LFS_THRESHOLD, MAX_REDIRECTS, ModelScopeClient,
    ModelScopeClientBuilder, TOKEN_ENV, hash_file, inline_action, is_lfs, lfs_action,
    resolve_endpoint_with, token_from_env_with,
};
pub use error::ModelScopeError;
pub use model::{LocalFile, ModelId, RepoFile, Revisions, UploadReport, Visibility};
