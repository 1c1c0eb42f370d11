//! `ModelUploader`: publishes RuvLTRA models to the Hub and proves the Hub matches the registry.
//!
//! A publish goes through the same steps whatever its entry point
//! ([`ModelUploader::upload`] for one file, as ADR-013 writes it, or
//! [`ModelUploader::publish`] for every model of a `registry.json` found in a folder) and
//! whatever its [`Destination`] (the Hub, or ModelScope through [`ModelUploader::upload_to`] and
//! [`ModelUploader::publish_to`]; the steps below are the Hub's, `modelscope.rs` has the other):
//!
//! 1. **Checks, before any byte leaves the machine.** Every file is hashed in one streaming
//!    pass on a blocking thread; GGUF headers must be valid and agree with the file name and
//!    the registry (quant, architecture); sizes and sha256s must match the registry when it
//!    has them. Every problem is reported at once ([`UploadError::Checks`]).
//! 2. **Plan.** One `model_info` request (with `blobs`) gives the branch head and every file
//!    with its LFS sha256 and size; each manifest path is *add*, *update* or *unchanged*, and
//!    files on the Hub that no manifest lists are *extra* (left alone). The repository and the
//!    branch are created when missing. A dry run stops here.
//! 3. **Upload** of the LFS objects the Hub lacks (one LFS batch call says which), then **one
//!    commit** with every change (model files, the model card, Modelfiles) whose
//!    `parentCommit` is the head the plan was made against. Nothing changed: no commit. If
//!    another commit landed meanwhile (412), the plan is made once more, then it is a clear
//!    [`UploadError::Conflict`].
//! 4. **Verify** the tree at the new commit against the manifest (all differences at once),
//!    and only then **tag** it.
//!
//! The uploader never prints: progress and notices go to an [`Observer`]. The token lives in
//! the [`HubClient`] and never reaches a report, an event or an error.

#![deny(missing_docs)]

mod check;
mod destination;
mod engine;
mod error;
mod event;
mod modelscope;
mod plan;
mod verify;
pub mod xet;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use hub_client::{
    HubClient, RepoId, Sha256, Token, resolve_endpoint, validate_repo_path, validate_revision,
};
use ruvltra_card::{CardFacts, FileFacts, compat, modelfile, modelfile_path};
use ruvltra_registry::{ArtifactKind, Model, Registry, Status};
use serde::Serialize;

pub use check::{
    CheckedFile, Expected, FileChunks, FileKind, GgufFacts, HASH_BUFFER, MAX_FILE_BYTES,
    check_files, check_gguf, hash_file, scan_file,
};
pub use destination::{Destination, modelscope_repo_of};
pub use engine::{Job, RepoReport, TagReport};
pub use error::{CheckProblem, UploadError};
pub use event::{Event, Observer, silent};
pub use plan::{Action, Content, HUB_OWNED, PlanEntry, Wanted, make_plan};
pub use verify::{Difference, ManifestEntry, VerifyReport, compare_tree, verify_repo};
pub use xet::{Transfer, XetFileReport, XetSettings, XetSummary};

/// Path of the model card in the repository.
pub const CARD_PATH: &str = "README.md";

/// Optional details of [`ModelUploader::upload`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UploadMetadata {
    /// The commit title; `Upload <file name>` when absent.
    pub commit_message: Option<String>,
    /// The branch to publish to; the destination's default branch when absent (`main` on the
    /// Hub, created from it when missing; `main` is `master` on ModelScope).
    pub revision: Option<String>,
    /// The path in the repository; the file name when absent.
    pub path_in_repo: Option<String>,
    /// The model card to publish as `README.md` with the file.
    pub model_card: Option<String>,
    /// Create the repository as private when it does not exist yet.
    pub private: bool,
    /// The quant the file must have (lowercase label), checked against its header.
    pub quant: Option<String>,
    /// The architecture the file must have, checked against its header.
    pub architecture: Option<String>,
    /// The sha256 the file must have.
    pub sha256: Option<String>,
    /// A tag to put on the resulting commit once verified.
    pub tag: Option<String>,
}

/// Options of [`ModelUploader::publish`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishOptions {
    /// Publish to this branch instead of each model's revision (created from the default branch if missing).
    pub branch: Option<String>,
    /// Tag the resulting commit once verified (`v1.0.0`).
    pub tag: Option<String>,
    /// Print the plan only: no repository, branch, upload or commit is made.
    pub dry_run: bool,
    /// After the commit, download every published file and hash it again.
    pub deep_verify: bool,
    /// The commit title; derived from the published models when absent.
    pub commit_message: Option<String>,
    /// Publish only these model ids (all when empty).
    pub only: Vec<String>,
    /// Publish the model card (`README.md`) and the Modelfiles with the models.
    pub card: bool,
    /// Create missing repositories as private.
    pub private: bool,
}

impl Default for PublishOptions {
    fn default() -> Self {
        PublishOptions {
            branch: None,
            tag: None,
            dry_run: false,
            deep_verify: false,
            commit_message: None,
            only: Vec::new(),
            card: true,
            private: false,
        }
    }
}

/// A model of the registry that was not published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// The model id.
    pub id: String,
    /// Its file.
    pub file: String,
    /// Why.
    pub reason: String,
}

/// Everything a publish did, for people (`Display`-like summaries in xtask) and machines
/// (`--json`). It never holds the token or an upload URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublishReport {
    /// True for a dry run (plan only).
    pub dry_run: bool,
    /// One entry per repository and branch published to.
    pub repos: Vec<RepoReport>,
    /// Models whose files were not found.
    pub skipped: Vec<Skipped>,
    /// Warnings from the checks and the tag compatibility report.
    pub warnings: Vec<String>,
}

impl PublishReport {
    /// True when every repository was verified to match its manifest after the publish.
    pub fn verified(&self) -> bool {
        !self.dry_run && !self.repos.is_empty() && self.repos.iter().all(RepoReport::verified)
    }

    /// LFS bytes sent in total.
    pub fn bytes_sent(&self) -> u64 {
        self.repos.iter().map(|r| r.bytes_sent).sum()
    }
}

/// Options of [`ModelUploader::verify_registry`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyOptions {
    /// Verify this branch instead of each model's revision.
    pub branch: Option<String>,
    /// Download every file and hash it again.
    pub deep: bool,
}

/// Publishes models to the Hub (see the crate documentation).
#[derive(Clone)]
pub struct ModelUploader {
    client: Result<HubClient, String>,
    observer: Observer,
    xet: XetSettings,
}

impl std::fmt::Debug for ModelUploader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelUploader")
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

impl ModelUploader {
    /// An uploader with `token`, talking to `HF_ENDPOINT` (else the public Hub). A bad
    /// endpoint is reported by the first call.
    pub fn new(token: Token) -> Self {
        let client = resolve_endpoint(None)
            .and_then(|endpoint| {
                HubClient::builder()
                    .endpoint(endpoint)
                    .token(Some(token))
                    .build()
            })
            .map_err(|e| e.to_string());
        ModelUploader {
            client,
            observer: event::silent(),
            xet: XetSettings::default(),
        }
    }

    /// An uploader using an existing client (its endpoint and token).
    pub fn with_client(client: HubClient) -> Self {
        ModelUploader {
            client: Ok(client),
            observer: event::silent(),
            xet: XetSettings::default(),
        }
    }

    /// How large files are sent to the Hub (default [`Transfer::Auto`]: Xet when the Hub
    /// offers it, Git LFS otherwise).
    pub fn transfer(mut self, transfer: Transfer) -> Self {
        self.xet.transfer = transfer;
        self
    }

    /// Where the local Xet index lives (default [`xet::default_cache_dir`]); `None` publishes
    /// without one, relying on the Hub's global dedup alone.
    pub fn xet_cache(mut self, root: Option<PathBuf>) -> Self {
        self.xet.cache = root;
        self
    }

    /// Sends progress and notices to `observer`.
    pub fn observer(mut self, observer: Observer) -> Self {
        self.observer = observer;
        self
    }

    /// The Hub client.
    pub fn client(&self) -> Result<&HubClient, UploadError> {
        self.client
            .as_ref()
            .map_err(|e| UploadError::Setup(e.clone()))
    }

    fn writing_client(&self) -> Result<&HubClient, UploadError> {
        let client = self.client()?;
        if client.has_token() {
            Ok(client)
        } else {
            Err(client.missing_token())
        }
    }

    /// Uploads one file to `repo_id` on the Hub (ADR-013's API): checks, plan, upload, one
    /// commit, verify, and the optional tag of `metadata`.
    pub async fn upload(
        &self,
        path: impl AsRef<Path>,
        repo_id: &str,
        metadata: Option<UploadMetadata>,
    ) -> Result<PublishReport, UploadError> {
        self.upload_to(self.writing_client()?, path, repo_id, metadata)
            .await
    }

    /// Like [`upload`](Self::upload) to another [`Destination`] (ModelScope): the same checks,
    /// one commit through that destination's engine, verify and tag. `metadata.revision`
    /// defaults to the destination's default branch (`main`, `master`), and `main` means it.
    pub async fn upload_to<D: Destination>(
        &self,
        dest: &D,
        path: impl AsRef<Path>,
        repo_id: &str,
        metadata: Option<UploadMetadata>,
    ) -> Result<PublishReport, UploadError> {
        let path = path.as_ref();
        let meta = metadata.unwrap_or_default();
        if !dest.can_write() {
            return Err(dest.missing_token());
        }
        let repo = RepoId::new(repo_id)?;
        check_ref_names(meta.revision.as_deref(), meta.tag.as_deref())?;
        let file_name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| {
                UploadError::InvalidInput(format!(
                    "{} has no UTF-8 file name; rename it",
                    path.display()
                ))
            })?
            .to_owned();
        let repo_path = meta.path_in_repo.clone().unwrap_or(file_name.clone());
        validate_repo_path(&repo_path)?;
        let kind = if repo_path.ends_with(".gguf") {
            FileKind::GgufModel
        } else {
            FileKind::Other
        };
        let mut expected = Expected::new(&repo_path, path, kind);
        expected.quant = meta.quant.clone();
        expected.architecture = meta.architecture.clone();
        expected.sha256 = meta.sha256.clone();
        self.observer.as_ref()(Event::Step(format!("checking {repo_path}")));
        let chunk = self.xet_transfer_for(dest)? != Transfer::Lfs;
        let (checked, warnings) = check_files(vec![expected], chunk, &self.observer).await?;
        let mut wanted: Vec<Wanted> = checked.iter().map(wanted_lfs).collect();
        if let Some(card) = &meta.model_card {
            wanted.push(Wanted {
                path: CARD_PATH.to_owned(),
                content: Content::Inline(card.clone().into_bytes()),
                model: None,
            });
        }
        let job = engine::Job {
            repo,
            branch: meta
                .revision
                .as_deref()
                .map_or_else(|| dest.default_branch().to_owned(), |b| dest.branch_name(b)),
            wanted,
            known: BTreeSet::new(),
            summary: meta
                .commit_message
                .clone()
                .unwrap_or_else(|| format!("Upload {file_name}")),
            description: String::new(),
            private: meta.private,
            tag: meta.tag.clone(),
            dry_run: false,
            deep_verify: false,
            license: None,
            expect_existing: true,
            xet: self.xet.clone(),
        };
        let report = dest.run_job(&job, &self.observer).await?;
        Ok(PublishReport {
            dry_run: false,
            repos: vec![report],
            skipped: Vec::new(),
            warnings: warnings.iter().map(ToString::to_string).collect(),
        })
    }

    /// Publishes every model of `reg` whose file is in `files_dir` (found by its repository
    /// path, else by its file name), with the model card and one Modelfile per GGUF model.
    pub async fn publish(
        &self,
        reg: &Registry,
        files_dir: &Path,
        opts: &PublishOptions,
    ) -> Result<PublishReport, UploadError> {
        let client = if opts.dry_run {
            self.client()?
        } else {
            self.writing_client()?
        };
        self.publish_to(client, reg, files_dir, opts).await
    }

    /// Like [`publish`](Self::publish) to another [`Destination`] (ModelScope): its
    /// repositories, branches and card, the same checks, files and manifests.
    pub async fn publish_to<D: Destination>(
        &self,
        dest: &D,
        reg: &Registry,
        files_dir: &Path,
        opts: &PublishOptions,
    ) -> Result<PublishReport, UploadError> {
        if !opts.dry_run && !dest.can_write() {
            return Err(dest.missing_token());
        }
        check_ref_names(opts.branch.as_deref(), opts.tag.as_deref())?;
        ruvltra_registry::validate(reg).map_err(|problems| {
            UploadError::InvalidInput(format!(
                "the registry is invalid; fix it first (`cargo xtask validate`):\n{problems}"
            ))
        })?;
        let observer = &self.observer;
        let say = |e: Event| observer.as_ref()(e);

        // Which models have their files in the folder.
        let mut skipped = Vec::new();
        let mut problems = Vec::new();
        let mut expected = Vec::new();
        let mut present: Vec<&Model> = Vec::new();
        for model in &reg.models {
            if !opts.only.is_empty() && !opts.only.contains(&model.id) {
                continue;
            }
            let Some(first) = find_file(files_dir, &model.file) else {
                let reason = format!("{} is not in {}", model.file, files_dir.display());
                say(Event::Notice(format!("skipping {}: {reason}", model.id)));
                skipped.push(Skipped {
                    id: model.id.clone(),
                    file: model.file.clone(),
                    reason,
                });
                continue;
            };
            if model.status == Status::Planned {
                say(Event::Notice(format!(
                    "{} is `planned` in the registry but its file is here, so it is published now; run `cargo xtask sync` afterwards to record it",
                    model.id
                )));
            }
            present.push(model);
            for (index, (path, bytes, sha256)) in model.all_files().enumerate() {
                let local = if index == 0 {
                    Some(first.clone())
                } else {
                    find_file(files_dir, path)
                };
                let Some(local) = local else {
                    problems.push(CheckProblem {
                        path: path.to_owned(),
                        message: format!(
                            "{} has {} but this file of the same model is not in {}; put every file of a model in the folder",
                            model.id,
                            model.file,
                            files_dir.display()
                        ),
                    });
                    continue;
                };
                let kind = match (model.kind.is_gguf(), index) {
                    (true, 0) => FileKind::GgufModel,
                    (true, _) if path.ends_with(".gguf") => FileKind::GgufShard,
                    _ if model.kind == ArtifactKind::Adapter => FileKind::Adapter,
                    _ => FileKind::Other,
                };
                let mut e = Expected::new(path, local, kind);
                if kind == FileKind::Adapter {
                    e.adapter_bases = adapter_bases(reg, model);
                }
                e.model_id = Some(model.id.clone());
                e.bytes = bytes;
                e.sha256 = sha256.map(str::to_owned);
                if index == 0 {
                    e.quant = Some(model.quant.clone());
                    e.architecture = model.architecture.clone();
                    e.context_length = model.context_length;
                }
                expected.push(e);
            }
        }
        if present.is_empty() {
            return Err(UploadError::InvalidInput(format!(
                "none of the registry's model files is in {}; point --files at the folder holding them",
                files_dir.display()
            )));
        }
        if !problems.is_empty() {
            return Err(UploadError::Checks(problems));
        }

        say(Event::Step(format!(
            "checking and hashing {} file(s) of {} model(s)",
            expected.len(),
            present.len()
        )));
        let chunk = !opts.dry_run && self.xet_transfer_for(dest)? != Transfer::Lfs;
        let (checked, check_warnings) = check_files(expected, chunk, observer).await?;
        let mut warnings: Vec<String> = check_warnings.iter().map(ToString::to_string).collect();
        let facts = card_facts(&checked);

        // One job per repository and branch.
        let mut groups: BTreeMap<(String, String), Vec<&Model>> = BTreeMap::new();
        for model in &present {
            let branch = opts
                .branch
                .as_deref()
                .map_or_else(|| dest.branch_of(reg, model), |b| dest.branch_name(b));
            if branch.len() == 40 && branch.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(UploadError::InvalidInput(format!(
                    "model {} pins commit {branch}, which cannot be published to; pass --branch",
                    model.id
                )));
            }
            groups
                .entry((dest.repo_of(reg, model), branch))
                .or_default()
                .push(model);
        }
        let mut reports = Vec::new();
        for ((repo_name, branch), models) in groups {
            let repo = RepoId::new(&repo_name)?;
            let is_catalog_repo = repo_name == dest.catalog_repo(reg);
            let mut wanted: Vec<Wanted> = Vec::new();
            for model in &models {
                for (path, _, _) in model.all_files() {
                    if let Some(file) = checked.iter().find(|c| c.repo_path == path) {
                        wanted.push(wanted_lfs(file));
                    }
                }
            }
            if opts.card {
                for model in models.iter().filter(|m| m.kind.is_gguf()) {
                    let text = modelfile(reg, &model.id).map_err(|e| {
                        UploadError::InvalidInput(format!("cannot write the Modelfile: {e}"))
                    })?;
                    wanted.push(Wanted {
                        path: modelfile_path(model),
                        content: Content::Inline(text.into_bytes()),
                        model: Some(model.id.clone()),
                    });
                }
                if is_catalog_repo {
                    wanted.push(Wanted {
                        path: CARD_PATH.to_owned(),
                        content: Content::Inline(dest.card(reg, &facts).into_bytes()),
                        model: None,
                    });
                }
            }
            // How llama.cpp and Ollama tags will reach the GGUF files once this is published.
            let mut gguf_paths: BTreeSet<&str> = reg
                .models
                .iter()
                .filter(|m| dest.repo_of(reg, m) == repo_name && m.kind.is_gguf())
                .filter(|m| m.status != Status::Planned || present.iter().any(|p| p.id == m.id))
                .flat_map(|m| m.all_files().map(|(p, _, _)| p))
                .collect();
            gguf_paths.retain(|p| p.ends_with(".gguf"));
            let paths: Vec<&str> = gguf_paths.into_iter().collect();
            for w in compat::warnings(&repo_name, &paths) {
                say(Event::Warning(w.clone()));
                warnings.push(w);
            }
            let known = known_paths(reg, &repo_name, |m| dest.repo_of(reg, m));
            let ids: Vec<&str> = models.iter().map(|m| m.id.as_str()).collect();
            let summary = opts.commit_message.clone().unwrap_or_else(|| {
                if ids.len() <= 3 {
                    format!("Publish {}", ids.join(", "))
                } else {
                    format!("Publish {} models", ids.len())
                }
            });
            let job = engine::Job {
                repo,
                branch,
                wanted,
                known,
                summary,
                description: "Published with `cargo xtask publish` from registry.json.".to_owned(),
                private: opts.private,
                tag: opts.tag.clone(),
                dry_run: opts.dry_run,
                deep_verify: opts.deep_verify,
                license: reg.catalog.license.clone(),
                expect_existing: synced_before(reg, dest, &repo_name),
                xet: self.xet.clone(),
            };
            reports.push(dest.run_job(&job, observer).await?);
        }
        Ok(PublishReport {
            dry_run: opts.dry_run,
            repos: reports,
            skipped,
            warnings,
        })
    }

    /// Verifies that the Hub holds every published model of `reg` with the registry's size
    /// and sha256 (when the registry has them); `deep` downloads and hashes every file.
    pub async fn verify_registry(
        &self,
        reg: &Registry,
        opts: &VerifyOptions,
    ) -> Result<Vec<VerifyReport>, UploadError> {
        self.verify_registry_on(self.client()?, reg, opts).await
    }

    /// Like [`verify_registry`](Self::verify_registry) on another [`Destination`].
    pub async fn verify_registry_on<D: Destination>(
        &self,
        dest: &D,
        reg: &Registry,
        opts: &VerifyOptions,
    ) -> Result<Vec<VerifyReport>, UploadError> {
        let mut groups: BTreeMap<(String, String), Vec<ManifestEntry>> = BTreeMap::new();
        for model in &reg.models {
            let branch = opts
                .branch
                .as_deref()
                .map_or_else(|| dest.branch_of(reg, model), |b| dest.branch_name(b));
            let entries = groups
                .entry((dest.repo_of(reg, model), branch))
                .or_default();
            if model.status == Status::Planned {
                continue;
            }
            for (path, bytes, sha256) in model.all_files() {
                entries.push(ManifestEntry {
                    path: path.to_owned(),
                    size: bytes,
                    sha256: sha256.and_then(|s| s.parse::<Sha256>().ok()),
                    git_oid: None,
                });
            }
        }
        let mut reports = Vec::new();
        for ((repo_name, revision), manifest) in groups {
            if manifest.is_empty() {
                continue;
            }
            let repo = RepoId::new(&repo_name)?;
            self.observer.as_ref()(Event::Step(format!(
                "verifying {repo_name}@{revision}: {} path(s)",
                manifest.len()
            )));
            let known = known_paths(reg, &repo_name, |m| dest.repo_of(reg, m));
            let report = dest
                .verify(
                    &repo,
                    &revision,
                    &manifest,
                    &known,
                    opts.deep,
                    &self.observer,
                )
                .await?;
            reports.push(report);
        }
        Ok(reports)
    }
}

impl ModelUploader {
    /// The transfer for `dest`: ModelScope has no Xet, so `auto` is LFS there and `xet` an
    /// error before any file is read.
    fn xet_transfer_for<D: Destination>(&self, dest: &D) -> Result<Transfer, UploadError> {
        match (self.xet.transfer, dest.speaks_xet()) {
            (transfer, true) => Ok(transfer),
            (Transfer::Xet, false) => Err(UploadError::InvalidInput(format!(
                "{} has no Xet storage; publish there with --transfer auto or lfs",
                dest.name()
            ))),
            (_, false) => Ok(Transfer::Lfs),
        }
    }
}

/// Refuses a bad branch or tag name before any file is read or byte sent.
fn check_ref_names(branch: Option<&str>, tag: Option<&str>) -> Result<(), UploadError> {
    for (what, name) in [("branch", branch), ("tag", tag)] {
        if let Some(name) = name {
            validate_revision(name).map_err(|e| {
                UploadError::InvalidInput(format!("the {what} name {name:?} cannot be used: {e}"))
            })?;
        }
    }
    Ok(())
}

/// What an adapter's `base_model_name_or_path` may say: its base model's `base_model` and id.
fn adapter_bases(reg: &Registry, adapter: &Model) -> Vec<String> {
    let Some(base) = adapter.base.as_deref() else {
        return Vec::new();
    };
    let mut names: Vec<String> = reg
        .models
        .iter()
        .filter(|m| m.id == base)
        .filter_map(|m| m.base_model.clone())
        .collect();
    names.push(base.to_owned());
    names
}

/// Finds a registry file in the folder: by its repository path, else by its file name.
fn find_file(dir: &Path, repo_path: &str) -> Option<PathBuf> {
    validate_repo_path(repo_path).ok()?;
    let full = dir.join(repo_path);
    if full.is_file() {
        return Some(full);
    }
    let name = repo_path.rsplit('/').next()?;
    let flat = dir.join(name);
    flat.is_file().then_some(flat)
}

fn wanted_lfs(file: &CheckedFile) -> Wanted {
    Wanted {
        path: file.repo_path.clone(),
        content: Content::Lfs {
            local: file.local.clone(),
            sha256: file.sha256,
            size: file.bytes,
            chunks: file.chunks.clone(),
        },
        model: file.model_id.clone(),
    }
}

/// The facts the card shows, from the files in hand.
fn card_facts(checked: &[CheckedFile]) -> CardFacts {
    CardFacts {
        files: checked
            .iter()
            .map(|c| {
                (
                    c.repo_path.clone(),
                    FileFacts {
                        bytes: Some(c.bytes),
                        sha256: Some(c.sha256.to_hex()),
                        context_length: c.gguf.as_ref().and_then(|g| g.context_length),
                        has_chat_template: c.gguf.as_ref().map(|g| g.has_chat_template),
                    },
                )
            })
            .collect(),
    }
}

/// True when the registry records a sync of some model in `repo` on `dest`: the repository
/// existed then, so the publish reads it first instead of creating it first.
fn synced_before<D: Destination>(reg: &Registry, dest: &D, repo: &str) -> bool {
    reg.models
        .iter()
        .any(|m| dest.repo_of(reg, m) == repo && dest.last_sync(m).is_some())
}

/// Every path the registry accounts for in a repository: model files, Modelfiles, the card.
fn known_paths(reg: &Registry, repo: &str, repo_of: impl Fn(&Model) -> String) -> BTreeSet<String> {
    let mut known = BTreeSet::from([CARD_PATH.to_owned()]);
    for model in reg.models.iter().filter(|m| repo_of(m) == repo) {
        known.extend(model.all_files().map(|(p, _, _)| p.to_owned()));
        if model.kind.is_gguf() {
            known.insert(modelfile_path(model));
        }
    }
    known
}
