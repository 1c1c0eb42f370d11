//! The running server: binding the main listener (and the CDN listener of `lfs_redirect`),
//! serving the router on them, and stopping; on the caller's runtime or on its own thread.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::config::{ServerConfig, ServerError};
use crate::context::{
    AppState, Counters, ModelScopeSite, RepoLocks, Stats, UploadSessions, XetTokens,
};
use crate::fault::{ConnInfo, Faults, KillListener};
use crate::store::{self, Store, random_hex};

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

    /// Where the record that makes the LFS object with this sha256 visible lives once it is
    /// verified (it may not exist): its link to the Xet file that holds its bytes.
    pub fn lfs_object_path(&self, sha256: &str) -> Option<PathBuf> {
        store::is_sha256_hex(sha256).then(|| self.state.store.link_path(sha256))
    }

    /// The bytes of a stored LFS object, reassembled from its xorbs (or read whole from an
    /// older data directory); `None` when it is not stored. For tests: it reads it all.
    pub fn read_lfs_object(&self, sha256: &str) -> std::io::Result<Option<Vec<u8>>> {
        store::read_lfs_object(&self.state.store, sha256)
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
            xorbs_inserted: c.xorbs_inserted.load(Ordering::Relaxed),
            xorb_upload_bytes: c.xorb_upload_bytes.load(Ordering::Relaxed),
            shards_inserted: c.shards_inserted.load(Ordering::Relaxed),
            dedup_queries: c.dedup_queries.load(Ordering::Relaxed),
            dedup_hits: c.dedup_hits.load(Ordering::Relaxed),
            reconstructions: c.reconstructions.load(Ordering::Relaxed),
            xorb_download_bytes: c.xorb_download_bytes.load(Ordering::Relaxed),
            lfs_files_chunked: c.lfs_files_chunked.load(Ordering::Relaxed),
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
    let store = Arc::new(Store::open(config.data_dir.clone())?);
    let xet_tokens = XetTokens::open(&store).map_err(|e| ServerError::io(&config.data_dir, e))?;
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
        xet_tokens,
        faults: Faults::default(),
        counters: Counters::default(),
        locks: RepoLocks::default(),
        uploads: UploadSessions::default(),
        cdn_secret: random_hex(32),
        cdn_port: OnceLock::new(),
        addr: OnceLock::new(),
        stopping,
        modelscope: ModelScopeSite::default(),
    });
    let _ = state.addr.set(local);
    Store::migrate_in_background(&state.store);
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
    let router = crate::routing::router(state);
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
