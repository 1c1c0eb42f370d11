//! The async fetch layer: reads everything sync needs from the Hub into a [`HubSnapshot`],
//! before anything is reconciled or written.
//!
//! Per repository it makes one refs request, and per revision one repository-info request
//! (to resolve the revision to a commit) and the recursive tree at that commit (one request
//! per 1000 entries). It never asks about single files, so a registry of a hundred models in
//! one repository costs three requests. Several repositories are read concurrently.

use std::collections::{BTreeMap, BTreeSet};

use futures_util::{StreamExt, TryStreamExt, stream};
use hub_client::{EntryKind, HubClient, RepoId};
use ruvltra_registry::Registry;

use crate::error::SyncError;
use crate::snapshot::{HubFile, HubSnapshot, RevisionSnapshot};

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

/// Reads every [`targets`] repository and revision, up to `concurrency` repositories at a
/// time. The first failure stops everything and is returned.
pub async fn fetch_snapshot(
    client: &HubClient,
    registry: &Registry,
    concurrency: usize,
) -> Result<HubSnapshot, SyncError> {
    let repos: Vec<(String, BTreeSet<String>)> = targets(registry).into_iter().collect();
    let fetched: Vec<Vec<(String, String, RevisionSnapshot)>> = stream::iter(repos)
        .map(|(repo, revisions)| async move { fetch_repo(client, &repo, &revisions).await })
        .buffer_unordered(concurrency.max(1))
        .try_collect()
        .await?;
    let mut snapshot = HubSnapshot::new();
    for (repo, revision, snap) in fetched.into_iter().flatten() {
        snapshot.insert(&repo, &revision, snap);
    }
    Ok(snapshot)
}

async fn fetch_repo(
    client: &HubClient,
    repo: &str,
    revisions: &BTreeSet<String>,
) -> Result<Vec<(String, String, RevisionSnapshot)>, SyncError> {
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
        if commit.len() != 40 || !commit.bytes().all(|b| b.is_ascii_hexdigit()) {
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
            repo.to_owned(),
            revision.clone(),
            RevisionSnapshot {
                commit,
                tags,
                files,
            },
        ));
    }
    Ok(out)
}
