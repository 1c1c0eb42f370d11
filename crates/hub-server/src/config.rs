//! How a server instance is configured, and the errors of starting one: the bottom of the
//! crate, used by every layer and using none.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

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
    /// Whether the server speaks Xet: the token routes, the CAS, the Xet headers of `resolve`
    /// and `xetHash` in listings. Without it clients use the LFS path, as with a server that
    /// predates Xet; files are stored in xorbs either way.
    pub xet: bool,
    /// How long CAS access tokens are valid (clients refresh them before they expire; tests
    /// make them short to see that happen).
    pub xet_token_ttl: Duration,
}

impl ServerConfig {
    /// A configuration with the defaults tests want: the write token `hf_test_write`, user
    /// `local`, multipart from 64 MiB in 16 MiB parts, Hub page sizes, no redirect, Xet on with
    /// one-hour CAS tokens.
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
            xet: true,
            xet_token_ttl: Duration::from_secs(3600),
        }
    }
}
