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
//! Every request goes through the same [`Transport`](http_transport::Transport) as the Hub
//! client's (crate `http-transport`): the [`Token`](http_transport::Token) only on the
//! endpoint's own origin (in `Authorization` and ModelScope's session cookie), redirects by
//! hand, no https-to-http downgrade, one [`RetryPolicy`](http_transport::RetryPolicy) with
//! `Retry-After` honoured up to a limit, secrets redacted from every error. This crate keeps
//! only ModelScope's API shapes.
#![deny(missing_docs)]

mod client;
mod download;
mod error;
mod model;
mod upload;

pub use client::{
    DEFAULT_ENDPOINT, DEFAULT_REVISION, ModelScopeClient, ModelScopeClientBuilder, TOKEN_ENV,
    resolve_endpoint_with, token_from_env_with,
};
pub use error::ModelScopeError;
pub use http_transport::MAX_REDIRECTS;
pub use model::{LocalFile, ModelId, RepoFile, Revisions, UploadReport, Visibility};
pub use upload::{BATCH_SIZE, LFS_THRESHOLD, hash_file, inline_action, is_lfs, lfs_action};
