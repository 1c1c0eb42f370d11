//! Shared helpers of the download tests: a local Hub with published sample files, specs
//! built at run time, a recording TCP proxy and the CLI binary.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hub_client::{CommitOp, Endpoint, HubClient, NewCommit, RepoId, RetryPolicy, Sha256, Token};
use hub_server::{HubServer, ServerConfig};
use ruvllm::hub::download::DownloadOptions;
use ruvllm::hub::registry::{ArtifactKind, FileSpec, Hardware, ModelSpec, Quant, Status};

/// The write token every local server accepts.
pub const TOKEN: &str = "hf_test_write";

/// A local Hub in a temporary directory, with a publishing client.
pub struct Hub {
    pub server: HubServer,
    pub dir: tempfile::TempDir,
    pub publisher: HubClient,
}

impl Hub {
    pub fn start() -> Hub {
        Hub::start_with(|_| {})
    }

    pub fn start_with(tweak: impl FnOnce(&mut ServerConfig)) -> Hub {
        let dir = tempfile::tempdir().unwrap();
        let mut config = ServerConfig::new(dir.path().join("data"));
        // These tests check the plain download (`GET resolve`, with its faults), so the server
        // is one that predates Xet, as many mirrors are; the Xet tests switch it on in `tweak`.
        config.xet = false;
        tweak(&mut config);
        let server = HubServer::spawn(config).unwrap();
        let publisher = client(&server.url(), Some(TOKEN));
        Hub {
            server,
            dir,
            publisher,
        }
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    /// Creates `repo` (public) if needed and commits `files` to `main`: LFS files as LFS
    /// objects, the others inline. Returns the new commit id.
    pub async fn publish(&self, repo: &str, files: &[(&str, &[u8], bool)]) -> String {
        let id = RepoId::new(repo).unwrap();
        self.publisher.create_repo(&id, false).await.unwrap();
        let mut operations = Vec::new();
        for (path, bytes, lfs) in files {
            if *lfs {
                let local = self
                    .dir
                    .path()
                    .join(format!("upload-{}", path.replace('/', "_")));
                std::fs::write(&local, bytes).unwrap();
                let sha = Sha256::digest(bytes);
                self.publisher
                    .upload_lfs_object(&id, "main", &local, sha, bytes.len() as u64, None)
                    .await
                    .unwrap();
                operations.push(CommitOp::AddLfs {
                    path: (*path).to_owned(),
                    sha256: sha,
                    size: bytes.len() as u64,
                });
            } else {
                operations.push(CommitOp::AddRegular {
                    path: (*path).to_owned(),
                    bytes: bytes.to_vec(),
                });
            }
        }
        let parent = self.publisher.resolve_revision(&id, "main").await.unwrap();
        let commit = NewCommit {
            summary: "test files".into(),
            description: String::new(),
            parent_commit: Some(parent),
            operations,
        };
        self.publisher
            .commit(&id, "main", &commit)
            .await
            .unwrap()
            .commit_oid
    }

    /// The resolve URL of a file on this server, usable as a fallback URL.
    pub fn resolve_url(&self, repo: &str, file: &str) -> String {
        format!("{}/{repo}/resolve/main/{file}", self.url())
    }
}

/// Quick retries and timeouts, so fault tests take seconds.
pub fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        max_retries: 4,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(100),
        max_retry_after: Duration::from_secs(5),
    }
}

pub fn client(url: &str, token: Option<&str>) -> HubClient {
    HubClient::builder()
        .endpoint(Endpoint::parse(url).unwrap())
        .token(token.and_then(Token::new))
        .retry_policy(fast_retries())
        .read_timeout(Duration::from_secs(3))
        .build()
        .unwrap()
}

/// Options for a test: the server's client (with a token, to check it never leaks) and an
/// explicit cache directory; the process environment is never read for these.
pub fn options(endpoint: &str, cache: &Path) -> DownloadOptions {
    DownloadOptions {
        cache_dir: Some(cache.to_owned()),
        client: Some(client(endpoint, Some(TOKEN))),
        ..DownloadOptions::default()
    }
}

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_owned().into_boxed_str())
}

/// Test content: deterministic, incompressible-looking bytes.
pub fn content(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).0
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).to_hex()
}

/// A spec like the generated ones, for a file of a test repository.
pub fn spec(repo: &str, file: &str, bytes: &[u8], fallbacks: &[String]) -> ModelSpec {
    spec_with(repo, file, Some(bytes), fallbacks, &[])
}

/// A spec whose checksum and size are known only when `bytes` is given, with extra files.
pub fn spec_with(
    repo: &str,
    file: &str,
    bytes: Option<&[u8]>,
    fallbacks: &[String],
    extra: &[(&str, Option<&[u8]>)],
) -> ModelSpec {
    let fallbacks: Vec<&'static str> = fallbacks.iter().map(|u| leak(u)).collect();
    let extra: Vec<FileSpec> = extra
        .iter()
        .map(|(f, b)| FileSpec {
            file: leak(f),
            bytes: b.map(|b| b.len() as u64),
            sha256: b.map(sha256),
        })
        .collect();
    ModelSpec {
        id: leak(&format!("test-{}", file.replace('/', "-"))),
        file: leak(file),
        name: None,
        description: None,
        kind: ArtifactKind::Gguf,
        status: Status::Published,
        quant: Quant::Q4_K_M,
        size: "0.5b",
        variant: None,
        architecture: None,
        parameters: None,
        context_length: None,
        base_model: None,
        base: None,
        license: None,
        languages: &[],
        hardware: Hardware::UNKNOWN,
        tags: &[],
        repo: leak(repo),
        revision: "main",
        bytes: bytes.map(|b| b.len() as u64),
        sha256: bytes.map(sha256),
        extra_files: Box::leak(extra.into_boxed_slice()),
        fallback_urls: Box::leak(fallbacks.into_boxed_slice()),
    }
}

/// Every file name under `dir`, recursively, relative to it, sorted.
pub fn tree(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if entry.file_type().unwrap().is_dir() {
                walk(root, &path, out);
            } else {
                out.push(rel);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// A TCP proxy in front of a server that records what clients send and counts what the
/// server answers, to see `Range` and `Authorization` headers and bytes on the wire.
pub struct Proxy {
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<u8>>>,
    downstream: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl Proxy {
    pub fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let downstream = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (req, down, halt) = (requests.clone(), downstream.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if halt.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(client) = conn else { continue };
                let Ok(server) = TcpStream::connect(upstream) else {
                    continue;
                };
                let (req, down) = (req.clone(), down.clone());
                let (mut c_read, mut s_write) =
                    (client.try_clone().unwrap(), server.try_clone().unwrap());
                std::thread::spawn(move || {
                    let mut buf = [0u8; 16384];
                    while let Ok(n) = c_read.read(&mut buf) {
                        if n == 0 {
                            break;
                        }
                        req.lock().unwrap().extend_from_slice(&buf[..n]);
                        if s_write.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = s_write.shutdown(std::net::Shutdown::Write);
                });
                let (mut s_read, mut c_write) = (server, client);
                std::thread::spawn(move || {
                    let mut buf = [0u8; 65536];
                    while let Ok(n) = s_read.read(&mut buf) {
                        if n == 0 {
                            break;
                        }
                        down.fetch_add(n as u64, Ordering::Relaxed);
                        if c_write.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = c_write.shutdown(std::net::Shutdown::Both);
                });
            }
        });
        Proxy {
            addr,
            requests,
            downstream,
            stop,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Everything clients sent, lowercased (header names and values).
    pub fn requests(&self) -> String {
        String::from_utf8_lossy(&self.requests.lock().unwrap()).to_ascii_lowercase()
    }

    /// Bytes the server sent back through the proxy.
    pub fn downstream_bytes(&self) -> u64 {
        self.downstream.load(Ordering::Relaxed)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

/// The `ruvllm` binary built for these tests.
pub fn cli() -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_ruvllm"));
    for var in [
        "HF_HUB_OFFLINE",
        "HF_ENDPOINT",
        "HF_HUB_CACHE",
        "HF_HOME",
        "HF_TOKEN",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// `ruvllm pull --repo ... --file ...` arguments for a test file.
pub fn pull_args(
    endpoint: &str,
    cache: &Path,
    repo: &str,
    file: &str,
    bytes: &[u8],
) -> Vec<String> {
    vec![
        "pull".into(),
        "--repo".into(),
        repo.into(),
        "--file".into(),
        file.into(),
        "--sha256".into(),
        sha256_hex(bytes),
        "--size".into(),
        bytes.len().to_string(),
        "--endpoint".into(),
        endpoint.into(),
        "--cache-dir".into(),
        cache.display().to_string(),
    ]
}
