//! Where a publish goes: the [`Destination`] trait that `publish`, `verify_registry` and the
//! engine go through. The Hub ([`HubClient`]) is the default implementation; ModelScope
//! ([`ModelScopeClient`]) is the second (see `modelscope.rs`).

use std::collections::BTreeSet;
use std::future::Future;

use hub_client::{HubClient, RepoId};
use modelscope_client::ModelScopeClient;
use ruvltra_card::{CardFacts, model_card, modelscope_card};
use ruvltra_registry::{HUB_DEFAULT_BRANCH, HubState, MODELSCOPE_DEFAULT_BRANCH, Model, Registry};

use crate::engine::{Job, RepoReport};
use crate::error::UploadError;
use crate::event::Observer;
use crate::verify::{ManifestEntry, VerifyReport, verify_repo};

/// A registry a catalog is published to: the Hugging Face Hub or ModelScope.
///
/// The repository, branch and card of each destination come from the same registry; the
/// engine behind [`Destination::run_job`] creates the repository, asks which objects are
/// missing, uploads them, commits once, verifies by listing and tags.
pub trait Destination {
    /// `hub` or `modelscope`, for messages and reports.
    fn name(&self) -> &'static str;

    /// Whether a token is configured (every write needs one).
    fn can_write(&self) -> bool;

    /// Whether large files may go through Xet here (the Hub); others use Git LFS only.
    fn speaks_xet(&self) -> bool {
        false
    }

    /// The error when a write is attempted without a token.
    fn missing_token(&self) -> UploadError;

    /// The repository `model` is published to on this destination.
    fn repo_of(&self, reg: &Registry, model: &Model) -> String;

    /// The branch `model` is published to and read from by default.
    fn branch_of(&self, reg: &Registry, model: &Model) -> String;

    /// The default branch of a new repository (`main` on the Hub, `master` on ModelScope).
    fn default_branch(&self) -> &'static str;

    /// The branch a name given for the Hub (`--branch`, an upload's `revision`) means here:
    /// the Hub's default branch `main` is this destination's default branch, other names stay.
    fn branch_name(&self, hub_branch: &str) -> String {
        if hub_branch == HUB_DEFAULT_BRANCH {
            self.default_branch().to_owned()
        } else {
            hub_branch.to_owned()
        }
    }

    /// What `cargo xtask sync` last recorded of `model` on this destination (`hub` or
    /// `modelscope` in the registry): proof that its repository existed then.
    fn last_sync<'m>(&self, model: &'m Model) -> Option<&'m HubState>;

    /// The repository that carries the catalog's model card.
    fn catalog_repo(&self, reg: &Registry) -> String;

    /// The model card (README.md) for this destination.
    fn card(&self, reg: &Registry, facts: &CardFacts) -> String;

    /// Publishes one job (one repository and branch): open, plan, upload, one commit, verify, tag.
    fn run_job(
        &self,
        job: &Job,
        observer: &Observer,
    ) -> impl Future<Output = Result<RepoReport, UploadError>>;

    /// Reads `revision` of `repo` back and compares it with `manifest`.
    fn verify(
        &self,
        repo: &RepoId,
        revision: &str,
        manifest: &[ManifestEntry],
        known: &BTreeSet<String>,
        deep: bool,
        observer: &Observer,
    ) -> impl Future<Output = Result<VerifyReport, UploadError>>;
}

impl Destination for HubClient {
    fn name(&self) -> &'static str {
        "hub"
    }

    fn can_write(&self) -> bool {
        self.has_token()
    }

    fn speaks_xet(&self) -> bool {
        true
    }

    fn missing_token(&self) -> UploadError {
        UploadError::MissingToken {
            destination: "Hub",
            variables: "HF_TOKEN (or HUGGING_FACE_HUB_TOKEN, HUGGINGFACE_API_KEY, or write it to the token file)",
        }
    }

    fn repo_of(&self, reg: &Registry, model: &Model) -> String {
        model.repo(reg).to_owned()
    }

    fn branch_of(&self, reg: &Registry, model: &Model) -> String {
        model.revision(reg).to_owned()
    }

    fn default_branch(&self) -> &'static str {
        HUB_DEFAULT_BRANCH
    }

    fn last_sync<'m>(&self, model: &'m Model) -> Option<&'m HubState> {
        model.hub.as_ref()
    }

    fn catalog_repo(&self, reg: &Registry) -> String {
        reg.repo.clone()
    }

    fn card(&self, reg: &Registry, facts: &CardFacts) -> String {
        model_card(reg, facts)
    }

    fn run_job(
        &self,
        job: &Job,
        observer: &Observer,
    ) -> impl Future<Output = Result<RepoReport, UploadError>> {
        crate::engine::run_job(self, job, observer)
    }

    fn verify(
        &self,
        repo: &RepoId,
        revision: &str,
        manifest: &[ManifestEntry],
        known: &BTreeSet<String>,
        deep: bool,
        observer: &Observer,
    ) -> impl Future<Output = Result<VerifyReport, UploadError>> {
        verify_repo(self, repo, revision, manifest, known, deep, observer)
    }
}

/// The ModelScope repository of a model (see [`Model::modelscope_repo_name`]).
pub fn modelscope_repo_of(reg: &Registry, model: &Model) -> String {
    model.modelscope_repo_name(reg).to_owned()
}

impl Destination for ModelScopeClient {
    fn name(&self) -> &'static str {
        "modelscope"
    }

    fn can_write(&self) -> bool {
        self.has_token()
    }

    fn missing_token(&self) -> UploadError {
        UploadError::MissingToken {
            destination: "ModelScope",
            variables: modelscope_client::TOKEN_ENV,
        }
    }

    fn repo_of(&self, reg: &Registry, model: &Model) -> String {
        modelscope_repo_of(reg, model)
    }

    fn branch_of(&self, reg: &Registry, model: &Model) -> String {
        // The Hub's `main` is ModelScope's `master`; an experiment branch keeps its name, so a
        // model pinned to one is never mixed into master. A branch ModelScope does not have
        // yet is created by the commit (see `modelscope::run_job`).
        model.modelscope_revision(reg).to_owned()
    }

    fn default_branch(&self) -> &'static str {
        MODELSCOPE_DEFAULT_BRANCH
    }

    fn last_sync<'m>(&self, model: &'m Model) -> Option<&'m HubState> {
        model.modelscope.as_ref()
    }

    fn catalog_repo(&self, reg: &Registry) -> String {
        reg.catalog
            .modelscope_repo
            .clone()
            .unwrap_or_else(|| reg.repo.clone())
    }

    fn card(&self, reg: &Registry, facts: &CardFacts) -> String {
        modelscope_card(reg, facts)
    }

    fn run_job(
        &self,
        job: &Job,
        observer: &Observer,
    ) -> impl Future<Output = Result<RepoReport, UploadError>> {
        crate::modelscope::run_job(self, job, observer)
    }

    fn verify(
        &self,
        repo: &RepoId,
        revision: &str,
        manifest: &[ManifestEntry],
        known: &BTreeSet<String>,
        deep: bool,
        observer: &Observer,
    ) -> impl Future<Output = Result<VerifyReport, UploadError>> {
        crate::modelscope::verify(self, repo, revision, manifest, known, deep, observer)
    }
}
