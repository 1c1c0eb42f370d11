//! The ModelScope engine behind [`Destination`](crate::Destination) for
//! [`ModelScopeClient`]: create the model (existing is fine), plan against its listing, ask
//! which LFS objects are missing (batch), upload them streamed, commit every change in one
//! request, verify by listing the new commit, tag.
//!
//! **A branch ModelScope does not have yet** (a model pinned to an experiment branch on the
//! Hub keeps that branch name here): ModelScope's API has no create-branch call and the
//! official SDK simply commits to `/commit/{revision}`, so the engine plans against `master`
//! (where the new branch will start) and makes its one commit on the new branch, assuming the
//! server creates it from `master`'s head as a `git push` of a new branch does (the local
//! server does). When the branch would otherwise get no commit (everything already on
//! `master`), the whole manifest is committed again so that the branch comes to exist. If the
//! server refuses the commit instead, the publish fails with
//! [`ModelScopeError::MissingBranch`] (what to do: create the branch on ModelScope, or publish
//! the experiment to the Hub only): no commit, no branch, no tag; only the LFS objects sent
//! before the commit stay, unreferenced, and a later run reuses them.

use std::collections::{BTreeMap, BTreeSet};

use hub_client::{EntryKind, LfsPointer, RepoId, Sha256, Sibling, SiblingLfs, TreeEntry};
use modelscope_client::{ModelId, ModelScopeClient, ModelScopeError, RepoFile, Visibility};

use crate::engine::{Job, RepoReport, TagReport};
use crate::error::UploadError;
use crate::event::{Event, Observer};
use crate::plan::{Action, Content, Wanted, make_plan};
use crate::verify::{Difference, ManifestEntry, VerifyReport, compare_tree};

fn model_id(repo: &RepoId) -> Result<ModelId, UploadError> {
    Ok(ModelId::new(&repo.to_string())?)
}

/// The sha256 of a file ModelScope stores through LFS (none for an inline file, or when the
/// listing gives no valid digest).
fn lfs_sha256(f: &RepoFile) -> Option<Sha256> {
    f.sha256.as_deref().filter(|_| f.lfs)?.parse().ok()
}

/// A ModelScope listing as the Hub-shaped siblings the planner reads.
fn siblings(files: &[RepoFile]) -> Vec<Sibling> {
    files
        .iter()
        .map(|f| Sibling {
            rfilename: f.path.clone(),
            size: Some(f.size),
            blob_id: f.blob_id.clone(),
            lfs: lfs_sha256(f).map(|sha256| SiblingLfs {
                sha256,
                size: f.size,
                pointer_size: None,
            }),
        })
        .collect()
}

/// A ModelScope listing as the Hub-shaped tree the verifier reads.
fn tree(files: &[RepoFile]) -> Vec<TreeEntry> {
    files
        .iter()
        .map(|f| TreeEntry {
            path: f.path.clone(),
            kind: EntryKind::File,
            oid: f.blob_id.clone().unwrap_or_default(),
            size: f.size,
            lfs: lfs_sha256(f).map(|oid| LfsPointer { oid, size: f.size }),
        })
        .collect()
}

pub(crate) async fn run_job(
    client: &ModelScopeClient,
    job: &Job,
    observer: &Observer,
) -> Result<RepoReport, UploadError> {
    let id = model_id(&job.repo)?;
    let repo_name = id.to_string();
    let mut report = RepoReport::new(repo_name.clone(), job.branch.clone());
    let default = modelscope_client::DEFAULT_REVISION;
    let exists = client.model_exists(&id).await?;
    // Whether the commit will have to create the branch (from `master`).
    let mut new_branch = job.branch != default;
    let files = if exists {
        let revs = client.revisions(&id).await?;
        if revs.tags.contains_key(&job.branch) && !revs.branches.contains_key(&job.branch) {
            return Err(UploadError::InvalidInput(format!(
                "{} is a tag of ModelScope {repo_name}, not a branch, so it cannot be published to; pass --branch",
                job.branch
            )));
        }
        new_branch = !revs.branches.contains_key(&job.branch);
        let base = if new_branch { default } else { &job.branch };
        report.parent_commit = revs.branches.get(base).cloned();
        client.list_files(&id, base).await?
    } else {
        Vec::new()
    };
    if new_branch {
        observer(Event::Notice(format!(
            "branch {} does not exist on ModelScope {repo_name} yet; {} it from {default} with the commit",
            job.branch,
            if job.dry_run {
                "a publish would create"
            } else {
                "creating"
            }
        )));
    }
    report.plan = make_plan(&job.wanted, &siblings(&files));
    let count = |a: Action| report.plan.iter().filter(|e| e.action == a).count();
    observer(Event::Step(format!(
        "plan for ModelScope {repo_name}@{}: {} to add, {} to update, {} unchanged, {} extra",
        job.branch,
        count(Action::Add),
        count(Action::Update),
        count(Action::Unchanged),
        count(Action::ExtraOnHub),
    )));
    if job.dry_run {
        return Ok(report);
    }
    if !exists {
        let visibility = if job.private {
            Visibility::Private
        } else {
            Visibility::Public
        };
        report.created_repo = client
            .create_model(
                &id,
                visibility,
                job.license.as_deref().unwrap_or("apache-2.0"),
            )
            .await?;
        let revs = client.revisions(&id).await?;
        report.parent_commit = revs.branches.get(default).cloned();
    }
    let wanted_by_path: BTreeMap<&str, &Wanted> =
        job.wanted.iter().map(|w| (w.path.as_str(), w)).collect();
    let mut changes: Vec<&Wanted> = report
        .plan
        .iter()
        .filter(|e| matches!(e.action, Action::Add | Action::Update))
        .filter_map(|e| wanted_by_path.get(e.path.as_str()).copied())
        .collect();
    if new_branch && changes.is_empty() {
        // Only a commit makes a branch on ModelScope: commit the manifest again (every object
        // is already there, so no byte is uploaded) rather than tag master's commit.
        changes = job.wanted.iter().collect();
    }
    let mut sent: BTreeSet<String> = BTreeSet::new();
    if changes.is_empty() {
        observer(Event::Notice(format!(
            "ModelScope {repo_name}@{} already matches the manifest: nothing to upload, no commit",
            job.branch
        )));
        report.head = report.parent_commit.clone();
    } else {
        // Which objects ModelScope lacks (one batch call), then the streamed uploads.
        let mut objects: BTreeMap<String, (u64, &std::path::Path)> = BTreeMap::new();
        for w in &changes {
            if let Content::Lfs {
                local,
                sha256,
                size,
                ..
            } = &w.content
            {
                objects.insert(sha256.to_hex(), (*size, local.as_path()));
            }
        }
        let asked: Vec<(String, u64)> = objects.iter().map(|(o, (s, _))| (o.clone(), *s)).collect();
        let missing = if asked.is_empty() {
            BTreeMap::new()
        } else {
            client.missing_objects(&id, &asked).await?
        };
        report.objects_already_present = (asked.len() - missing.len()) as u64;
        for (oid, url) in &missing {
            let (size, local) = objects[oid];
            observer(Event::Step(format!(
                "uploading {} ({size} bytes) to ModelScope",
                local.display()
            )));
            client.upload_object(url, local, size).await?;
            report.objects_sent += 1;
            report.bytes_sent += size;
            sent.insert(oid.clone());
        }
        let actions = changes
            .iter()
            .map(|w| match &w.content {
                Content::Lfs { sha256, size, .. } => {
                    modelscope_client::lfs_action(&w.path, &sha256.to_hex(), *size)
                }
                Content::Inline(bytes) => modelscope_client::inline_action(&w.path, bytes),
            })
            .collect();
        let message = if job.description.is_empty() {
            job.summary.clone()
        } else {
            format!("{}\n\n{}", job.summary, job.description)
        };
        let commit = match client.commit(&id, &job.branch, &message, actions).await {
            Ok(commit) => commit,
            // The answer was lost, not necessarily the commit: read the branch back, and if it
            // already holds every change, that commit is ours. Never send the commit twice.
            Err(e @ ModelScopeError::Transport { .. }) => {
                observer(Event::Warning(format!(
                    "the commit answer from ModelScope {repo_name} was lost ({e}); reading the branch back"
                )));
                let head = client
                    .revisions(&id)
                    .await?
                    .branches
                    .get(&job.branch)
                    .cloned();
                // A new branch that is still missing: the commit did not land.
                let Some(head) = head else {
                    return Err(e.into());
                };
                let now = client.list_files(&id, &job.branch).await?;
                let landed = make_plan(&job.wanted, &siblings(&now))
                    .iter()
                    .all(|p| !matches!(p.action, Action::Add | Action::Update));
                if landed && (new_branch || report.parent_commit.as_ref() != Some(&head)) {
                    head
                } else {
                    return Err(e.into());
                }
            }
            Err(e @ ModelScopeError::MissingBranch { .. }) => {
                observer(Event::Warning(format!(
                    "ModelScope {repo_name} did not create branch {}: nothing was committed or tagged",
                    job.branch
                )));
                return Err(e.into());
            }
            Err(e) => return Err(e.into()),
        };
        report.created_branch = new_branch;
        observer(Event::Notice(format!(
            "committed {} change(s) to ModelScope {repo_name}@{}: {commit}",
            changes.len(),
            job.branch
        )));
        report.commit = Some(commit.clone());
        report.head = Some(commit);
    }
    for entry in &mut report.plan {
        entry.result = match (entry.action, entry.transfer) {
            (Action::Unchanged, _) => Some("unchanged"),
            (Action::Add | Action::Update, Some("inline")) => Some("inline"),
            (Action::Add | Action::Update, _) => {
                Some(if entry.sha256.as_ref().is_some_and(|s| sent.contains(s)) {
                    "uploaded"
                } else {
                    "already-on-hub"
                })
            }
            (Action::ExtraOnHub, _) => None,
        };
    }

    let head = report.head.clone().unwrap_or_else(|| job.branch.clone());
    let manifest: Vec<ManifestEntry> = job.wanted.iter().map(ManifestEntry::of).collect();
    observer(Event::Step(format!(
        "verifying ModelScope {repo_name} at {head} against {} manifest path(s)",
        manifest.len()
    )));
    let verify = verify(
        client,
        &job.repo,
        &head,
        &manifest,
        &job.known,
        job.deep_verify,
        observer,
    )
    .await?;
    let verified = verify.ok();
    report.verify = Some(verify);
    if let Some(tag) = &job.tag {
        if verified {
            let created = client.create_tag(&id, tag, &head).await.map_err(|e| {
                UploadError::InvalidInput(format!("cannot tag ModelScope {repo_name}: {e}"))
            })?;
            report.tag = Some(TagReport {
                name: tag.clone(),
                commit: head.clone(),
                created,
            });
        } else {
            observer(Event::Warning(format!(
                "not tagging {tag}: ModelScope does not match the manifest"
            )));
        }
    }
    Ok(report)
}

pub(crate) async fn verify(
    client: &ModelScopeClient,
    repo: &RepoId,
    revision: &str,
    manifest: &[ManifestEntry],
    known: &BTreeSet<String>,
    deep: bool,
    observer: &Observer,
) -> Result<VerifyReport, UploadError> {
    let id = model_id(repo)?;
    let files = client.list_files(&id, revision).await?;
    let listed = tree(&files);
    let (mut problems, extras, unverified) = compare_tree(manifest, &listed, known);
    if deep {
        for m in manifest {
            let Some(f) = files.iter().find(|f| f.path == m.path) else {
                continue;
            };
            let Some(expected) = m.sha256.map(|s| s.to_hex()).or_else(|| f.sha256.clone()) else {
                continue;
            };
            observer(Event::Step(format!(
                "downloading {} from ModelScope to hash it again",
                m.path
            )));
            let (actual, _) = client.download_sha256(&id, revision, &m.path).await?;
            if actual != expected {
                problems.push(Difference {
                    path: m.path.clone(),
                    problem: "download",
                    expected,
                    actual,
                });
            }
        }
    }
    problems.sort_by(|a, b| a.path.cmp(&b.path).then(a.problem.cmp(b.problem)));
    Ok(VerifyReport {
        repo: repo.to_string(),
        revision: revision.to_owned(),
        checked: manifest.len(),
        deep,
        problems,
        extras,
        unverified,
    })
}
