//! Atomic commits through the NDJSON commit API, and the recovery of a commit whose answer was lost.
//!
//! # Why a commit is never blindly sent again
//!
//! A commit `POST` that times out, loses its connection or gets a 5xx may still have been
//! applied by the server (or may be applied later, if the server is merely slow). Sending it
//! again could create a second, duplicate commit. [`HubClient::commit`] prevents that twice:
//!
//! * **Every request carries a `parentCommit`**: the caller's, or else the branch head read
//!   just before the first send (the *base*). The server applies a body with a given parent
//!   at most once; any other copy, re-sent or delayed, gets 412 instead of a duplicate.
//! * **The branch is checked before any re-send.** After an ambiguous failure the client waits
//!   the backoff, then reads the branch head:
//!   1. If the head is still the base, the commit was not applied: it is sent again.
//!   2. If the head moved, it lists the commits above the base and, for each one (newest
//!      first, at most three) whose title equals our summary, checks with paths-info at that
//!      commit that the tree holds exactly the intended changes (LFS files with our sha256 and
//!      size, regular files with our git blob id, deleted paths absent). The first match is
//!      returned as our commit (`recovered: true`). The title alone is not trusted, because two
//!      publishers racing with the same summary would otherwise claim each other's commit.
//!   3. If nothing matches, ours was not applied. With a caller's `parent_commit` the branch
//!      moved under us, so the client returns [`HubError::PreconditionFailed`] and the caller
//!      re-plans. Without one, the new head becomes the base and the commit is sent again.
//!
//! A 412 received after a lost answer goes through the same check (our first copy may be what
//! moved the branch). Without a caller's parent, a 412 means someone else committed first:
//! the commit is sent again on the new head. If the branch cannot be read at all, the error
//! is [`HubError::CommitOutcomeUnknown`]: look at the branch before trying again. 408 and 429
//! mean the request was refused before it was applied, so those are sent again after the wait
//! without the check. Every re-send counts against the retry policy.

use base64::Engine as _;
use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use http_transport::{Request, RetryDecision, quote_segment};

use crate::client::HubClient;
use crate::error::HubError;
use crate::repo::{RepoId, validate_repo_path, validate_revision};
use crate::sha::{Sha256, git_blob_sha1};
use crate::types::TreeEntry;

/// One change in a commit.
#[derive(Clone, PartialEq, Eq)]
pub enum CommitOp {
    /// Adds or replaces a file whose content was uploaded through LFS.
    AddLfs {
        /// The path in the repository.
        path: String,
        /// The sha256 of the content.
        sha256: Sha256,
        /// The content size.
        size: u64,
    },
    /// Adds or replaces a small file sent inline (base64) in the commit.
    AddRegular {
        /// The path in the repository.
        path: String,
        /// The content.
        bytes: Vec<u8>,
    },
    /// Deletes a file.
    Delete {
        /// The path in the repository.
        path: String,
    },
    /// Deletes a folder and everything under it.
    DeleteFolder {
        /// The folder's path in the repository (a trailing `/` is allowed).
        path: String,
    },
}

impl std::fmt::Debug for CommitOp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::AddLfs { path, sha256, size } => {
                write!(f, "AddLfs({path:?}, {sha256}, {size} bytes)")
            }
            Self::AddRegular { path, bytes } => {
                write!(f, "AddRegular({path:?}, {} bytes)", bytes.len())
            }
            Self::Delete { path } => write!(f, "Delete({path:?})"),
            Self::DeleteFolder { path } => write!(f, "DeleteFolder({path:?})"),
        }
    }
}

impl CommitOp {
    /// The path the operation touches (without a folder's trailing `/`).
    pub fn path(&self) -> &str {
        match self {
            Self::AddLfs { path, .. } | Self::AddRegular { path, .. } | Self::Delete { path } => {
                path
            }
            Self::DeleteFolder { path } => path.trim_end_matches('/'),
        }
    }

    /// The NDJSON line of this operation.
    fn to_line(&self) -> serde_json::Value {
        match self {
            Self::AddLfs { path, sha256, size } => json!({
                "key": "lfsFile",
                "value": { "path": path, "algo": "sha256", "oid": sha256.to_hex(), "size": size },
            }),
            Self::AddRegular { path, bytes } => json!({
                "key": "file",
                "value": {
                    "content": base64::engine::general_purpose::STANDARD.encode(bytes),
                    "path": path,
                    "encoding": "base64",
                },
            }),
            Self::Delete { path } => json!({ "key": "deletedFile", "value": { "path": path } }),
            Self::DeleteFolder { path } => {
                json!({ "key": "deletedFolder", "value": { "path": path } })
            }
        }
    }

    /// True when `entry` (the entry at this path after the commit, if any) shows this change.
    fn is_reflected_by(&self, entry: Option<&TreeEntry>) -> bool {
        match (self, entry) {
            (Self::AddLfs { sha256, size, .. }, Some(e)) => {
                e.lfs.is_some_and(|l| l.oid == *sha256 && l.size == *size)
            }
            (Self::AddRegular { bytes, .. }, Some(e)) => {
                e.lfs.is_none()
                    && e.size == bytes.len() as u64
                    && (e.oid.is_empty() || e.oid == git_blob_sha1(bytes))
            }
            (Self::Delete { .. } | Self::DeleteFolder { .. }, None) => true,
            _ => false,
        }
    }
}

/// A commit to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCommit {
    /// The title (one line).
    pub summary: String,
    /// The longer description (may be empty).
    pub description: String,
    /// The commit the branch must be at (`parentCommit`); the server answers 412 otherwise.
    pub parent_commit: Option<String>,
    /// The changes, applied atomically.
    pub operations: Vec<CommitOp>,
}

/// The result of a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitResult {
    /// The new commit's id.
    pub commit_oid: String,
    /// The web URL of the commit, when the server gave it.
    pub commit_url: Option<String>,
    /// True when the answer was lost and the commit was found on the branch afterwards.
    pub recovered: bool,
}

#[derive(Deserialize)]
struct RawCommitAnswer {
    #[serde(rename = "commitOid")]
    commit_oid: String,
    #[serde(rename = "commitUrl", default)]
    commit_url: Option<String>,
}

/// How a commit attempt failed, when it may be sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    /// 408 or 429: refused before being applied.
    Refused,
    /// A dropped connection, a timeout or a 5xx: it may have been applied.
    Lost,
    /// 412 on our own base (see [`HubClient::commit`]).
    Stale,
}

/// What the branch says after an ambiguous failure.
enum Applied {
    Yes(String),
    No { head: String },
}

impl NewCommit {
    /// The NDJSON body.
    fn to_ndjson(&self, parent: Option<&str>) -> String {
        let mut header = json!({ "summary": self.summary, "description": self.description });
        if let Some(parent) = parent {
            header["parentCommit"] = json!(parent);
        }
        let mut out = json!({ "key": "header", "value": header }).to_string();
        out.push('\n');
        for op in &self.operations {
            out.push_str(&op.to_line().to_string());
            out.push('\n');
        }
        out
    }

    /// The title the server stores: the summary's first line.
    fn title(&self) -> &str {
        self.summary.lines().next().unwrap_or("").trim()
    }
}

impl HubClient {
    /// `POST /api/{t}/{repo}/commit/{branch}` with an NDJSON body: one atomic commit.
    ///
    /// LFS contents must have been uploaded before. A stale `parent_commit` gives
    /// [`HubError::PreconditionFailed`]. A lost answer is handled as the
    /// [module documentation](crate::commit) explains: never a blind re-send, never a
    /// duplicate commit.
    pub async fn commit(
        &self,
        repo: &RepoId,
        branch: &str,
        commit: &NewCommit,
    ) -> Result<CommitResult, HubError> {
        self.require_token("a commit")?;
        validate_revision(branch)?;
        if commit.title().is_empty() {
            return Err(HubError::InvalidInput {
                what: "commit".into(),
                reason: "the summary is empty; give it a title".into(),
            });
        }
        for op in &commit.operations {
            validate_repo_path(op.path())?;
        }
        let url = self.url(&format!(
            "/api/{}/{}/commit/{}",
            repo.repo_type().api_segment(),
            repo.as_path(),
            quote_segment(branch)
        ))?;
        let request = format!("POST {}", self.endpoint().display_url(&url));
        let caller_parent = commit.parent_commit.as_deref();
        // Every request carries a `parentCommit` (the caller's, else the head read now), so the
        // server applies one body at most once: a re-sent copy, or a delayed first copy that
        // arrives late, gets 412 instead of making a duplicate commit.
        let mut base = match caller_parent {
            Some(parent) => parent.to_owned(),
            None => self.resolve_revision(repo, branch).await?,
        };
        let mut answer_lost = false;
        let mut attempt = 0u32;
        loop {
            let call = Request::new(Method::POST, url.clone())
                .body(commit.to_ndjson(Some(&base)), "application/x-ndjson")
                .not_idempotent();
            let outcome = self.send(&call).await;
            let (kind, status, headers) = match &outcome {
                Ok(answer) if (200..300).contains(&answer.status) => {
                    let raw: RawCommitAnswer =
                        self.parse_json(answer, "a JSON object with `commitOid`")?;
                    return Ok(CommitResult {
                        commit_oid: raw.commit_oid,
                        commit_url: raw.commit_url,
                        recovered: false,
                    });
                }
                // Refused before being applied: safe to send again after the wait.
                Ok(answer) if matches!(answer.status, 408 | 429) => (
                    Failure::Refused,
                    Some(answer.status),
                    Some(answer.headers.clone()),
                ),
                Ok(answer) if matches!(answer.status, 500 | 502 | 503 | 504) => (
                    Failure::Lost,
                    Some(answer.status),
                    Some(answer.headers.clone()),
                ),
                // Our own base went stale: after a lost answer (maybe ours moved it), or when
                // the caller gave no parent (someone else moved it; commit on the new head).
                Ok(answer) if answer.status == 412 && (answer_lost || caller_parent.is_none()) => {
                    (Failure::Stale, None, None)
                }
                Ok(answer) => return Err(self.answer_error(answer)),
                Err(HubError::Transport { .. }) => (Failure::Lost, None, None),
                Err(_) => return outcome.map(|_| unreachable!("handled above")),
            };
            let decision = self
                .retry_policy()
                .decide(attempt, status, headers.as_ref());
            match decision {
                RetryDecision::TooLong(wait) => {
                    return Err(HubError::RetryAfterTooLong {
                        request,
                        status: status.unwrap_or(0),
                        retry_after: wait,
                        limit: self.retry_policy().max_retry_after,
                    });
                }
                // Wait before looking at the branch: a slow commit may land meanwhile.
                RetryDecision::RetryAfter(delay) => tokio::time::sleep(delay).await,
                RetryDecision::GiveUp => {}
            }
            answer_lost |= kind == Failure::Lost;
            if kind != Failure::Refused {
                tracing::debug!(
                    attempt,
                    ?status,
                    ?kind,
                    "commit failed; checking the branch before any re-send"
                );
                let head = if answer_lost {
                    match self.find_applied_commit(repo, branch, &base, commit).await {
                        Ok(Applied::Yes(commit_oid)) => {
                            tracing::debug!(%commit_oid, "the commit was applied; its answer was lost");
                            return Ok(CommitResult {
                                commit_oid,
                                commit_url: None,
                                recovered: true,
                            });
                        }
                        Ok(Applied::No { head }) => head,
                        Err(e) => {
                            return Err(HubError::CommitOutcomeUnknown {
                                branch: branch.to_owned(),
                                detail: e.to_string(),
                            });
                        }
                    }
                } else {
                    self.resolve_revision(repo, branch).await?
                };
                if head != base {
                    if caller_parent.is_some() {
                        return Err(HubError::PreconditionFailed {
                            request,
                            message: format!(
                                "the commit's answer was lost, it was not applied, and the branch moved from {base} to {head} meanwhile"
                            ),
                        });
                    }
                    base = head;
                }
            }
            match decision {
                RetryDecision::RetryAfter(_) => {
                    tracing::debug!(attempt, "sending the commit again");
                    attempt += 1;
                }
                _ => {
                    return match outcome {
                        Ok(answer) => Err(self.answer_error(&answer)),
                        Err(e) => Err(e),
                    };
                }
            }
        }
    }

    /// Looks for our commit above `base` on the branch (see the module documentation).
    async fn find_applied_commit(
        &self,
        repo: &RepoId,
        branch: &str,
        base: &str,
        commit: &NewCommit,
    ) -> Result<Applied, HubError> {
        let head = self.resolve_revision(repo, branch).await?;
        if head == base {
            return Ok(Applied::No { head });
        }
        let history = self.list_commits_until(repo, branch, Some(base)).await?;
        let above_base = history.iter().take_while(|c| c.id != base);
        for candidate in above_base
            .filter(|c| c.title.trim() == commit.title())
            .take(3)
        {
            if self
                .changes_present_at(repo, &candidate.id, &commit.operations)
                .await?
            {
                return Ok(Applied::Yes(candidate.id.clone()));
            }
        }
        Ok(Applied::No { head })
    }

    /// True when the tree at `revision` shows every operation.
    async fn changes_present_at(
        &self,
        repo: &RepoId,
        revision: &str,
        operations: &[CommitOp],
    ) -> Result<bool, HubError> {
        let paths: Vec<String> = operations.iter().map(|op| op.path().to_owned()).collect();
        let entries = self.paths_info(repo, revision, &paths).await?;
        Ok(operations
            .iter()
            .all(|op| op.is_reflected_by(entries.iter().find(|e| e.path == op.path()))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{EntryKind, LfsPointer};

    #[test]
    fn ndjson_body() {
        let sha = Sha256::digest(b"x");
        let commit = NewCommit {
            summary: "Upload m".into(),
            description: "".into(),
            parent_commit: Some("abc".into()),
            operations: vec![
                CommitOp::AddLfs {
                    path: "m.gguf".into(),
                    sha256: sha,
                    size: 1,
                },
                CommitOp::AddRegular {
                    path: "README.md".into(),
                    bytes: b"hi".to_vec(),
                },
                CommitOp::Delete {
                    path: "old.txt".into(),
                },
                CommitOp::DeleteFolder {
                    path: "dir/".into(),
                },
            ],
        };
        let lines: Vec<serde_json::Value> = commit
            .to_ndjson(commit.parent_commit.as_deref())
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 5);
        assert_eq!(
            lines[0],
            json!({"key":"header","value":{"summary":"Upload m","description":"","parentCommit":"abc"}})
        );
        assert_eq!(lines[1]["value"]["oid"], sha.to_hex());
        assert_eq!(lines[2]["value"]["content"], "aGk=");
        assert_eq!(
            lines[3],
            json!({"key":"deletedFile","value":{"path":"old.txt"}})
        );
        assert_eq!(
            lines[4],
            json!({"key":"deletedFolder","value":{"path":"dir/"}})
        );
        assert_eq!(commit.operations[3].path(), "dir");
    }

    #[test]
    fn recognising_applied_changes() {
        let sha = Sha256::digest(b"x");
        let file = |lfs: Option<LfsPointer>, oid: &str, size| TreeEntry {
            path: "p".into(),
            kind: EntryKind::File,
            oid: oid.into(),
            size,
            lfs,
        };
        let add = CommitOp::AddLfs {
            path: "p".into(),
            sha256: sha,
            size: 1,
        };
        assert!(add.is_reflected_by(Some(&file(Some(LfsPointer { oid: sha, size: 1 }), "", 1))));
        assert!(!add.is_reflected_by(Some(&file(
            Some(LfsPointer {
                oid: Sha256::digest(b"y"),
                size: 1
            }),
            "",
            1
        ))));
        assert!(!add.is_reflected_by(None));
        let regular = CommitOp::AddRegular {
            path: "p".into(),
            bytes: b"hello\n".to_vec(),
        };
        assert!(regular.is_reflected_by(Some(&file(
            None,
            "ce013625030ba8dba906f756967f9e9ca394464a",
            6
        ))));
        assert!(!regular.is_reflected_by(Some(&file(None, "0000", 6))));
        assert!(CommitOp::Delete { path: "p".into() }.is_reflected_by(None));
        assert!(!CommitOp::Delete { path: "p".into() }.is_reflected_by(Some(&file(None, "", 0))));
    }
}
