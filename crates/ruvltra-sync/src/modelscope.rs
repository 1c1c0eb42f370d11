//! Reading the ModelScope mirror: the [`SnapshotSource`] of [`ModelScopeClient`].
//!
//! Per repository it makes one `revisions` request (branches and tags with their commits),
//! then per revision one recursive listing (path, size and sha256 of every file). ModelScope's
//! listing is asked by branch or tag name, as the official SDK asks it, so after the listings
//! the `revisions` request is made once more: when a listed branch or tag moved in between,
//! the read is refused ("run sync again") rather than mixing two states. A registry of any
//! number of models in one repository at `master` costs three requests.
//!
//! A repository that does not exist (HTTP 404; ModelScope answers the same for a private one
//! the token may not see) and a revision that is neither a branch, a tag nor a commit of it
//! are recorded as [`Absence`]s, not errors: the mirror lagging behind the registry is a state
//! to report (with the advice to run `cargo xtask publish --to modelscope`), not a failure to
//! read, and it must not stop `--from all` from syncing the Hub.

use std::collections::{BTreeMap, BTreeSet};

use modelscope_client::{ModelId, ModelScopeClient, ModelScopeError, Revisions};

use crate::error::SyncError;
use crate::fetch::{RevisionRead, SnapshotSource, is_hex};
use crate::snapshot::{Absence, HubFile, Origin, RevisionSnapshot};

impl SnapshotSource for ModelScopeClient {
    fn origin(&self) -> Origin {
        Origin::ModelScope
    }

    async fn read_repo(
        &self,
        repo: &str,
        revisions: &BTreeSet<String>,
    ) -> Result<Vec<(String, RevisionRead)>, SyncError> {
        read_repo(self, repo, revisions).await
    }
}

/// The commit `revision` names: a branch, else a tag, else itself when it is a commit id.
fn resolve<'a>(refs: &'a Revisions, revision: &'a str) -> Option<&'a str> {
    refs.branches
        .get(revision)
        .or_else(|| refs.tags.get(revision))
        .map(String::as_str)
        .or_else(|| is_hex(revision, 40).then_some(revision))
}

async fn read_repo(
    client: &ModelScopeClient,
    repo: &str,
    revisions: &BTreeSet<String>,
) -> Result<Vec<(String, RevisionRead)>, SyncError> {
    let ms_error = |revision: Option<&str>| {
        let revision = revision.map(str::to_owned);
        move |source| SyncError::ModelScope {
            repo: repo.to_owned(),
            revision,
            source,
        }
    };
    let invalid = |revision: &str, detail: String| SyncError::InvalidModelScopeAnswer {
        repo: repo.to_owned(),
        revision: Some(revision.to_owned()),
        detail,
    };
    let id = ModelId::new(repo).map_err(ms_error(None))?;
    let refs = match client.revisions(&id).await {
        Ok(refs) => refs,
        Err(ModelScopeError::NotFound { .. }) => {
            return Ok(revisions
                .iter()
                .map(|r| (r.clone(), RevisionRead::Absent(Absence::Repo)))
                .collect());
        }
        Err(e) => return Err(ms_error(None)(e)),
    };
    let mut out = Vec::with_capacity(revisions.len());
    // The branches and tags listed by name, with the commit they named before the listing.
    let mut listed_by_name: Vec<(&str, String)> = Vec::new();
    for revision in revisions {
        let rev = Some(revision.as_str());
        let Some(commit) = resolve(&refs, revision) else {
            out.push((revision.clone(), RevisionRead::Absent(Absence::Revision)));
            continue;
        };
        if !is_hex(commit, 40) {
            return Err(invalid(
                revision,
                format!(
                    "the revision resolved to {:?}, which is not a 40-hex commit id; check that \
                     MODELSCOPE_ENDPOINT is a ModelScope server",
                    commit.chars().take(80).collect::<String>()
                ),
            ));
        }
        let commit = commit.to_ascii_lowercase();
        let named = !revision.eq_ignore_ascii_case(&commit);
        let listing = client
            .list_files(&id, if named { revision } else { &commit })
            .await;
        let listing = match listing {
            Ok(listing) => listing,
            // A commit id the repository does not hold.
            Err(ModelScopeError::NotFound { .. }) if !named => {
                out.push((revision.clone(), RevisionRead::Absent(Absence::Revision)));
                continue;
            }
            Err(e) => return Err(ms_error(rev)(e)),
        };
        if named {
            listed_by_name.push((revision.as_str(), commit.clone()));
        }
        let mut files = BTreeMap::new();
        for entry in listing {
            let sha256 = match entry.sha256 {
                Some(sha) if is_hex(&sha, 64) => Some(sha.to_ascii_lowercase()),
                Some(sha) => {
                    return Err(invalid(
                        revision,
                        format!(
                            "the listing gives {:?} the sha256 {:?}, which is not 64 hex digits; \
                             check that MODELSCOPE_ENDPOINT is a ModelScope server",
                            entry.path,
                            sha.chars().take(80).collect::<String>()
                        ),
                    ));
                }
                None => None,
            };
            let file = HubFile {
                size: entry.size,
                sha256,
            };
            if let Some(earlier) = files.insert(entry.path.clone(), file.clone())
                && earlier != file
            {
                return Err(invalid(
                    revision,
                    format!(
                        "the listing gives {:?} twice with different contents; check that \
                         MODELSCOPE_ENDPOINT is a ModelScope server",
                        entry.path
                    ),
                ));
            }
        }
        let mut tags: Vec<String> = refs
            .tags
            .iter()
            .filter(|(_, target)| target.eq_ignore_ascii_case(&commit))
            .map(|(name, _)| name.clone())
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
    if !listed_by_name.is_empty() {
        // The listings were asked by name: prove that every name still names the commit it
        // named before, so that the files listed are that commit's.
        let again = client.revisions(&id).await.map_err(ms_error(None))?;
        for (revision, commit) in listed_by_name {
            let now = resolve(&again, revision).map(str::to_ascii_lowercase);
            if now.as_deref() != Some(commit.as_str()) {
                return Err(invalid(
                    revision,
                    format!(
                        "the revision moved from {commit} to {} while it was read (someone is \
                         publishing); run sync again",
                        now.as_deref().unwrap_or("nothing")
                    ),
                ));
            }
        }
    }
    Ok(out)
}
