//! Publishing one set of files to one branch of one repository: open the branch (creating the
//! repository or branch when missing), plan, upload what the Hub lacks, commit once, verify,
//! tag. Both `upload` and the registry-driven `publish` end here.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use futures_util::StreamExt as _;
use hub_client::{
    BatchObject, CommitOp, HubClient, HubError, LfsObject, NewCommit, ProgressCallback, RepoId,
    RepoType, Sibling, UploadOutcome,
};
use serde::Serialize;

use crate::error::UploadError;
use crate::event::{Event, Observer};
use crate::plan::{Action, Content, PlanEntry, Wanted, make_plan};
use crate::verify::{ManifestEntry, VerifyReport, verify_repo};

/// Files uploaded at the same time (each may itself send parts in parallel).
const PARALLEL_FILES: usize = 2;

/// What to publish to one branch of one repository (built by `publish`, run by a
/// [`Destination`](crate::Destination)).
#[derive(Debug, Clone)]
pub struct Job {
    /// The repository.
    pub repo: RepoId,
    /// The branch.
    pub branch: String,
    /// Every file the manifest wants there.
    pub wanted: Vec<Wanted>,
    /// Paths that are not in `wanted` but are expected on the Hub (other registry models):
    /// verify does not report them as extras.
    pub known: BTreeSet<String>,
    /// The commit title.
    pub summary: String,
    /// The commit description.
    pub description: String,
    /// Create a missing repository as private.
    pub private: bool,
    /// Tag the verified commit.
    pub tag: Option<String>,
    /// Plan only.
    pub dry_run: bool,
    /// Download and hash every file after the commit.
    pub deep_verify: bool,
    /// The licence id a new repository is created with where the destination asks for one
    /// (ModelScope); the catalog's.
    pub license: Option<String>,
}

/// What happened to the tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TagReport {
    /// The tag.
    pub name: String,
    /// The commit it points at.
    pub commit: String,
    /// False when it already pointed at that commit.
    pub created: bool,
}

/// What one publish did to one branch of one repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RepoReport {
    /// `namespace/name`.
    pub repo: String,
    /// The branch published to.
    pub branch: String,
    /// True when the repository was created by this publish.
    pub created_repo: bool,
    /// True when the branch was created by this publish (from `main`).
    pub created_branch: bool,
    /// The branch head the plan was made against (absent in a dry run of a new repository).
    pub parent_commit: Option<String>,
    /// The new commit, when something changed.
    pub commit: Option<String>,
    /// The branch head after the publish.
    pub head: Option<String>,
    /// True when the branch moved under us (412) and the plan was made again.
    pub replanned: bool,
    /// Every path: add, update, unchanged, extra on the Hub, with sizes, sha256s and results.
    pub plan: Vec<PlanEntry>,
    /// LFS payload bytes sent (0 when the Hub already had everything).
    pub bytes_sent: u64,
    /// LFS objects sent.
    pub objects_sent: u64,
    /// LFS objects the Hub already had (not sent again).
    pub objects_already_present: u64,
    /// The tag, when `--tag` was given.
    pub tag: Option<TagReport>,
    /// The verification after the commit (absent in a dry run).
    pub verify: Option<VerifyReport>,
}

impl RepoReport {
    /// True when the Hub was verified to match the manifest.
    pub fn verified(&self) -> bool {
        self.verify.as_ref().is_some_and(VerifyReport::ok)
    }
}

/// The branch as it is now.
struct Opened {
    head: Option<String>,
    siblings: Vec<Sibling>,
}

pub(crate) async fn run_job(
    client: &HubClient,
    job: &Job,
    observer: &Observer,
) -> Result<RepoReport, UploadError> {
    let repo_name = job.repo.to_string();
    let mut report = RepoReport {
        repo: repo_name.clone(),
        branch: job.branch.clone(),
        created_repo: false,
        created_branch: false,
        parent_commit: None,
        commit: None,
        head: None,
        replanned: false,
        plan: Vec::new(),
        bytes_sent: 0,
        objects_sent: 0,
        objects_already_present: 0,
        tag: None,
        verify: None,
    };
    let wanted_by_path: BTreeMap<&str, &Wanted> =
        job.wanted.iter().map(|w| (w.path.as_str(), w)).collect();
    // Per LFS object handled so far: true when its bytes were sent, false when the Hub had it.
    let mut handled: BTreeMap<hub_client::Sha256, bool> = BTreeMap::new();

    loop {
        let opened = open_branch(client, job, &mut report, observer).await?;
        report.parent_commit = opened.head.clone();
        report.plan = make_plan(&job.wanted, &opened.siblings);
        let changes: Vec<&PlanEntry> = report
            .plan
            .iter()
            .filter(|e| matches!(e.action, Action::Add | Action::Update))
            .collect();
        observer(Event::Step(format!(
            "plan for {repo_name}@{}: {} to add, {} to update, {} unchanged, {} extra on the Hub",
            job.branch,
            count(&report.plan, Action::Add),
            count(&report.plan, Action::Update),
            count(&report.plan, Action::Unchanged),
            count(&report.plan, Action::ExtraOnHub),
        )));
        if job.dry_run {
            return Ok(report);
        }
        let Some(parent) = opened.head.clone() else {
            return Err(UploadError::InvalidInput(format!(
                "the Hub gave no commit for {repo_name}@{}; check the endpoint",
                job.branch
            )));
        };
        if changes.is_empty() {
            observer(Event::Notice(format!(
                "{repo_name}@{} already matches the manifest: nothing to upload, no commit",
                job.branch
            )));
            report.head = Some(parent);
            break;
        }

        // The card's front matter is checked before any byte is sent.
        if let Some(Content::Inline(card)) = changes
            .iter()
            .find(|e| e.path == "README.md")
            .and_then(|e| wanted_by_path.get(e.path.as_str()))
            .map(|w| &w.content)
        {
            let text = String::from_utf8_lossy(card);
            let validation = client.validate_yaml(&text, RepoType::Model).await?;
            if !validation.errors.is_empty() {
                return Err(UploadError::InvalidCard(validation.errors.join("; ")));
            }
            for w in validation.warnings {
                observer(Event::Warning(format!("model card: {w}")));
            }
        }

        // Upload the LFS objects the Hub does not have (one batch call for all of them).
        let mut objects: Vec<(LfsObject, &Wanted)> = Vec::new();
        for entry in &changes {
            let w = wanted_by_path[entry.path.as_str()];
            if let Content::Lfs { sha256, size, .. } = &w.content
                && !objects.iter().any(|(o, _)| o.oid == *sha256)
                && !handled.contains_key(sha256)
            {
                objects.push((
                    LfsObject {
                        oid: *sha256,
                        size: *size,
                    },
                    w,
                ));
            }
        }
        if !objects.is_empty() {
            let list: Vec<LfsObject> = objects.iter().map(|(o, _)| *o).collect();
            let answers = client.lfs_batch(&job.repo, &job.branch, &list).await?;
            let outcomes =
                upload_objects(client, &job.repo, &job.branch, &answers, &objects, observer)
                    .await?;
            for (object, outcome) in outcomes {
                match outcome {
                    UploadOutcome::AlreadyPresent => {
                        handled.insert(object.oid, false);
                        report.objects_already_present += 1;
                    }
                    UploadOutcome::Uploaded { bytes, .. } => {
                        handled.insert(object.oid, true);
                        report.objects_sent += 1;
                        report.bytes_sent += bytes;
                    }
                }
            }
        }

        // One commit with every change.
        let operations: Vec<CommitOp> = changes
            .iter()
            .map(|e| {
                let w = wanted_by_path[e.path.as_str()];
                match &w.content {
                    Content::Lfs { sha256, size, .. } => CommitOp::AddLfs {
                        path: w.path.clone(),
                        sha256: *sha256,
                        size: *size,
                    },
                    Content::Inline(bytes) => CommitOp::AddRegular {
                        path: w.path.clone(),
                        bytes: bytes.clone(),
                    },
                }
            })
            .collect();
        observer(Event::Committing {
            repo: repo_name.clone(),
            branch: job.branch.clone(),
            parent: parent.clone(),
        });
        let commit = NewCommit {
            summary: job.summary.clone(),
            description: job.description.clone(),
            parent_commit: Some(parent.clone()),
            operations,
        };
        match client.commit(&job.repo, &job.branch, &commit).await {
            Ok(done) => {
                observer(Event::Notice(format!(
                    "committed {} change(s) to {repo_name}@{}: {}",
                    commit.operations.len(),
                    job.branch,
                    done.commit_oid
                )));
                report.commit = Some(done.commit_oid.clone());
                report.head = Some(done.commit_oid);
                break;
            }
            Err(HubError::PreconditionFailed { message, .. }) if !report.replanned => {
                observer(Event::Warning(format!(
                    "{repo_name}@{} moved since the plan was made ({message}); planning again",
                    job.branch
                )));
                report.replanned = true;
            }
            Err(HubError::PreconditionFailed { message, .. }) => {
                return Err(UploadError::Conflict {
                    repo: repo_name,
                    branch: job.branch.clone(),
                    detail: message,
                });
            }
            Err(e) => return Err(e.into()),
        }
    }

    // What happened to each path.
    for entry in &mut report.plan {
        entry.result = match (entry.action, entry.transfer) {
            (Action::Unchanged, _) => Some("unchanged"),
            (Action::Add | Action::Update, Some("inline")) => Some("inline"),
            (Action::Add | Action::Update, _) => {
                let sent = entry
                    .sha256
                    .as_deref()
                    .and_then(|s| s.parse::<hub_client::Sha256>().ok())
                    .and_then(|s| handled.get(&s).copied())
                    .unwrap_or(false);
                Some(if sent { "uploaded" } else { "already-on-hub" })
            }
            (Action::ExtraOnHub, _) => None,
        };
    }

    // Verify what the Hub now holds at the exact commit, then tag it.
    let head = report.head.clone().unwrap_or_default();
    let manifest: Vec<ManifestEntry> = job.wanted.iter().map(ManifestEntry::of).collect();
    observer(Event::Step(format!(
        "verifying {repo_name} at {head} against {} manifest path(s)",
        manifest.len()
    )));
    let verify = verify_repo(
        client,
        &job.repo,
        &head,
        &manifest,
        &job.known,
        job.deep_verify,
        observer,
    )
    .await?;
    for extra in &verify.extras {
        observer(Event::Warning(format!(
            "{repo_name}: {extra} is on the Hub but in no manifest"
        )));
    }
    let verified = verify.ok();
    report.verify = Some(verify);
    if let Some(tag) = &job.tag {
        if verified {
            report.tag = Some(apply_tag(client, &job.repo, tag, &head, observer).await?);
        } else {
            observer(Event::Warning(format!(
                "not tagging {tag}: the Hub does not match the manifest"
            )));
        }
    }
    Ok(report)
}

fn count(plan: &[PlanEntry], action: Action) -> usize {
    plan.iter().filter(|e| e.action == action).count()
}

/// Reads the branch head and files in one request; creates the repository and the branch
/// when missing (not in a dry run).
async fn open_branch(
    client: &HubClient,
    job: &Job,
    report: &mut RepoReport,
    observer: &Observer,
) -> Result<Opened, UploadError> {
    let info = |branch: String| {
        let repo = job.repo.clone();
        async move { client.model_info(&repo, Some(&branch), true).await }
    };
    match info(job.branch.clone()).await {
        Ok(info) => {
            return Ok(Opened {
                head: info.sha,
                siblings: info.siblings,
            });
        }
        Err(HubError::RepoNotFound { .. }) => {
            if job.dry_run {
                observer(Event::Notice(format!(
                    "{} does not exist yet; a publish would create it",
                    job.repo
                )));
                return Ok(Opened {
                    head: None,
                    siblings: Vec::new(),
                });
            }
            let created = client.create_repo(&job.repo, job.private).await?;
            report.created_repo = !created.existed;
            observer(Event::Notice(format!(
                "{} {}",
                job.repo,
                if created.existed {
                    "already existed"
                } else {
                    "created"
                }
            )));
        }
        Err(HubError::RevisionNotFound { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    if job.branch != "main" {
        if job.dry_run {
            observer(Event::Notice(format!(
                "branch {} does not exist yet; a publish would create it from main",
                job.branch
            )));
            let main = info("main".to_owned()).await?;
            return Ok(Opened {
                head: main.sha,
                siblings: main.siblings,
            });
        }
        match client.create_branch(&job.repo, &job.branch, None).await {
            Ok(()) => {
                report.created_branch = true;
                observer(Event::Notice(format!(
                    "branch {} created from main",
                    job.branch
                )));
            }
            // Someone else created it meanwhile: fine.
            Err(HubError::Conflict { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let info = info(job.branch.clone()).await?;
    Ok(Opened {
        head: info.sha,
        siblings: info.siblings,
    })
}

/// True for the answers a presigned upload URL gives once it has expired or been revoked.
fn is_expired_url(error: &HubError) -> bool {
    matches!(error, HubError::Forbidden { .. }) || matches!(error.status(), Some(403 | 404 | 410))
}

/// Sends every object the batch answer asks for, [`PARALLEL_FILES`] at a time. An upload URL
/// that expired meanwhile is asked for again once.
async fn upload_objects(
    client: &HubClient,
    repo: &RepoId,
    branch: &str,
    answers: &[BatchObject],
    objects: &[(LfsObject, &Wanted)],
    observer: &Observer,
) -> Result<Vec<(LfsObject, UploadOutcome)>, UploadError> {
    let jobs = answers.iter().filter_map(|answer| {
        let (_, wanted) = objects.iter().find(|(o, _)| o.oid == answer.object.oid)?;
        let Content::Lfs { local, .. } = &wanted.content else {
            return None;
        };
        Some((answer, wanted.path.clone(), local.clone()))
    });
    let results: Vec<Result<(LfsObject, UploadOutcome), UploadError>> =
        futures_util::stream::iter(jobs.map(|(answer, path, local)| {
            let observer = observer.clone();
            async move {
                let present = matches!(answer.action, hub_client::LfsAction::AlreadyPresent);
                if !present {
                    observer(Event::UploadStart {
                        path: path.clone(),
                        bytes: answer.object.size,
                    });
                }
                let progress_observer = observer.clone();
                let progress_path = path.clone();
                let progress: ProgressCallback = Arc::new(move |p| {
                    progress_observer(Event::UploadProgress {
                        path: progress_path.clone(),
                        done: p.bytes_done,
                    })
                });
                let outcome = match client
                    .upload_lfs_action(answer, &local, Some(progress.clone()))
                    .await
                {
                    Err(e) if is_expired_url(&e) => {
                        observer(Event::Notice(format!(
                            "the upload URL of {path} was refused ({e}); asking for a new one"
                        )));
                        let fresh = client.lfs_batch(repo, branch, &[answer.object]).await?;
                        let fresh = fresh.first().ok_or_else(|| {
                            UploadError::InvalidInput(format!(
                                "the LFS batch answer for {path} was empty; try again"
                            ))
                        })?;
                        client
                            .upload_lfs_action(fresh, &local, Some(progress))
                            .await?
                    }
                    other => other?,
                };
                observer(Event::UploadDone {
                    path,
                    sent: !present,
                });
                Ok((answer.object, outcome))
            }
        }))
        .buffer_unordered(PARALLEL_FILES)
        .collect()
        .await;
    results.into_iter().collect()
}

/// Tags `commit`; an existing tag at the same commit is fine, at another one an error.
async fn apply_tag(
    client: &HubClient,
    repo: &RepoId,
    tag: &str,
    commit: &str,
    observer: &Observer,
) -> Result<TagReport, UploadError> {
    match client
        .create_tag(repo, tag, Some(commit), Some(&format!("Release {tag}")))
        .await
    {
        Ok(()) => {
            observer(Event::Notice(format!("tagged {commit} as {tag}")));
            Ok(TagReport {
                name: tag.to_owned(),
                commit: commit.to_owned(),
                created: true,
            })
        }
        Err(HubError::Conflict { .. }) => {
            let refs = client.list_refs(repo).await?;
            match refs.tag(tag) {
                Some(existing) if existing == commit => {
                    observer(Event::Notice(format!(
                        "tag {tag} already points at {commit}"
                    )));
                    Ok(TagReport {
                        name: tag.to_owned(),
                        commit: commit.to_owned(),
                        created: false,
                    })
                }
                Some(existing) => Err(UploadError::TagConflict {
                    repo: repo.to_string(),
                    tag: tag.to_owned(),
                    existing: existing.to_owned(),
                    wanted: commit.to_owned(),
                }),
                None => Err(UploadError::InvalidInput(format!(
                    "the Hub refused tag `{tag}` as a conflict but lists no such tag; check the tag name"
                ))),
            }
        }
        Err(e) => Err(e.into()),
    }
}
