//! The async fetch layer: reads everything sync needs from one registry (the Hub or the
//! ModelScope mirror) into a [`HubSnapshot`], before anything is reconciled or written.
//!
//! A [`SnapshotSource`] reads one repository at the revisions the registry names; the Hub's
//! [`HubClient`] and ModelScope's [`ModelScopeClient`](modelscope_client::ModelScopeClient)
//! are the two implementations, and [`fetch_snapshot`] runs either over every [`targets_of`]
//! repository, several at once.
//!
//! On the Hub it makes per repository one refs request, and per revision one repository-info
//! request (to resolve the revision to a commit) and the recursive tree at that commit (one
//! request per 1000 entries). It never asks about single files, so a registry of a hundred
//! models in one repository costs three requests. ModelScope's reads are described in its
//! module.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;

use futures_util::{StreamExt, TryStreamExt, stream};
use hub_client::{EntryKind, HubClient, RepoId};
use ruvltra_registry::Registry;

use crate::error::SyncError;
use crate::snapshot::{Absence, HubFile, HubSnapshot, Origin, RevisionSnapshot};

/// What a [`SnapshotSource`] read for one revision of a repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevisionRead {
    /// The revision's commit, tags and files.
    Found(RevisionSnapshot),
    /// The registry answered that the repository or revision does not exist.
    Absent(Absence),
}

/// A registry sync can read: resolves revisions to commits and lists their files.
pub trait SnapshotSource: Sync {
    /// Which registry this is; it decides the targets and what reconcile does with them.
    fn origin(&self) -> Origin;

    /// Reads `repo` at every one of `revisions`, returning one [`RevisionRead`] per revision
    /// (by name). Any failure is an error: nothing is reconciled from a partial read.
    fn read_repo(
        &self,
        repo: &str,
        revisions: &BTreeSet<String>,
    ) -> impl Future<Output = Result<Vec<(String, RevisionRead)>, SyncError>> + Send;
}

/// True when `text` is exactly `len` hex digits (a commit id is 40, a sha256 64): every
/// source checks the ids its registry answers with before they reach the snapshot.
pub(crate) fn is_hex(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// How many repositories are read at the same time by default.
pub const DEFAULT_CONCURRENCY: usize = 4;

/// Every repository the registry names (the default one and per-model overrides) with the
/// revisions (the registry's and models' pins) to read in it.
pub fn targets(registry: &Registry) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for model in &registry.models {
        out.entry(model.repo(registry).to_owned())
            .or_default()
            .insert(model.revision(registry).to_owned());
    }
    // The default repository is read even when every model overrides it, so that files
    // published there are found.
    out.entry(registry.repo.clone())
        .or_default()
        .insert(registry.revision.clone());
    out
}

/// Every repository of `origin` the registry names, with the revisions to read in it: for
/// the Hub, [`targets`]; for ModelScope, each model's `modelscope_repo_name` at its
/// `modelscope_revision`, and the catalog's ModelScope repository at the catalog's revision
/// even when no model names it, so that GGUFs published only there are reported.
pub fn targets_of(origin: Origin, registry: &Registry) -> BTreeMap<String, BTreeSet<String>> {
    match origin {
        Origin::Hub => targets(registry),
        Origin::ModelScope => {
            let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            for model in &registry.models {
                out.entry(model.modelscope_repo_name(registry).to_owned())
                    .or_default()
                    .insert(model.modelscope_revision(registry).to_owned());
            }
            let catalog_repo = registry
                .catalog
                .modelscope_repo
                .clone()
                .unwrap_or_else(|| registry.repo.clone());
            let catalog_revision = match registry.revision.as_str() {
                ruvltra_registry::HUB_DEFAULT_BRANCH => ruvltra_registry::MODELSCOPE_DEFAULT_BRANCH,
                other => other,
            };
            out.entry(catalog_repo)
                .or_default()
                .insert(catalog_revision.to_owned());
            out
        }
    }
}

/// Reads every [`targets_of`] repository and revision of `source`, up to `concurrency`
/// repositories at a time. The first failure stops everything and is returned.
pub async fn fetch_snapshot<S: SnapshotSource>(
    source: &S,
    registry: &Registry,
    concurrency: usize,
) -> Result<HubSnapshot, SyncError> {
    let origin = source.origin();
    let repos: Vec<(String, BTreeSet<String>)> = targets_of(origin, registry).into_iter().collect();
    let fetched: Vec<(String, Vec<(String, RevisionRead)>)> = stream::iter(repos)
        .map(|(repo, revisions)| async move {
            let read = source.read_repo(&repo, &revisions).await?;
            Ok::<_, SyncError>((repo, read))
        })
        .buffer_unordered(concurrency.max(1))
        .try_collect()
        .await?;
    let mut snapshot = HubSnapshot::of(origin);
    for (repo, reads) in fetched {
        for (revision, read) in reads {
            match read {
                RevisionRead::Found(snap) => snapshot.insert(&repo, &revision, snap),
                RevisionRead::Absent(absence) => {
                    snapshot.insert_absent(&repo, &revision, absence);
                }
            }
        }
    }
    Ok(snapshot)
}

impl SnapshotSource for HubClient {
    fn origin(&self) -> Origin {
        Origin::Hub
    }

    async fn read_repo(
        &self,
        repo: &str,
        revisions: &BTreeSet<String>,
    ) -> Result<Vec<(String, RevisionRead)>, SyncError> {
        fetch_repo(self, repo, revisions).await
    }
}

async fn fetch_repo(
    client: &HubClient,
    repo: &str,
    revisions: &BTreeSet<String>,
) -> Result<Vec<(String, RevisionRead)>, SyncError> {
    let hub_error = |revision: Option<&str>| {
        let revision = revision.map(str::to_owned);
        move |source| SyncError::Hub {
            repo: repo.to_owned(),
            revision,
            source,
        }
    };
    let id = RepoId::new(repo).map_err(hub_error(None))?;
    let refs = client.list_refs(&id).await.map_err(hub_error(None))?;
    let mut out = Vec::with_capacity(revisions.len());
    for revision in revisions {
        let rev = Some(revision.as_str());
        let commit = client
            .resolve_revision(&id, revision)
            .await
            .map_err(hub_error(rev))?;
        if !is_hex(&commit, 40) {
            return Err(SyncError::InvalidAnswer {
                repo: repo.to_owned(),
                revision: Some(revision.clone()),
                detail: format!(
                    "the revision resolved to {:?}, which is not a 40-hex commit id",
                    commit.chars().take(80).collect::<String>()
                ),
            });
        }
        let commit = commit.to_ascii_lowercase();
        // The tree of the resolved commit, not of the branch, so that a push between the two
        // requests cannot mix two states.
        let tree = client
            .list_tree(&id, &commit, None, true)
            .await
            .map_err(hub_error(rev))?;
        let mut files = BTreeMap::new();
        for entry in tree {
            if entry.kind != EntryKind::File {
                continue;
            }
            let file = HubFile {
                size: entry.size,
                sha256: entry.lfs.map(|lfs| lfs.oid.to_hex()),
            };
            if let Some(earlier) = files.insert(entry.path.clone(), file.clone())
                && earlier != file
            {
                return Err(SyncError::InvalidAnswer {
                    repo: repo.to_owned(),
                    revision: Some(revision.clone()),
                    detail: format!(
                        "the tree lists {:?} twice with different contents",
                        entry.path
                    ),
                });
            }
        }
        let mut tags: Vec<String> = refs
            .tags
            .iter()
            .filter(|tag| tag.target_commit.eq_ignore_ascii_case(&commit))
            .map(|tag| tag.name.clone())
            .collect();
        tags.sort();
        tags.dedup();
        out.push((
            revision.clone(),
            RevisionRead::Found(RevisionSnapshot {
                commit,
                tags,
                files,
            }),
        ));
    }
    Ok(out)
}
