//! Shared set-up of the sync integration tests: a local Hub, a client, publishing helpers
//! and registry files.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use dev_python::{HubTransfer, Python};
use hub_client::{HubClient, RepoId};
use hub_server::ServerConfig;
use ruvltra_sync::{Mode, Outcome, SyncError};
use test_support::{LocalHub, TOKEN};

/// test-support's local Hub (its `files()` take the files to upload and the registries) with
/// a client.
pub struct Hub {
    pub local: LocalHub,
    pub client: HubClient,
}

/// The fixture's server and folder are the Hub's own.
impl std::ops::Deref for Hub {
    type Target = LocalHub;

    fn deref(&self) -> &LocalHub {
        &self.local
    }
}

/// A client of the Hub at `url` with test-support's fast retries and a 5 s read timeout.
pub fn client_for(url: &str, token: Option<&str>) -> HubClient {
    test_support::client_builder(url, token)
        .read_timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

pub fn hub() -> Hub {
    hub_with(|_| {})
}

/// A local Hub whose configuration `tweak` adjusts (page sizes, ...).
pub fn hub_with(tweak: impl FnOnce(&mut ServerConfig)) -> Hub {
    let local = LocalHub::start_with(tweak);
    let client = client_for(&local.url(), Some(TOKEN));
    Hub { local, client }
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
        let files: Vec<(&str, &[u8], bool)> = files.iter().map(|(p, b)| (*p, *b, true)).collect();
        let summary = format!("publish {} files", files.len());
        self.local
            .commit_files(&self.client, repo, &summary, &files)
            .await
    }

    pub async fn head(&self, repo: &str) -> String {
        let id = RepoId::new(repo).unwrap();
        self.client.resolve_revision(&id, "main").await.unwrap()
    }

    /// Writes `registry` (JSON) canonically to a new file and returns its path.
    pub fn write_registry(&self, name: &str, registry: &serde_json::Value) -> PathBuf {
        let reg = ruvltra_registry::parse(&registry.to_string()).unwrap();
        ruvltra_registry::validate(&reg).unwrap();
        let path = self.files().join(name);
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
    test_support::catalog::bare_model(variant, size, quant)
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
