//! Shared set-up of the sync integration tests: a local Hub, a client, publishing helpers
//! and registry files.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use dev_python::{HubTransfer, Python};
use hub_client::{CommitOp, Endpoint, HubClient, NewCommit, RepoId, RetryPolicy, Sha256, Token};
use hub_server::{HubServer, ServerConfig};
use ruvltra_sync::{Mode, Outcome, SyncError};
use sha2::Digest;

pub const TOKEN: &str = "hf_test_write";

pub struct Hub {
    pub server: HubServer,
    pub dir: tempfile::TempDir,
    pub client: HubClient,
    /// Scratch directory for files to upload and registry files.
    pub files: PathBuf,
}

/// Retries that give up quickly, so fault tests stay fast.
pub fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        max_retries: 3,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        max_retry_after: Duration::from_secs(2),
    }
}

pub fn client_for(url: &str, token: Option<&str>) -> HubClient {
    HubClient::builder()
        .endpoint(Endpoint::parse(url).unwrap())
        .token(token.and_then(Token::new))
        .retry_policy(fast_retries())
        .read_timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

pub fn hub() -> Hub {
    hub_with(|_| {})
}

/// A local Hub whose configuration `tweak` adjusts (page sizes, ...).
pub fn hub_with(tweak: impl FnOnce(&mut ServerConfig)) -> Hub {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ServerConfig::new(dir.path().join("data"));
    tweak(&mut config);
    let server = HubServer::spawn(config).unwrap();
    let client = client_for(&server.url(), Some(TOKEN));
    let files = dir.path().join("files");
    std::fs::create_dir_all(&files).unwrap();
    Hub {
        server,
        dir,
        client,
        files,
    }
}

/// Deterministic, incompressible-looking test content.
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

/// The sha256 of `bytes`, computed here with `sha2`, independently of the client.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

impl Hub {
    pub async fn create_repo(&self, repo: &str) -> RepoId {
        let id = RepoId::new(repo).unwrap();
        self.client.create_repo(&id, false).await.unwrap();
        id
    }

    /// Uploads every file through LFS and commits them all at once on `main`; returns the
    /// commit id.
    pub async fn publish(&self, repo: &str, files: &[(&str, &[u8])]) -> String {
        let id = RepoId::new(repo).unwrap();
        let mut operations = Vec::new();
        for (n, (path, bytes)) in files.iter().enumerate() {
            let local = self
                .files
                .join(format!("upload-{n}-{}", path.replace('/', "_")));
            std::fs::write(&local, bytes).unwrap();
            let sha = Sha256::digest(bytes);
            self.client
                .upload_lfs_object(&id, "main", &local, sha, bytes.len() as u64, None)
                .await
                .unwrap();
            operations.push(CommitOp::AddLfs {
                path: (*path).to_owned(),
                sha256: sha,
                size: bytes.len() as u64,
            });
        }
        let parent = self.client.resolve_revision(&id, "main").await.unwrap();
        let commit = NewCommit {
            summary: format!("publish {} files", files.len()),
            description: String::new(),
            parent_commit: Some(parent),
            operations,
        };
        self.client
            .commit(&id, "main", &commit)
            .await
            .unwrap()
            .commit_oid
    }

    pub async fn head(&self, repo: &str) -> String {
        let id = RepoId::new(repo).unwrap();
        self.client.resolve_revision(&id, "main").await.unwrap()
    }

    /// Writes `registry` (JSON) canonically to a new file and returns its path.
    pub fn write_registry(&self, name: &str, registry: &serde_json::Value) -> PathBuf {
        let reg = ruvltra_registry::parse(&registry.to_string()).unwrap();
        ruvltra_registry::validate(&reg).unwrap();
        let path = self.files.join(name);
        ruvltra_registry::save(&path, &reg).unwrap();
        path
    }

    /// Runs a sync (or check) of `path` with the test client and a fixed clock.
    pub async fn sync(&self, path: &Path, mode: Mode, now: &str) -> Result<Outcome, SyncError> {
        ruvltra_sync::sync_registry_file(path, &self.client, mode, 4, now.to_owned()).await
    }
}

/// A model entry following the naming convention.
pub fn model(variant: &str, size: &str, quant: &str) -> serde_json::Value {
    let id = format!("ruvltra-{variant}-{size}-{quant}");
    serde_json::json!({
        "id": id,
        "file": format!("{id}.gguf"),
        "quant": quant,
        "size": size,
        "variant": variant,
    })
}

/// Uploads files with the official Python client (`tests/python/upload.py`) in `mode`,
/// optionally tagging the commit; returns the commit id it printed. Fails (never skips) when
/// the venv's python or its huggingface_hub is missing.
pub fn python_upload(
    hub: &Hub,
    mode: HubTransfer,
    repo: &str,
    tag: Option<&str>,
    files: &[(&str, &Path)],
) -> String {
    let python = Python::with_modules(&["huggingface_hub"]);
    let mut run = python
        .script(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/upload.py"))
        .arg(repo);
    if let Some(tag) = tag {
        run = run.args(["--tag", tag]);
    }
    for (path, local) in files {
        run = run.arg(format!("{path}={}", local.display()));
    }
    let home = hub.dir.path().join("hf-home");
    let out = run
        .hub_transfer(mode, &home)
        .env("HF_ENDPOINT", hub.server.url())
        .env("HF_TOKEN", TOKEN)
        .env("HF_HUB_DISABLE_TELEMETRY", "1")
        .env("HF_HOME", &home)
        .run();
    out.stdout.trim().to_owned()
}
