//! The state every request of one server shares: configuration, the two modes' stores and
//! per-repo locks, upload sessions, counters and fault rules.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex, OnceLock};

use super::sessions::UploadSessions;
use super::xet_tokens::XetTokens;
use crate::config::ServerConfig;
use crate::error::ApiError;
use crate::fault::Faults;
use crate::store::{RepoId, Store};

/// State shared by every request of one server.
#[derive(Debug)]
pub(crate) struct AppState {
    pub config: ServerConfig,
    /// The Hub mode's store, at the root of the data directory.
    pub store: Arc<Store>,
    /// Signs and checks the Hub mode's CAS tokens and xorb URLs.
    pub xet_tokens: XetTokens,
    /// Locks of the Hub mode's repos.
    pub locks: RepoLocks,
    pub faults: Faults,
    pub counters: Counters,
    /// Upload sessions of both modes.
    pub uploads: UploadSessions,
    /// A per-process secret signing CDN URLs.
    pub cdn_secret: String,
    /// The port of the CDN listener when `lfs_redirect` is on.
    pub cdn_port: OnceLock<u16>,
    /// The main listener's address, for requests without a Host header.
    pub addr: OnceLock<SocketAddr>,
    /// Becomes true when the server is asked to stop, so stalled requests end at once.
    pub stopping: tokio::sync::watch::Receiver<bool>,
    /// The ModelScope mode's store and locks (`/api/v1`, `/openapi/v1`).
    pub modelscope: ModelScopeSite,
}

impl AppState {
    /// The ModelScope mode's store, under `{data_dir}/modelscope/`, opened on first use so a
    /// data directory only the Hub mode used stays as it was.
    pub(crate) fn modelscope_store(&self) -> Result<Arc<Store>, ApiError> {
        let mut slot = self
            .modelscope
            .store
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(s) = slot.as_ref() {
            return Ok(s.clone());
        }
        let root = self.config.data_dir.join("modelscope");
        let opened = Arc::new(Store::open(root).map_err(ApiError::internal)?);
        Store::migrate_in_background(&opened);
        *slot = Some(opened.clone());
        Ok(opened)
    }
}

/// The ModelScope mode's site: its own store (another site, so a model of the same name on
/// the Hub side never collides with it) and the locks of its repos.
#[derive(Debug, Default)]
pub(crate) struct ModelScopeSite {
    store: Mutex<Option<Arc<Store>>>,
    pub locks: RepoLocks,
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
    /// Xorbs the CAS stored from uploads (not counting ones it held already).
    pub xorbs_inserted: u64,
    /// Bytes received in xorb uploads (every attempt, the refused ones included).
    pub xorb_upload_bytes: u64,
    /// Shards the CAS accepted and had not seen before.
    pub shards_inserted: u64,
    /// Global dedup queries.
    pub dedup_queries: u64,
    /// Global dedup queries answered with a shard.
    pub dedup_hits: u64,
    /// Reconstructions answered.
    pub reconstructions: u64,
    /// Bytes served from xorb download URLs.
    pub xorb_download_bytes: u64,
    /// Files that arrived through LFS and were chunked into xorbs by the server.
    pub lfs_files_chunked: u64,
}

/// The live counters behind [`Stats`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub api_requests: AtomicU64,
    pub transfer_requests: AtomicU64,
    pub commits: AtomicU64,
    pub upload_bytes: AtomicU64,
    pub auth_on_presigned: AtomicBool,
    pub basic_uploads: AtomicU64,
    pub multipart_uploads: AtomicU64,
    pub xorbs_inserted: AtomicU64,
    pub xorb_upload_bytes: AtomicU64,
    pub shards_inserted: AtomicU64,
    pub dedup_queries: AtomicU64,
    pub dedup_hits: AtomicU64,
    pub reconstructions: AtomicU64,
    pub xorb_download_bytes: AtomicU64,
    pub lfs_files_chunked: AtomicU64,
}

/// Per-repo locks serialising writes (commits, refs, create, delete). Keyed by the id in
/// lowercase, since repo ids are case-insensitive: two creates of `a/B` and `a/b` take one lock.
#[derive(Debug, Default)]
pub(crate) struct RepoLocks(Mutex<HashMap<RepoId, Arc<tokio::sync::Mutex<()>>>>);

impl RepoLocks {
    pub(crate) fn get(&self, id: &RepoId) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(id.folded()).or_default().clone()
    }
}
