//! Shared fixtures of the uploader's integration tests: a local Hub server, sample GGUF files
//! and registries that describe them.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use hub_client::{Endpoint, HubClient, RepoId, Token};
use hub_server::{ServerConfig, Stats};
use ruvltra_gguf::writer::SampleModel;
use ruvltra_registry::{Quant, Registry};
use ruvltra_uploader::{Event, ModelUploader, Observer, Transfer};
use test_support::{LocalHub, catalog};

pub use test_support::TOKEN;
pub const REPO: &str = "ruv/ruvltra";

/// One model of a test registry.
#[derive(Debug, Clone)]
pub struct Spec {
    pub variant: &'static str,
    pub size: &'static str,
    pub quant: Quant,
}

impl Spec {
    pub const fn new(variant: &'static str, size: &'static str, quant: Quant) -> Spec {
        Spec {
            variant,
            size,
            quant,
        }
    }

    pub fn id(&self) -> String {
        format!(
            "ruvltra-{}-{}-{}",
            self.variant,
            self.size,
            self.quant.label()
        )
    }

    pub fn file(&self) -> String {
        format!("{}.gguf", self.id())
    }
}

/// test-support's local Hub, with a folder for the files to publish.
pub struct Fixture {
    pub local: LocalHub,
    pub files: PathBuf,
}

/// The fixture's server and temporary folder are the local Hub's.
impl std::ops::Deref for Fixture {
    type Target = LocalHub;

    fn deref(&self) -> &LocalHub {
        &self.local
    }
}

impl Fixture {
    pub fn new() -> Fixture {
        Self::with_config(|_| {})
    }

    pub fn with_config(tweak: impl FnOnce(&mut ServerConfig)) -> Fixture {
        let local = LocalHub::start_with(tweak);
        let files = local.files();
        Fixture { local, files }
    }

    pub fn client(&self) -> HubClient {
        self.client_with(Token::new(TOKEN))
    }

    pub fn client_with(&self, token: Option<Token>) -> HubClient {
        HubClient::builder()
            .endpoint(Endpoint::parse(&self.server.url()).unwrap())
            .token(token)
            .build()
            .unwrap()
    }

    /// An uploader on the Git LFS path: these suites test it (the Xet path has its own,
    /// `tests/xet.rs`), and the server speaks both.
    pub fn uploader(&self) -> ModelUploader {
        ModelUploader::with_client(self.client()).transfer(Transfer::Lfs)
    }

    pub fn stats(&self) -> Stats {
        self.server.stats()
    }

    /// Writes a valid sample GGUF for `spec` into the files folder; `seed` changes its bytes.
    pub fn write_sample(&self, spec: &Spec, seed: u32) -> PathBuf {
        let path = self.files.join(spec.file());
        write_sample_as(&path, spec.quant, &format!("{} {seed}", spec.id()));
        path
    }
}

/// Writes a small qwen2 sample of `quant` at `path`, named `name` (so contents differ).
pub fn write_sample_as(path: &Path, quant: Quant, name: &str) {
    let mut sample = SampleModel::new("qwen2", quant.file_type(), 600_000);
    sample.name = name.to_owned();
    sample.build().unwrap().write_file(path).unwrap();
}

/// A valid registry with the given models, all published, none with a size or sha256.
pub fn registry(specs: &[Spec]) -> Registry {
    let models: Vec<serde_json::Value> = specs
        .iter()
        .map(|s| {
            let mut model = catalog::model(s.variant, s.size, s.quant.label());
            if s.quant.is_full_precision() {
                model["kind"] = "gguf-full-precision".into();
            }
            model
        })
        .collect();
    let text = catalog::registry(REPO, models).to_string();
    let reg = ruvltra_registry::parse(&text).unwrap();
    ruvltra_registry::validate(&reg).unwrap();
    reg
}

pub fn repo() -> RepoId {
    RepoId::new(REPO).unwrap()
}

/// An observer that records every event.
pub fn recorder() -> (Observer, Arc<Mutex<Vec<Event>>>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    (Arc::new(move |e| sink.lock().unwrap().push(e)), events)
}

pub fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).unwrap().len()
}
