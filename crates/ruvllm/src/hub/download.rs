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

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, IoSlice, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt;
use hub_client::{
    Download, Endpoint, HubClient, HubError, RangeAnswer, RepoId, Token, is_loopback,
    validate_repo_path, validate_revision,
};
use sha2::Digest;
use tokio::sync::{mpsc, oneshot};
use url::Url;

use super::cache::{self, HfCache, is_commit_id, is_safe_name, is_sha256_hex};
use super::registry::{FileSpec, ModelSpec};

/// Batches in flight between the network task and each worker thread; with [`BATCH_BYTES`]
/// this bounds the memory of one transfer to about 10 MiB whatever the file size.
const CHANNEL_DEPTH: usize = 8;
/// Received chunks are handed to the worker threads in batches of about this many bytes, so
/// the threads wake once per batch rather than once per network read.
const BATCH_BYTES: usize = 1 << 20;
/// Body failures tolerated per source before it is given up (each resumes from the bytes
/// already received).
const MAX_BODY_ATTEMPTS: u32 = 6;

/// A progress callback; it is called from the download task, so it must be quick.
pub type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

/// Where a file came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The local cache; nothing was transferred.
    Cache,
    /// The Hub's `resolve` endpoint.
    Hub,
    /// The fallback URL with this index in [`ModelSpec::fallback_urls`].
    Fallback(usize),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Cache => f.write_str("the cache"),
            Source::Hub => f.write_str("the Hub"),
            Source::Fallback(i) => write!(f, "fallback URL #{}", i + 1),
        }
    }
}

/// What happened, in a [`Progress`] report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressEvent {
    /// The file was found in the cache and verified.
    Cached,
    /// A transfer from `source` starts at byte `from` (non-zero when resuming).
    Started {
        /// Where from.
        source: Source,
        /// The first byte requested.
        from: u64,
    },
    /// More bytes arrived.
    Bytes,
    /// The transfer failed and will be tried again (resuming) or from the next source.
    Retrying {
        /// The source that failed.
        source: Source,
    },
    /// The file is complete and verified.
    Finished {
        /// Where it came from.
        source: Source,
    },
}

/// A progress report for one file of a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// The model id.
    pub model: &'static str,
    /// The file's path in the repository.
    pub file: &'static str,
    /// The file's position among the model's files (0-based).
    pub file_index: usize,
    /// How many files the model has.
    pub file_count: usize,
    /// Bytes of this file on disk so far (including a resumed prefix).
    pub done: u64,
    /// The file's size, when known.
    pub total: Option<u64>,
    /// What happened.
    pub event: ProgressEvent,
}

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
            .finish()
    }
}

/// One source that failed for a file, and why.
#[derive(Debug)]
pub struct SourceFailure {
    /// The source.
    pub source: Source,
    /// What went wrong.
    pub error: DownloadError,
}

/// Errors of the downloader.
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    /// Offline mode is on and the file is not in the cache.
    #[error(
        "{file} of model {id} is not in the cache at {} and offline mode is on (HF_HUB_OFFLINE); run `ruvllm pull {id}` with network access, or point HF_HUB_CACHE at a cache that has it",
        cache.display()
    )]
    NotCached {
        /// The model id.
        id: String,
        /// The file.
        file: String,
        /// The cache root searched.
        cache: PathBuf,
    },
    /// The spec cannot be downloaded as it is (bad repo id, path or revision).
    #[error("model {id} cannot be downloaded: {reason}; fix its registry entry")]
    InvalidSpec {
        /// The model id.
        id: String,
        /// What is wrong.
        reason: String,
    },
    /// The Hub or a fallback server answered with an error, or could not be reached.
    #[error(transparent)]
    Hub(#[from] HubError),
    /// The content's sha256 is not the expected one.
    #[error(
        "sha256 mismatch for {file} from {origin}: expected {expected}, got {actual}; the data was discarded"
    )]
    Checksum {
        /// The file.
        file: String,
        /// Where the bytes came from.
        origin: Source,
        /// The expected sha256.
        expected: String,
        /// The sha256 of what arrived.
        actual: String,
    },
    /// The content's size is not the expected one.
    #[error(
        "size mismatch for {file} from {origin}: expected {expected} bytes, got {actual}; the data was discarded"
    )]
    Size {
        /// The file.
        file: String,
        /// Where the bytes came from.
        origin: Source,
        /// The expected size.
        expected: u64,
        /// The size found or announced.
        actual: u64,
    },
    /// A fallback URL was not used.
    #[error("fallback URL {url} not used: {reason}")]
    FallbackRefused {
        /// The URL, without its query string.
        url: String,
        /// Why.
        reason: String,
    },
    /// The transfer kept failing.
    #[error(
        "the transfer of {file} from {origin} failed {attempts} times, last: {last}; check the network and try again (the download resumes)"
    )]
    Interrupted {
        /// The file.
        file: String,
        /// Where from.
        origin: Source,
        /// How many attempts failed.
        attempts: u32,
        /// The last failure.
        last: Box<DownloadError>,
    },
    /// Every source failed.
    #[error(
        "{file} of model {id} could not be downloaded from any source: {}",
        describe(failures)
    )]
    AllSourcesFailed {
        /// The model id.
        id: String,
        /// The file.
        file: String,
        /// Each source tried, in order, with its failure.
        failures: Vec<SourceFailure>,
    },
    /// A file in the cache is not what it should be.
    #[error(
        "the cached file {} failed verification: {reason}; run `ruvllm pull` with network access to fetch it again",
        path.display()
    )]
    CorruptCache {
        /// The blob or snapshot path.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Reading or writing the cache failed.
    #[error("cache I/O on {}: {source}; check permissions and free space", path.display())]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// The blocking API could not run.
    #[error("cannot run the download: {0}")]
    Runtime(String),
}

fn describe(failures: &[SourceFailure]) -> String {
    failures
        .iter()
        .map(|f| format!("[{}] {}", f.source, f.error))
        .collect::<Vec<_>>()
        .join("; ")
}

impl DownloadError {
    /// True for failures of the local machine (cache I/O, a bad spec): trying another source
    /// would not help.
    fn is_local(&self) -> bool {
        match self {
            DownloadError::Io { .. }
            | DownloadError::InvalidSpec { .. }
            | DownloadError::Runtime(_) => true,
            DownloadError::Interrupted { last, .. } => last.is_local(),
            _ => false,
        }
    }

    /// True when the content was checked and found wrong (size or sha256), anywhere inside.
    pub fn is_integrity(&self) -> bool {
        match self {
            DownloadError::Checksum { .. } | DownloadError::Size { .. } => true,
            DownloadError::Interrupted { last, .. } => last.is_integrity(),
            DownloadError::AllSourcesFailed { failures, .. } => {
                failures.iter().any(|f| f.error.is_integrity())
            }
            _ => false,
        }
    }
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> DownloadError + '_ {
    move |source| DownloadError::Io {
        path: path.to_owned(),
        source,
    }
}

/// The outcome for one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedFile {
    /// The file's path in the repository.
    pub file: &'static str,
    /// The local path (a snapshot symlink, or a `ruvllm-fallback` link).
    pub path: PathBuf,
    /// The commit, when known.
    pub commit: Option<String>,
    /// Where the bytes came from.
    pub source: Source,
    /// What the content was checked against: `"registry sha256"`, `"hub sha256"`, or
    /// `"size only"`.
    pub checked_against: &'static str,
    /// The byte a transfer resumed from (0 when it started afresh or was cached).
    pub resumed_from: u64,
    /// Bytes received over the network for this file (all attempts).
    pub bytes_received: u64,
    /// Sources that failed before the one that worked, as text.
    pub failed_sources: Vec<String>,
}

/// The outcome of a download: the main file's path and a report per file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// The main file's local path; the other files of the model are in the same folder tree.
    pub path: PathBuf,
    /// Every file, the main one first.
    pub files: Vec<FetchedFile>,
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
    let client = match (&opts.client, offline) {
        (_, true) => None,
        (Some(client), false) => Some(client.clone()),
        (None, false) => Some(
            HubClient::builder()
                .endpoint(Endpoint::resolve(opts.endpoint.as_deref())?)
                .token(Token::from_env())
                .build()?,
        ),
    };
    let mut job = Job {
        spec,
        repo,
        revision,
        cache,
        client,
        offline,
        full_verify: opts.full_verify,
        progress: opts.progress.clone(),
        file_count: files.len(),
        commit: None,
    };
    let mut out = Vec::with_capacity(files.len());
    for (index, file) in files.into_iter().enumerate() {
        out.push(job.fetch_file(index, file).await?);
    }
    Ok(Fetched {
        path: out[0].path.clone(),
        files: out,
    })
}

/// What the content must be.
#[derive(Debug, Clone, Copy, Default)]
struct Expected {
    size: Option<u64>,
    sha256: Option<[u8; 32]>,
    /// Where the sha256 comes from, for the report.
    from_registry: bool,
}

impl Expected {
    fn checked_against(&self) -> &'static str {
        match (self.sha256, self.from_registry) {
            (Some(_), true) => "registry sha256",
            (Some(_), false) => "hub sha256",
            (None, _) => "size only",
        }
    }
}

fn parse_sha(text: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(text, &mut out).ok()?;
    Some(out)
}

/// The state of one `download` call.
struct Job<'a> {
    spec: &'a ModelSpec,
    repo: RepoId,
    revision: String,
    cache: HfCache,
    client: Option<HubClient>,
    offline: bool,
    full_verify: bool,
    progress: Option<ProgressFn>,
    file_count: usize,
    /// The commit the first file resolved to; later files are read from the same commit.
    commit: Option<String>,
}

/// A file obtained from a source, before it is linked.
struct Obtained {
    resumed_from: u64,
    bytes_received: u64,
    transferred: bool,
}

impl Job<'_> {
    fn report(
        &self,
        index: usize,
        file: &'static str,
        done: u64,
        total: Option<u64>,
        event: ProgressEvent,
    ) {
        if let Some(progress) = &self.progress {
            progress(Progress {
                model: self.spec.id,
                file,
                file_index: index,
                file_count: self.file_count,
                done,
                total,
                event,
            });
        }
    }

    /// The commit the revision is known to point to without asking the Hub.
    fn local_commit(&self) -> Result<Option<String>, DownloadError> {
        if let Some(commit) = &self.commit {
            return Ok(Some(commit.clone()));
        }
        if is_commit_id(&self.revision) {
            return Ok(Some(self.revision.clone()));
        }
        self.cache
            .read_ref(&self.repo, &self.revision)
            .map_err(io_err(&self.cache.ref_path(&self.repo, &self.revision)))
    }

    async fn fetch_file(
        &mut self,
        index: usize,
        f: FileSpec,
    ) -> Result<FetchedFile, DownloadError> {
        let expected = Expected {
            size: f.bytes,
            sha256: f.sha256,
            from_registry: f.sha256.is_some(),
        };
        if let Some(hit) = self.try_cache(index, f, expected).await? {
            return Ok(hit);
        }
        let Some(client) = self.client.clone() else {
            return Err(DownloadError::NotCached {
                id: self.spec.id.to_owned(),
                file: f.file.to_owned(),
                cache: self.cache.root().to_owned(),
            });
        };
        let mut failures = Vec::new();
        // What the Hub's HEAD taught us, even if its body then failed.
        let mut hub_etag: Option<String> = None;
        let mut want = expected;
        match self
            .try_hub(&client, index, f, expected, &mut hub_etag, &mut want)
            .await
        {
            Ok(done) => return Ok(done),
            Err(e) if e.is_local() => return Err(e),
            Err(e) => {
                tracing::warn!(model = self.spec.id, file = f.file, error = %e, "the Hub failed; trying fallback URLs");
                self.report(
                    index,
                    f.file,
                    0,
                    want.size,
                    ProgressEvent::Retrying {
                        source: Source::Hub,
                    },
                );
                failures.push(SourceFailure {
                    source: Source::Hub,
                    error: e,
                });
            }
        }
        for (i, raw) in self.spec.fallback_urls.iter().enumerate() {
            let source = Source::Fallback(i);
            let result = self
                .try_fallback(
                    &client,
                    index,
                    f,
                    raw,
                    source,
                    want,
                    hub_etag.as_deref(),
                    &failures,
                )
                .await;
            match result {
                Ok(Some(done)) => return Ok(done),
                Ok(None) => {}
                Err(e) if e.is_local() => return Err(e),
                Err(e) => {
                    tracing::warn!(model = self.spec.id, file = f.file, %source, error = %e, "fallback failed");
                    self.report(
                        index,
                        f.file,
                        0,
                        want.size,
                        ProgressEvent::Retrying { source },
                    );
                    failures.push(SourceFailure { source, error: e });
                }
            }
        }
        Err(DownloadError::AllSourcesFailed {
            id: self.spec.id.to_owned(),
            file: f.file.to_owned(),
            failures,
        })
    }

    /// Step 1: a pinned file already in the cache, verified, with no network.
    async fn try_cache(
        &mut self,
        index: usize,
        f: FileSpec,
        expected: Expected,
    ) -> Result<Option<FetchedFile>, DownloadError> {
        let pinned = expected.sha256.is_some() || is_commit_id(&self.revision);
        if !(pinned || self.offline) {
            // A branch may have moved: without a checksum to compare, the Hub is asked.
            return Ok(None);
        }
        let commit = self.local_commit()?;
        let mut candidates = Vec::new();
        if let Some(commit) = &commit {
            candidates.push((
                self.cache.snapshot_path(&self.repo, commit, f.file),
                Some(commit.clone()),
            ));
        }
        if self.offline {
            // Online, the Hub's answer is preferred: it gives the file a proper snapshot.
            candidates.push((
                self.cache.fallback_path(&self.repo, &self.revision, f.file),
                None,
            ));
        }
        for (link, commit) in candidates {
            if !link.is_file() {
                continue;
            }
            // A link into `blobs/` names its blob; anything else (a copy made where symlinks
            // are unavailable) is hashed as a plain file.
            let etag = fs::read_link(&link)
                .ok()
                .filter(|t| {
                    t.parent().and_then(Path::file_name) == Some(std::ffi::OsStr::new("blobs"))
                })
                .and_then(|t| t.file_name().and_then(|n| n.to_str()).map(str::to_owned))
                .filter(|e| is_safe_name(e));
            let (target, etag) = match etag {
                Some(e) => (self.cache.blob_path(&self.repo, &e), e),
                None => (link.clone(), String::new()),
            };
            match self.verify_cached(&target, &etag, expected).await? {
                Ok(()) => {
                    if let Some(c) = &commit {
                        self.commit.get_or_insert_with(|| c.clone());
                    }
                    self.report(
                        index,
                        f.file,
                        expected.size.unwrap_or(0),
                        expected.size,
                        ProgressEvent::Cached,
                    );
                    return Ok(Some(FetchedFile {
                        file: f.file,
                        path: link,
                        commit,
                        source: Source::Cache,
                        checked_against: checked(expected, &etag),
                        resumed_from: 0,
                        bytes_received: 0,
                        failed_sources: Vec::new(),
                    }));
                }
                Err(reason) if self.offline => {
                    return Err(DownloadError::CorruptCache { path: link, reason });
                }
                Err(reason) => {
                    tracing::info!(file = f.file, %reason, "cached copy does not match; downloading");
                }
            }
        }
        if self.offline
            && let Some(sha) = expected.sha256
        {
            // Offline, a verified blob with the right checksum is enough, whatever revision
            // fetched it; it gets a fallback link so the file keeps its name.
            let etag = hex::encode(sha);
            let blob = self.cache.blob_path(&self.repo, &etag);
            if blob.is_file() && self.verify_cached(&blob, &etag, expected).await?.is_ok() {
                let link = self.link(commit.as_deref(), f.file, &etag)?;
                self.report(
                    index,
                    f.file,
                    expected.size.unwrap_or(0),
                    expected.size,
                    ProgressEvent::Cached,
                );
                return Ok(Some(FetchedFile {
                    file: f.file,
                    path: link,
                    commit,
                    source: Source::Cache,
                    checked_against: expected.checked_against(),
                    resumed_from: 0,
                    bytes_received: 0,
                    failed_sources: Vec::new(),
                }));
            }
        }
        Ok(None)
    }

    /// Checks a cached blob: size, then the marker, else (or with `full_verify`) a full hash.
    /// The inner `Err` says what is wrong.
    async fn verify_cached(
        &self,
        blob: &Path,
        etag: &str,
        expected: Expected,
    ) -> Result<Result<(), String>, DownloadError> {
        let (size, mtime) = match cache::size_and_mtime(blob) {
            Ok(v) => v,
            Err(e) => return Ok(Err(format!("cannot read it: {e}"))),
        };
        if let Some(want) = expected.size
            && want != size
        {
            return Ok(Err(format!("expected {want} bytes, found {size}")));
        }
        let want_sha = expected
            .sha256
            .map(hex::encode)
            .or_else(|| is_sha256_hex(etag).then(|| etag.to_owned()));
        let Some(want_sha) = want_sha else {
            return Ok(Ok(()));
        };
        let ours = self.cache.blob_path(&self.repo, etag) == blob;
        if ours
            && !self.full_verify
            && let Some(marker) = self.cache.read_marker(&self.repo, etag)
            && marker.size == size
            && marker.mtime_ns == mtime
            && marker.sha256 == want_sha
        {
            return Ok(Ok(()));
        }
        let path = blob.to_owned();
        let actual = tokio::task::spawn_blocking(move || hash_file(&path, None))
            .await
            .map_err(|e| DownloadError::Runtime(e.to_string()))?
            .map_err(io_err(blob))?;
        let actual = hex::encode(actual);
        if actual != want_sha {
            return Ok(Err(format!("expected sha256 {want_sha}, found {actual}")));
        }
        if ours && let Err(e) = self.cache.write_marker(&self.repo, etag, &actual) {
            tracing::debug!(error = %e, "cannot record the verification marker");
        }
        Ok(Ok(()))
    }

    /// Links `file` to `blobs/<etag>`: in the commit's snapshot when the commit is known,
    /// else in the `ruvllm-fallback` folder of the revision.
    fn link(&self, commit: Option<&str>, file: &str, etag: &str) -> Result<PathBuf, DownloadError> {
        let link = match commit {
            Some(commit) => self.cache.snapshot_path(&self.repo, commit, file),
            None => self.cache.fallback_path(&self.repo, &self.revision, file),
        };
        self.cache
            .link_blob(&self.repo, &link, file, etag)
            .map_err(io_err(&link))?;
        if let Some(commit) = commit
            && commit != self.revision
        {
            self.cache
                .write_ref(&self.repo, &self.revision, commit)
                .map_err(io_err(&self.cache.ref_path(&self.repo, &self.revision)))?;
        }
        Ok(link)
    }

    /// Step 2: the Hub.
    async fn try_hub(
        &mut self,
        client: &HubClient,
        index: usize,
        f: FileSpec,
        expected: Expected,
        hub_etag: &mut Option<String>,
        want: &mut Expected,
    ) -> Result<FetchedFile, DownloadError> {
        let asked = self.commit.clone().unwrap_or_else(|| self.revision.clone());
        let meta = client.file_metadata(&self.repo, &asked, f.file).await?;
        let bad = |what: &str, value: &str| {
            DownloadError::Hub(HubError::InvalidResponse {
                request: format!("HEAD {}", f.file),
                detail: format!("the {what} {value:?} is not a safe file name"),
            })
        };
        if !is_safe_name(&meta.commit) {
            return Err(bad("commit", &meta.commit));
        }
        if !is_safe_name(&meta.etag) {
            return Err(bad("etag", &meta.etag));
        }
        *hub_etag = Some(meta.etag.clone());
        self.commit.get_or_insert_with(|| meta.commit.clone());
        let hub_sha = if is_sha256_hex(&meta.etag) {
            parse_sha(&meta.etag)
        } else {
            None
        };
        *want = Expected {
            size: expected.size.or(meta.size),
            sha256: expected.sha256.or(hub_sha),
            from_registry: expected.sha256.is_some(),
        };
        if let (Some(ours), Some(theirs)) = (expected.sha256, hub_sha)
            && ours != theirs
        {
            return Err(DownloadError::Checksum {
                file: f.file.to_owned(),
                origin: Source::Hub,
                expected: hex::encode(ours),
                actual: format!("{} (announced by the Hub)", meta.etag),
            });
        }
        if let (Some(ours), Some(theirs)) = (expected.size, meta.size)
            && ours != theirs
        {
            return Err(DownloadError::Size {
                file: f.file.to_owned(),
                origin: Source::Hub,
                expected: ours,
                actual: theirs,
            });
        }
        let commit = meta.commit.clone();
        let repo = self.repo.clone();
        let path = f.file;
        let open = |start: u64| {
            let client = client.clone();
            let repo = repo.clone();
            let commit = commit.clone();
            async move { client.download_range(&repo, &commit, path, start).await }
        };
        let got = self
            .obtain(index, f.file, &meta.etag, *want, Source::Hub, open)
            .await?;
        let link = self.link(Some(&meta.commit), f.file, &meta.etag)?;
        let source = if got.transferred {
            Source::Hub
        } else {
            Source::Cache
        };
        self.report(
            index,
            f.file,
            want.size.unwrap_or(0),
            want.size,
            ProgressEvent::Finished { source },
        );
        Ok(FetchedFile {
            file: f.file,
            path: link,
            commit: Some(meta.commit),
            source,
            checked_against: checked(*want, &meta.etag),
            resumed_from: got.resumed_from,
            bytes_received: got.bytes_received,
            failed_sources: Vec::new(),
        })
    }

    /// Step 3: one fallback URL. `Ok(None)` never happens today; it is kept for URLs that do
    /// not apply to a file.
    #[allow(clippy::too_many_arguments)]
    async fn try_fallback(
        &mut self,
        client: &HubClient,
        index: usize,
        f: FileSpec,
        raw: &str,
        source: Source,
        want: Expected,
        hub_etag: Option<&str>,
        failures: &[SourceFailure],
    ) -> Result<Option<FetchedFile>, DownloadError> {
        let url = fallback_url(raw, f.file, f.file == self.spec.file)?;
        let Some(sha) = want.sha256 else {
            return Err(DownloadError::FallbackRefused {
                url: hub_client::without_query(&url),
                reason: "no sha256 is known for this file (neither in the registry nor from the Hub), so its content could not be verified".into(),
            });
        };
        // The blob is named as the Hub names it: its etag when the HEAD told us, else the
        // sha256 (the etag of every LFS file).
        let etag = match hub_etag {
            Some(e) => e.to_owned(),
            None => hex::encode(sha),
        };
        let open = |start: u64| {
            let client = client.clone();
            let url = url.clone();
            async move { client.download_url(&url, start).await }
        };
        let got = self
            .obtain(index, f.file, &etag, want, source, open)
            .await?;
        let commit = self.local_commit()?;
        let link = self.link(commit.as_deref(), f.file, &etag)?;
        let source = if got.transferred {
            source
        } else {
            Source::Cache
        };
        self.report(
            index,
            f.file,
            want.size.unwrap_or(0),
            want.size,
            ProgressEvent::Finished { source },
        );
        Ok(Some(FetchedFile {
            file: f.file,
            path: link,
            commit,
            source,
            checked_against: want.checked_against(),
            resumed_from: got.resumed_from,
            bytes_received: got.bytes_received,
            failed_sources: failures
                .iter()
                .map(|x| format!("{}: {}", x.source, x.error))
                .collect(),
        }))
    }

    /// Puts `blobs/<etag>` in place, verified, from `open(start)` unless it is already there.
    /// Holds the blob's lock throughout.
    async fn obtain<F, Fut>(
        &self,
        index: usize,
        file: &'static str,
        etag: &str,
        want: Expected,
        source: Source,
        open: F,
    ) -> Result<Obtained, DownloadError>
    where
        F: Fn(u64) -> Fut,
        Fut: std::future::Future<Output = Result<Download, HubError>>,
    {
        let blob = self.cache.blob_path(&self.repo, etag);
        let lock_path = self.cache.lock_path(&self.repo, etag);
        let blobs_dir = blob.parent().map(Path::to_owned).unwrap_or_default();
        fs::create_dir_all(&blobs_dir).map_err(io_err(&blobs_dir))?;
        let _lock = lock_blob(&lock_path).await?;

        if blob.is_file() {
            match self.verify_cached(&blob, etag, want).await? {
                Ok(()) => {
                    return Ok(Obtained {
                        resumed_from: 0,
                        bytes_received: 0,
                        transferred: false,
                    });
                }
                Err(reason) => {
                    tracing::warn!(blob = %blob.display(), %reason, "removing a corrupt blob");
                    fs::remove_file(&blob).map_err(io_err(&blob))?;
                }
            }
        }

        let partial = self.cache.partial_path(&self.repo, etag);
        let mut received = 0u64;
        let mut round = 0;
        loop {
            round += 1;
            let result = self
                .transfer_once(index, file, &partial, want, source, &open, &mut received)
                .await?;
            let (resumed_from, size, digest) = match result {
                Ok(done) => done,
                Err(e) => return Err(e),
            };
            let actual = hex::encode(digest);
            let mismatch = if let Some(sha) = want.sha256
                && sha != digest
            {
                Some(DownloadError::Checksum {
                    file: file.to_owned(),
                    origin: source,
                    expected: hex::encode(sha),
                    actual: actual.clone(),
                })
            } else if let Some(w) = want.size
                && w != size
            {
                Some(DownloadError::Size {
                    file: file.to_owned(),
                    origin: source,
                    expected: w,
                    actual: size,
                })
            } else {
                None
            };
            if let Some(e) = mismatch {
                fs::remove_file(&partial).map_err(io_err(&partial))?;
                if resumed_from > 0 && round == 1 {
                    // The prefix came from an earlier transfer; it may be what was wrong, so
                    // this source gets one more chance from zero.
                    tracing::warn!(file, error = %e, "a resumed download did not verify; starting again from zero");
                    continue;
                }
                return Err(e);
            }
            fs::rename(&partial, &blob).map_err(io_err(&blob))?;
            cache::sync_dir(&blobs_dir);
            if let Err(e) = self.cache.write_marker(&self.repo, etag, &actual) {
                tracing::debug!(error = %e, "cannot record the verification marker");
            }
            return Ok(Obtained {
                resumed_from,
                bytes_received: received,
                transferred: true,
            });
        }
    }

    /// One transfer of a blob into its partial file, resuming what the file holds. Returns
    /// (the byte it resumed from, the final size, the sha256). The outer `Err` is local
    /// trouble; the inner one a failure of the source.
    #[allow(clippy::too_many_arguments)]
    async fn transfer_once<F, Fut>(
        &self,
        index: usize,
        file: &'static str,
        partial: &Path,
        want: Expected,
        source: Source,
        open: &F,
        received: &mut u64,
    ) -> Result<Result<(u64, u64, [u8; 32]), DownloadError>, DownloadError>
    where
        F: Fn(u64) -> Fut,
        Fut: std::future::Future<Output = Result<Download, HubError>>,
    {
        let mut transfer = Transfer::start(partial, want.size)?;
        let resumed_from = transfer.pos;
        let mut attempts = 0u32;
        let mut last_error: Option<DownloadError> = None;
        loop {
            if want.size == Some(transfer.pos) {
                break;
            }
            if attempts >= MAX_BODY_ATTEMPTS {
                transfer.abort().await;
                return Ok(Err(DownloadError::Interrupted {
                    file: file.to_owned(),
                    origin: source,
                    attempts,
                    last: Box::new(
                        last_error.unwrap_or_else(|| {
                            DownloadError::Runtime("no attempt was made".into())
                        }),
                    ),
                }));
            }
            if attempts > 0 {
                self.report(
                    index,
                    file,
                    transfer.pos,
                    want.size,
                    ProgressEvent::Retrying { source },
                );
                let delay = self
                    .client
                    .as_ref()
                    .map(|c| c.retry_policy().backoff(attempts - 1))
                    .unwrap_or_default();
                tokio::time::sleep(delay).await;
            }
            attempts += 1;
            let start = transfer.pos;
            let download = match open(start).await {
                Ok(d) => d,
                Err(e) => {
                    // The client already retried the opening request; a final answer (a 404,
                    // an exhausted retry budget) goes to the next source. The bytes received
                    // so far stay for a later resume.
                    transfer.abort().await;
                    return Ok(Err(e.into()));
                }
            };
            let announced = download.total_size.or(match download.answer {
                RangeAnswer::Full => download.content_length,
                RangeAnswer::Partial => None,
            });
            if let (Some(want_size), Some(got)) = (want.size, announced)
                && want_size != got
            {
                // An error page served with 200, or a truncated answer: nothing is written.
                last_error = Some(DownloadError::Size {
                    file: file.to_owned(),
                    origin: source,
                    expected: want_size,
                    actual: got,
                });
                continue;
            }
            if download.answer == RangeAnswer::Full && start > 0 {
                tracing::info!(
                    start,
                    "the server ignored the range; starting again from zero"
                );
                transfer.restart().await?;
            }
            self.report(
                index,
                file,
                transfer.pos,
                want.size,
                ProgressEvent::Started {
                    source,
                    from: transfer.pos,
                },
            );
            let mut stream = download.into_stream();
            let mut failed = None;
            while let Some(chunk) = stream.next().await {
                match chunk {
                    Ok(bytes) => {
                        let len = bytes.len() as u64;
                        if let Some(w) = want.size
                            && transfer.pos + len > w
                        {
                            failed = Some(DownloadError::Size {
                                file: file.to_owned(),
                                origin: source,
                                expected: w,
                                actual: transfer.pos + len,
                            });
                            break;
                        }
                        *received += len;
                        transfer.push(bytes).await?;
                        self.report(index, file, transfer.pos, want.size, ProgressEvent::Bytes);
                    }
                    Err(e) => {
                        failed = Some(e.into());
                        break;
                    }
                }
            }
            drop(stream);
            match failed {
                Some(e @ DownloadError::Size { .. }) => {
                    // More bytes than announced: the source is broken, not the connection,
                    // and what it sent is not worth keeping.
                    transfer.abort().await;
                    fs::remove_file(partial).map_err(io_err(partial))?;
                    return Ok(Err(e));
                }
                Some(e) => {
                    transfer.flush().await?;
                    last_error = Some(e);
                    continue;
                }
                None => {}
            }
            if let Some(w) = want.size
                && transfer.pos < w
            {
                transfer.flush().await?;
                last_error = Some(DownloadError::Size {
                    file: file.to_owned(),
                    origin: source,
                    expected: w,
                    actual: transfer.pos,
                });
                continue;
            }
            break;
        }
        let (size, digest) = transfer.finish().await?;
        Ok(Ok((resumed_from, size, digest)))
    }
}

fn checked(expected: Expected, etag: &str) -> &'static str {
    if expected.sha256.is_some() {
        expected.checked_against()
    } else if is_sha256_hex(etag) {
        "hub sha256"
    } else {
        "size only"
    }
}

/// Checks a fallback URL and applies it to `file`.
fn fallback_url(raw: &str, file: &str, is_main: bool) -> Result<Url, DownloadError> {
    let refused = |url: &Url, reason: &str| DownloadError::FallbackRefused {
        url: hub_client::without_query(url),
        reason: reason.to_owned(),
    };
    let base = Url::parse(raw).map_err(|_| DownloadError::FallbackRefused {
        url: "(not shown)".into(),
        reason: "it is not a valid URL".into(),
    })?;
    let raw = &base;
    match base.scheme() {
        "https" => {}
        "http" if is_loopback(&base) => {}
        "http" => {
            return Err(refused(
                raw,
                "plain http is only allowed to loopback hosts; use https",
            ));
        }
        _ => return Err(refused(raw, "only https URLs are used")),
    }
    if !base.username().is_empty() || base.password().is_some() {
        return Err(refused(raw, "it must not carry credentials"));
    }
    if base.path().ends_with('/') {
        base.join(&hub_client::quote_path(file))
            .map_err(|_| refused(raw, "the file path cannot be appended to it"))
    } else if is_main {
        Ok(base)
    } else {
        Err(refused(
            raw,
            "it names the main file only; end it with `/` to use it as a base for every file",
        ))
    }
}

/// Takes the blob's exclusive lock (waiting for another process or task holding it).
async fn lock_blob(path: &Path) -> Result<File, DownloadError> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(io_err(dir))?;
    }
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(io_err(path))?;
    let owned = path.to_owned();
    tokio::task::spawn_blocking(move || file.lock().map(|()| file))
        .await
        .map_err(|e| DownloadError::Runtime(e.to_string()))?
        .map_err(io_err(&owned))
}

/// Hashes a file (or its first `len` bytes) with a 1 MiB buffer.
fn hash_file(path: &Path, len: Option<u64>) -> io::Result<[u8; 32]> {
    let mut hasher = sha2::Sha256::new();
    hash_prefix(&mut hasher, path, len)?;
    Ok(hasher.finalize().into())
}

fn hash_prefix(hasher: &mut sha2::Sha256, path: &Path, len: Option<u64>) -> io::Result<()> {
    let file = File::open(path)?;
    let mut reader = file.take(len.unwrap_or(u64::MAX));
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        hasher.update(&buf[..n]);
    }
}

/// Chunks in arrival order, shared by both worker threads.
type Batch = Arc<Vec<Bytes>>;

/// Writes every chunk of a batch with vectored writes, handling short writes.
fn write_batch(out: &mut File, batch: &[Bytes]) -> io::Result<()> {
    let mut slices: Vec<IoSlice<'_>> = batch.iter().map(|b| IoSlice::new(b)).collect();
    let mut rest = &mut slices[..];
    while !rest.is_empty() {
        let n = out.write_vectored(rest)?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        IoSlice::advance_slices(&mut rest, n);
    }
    Ok(())
}

enum WriteMsg {
    Data(Batch),
    /// Truncate to zero (a 200 answer to a range).
    Restart,
    /// Answer with the file length once everything sent before is written.
    Flush(oneshot::Sender<io::Result<u64>>),
    /// Flush and fsync, answer with the file length; the thread then ends.
    Finish(oneshot::Sender<io::Result<u64>>),
}

enum HashMsg {
    Data(Batch),
    Restart,
    Finish(oneshot::Sender<[u8; 32]>),
}

/// One transfer into a partial file: a writer thread and a hasher thread fed with the same
/// chunks, in order, through bounded channels.
struct Transfer {
    pos: u64,
    path: PathBuf,
    /// Chunks received but not yet handed to the threads.
    pending: Vec<Bytes>,
    pending_bytes: usize,
    writer: Option<mpsc::Sender<WriteMsg>>,
    hasher: Option<mpsc::Sender<HashMsg>>,
    writer_thread: Option<std::thread::JoinHandle<io::Result<()>>>,
}

impl Transfer {
    /// Opens (or creates) the partial file and hashes what it already holds, on the hasher
    /// thread. A partial longer than the expected size is discarded.
    fn start(path: &Path, size: Option<u64>) -> Result<Transfer, DownloadError> {
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(path)
            .map_err(io_err(path))?;
        let mut pos = file.metadata().map_err(io_err(path))?.len();
        if size.is_some_and(|s| pos > s) || size.is_none() && pos > 0 {
            // Without a size there is no telling whether the prefix is complete or stale.
            file.set_len(0).map_err(io_err(path))?;
            pos = 0;
        }
        file.seek(SeekFrom::Start(pos)).map_err(io_err(path))?;

        let (htx, mut hrx) = mpsc::channel::<HashMsg>(CHANNEL_DEPTH);
        let prefix = (pos > 0).then(|| (path.to_owned(), pos));
        std::thread::Builder::new()
            .name("ruvllm-sha256".into())
            .spawn(move || {
                let mut hasher = sha2::Sha256::new();
                if let Some((path, len)) = prefix
                    && let Err(e) = hash_prefix(&mut hasher, &path, Some(len))
                {
                    // The writer sees the same file; a prefix we cannot read cannot match.
                    tracing::warn!(error = %e, "cannot re-hash the partial download");
                    hasher.update(b"\0unreadable prefix\0");
                }
                while let Some(msg) = hrx.blocking_recv() {
                    match msg {
                        HashMsg::Data(batch) => batch.iter().for_each(|b| hasher.update(b)),
                        HashMsg::Restart => hasher = sha2::Sha256::new(),
                        HashMsg::Finish(reply) => {
                            let _ = reply.send(std::mem::take(&mut hasher).finalize().into());
                            return;
                        }
                    }
                }
            })
            .map_err(io_err(path))?;

        let (wtx, mut wrx) = mpsc::channel::<WriteMsg>(CHANNEL_DEPTH);
        let writer_thread = std::thread::Builder::new()
            .name("ruvllm-writer".into())
            .spawn(move || -> io::Result<()> {
                let mut out = file;
                while let Some(msg) = wrx.blocking_recv() {
                    match msg {
                        // One `writev` per batch: no copy into a user-space buffer.
                        WriteMsg::Data(batch) => write_batch(&mut out, &batch)?,
                        WriteMsg::Restart => {
                            out.set_len(0)?;
                            out.seek(SeekFrom::Start(0))?;
                        }
                        WriteMsg::Flush(reply) => {
                            let _ = reply.send(out.metadata().map(|m| m.len()));
                        }
                        WriteMsg::Finish(reply) => {
                            let r = out
                                .sync_all()
                                .and_then(|()| out.metadata())
                                .map(|m| m.len());
                            let _ = reply.send(r);
                            return Ok(());
                        }
                    }
                }
                Ok(())
            })
            .map_err(io_err(path))?;
        Ok(Transfer {
            pos,
            path: path.to_owned(),
            pending: Vec::new(),
            pending_bytes: 0,
            writer: Some(wtx),
            hasher: Some(htx),
            writer_thread: Some(writer_thread),
        })
    }

    /// The writer thread's error, once it has stopped.
    async fn writer_error(&mut self) -> DownloadError {
        let error = match self.writer_thread.take() {
            Some(thread) => match tokio::task::spawn_blocking(move || thread.join()).await {
                Ok(Ok(Err(e))) => e,
                _ => io::Error::other("the writer thread stopped"),
            },
            None => io::Error::other("the writer thread stopped"),
        };
        DownloadError::Io {
            path: self.path.clone(),
            source: error,
        }
    }

    async fn send_write(&mut self, msg: WriteMsg) -> Result<(), DownloadError> {
        let ok = match &self.writer {
            Some(w) => w.send(msg).await.is_ok(),
            None => false,
        };
        if ok {
            Ok(())
        } else {
            Err(self.writer_error().await)
        }
    }

    async fn send_hash(&mut self, msg: HashMsg) -> Result<(), DownloadError> {
        match &self.hasher {
            Some(h) if h.send(msg).await.is_ok() => Ok(()),
            _ => Err(DownloadError::Runtime("the hasher thread stopped".into())),
        }
    }

    async fn push(&mut self, bytes: Bytes) -> Result<(), DownloadError> {
        self.pos += bytes.len() as u64;
        self.pending_bytes += bytes.len();
        self.pending.push(bytes);
        if self.pending_bytes >= BATCH_BYTES {
            self.send_pending().await?;
        }
        Ok(())
    }

    /// Hands the pending chunks to both threads.
    async fn send_pending(&mut self) -> Result<(), DownloadError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let batch: Batch = Arc::new(std::mem::take(&mut self.pending));
        self.pending_bytes = 0;
        self.send_hash(HashMsg::Data(batch.clone())).await?;
        self.send_write(WriteMsg::Data(batch)).await
    }

    async fn restart(&mut self) -> Result<(), DownloadError> {
        self.pos = 0;
        self.pending.clear();
        self.pending_bytes = 0;
        self.send_hash(HashMsg::Restart).await?;
        self.send_write(WriteMsg::Restart).await
    }

    /// Makes everything received so far visible in the file (for a later resume).
    async fn flush(&mut self) -> Result<(), DownloadError> {
        self.send_pending().await?;
        let (tx, rx) = oneshot::channel();
        self.send_write(WriteMsg::Flush(tx)).await?;
        match rx.await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(DownloadError::Io {
                path: self.path.clone(),
                source: e,
            }),
            Err(_) => Err(self.writer_error().await),
        }
    }

    /// Flushes and fsyncs the file; returns its size and the sha256 of everything.
    async fn finish(mut self) -> Result<(u64, [u8; 32]), DownloadError> {
        self.send_pending().await?;
        let (tx, rx) = oneshot::channel();
        self.send_write(WriteMsg::Finish(tx)).await?;
        let size = match rx.await {
            Ok(Ok(size)) => size,
            Ok(Err(e)) => {
                return Err(DownloadError::Io {
                    path: self.path.clone(),
                    source: e,
                });
            }
            Err(_) => return Err(self.writer_error().await),
        };
        let (tx, rx) = oneshot::channel();
        self.send_hash(HashMsg::Finish(tx)).await?;
        let digest = rx
            .await
            .map_err(|_| DownloadError::Runtime("the hasher thread stopped".into()))?;
        Ok((size, digest))
    }

    /// Stops the threads, keeping what was written (a later call may resume it).
    async fn abort(&mut self) {
        let _ = self.flush().await;
        self.writer.take();
        self.hasher.take();
        if let Some(thread) = self.writer_thread.take() {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fallback_urls_are_checked() {
        let ok = fallback_url("https://mirror.test/m.gguf", "m.gguf", true).unwrap();
        assert_eq!(ok.as_str(), "https://mirror.test/m.gguf");
        let base =
            fallback_url("https://mirror.test/r/", "a b/m-00002-of-00002.gguf", false).unwrap();
        assert_eq!(
            base.as_str(),
            "https://mirror.test/r/a%20b/m-00002-of-00002.gguf"
        );
        fallback_url("http://127.0.0.1:9/x", "x", true).unwrap();
        fallback_url("http://localhost:9/x", "x", true).unwrap();
        for (bad, why) in [
            ("http://mirror.test/m.gguf", "loopback"),
            ("ftp://mirror.test/m.gguf", "https"),
            ("https://u:p@mirror.test/m.gguf", "credentials"),
            ("not a url", "valid URL"),
        ] {
            let err = fallback_url(bad, "m.gguf", true).unwrap_err().to_string();
            assert!(err.contains(why), "{bad}: {err}");
            assert!(!err.contains(":p@"), "{err}");
        }
        let err = fallback_url("https://mirror.test/m.gguf", "other.gguf", false).unwrap_err();
        assert!(err.to_string().contains("end it with `/`"), "{err}");
        let err = fallback_url("https://mirror.test/m.gguf?sig=secret", "x", true);
        assert!(err.is_ok());
        let err = fallback_url("http://mirror.test/m?sig=secret", "x", true).unwrap_err();
        assert!(!err.to_string().contains("secret"), "{err}");
    }

    #[test]
    fn expected_reports_its_origin() {
        let reg = Expected {
            size: Some(1),
            sha256: Some([0; 32]),
            from_registry: true,
        };
        assert_eq!(reg.checked_against(), "registry sha256");
        let hub = Expected {
            from_registry: false,
            ..reg
        };
        assert_eq!(hub.checked_against(), "hub sha256");
        assert_eq!(Expected::default().checked_against(), "size only");
        assert_eq!(checked(Expected::default(), &"a".repeat(64)), "hub sha256");
        assert_eq!(checked(Expected::default(), &"a".repeat(40)), "size only");
    }

    #[tokio::test]
    async fn transfer_resumes_with_the_prefix_hash() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.partial");
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        let mut t = Transfer::start(&path, Some(data.len() as u64)).unwrap();
        t.push(Bytes::copy_from_slice(&data[..100_000]))
            .await
            .unwrap();
        t.flush().await.unwrap();
        t.abort().await;
        drop(t);
        let mut t = Transfer::start(&path, Some(data.len() as u64)).unwrap();
        assert_eq!(t.pos, 100_000);
        t.push(Bytes::copy_from_slice(&data[100_000..]))
            .await
            .unwrap();
        let (size, digest) = t.finish().await.unwrap();
        assert_eq!(size, data.len() as u64);
        assert_eq!(digest, <[u8; 32]>::from(sha2::Sha256::digest(&data)));
        assert_eq!(fs::read(&path).unwrap(), data);

        // A restart (a 200 answer to a range) forgets the prefix in both threads.
        let mut t = Transfer::start(&path, Some(10)).unwrap();
        assert_eq!(t.pos, 0, "a partial longer than the file is discarded");
        t.push(Bytes::from_static(b"wrong")).await.unwrap();
        t.restart().await.unwrap();
        t.push(Bytes::from_static(b"0123456789")).await.unwrap();
        let (size, digest) = t.finish().await.unwrap();
        assert_eq!(size, 10);
        assert_eq!(
            digest,
            <[u8; 32]>::from(sha2::Sha256::digest(b"0123456789"))
        );
    }
}
