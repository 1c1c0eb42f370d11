//! Verified, resumable downloads of a [`ModelSpec`]'s files into the shared Hugging Face
//! cache, with the registry's fallback URLs when the Hub fails.
//!
//! ```no_run
//! use ruvllm::hub::download::{DownloadOptions, download_blocking};
//! use ruvllm::hub::registry;
//!
//! let spec = registry::by_id("ruvltra-claude-code-0.5b-q4_k_m").expect("in the catalog");
//! let path = download_blocking(spec, &DownloadOptions::default())?;
//! println!("{}", path.display());
//! # Ok::<(), ruvllm::hub::download::DownloadError>(())
//! ```
//!
//! # How one file is obtained
//! 1. **Cache.** The revision is resolved locally (a commit id as is, a branch or tag through
//!    `refs/<revision>`); if `snapshots/<commit>/<file>` exists and the content is pinned (the
//!    spec has a sha256 or the revision is a commit id), its blob is verified and returned
//!    with no network at all. Verification is cheap: the size, plus a marker written after the
//!    last full hash (size, mtime and sha256 of the blob); `full_verify` hashes again.
//! 2. **Hub.** `HEAD /resolve/` gives the commit, the etag and the size. When
//!    `blobs/<etag>` is already there (fetched by any client for any revision) it is verified
//!    and linked. Otherwise the body is fetched from the commit (not the branch, so a branch
//!    moving mid-download cannot mix contents) under the blob's lock.
//! 3. **Fallbacks.** When the Hub fails in any way (5xx after retries, 404, timeouts, a size
//!    or checksum mismatch), the spec's fallback URLs are tried in order, with the same checks
//!    and never with the token. Only `https` URLs are accepted (`http` to loopback hosts, for
//!    tests). A URL ending in `/` is a base to which the file's repo path is appended; any
//!    other URL is the main file itself. A fallback needs a known sha256 (from the spec, or
//!    the Hub's `X-Linked-Etag` when the `HEAD` worked): nothing unverifiable enters the cache.
//!
//! # Integrity
//! Bytes are written by a writer thread and hashed by a hasher thread while they stream; the
//! expected sha256 is the spec's when it has one, else the Hub's `X-Linked-Etag` for LFS
//! files (reported in [`FetchedFile::checked_against`]). Regular (non-LFS) files without a
//! spec checksum are checked by size only. A mismatch deletes the partial data: the blob never
//! appears in `blobs/` nor in a snapshot.
//!
//! # Resume and concurrency
//! Each blob has an exclusive lock, `.locks/<repo folder>/<etag>.lock` (the file
//! `huggingface_hub` locks too, with the same `flock`), held for the whole transfer. Partial
//! data lives in `blobs/<etag>.ruvllm-partial`, only touched under that lock, so a later
//! process continues it with `Range: bytes=N-` after re-hashing the N bytes it has. A `200`
//! answer to a range restarts from zero. A second process asking for the same blob waits for
//! the lock and then finds the finished blob.
//!
//! # Layers
//! Each module depends only on the ones listed after it: this one is the public API and
//! turns [`DownloadOptions`] into a job; `sources` runs the source order for each file (cache,
//! Hub, fallback URLs); `blob` puts one verified blob in place from one source (its lock, the
//! resumes and retries of the body, the snapshot link); `transfer` runs the writer and hasher
//! threads of one transfer; `error` and `outcome` hold the types every layer shares.

mod blob;
mod delta;
mod error;
mod outcome;
mod sources;
mod transfer;
mod xet;

use std::fmt;
use std::path::PathBuf;

use hub_client::{
    HubClient, RepoId, resolve_endpoint, token_from_env, validate_repo_path, validate_revision,
};

pub use error::{DownloadError, SourceFailure};
pub use outcome::{Fetched, FetchedFile, Progress, ProgressEvent, ProgressFn, Source, XetReport};

use super::cache::{self, HfCache};
use super::registry::{FileSpec, ModelSpec};
use blob::Blobs;
use outcome::Reporter;
use sources::Job;

/// How [`download`] behaves. `Default` reads everything from the environment.
#[derive(Clone, Default)]
pub struct DownloadOptions {
    /// The Hub endpoint; `None` means `HF_ENDPOINT`, else `https://huggingface.co`.
    /// Ignored when [`client`](Self::client) is set.
    pub endpoint: Option<String>,
    /// A revision overriding the spec's (a branch, tag or commit id).
    pub revision: Option<String>,
    /// The cache root; `None` means `HF_HUB_CACHE`, else `$HF_HOME/hub`, else
    /// `~/.cache/huggingface/hub`.
    pub cache_dir: Option<PathBuf>,
    /// Use the cache only. `HF_HUB_OFFLINE=1` also turns this on.
    pub offline: bool,
    /// Called with progress reports.
    pub progress: Option<ProgressFn>,
    /// Hash cached files again instead of trusting their verification marker.
    pub full_verify: bool,
    /// A ready client (its endpoint, token, timeouts and retry policy are used as they are);
    /// `None` builds one from the endpoint and `HF_TOKEN`.
    pub client: Option<HubClient>,
    /// Never download through Xet, even when the Hub stores a file there (the plain `GET`
    /// only). `HF_HUB_DISABLE_XET=1` also turns this on, as for the official client.
    pub disable_xet: bool,
}

impl fmt::Debug for DownloadOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DownloadOptions")
            .field("endpoint", &self.endpoint)
            .field("revision", &self.revision)
            .field("cache_dir", &self.cache_dir)
            .field("offline", &self.offline)
            .field("progress", &self.progress.as_ref().map(|_| "Fn(Progress)"))
            .field("full_verify", &self.full_verify)
            .field("client", &self.client)
            .field("disable_xet", &self.disable_xet)
            .finish()
    }
}

/// Downloads (or finds in the cache) every file of `spec` and returns the main file's path.
pub async fn download(spec: &ModelSpec, opts: &DownloadOptions) -> Result<PathBuf, DownloadError> {
    fetch(spec, opts).await.map(|f| f.path)
}

/// [`download`] for code that is not async: runs on its own current-thread runtime. Do not
/// call it from inside a tokio runtime (use [`download`] there).
pub fn download_blocking(
    spec: &ModelSpec,
    opts: &DownloadOptions,
) -> Result<PathBuf, DownloadError> {
    fetch_blocking(spec, opts).map(|f| f.path)
}

/// [`fetch`] on its own current-thread runtime.
pub fn fetch_blocking(spec: &ModelSpec, opts: &DownloadOptions) -> Result<Fetched, DownloadError> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(DownloadError::Runtime(
            "download_blocking was called inside an async runtime; await download() instead".into(),
        ));
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| DownloadError::Runtime(e.to_string()))?;
    runtime.block_on(fetch(spec, opts))
}

/// Like [`download`], with a report of what happened to each file.
pub async fn fetch(spec: &ModelSpec, opts: &DownloadOptions) -> Result<Fetched, DownloadError> {
    let invalid = |reason: String| DownloadError::InvalidSpec {
        id: spec.id.to_owned(),
        reason,
    };
    let repo = RepoId::new(spec.repo).map_err(|e| invalid(e.to_string()))?;
    let revision = opts
        .revision
        .clone()
        .unwrap_or_else(|| spec.revision.to_owned());
    validate_revision(&revision).map_err(|e| invalid(e.to_string()))?;
    let files: Vec<FileSpec> = spec.files().collect();
    for f in &files {
        validate_repo_path(f.file).map_err(|e| invalid(e.to_string()))?;
    }
    let cache = HfCache::new(
        opts.cache_dir
            .clone()
            .unwrap_or_else(|| HfCache::from_env().root().to_owned()),
    );
    let offline = opts.offline || cache::offline_from_env(|k| std::env::var(k).ok());
    let use_xet = !(opts.disable_xet || cache::xet_disabled_from_env(|k| std::env::var(k).ok()));
    let client = match (&opts.client, offline) {
        (_, true) => None,
        (Some(client), false) => Some(client.clone()),
        (None, false) => Some(
            HubClient::builder()
                .endpoint(resolve_endpoint(opts.endpoint.as_deref())?)
                .token(token_from_env())
                .build()?,
        ),
    };
    let blobs = Blobs {
        cache,
        repo,
        revision,
        full_verify: opts.full_verify,
    };
    let reporter = Reporter::new(opts.progress.clone(), spec.id, files.len());
    let mut job = Job::new(spec, blobs, client, offline, use_xet, reporter);
    let mut out = Vec::with_capacity(files.len());
    for (index, file) in files.into_iter().enumerate() {
        out.push(job.fetch_file(index, file).await?);
    }
    Ok(Fetched {
        path: out[0].path.clone(),
        files: out,
    })
}
