//! Shared helpers of the download tests: a local Hub with published sample files, specs
//! built at run time, a recording TCP proxy and the CLI binary.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hub_client::{HubClient, RepoId};
use hub_server::ServerConfig;
use ruvllm::hub::download::DownloadOptions;
use ruvllm::hub::registry::{FileSpec, ModelSpec, Quant};
use test_support::{LocalHub, TOKEN, sha256, sha256_hex};

/// A local Hub (test-support's fixture) with a publishing client.
pub struct Hub {
    pub local: LocalHub,
    pub publisher: HubClient,
}

/// The fixture's server, folder and URL are the Hub's own.
impl std::ops::Deref for Hub {
    type Target = LocalHub;

    fn deref(&self) -> &LocalHub {
        &self.local
    }
}

impl Hub {
    pub fn start() -> Hub {
        Hub::start_with(|_| {})
    }

    pub fn start_with(tweak: impl FnOnce(&mut ServerConfig)) -> Hub {
        // These tests check the plain download (`GET resolve`, with its faults), so the server
        // is one that predates Xet, as many mirrors are; the Xet tests switch it on in `tweak`.
        let local = LocalHub::start_with(|config| {
            config.xet = false;
            tweak(config)
        });
        let publisher = client(&local.url(), Some(TOKEN));
        Hub { local, publisher }
    }

    /// Creates `repo` (public) if needed and commits `files` to `main`: LFS files as LFS
    /// objects, the others inline. Returns the new commit id.
    pub async fn publish(&self, repo: &str, files: &[(&str, &[u8], bool)]) -> String {
        let id = RepoId::new(repo).unwrap();
        self.publisher.create_repo(&id, false).await.unwrap();
        self.local
            .commit_files(&self.publisher, repo, "test files", files)
            .await
    }

    /// The resolve URL of a file on this server, usable as a fallback URL.
    pub fn resolve_url(&self, repo: &str, file: &str) -> String {
        format!("{}/{repo}/resolve/main/{file}", self.url())
    }
}

/// A client of the Hub at `url` with test-support's fast retries and a 3 s read timeout, so
/// fault tests take seconds.
pub fn client(url: &str, token: Option<&str>) -> HubClient {
    test_support::client_builder(url, token)
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

/// A spec like the generated ones, for a file of a test repository.
pub fn spec(repo: &str, file: &str, bytes: &[u8], fallbacks: &[String]) -> ModelSpec {
    spec_with(repo, file, Some(bytes), fallbacks, &[])
}

/// A spec whose checksum and size are known only when `bytes` is given, with extra files; a
/// published Q4_K_M GGUF of size 0.5b on `main`, every other field as in
/// [`ModelSpec::EMPTY`].
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
        quant: Quant::Q4_K_M,
        size: "0.5b",
        repo: leak(repo),
        revision: "main",
        bytes: bytes.map(|b| b.len() as u64),
        sha256: bytes.map(sha256),
        extra_files: Box::leak(extra.into_boxed_slice()),
        fallback_urls: Box::leak(fallbacks.into_boxed_slice()),
        ..ModelSpec::EMPTY
    }
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
