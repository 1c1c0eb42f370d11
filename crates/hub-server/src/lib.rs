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
//! * A ModelScope-compatible mode is served alongside, under `/api/v1` and `/openapi/v1` (paths
//!   the Hub never uses): see `modelscope.rs`. Its models live in `{data_dir}/modelscope/`, on
//!   branch `master`, and it is checked with the official `modelscope` SDK.
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

mod api;
mod fault;
mod modelscope;
mod store;
mod transfer;
mod yaml;

pub use fault::{Action, Fault, Faults, Match};
pub use store::{DEFAULT_GITATTRIBUTES, RepoKind, git_blob_id, lfs_pointer};

use fault::{ConnInfo, KillListener};

/// Errors starting or running the server.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The data directory could not be prepared.
    #[error("cannot use data directory {path}: {source}; check it exists and is writable")]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}: {source}; pick a free port or 127.0.0.1:0")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The server thread or runtime could not start.
    #[error("cannot start the server runtime: {0}")]
    Runtime(String),
}

impl ServerError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> ServerError {
        ServerError::Io {
            path: path.to_owned(),
            source,
        }
    }
}

/// How a server instance behaves.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Where repos and objects live; created if missing, kept across restarts.
    pub data_dir: PathBuf,
    /// Tokens granting write (and read) access to every namespace.
    pub write_tokens: Vec<String>,
    /// Tokens granting read access to every repo, private ones included.
    pub read_tokens: Vec<String>,
    /// Tokens of another user: they read public repos only and get 404 for private ones.
    pub guest_tokens: Vec<String>,
    /// The user name whoami returns and the default namespace of new repos.
    pub user: String,
    /// LFS objects of at least this size get a multipart upload.
    pub multipart_threshold: u64,
    /// The part size of multipart uploads.
    pub multipart_chunk_size: u64,
    /// Entries per page of tree listings (the Hub uses 1000).
    pub tree_page_size: usize,
    /// Entries per page of tree listings with `expand=true` (the Hub uses 50).
    pub tree_expand_page_size: usize,
    /// Entries per page of commit listings.
    pub commits_page_size: usize,
    /// When set, `resolve` of an LFS file answers 302 to a second listener on another port
    /// (another origin, like the Hub's CDN), which serves the bytes without needing a token.
    pub lfs_redirect: bool,
    /// How long upload URLs handed out by the LFS batch endpoint stay valid.
    pub upload_url_ttl: Duration,
    /// The largest NDJSON commit body accepted, in bytes.
    pub max_commit_bytes: u64,
    /// The most lines an NDJSON commit may have.
    pub max_commit_lines: usize,
    /// The most objects one LFS batch request may list.
    pub max_batch_objects: usize,
    /// The largest JSON request body of the other endpoints, in bytes.
    pub max_json_bytes: usize,
}

impl ServerConfig {
    /// A configuration with the defaults tests want: the write token `hf_test_write`, user
    /// `local`, multipart from 64 MiB in 16 MiB parts, Hub page sizes, no redirect.
    pub fn new(data_dir: impl Into<PathBuf>) -> ServerConfig {
        ServerConfig {
            data_dir: data_dir.into(),
            write_tokens: vec!["hf_test_write".to_owned()],
            read_tokens: Vec::new(),
            guest_tokens: Vec::new(),
            user: "local".to_owned(),
            multipart_threshold: 64 * 1024 * 1024,
            multipart_chunk_size: 16 * 1024 * 1024,
            tree_page_size: 1000,
            tree_expand_page_size: 50,
            commits_page_size: 50,
            lfs_redirect: false,
            upload_url_ttl: Duration::from_secs(3600),
            max_commit_bytes: 1 << 30,
            max_commit_lines: 50_000,
            max_batch_objects: 1000,
            max_json_bytes: 16 * 1024 * 1024,
        }
    }
}

/// Counters of what the server has seen, for assertions in tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Requests to `/api/...` and the LFS batch/verify endpoints.
    pub api_requests: u64,
    /// Requests that move file bytes: resolve, upload PUTs, multipart completion, CDN GETs.
    pub transfer_requests: u64,
    /// Commits created by the commit endpoint (not counting repo creation).
    pub commits: u64,
    /// Bytes received by the upload endpoints (basic PUT and part PUTs).
    pub upload_bytes: u64,
    /// Whether any request to an upload or CDN URL carried an `Authorization` header.
    pub auth_on_presigned: bool,
    /// LFS objects stored through a basic (single PUT) upload.
    pub basic_uploads: u64,
    /// LFS objects stored through a completed multipart upload.
    pub multipart_uploads: u64,
    /// Requests answered by a fault rule (any action).
    pub faults_fired: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub api_requests: AtomicU64,
    pub transfer_requests: AtomicU64,
    pub commits: AtomicU64,
    pub upload_bytes: AtomicU64,
    pub auth_on_presigned: AtomicBool,
    pub basic_uploads: AtomicU64,
    pub multipart_uploads: AtomicU64,
}

/// State shared by every request of one server.
#[derive(Debug)]
pub(crate) struct AppState {
    pub config: ServerConfig,
    pub store: store::Store,
    pub faults: Faults,
    pub counters: Counters,
    pub locks: api::RepoLocks,
    pub uploads: transfer::Uploads,
    /// A per-process secret signing CDN URLs.
    pub cdn_secret: String,
    /// The port of the CDN listener when `lfs_redirect` is on.
    pub cdn_port: std::sync::OnceLock<u16>,
    /// The main listener's address, for requests without a Host header.
    pub addr: std::sync::OnceLock<SocketAddr>,
    /// Becomes true when the server is asked to stop, so stalled requests end at once.
    pub stopping: tokio::sync::watch::Receiver<bool>,
    /// The ModelScope-compatible mode (`/api/v1`, `/openapi/v1`).
    pub modelscope: modelscope::MsState,
}

enum Runner {
    Task(tokio::task::JoinHandle<()>),
    Thread(std::thread::JoinHandle<()>),
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Runner::Task(_) => "Runner::Task",
            Runner::Thread(_) => "Runner::Thread",
        })
    }
}

/// A running server. Dropping it asks it to stop; `shutdown`/`stop` also wait.
#[derive(Debug)]
pub struct HubServer {
    addr: SocketAddr,
    state: Arc<AppState>,
    stop_tx: Option<tokio::sync::watch::Sender<bool>>,
    runner: Option<Runner>,
}

/// How long a stopping server waits for requests in flight before cutting them.
const STOP_GRACE: Duration = Duration::from_secs(5);

impl HubServer {
    /// Starts the server on `addr` inside the current tokio runtime (`127.0.0.1:0` picks a
    /// free port). It accepts connections when this returns.
    pub async fn start(addr: SocketAddr, config: ServerConfig) -> Result<HubServer, ServerError> {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let (state, main, cdn) = bind(addr, config, stop_rx.clone()).await?;
        let task = tokio::spawn(serve(state.clone(), main, cdn, stop_rx));
        Ok(HubServer {
            addr: *state.addr.get().unwrap_or(&addr),
            state,
            stop_tx: Some(stop_tx),
            runner: Some(Runner::Task(task)),
        })
    }

    /// Starts the server on `127.0.0.1:0` on its own thread with its own runtime, for tests
    /// that are not async. Stop it with [`HubServer::stop`].
    pub fn spawn(config: ServerConfig) -> Result<HubServer, ServerError> {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let thread = std::thread::Builder::new()
            .name("hub-server".to_owned())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(ServerError::Runtime(e.to_string())));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let addr = SocketAddr::from(([127, 0, 0, 1], 0));
                    match bind(addr, config, stop_rx.clone()).await {
                        Ok((state, main, cdn)) => {
                            let _ = ready_tx.send(Ok(state.clone()));
                            serve(state, main, cdn, stop_rx).await;
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                        }
                    }
                });
            })
            .map_err(|e| ServerError::Runtime(e.to_string()))?;
        let state = ready_rx.recv().map_err(|_| {
            ServerError::Runtime("the server thread exited while starting".into())
        })??;
        let addr = *state
            .addr
            .get()
            .ok_or_else(|| ServerError::Runtime("the server did not record its address".into()))?;
        Ok(HubServer {
            addr,
            state,
            stop_tx: Some(stop_tx),
            runner: Some(Runner::Thread(thread)),
        })
    }

    /// The base URL, `http://127.0.0.1:PORT`, to use as `HF_ENDPOINT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The CDN listener's port when `lfs_redirect` is on.
    pub fn cdn_port(&self) -> Option<u16> {
        self.state.cdn_port.get().copied()
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.state.config.data_dir
    }

    /// Where the LFS object with this sha256 lives once it is verified (it may not exist).
    pub fn lfs_object_path(&self, sha256: &str) -> Option<PathBuf> {
        store::is_sha256_hex(sha256).then(|| self.state.store.lfs_path(sha256))
    }

    /// Whether a verified LFS object with this sha256 is stored (and visible to commits).
    pub fn has_lfs_object(&self, sha256: &str) -> bool {
        self.state.store.lfs_size(sha256).is_some()
    }

    /// The fault rules of this instance.
    pub fn faults(&self) -> &Faults {
        &self.state.faults
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        let c = &self.state.counters;
        Stats {
            api_requests: c.api_requests.load(Ordering::Relaxed),
            transfer_requests: c.transfer_requests.load(Ordering::Relaxed),
            commits: c.commits.load(Ordering::Relaxed),
            upload_bytes: c.upload_bytes.load(Ordering::Relaxed),
            auth_on_presigned: c.auth_on_presigned.load(Ordering::Relaxed),
            basic_uploads: c.basic_uploads.load(Ordering::Relaxed),
            multipart_uploads: c.multipart_uploads.load(Ordering::Relaxed),
            faults_fired: self.state.faults.fired(),
        }
    }

    /// Stops accepting, lets requests in flight finish (up to a few seconds) and returns.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.stop_tx.take() {
            let _ = tx.send(true);
        }
        match self.runner.take() {
            Some(Runner::Task(task)) => {
                let _ = task.await;
            }
            Some(Runner::Thread(thread)) => {
                let _ = tokio::task::spawn_blocking(move || thread.join()).await;
            }
            None => {}
        }
    }

    /// Blocking stop, for servers made by [`HubServer::spawn`].
    pub fn stop(mut self) {
        if let Some(tx) = self.stop_tx.take() {
            let _ = tx.send(true);
        }
        match self.runner.take() {
            Some(Runner::Thread(thread)) => {
                let _ = thread.join();
            }
            Some(Runner::Task(task)) => {
                // Inside a runtime the task cannot be awaited here; it stops on its own.
                drop(task);
            }
            None => {}
        }
    }
}

impl Drop for HubServer {
    fn drop(&mut self) {
        if let Some(tx) = self.stop_tx.take() {
            let _ = tx.send(true);
        }
    }
}

type Bound = (Arc<AppState>, KillListener, Option<KillListener>);

async fn bind(
    addr: SocketAddr,
    config: ServerConfig,
    stopping: tokio::sync::watch::Receiver<bool>,
) -> Result<Bound, ServerError> {
    let store = store::Store::open(config.data_dir.clone())?;
    let main = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServerError::Bind { addr, source })?;
    let local = main
        .local_addr()
        .map_err(|source| ServerError::Bind { addr, source })?;
    let cdn = if config.lfs_redirect {
        let cdn_addr = SocketAddr::new(local.ip(), 0);
        let listener = tokio::net::TcpListener::bind(cdn_addr)
            .await
            .map_err(|source| ServerError::Bind {
                addr: cdn_addr,
                source,
            })?;
        Some(listener)
    } else {
        None
    };
    let state = Arc::new(AppState {
        config,
        store,
        faults: Faults::default(),
        counters: Counters::default(),
        locks: api::RepoLocks::default(),
        uploads: transfer::Uploads::default(),
        cdn_secret: store::random_hex(32),
        cdn_port: std::sync::OnceLock::new(),
        addr: std::sync::OnceLock::new(),
        stopping,
        modelscope: modelscope::MsState::default(),
    });
    let _ = state.addr.set(local);
    if let Some(cdn) = &cdn
        && let Ok(a) = cdn.local_addr()
    {
        let _ = state.cdn_port.set(a.port());
    }
    Ok((state, KillListener(main), cdn.map(KillListener)))
}

async fn serve(
    state: Arc<AppState>,
    main: KillListener,
    cdn: Option<KillListener>,
    stop_rx: tokio::sync::watch::Receiver<bool>,
) {
    let router = api::router(state);
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let main_server = axum::serve(
        main,
        router
            .clone()
            .into_make_service_with_connect_info::<ConnInfo>(),
    )
    .with_graceful_shutdown(stopped(stop_rx.clone()));
    let cdn_server = async {
        if let Some(cdn) = cdn {
            let _ = axum::serve(
                cdn,
                router.into_make_service_with_connect_info::<ConnInfo>(),
            )
            .with_graceful_shutdown(stopped(stop_rx.clone()))
            .await;
        }
    };
    let both = async {
        let _ = tokio::join!(main_server, cdn_server);
    };
    // Graceful shutdown waits for every connection; cut stragglers after a grace period.
    let mut grace_rx = stop_rx.clone();
    tokio::select! {
        () = both => {}
        () = async {
            let _ = grace_rx.wait_for(|stop| *stop).await;
            tokio::time::sleep(STOP_GRACE).await;
        } => {}
    }
}
