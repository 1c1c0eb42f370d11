//! `POST /api/{t}/{repo}/commit/{rev}`: the NDJSON commit. The body is streamed line by line
//! into operations (checked and their inline files stored as they arrive), then applied to the
//! branch head under the repo's lock, so a commit lands whole or not at all.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::IntoResponse as _;
use base64::Engine as _;
use futures_util::StreamExt as _;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _};

use super::preupload::{check_readme, looks_binary};
use super::{DEFAULT_BRANCH, repo_url};
use crate::context::Ctx;
use crate::error::{ApiError, ApiResult};
use crate::store::{
    FileEntry, Refs, RepoId, RepoKind, check_addition, check_repo_path, is_sha256_hex, new_commit,
};

/// The Hub's limit for any file sent inline in a commit.
const INLINE_MAX: usize = 10 * 1024 * 1024;
/// The Hub's limit for binary files sent inline in a commit.
const INLINE_BINARY_MAX: usize = 1_000_000;
/// The longest NDJSON line accepted: a 10 MiB file in base64 plus the JSON around it.
const MAX_COMMIT_LINE: u64 = 15 * 1024 * 1024;

/// One parsed commit operation.
enum Op {
    Add(String, FileEntry),
    DeleteFile(String),
    DeleteFolder(String),
}

#[derive(Deserialize)]
struct CommitLine {
    key: String,
    value: Value,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct CommitHeader {
    #[serde(default)]
    summary: String,
    #[serde(default)]
    description: String,
    parent_commit: Option<String>,
}

fn invalid_path(msg: String) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, msg).code("InvalidPath")
}

/// The commit endpoint: parse, then apply on the branch (or pull request) head.
pub(super) async fn commit(ctx: &Ctx, id: &RepoId, rev: &str, body: Body) -> ApiResult {
    ctx.writable_repo(id)?;
    let rev = if rev.is_empty() { DEFAULT_BRANCH } else { rev };
    let create_pr = ctx.q_true("create_pr");
    let (header, ops) = read_operations(ctx, id.kind, body).await?;
    let title = if header.summary.trim().is_empty() {
        "Upload files".to_owned()
    } else {
        header.summary.trim().to_owned()
    };

    let lock = ctx.state.locks.get(id);
    let _guard = lock.lock().await;
    // The repo may have been deleted while the body was read.
    ctx.writable_repo(id)?;
    let store = &ctx.state.store;
    let mut refs = store.refs(id)?;
    let head = commit_head(&refs, rev, create_pr)?;
    if let Some(parent) = header.parent_commit.as_deref()
        && parent != head
    {
        return Err(ApiError::new(
            StatusCode::PRECONDITION_FAILED,
            "The branch was updated since you opened this page. Please refresh and try again.",
        )
        .code("PreconditionFailed"));
    }
    let parent = store
        .commit(id, &head)?
        .ok_or_else(|| ApiError::internal(format!("commit {head} is missing from the store")))?;
    let mut files = parent.files.clone();
    // The LFS objects the commit adds become readable with the repo's CAS tokens.
    let objects: Vec<String> = ops
        .iter()
        .filter_map(|op| match op {
            Op::Add(_, entry) => entry.lfs.as_ref().map(|l| l.sha256.clone()),
            _ => None,
        })
        .collect();
    apply(&mut files, ops)?;
    let record = new_commit(
        vec![head],
        files,
        &ctx.state.config.user,
        &title,
        &header.description,
    );
    for sha256 in &objects {
        store.add_repo_object(id, sha256)?;
    }
    store.write_commit(id, &record)?;
    let mut pr_url = None;
    if create_pr {
        let n = refs.pulls.keys().next_back().copied().unwrap_or(0) + 1;
        refs.pulls.insert(n, record.id.clone());
        pr_url = Some(format!("{}/discussions/{n}", repo_url(ctx, id)));
    } else if let Some(n) = pull_request(rev).filter(|n| refs.pulls.contains_key(n)) {
        refs.pulls.insert(n, record.id.clone());
    } else {
        let branch = rev.strip_prefix("refs/heads/").unwrap_or(rev);
        refs.branches.insert(branch.to_owned(), record.id.clone());
    }
    store.write_refs(id, &refs)?;
    ctx.state.counters.commits.fetch_add(1, Ordering::Relaxed);
    let mut out = json!({
        "success": true,
        "commitOid": record.id,
        "commitUrl": format!("{}/commit/{}", repo_url(ctx, id), record.id),
        "hookOutput": "",
    });
    if let Some(url) = pr_url {
        out["pullRequestUrl"] = Value::String(url);
    }
    Ok(axum::Json(out).into_response())
}

/// The number of a `refs/pr/N` revision.
fn pull_request(rev: &str) -> Option<u64> {
    rev.strip_prefix("refs/pr/")?.parse().ok()
}

/// The commit a new commit goes on top of: the head of a branch, or of an open pull request
/// unless it opens one. A pull request's base is a branch: the Hub answers 404
/// `RevisionNotFound` to `create_pr` on a tag, a commit id or another pull request.
fn commit_head(refs: &Refs, rev: &str, create_pr: bool) -> Result<String, ApiError> {
    let branch = rev.strip_prefix("refs/heads/").unwrap_or(rev);
    if let Some(c) = refs.branches.get(branch) {
        return Ok(c.clone());
    }
    if create_pr {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!(
                "Invalid rev id: {rev} is not a branch; a pull request's base must be a branch"
            ),
        )
        .code("RevisionNotFound"));
    }
    pull_request(rev)
        .and_then(|n| refs.pulls.get(&n))
        .cloned()
        .ok_or_else(|| ApiError::revision_not_found(rev))
}

/// Reads the NDJSON body within the configured limits into its header and operations.
async fn read_operations(
    ctx: &Ctx,
    kind: RepoKind,
    body: Body,
) -> Result<(CommitHeader, Vec<Op>), ApiError> {
    let cfg = &ctx.state.config;
    let stream = body
        .into_data_stream()
        .map(|r| r.map_err(std::io::Error::other));
    let mut reader = tokio::io::BufReader::new(tokio_util::io::StreamReader::new(stream));
    let mut header: Option<CommitHeader> = None;
    let mut ops = Vec::new();
    let mut total = 0u64;
    let mut lines = 0usize;
    loop {
        let mut line = Vec::new();
        let n = (&mut reader)
            .take(MAX_COMMIT_LINE + 1)
            .read_until(b'\n', &mut line)
            .await
            .map_err(|e| ApiError::bad_request(format!("reading the commit body: {e}")))?;
        if n == 0 {
            break;
        }
        if n as u64 > MAX_COMMIT_LINE {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "a commit line is longer than {MAX_COMMIT_LINE} bytes: send large files through LFS"
                ),
            ));
        }
        total += n as u64;
        lines += 1;
        if total > cfg.max_commit_bytes || lines > cfg.max_commit_lines {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the commit is too large (limits: {} bytes, {} lines): split it into several commits",
                    cfg.max_commit_bytes, cfg.max_commit_lines
                ),
            ));
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let parsed: CommitLine = serde_json::from_slice(&line).map_err(|e| {
            ApiError::bad_request(format!(
                "commit line {lines} is not a JSON object with key and value: {e}"
            ))
        })?;
        if parsed.key == "header" {
            if header.is_some() {
                return Err(ApiError::bad_request("the commit has two header lines"));
            }
            header = Some(
                serde_json::from_value(parsed.value)
                    .map_err(|e| ApiError::bad_request(format!("invalid commit header: {e}")))?,
            );
        } else {
            ops.push(parse_op(ctx, kind, &parsed.key, parsed.value)?);
        }
    }
    let header = header.ok_or_else(|| ApiError::bad_request("the commit has no header line"))?;
    Ok((header, ops))
}

/// Checks one operation line; an inline file's bytes are stored at once (content-addressed,
/// so a commit that fails later leaves only an unreferenced blob).
fn parse_op(ctx: &Ctx, kind: RepoKind, key: &str, value: Value) -> Result<Op, ApiError> {
    let field = |name: &str| -> Result<String, ApiError> {
        value
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| {
                ApiError::bad_request(format!("commit operation {key} needs a string {name:?}"))
            })
    };
    match key {
        "file" => {
            let path = check_repo_path(&field("path")?, false).map_err(invalid_path)?;
            let content = field("content")?;
            let bytes = match value.get("encoding").and_then(Value::as_str) {
                Some("base64") | None => base64::engine::general_purpose::STANDARD
                    .decode(content.as_bytes())
                    .map_err(|e| {
                        ApiError::bad_request(format!("content of {path} is not base64: {e}"))
                    })?,
                Some("utf-8" | "utf8") => content.into_bytes(),
                Some(other) => {
                    return Err(ApiError::bad_request(format!(
                        "unknown encoding {other:?} for {path}"
                    )));
                }
            };
            if bytes.len() > INLINE_MAX {
                return Err(ApiError::bad_request(format!(
                    "Your push was rejected because it contains files larger than 10 MiB ({path}). \
                     Please use https://git-lfs.github.com/ to store large files."
                )));
            }
            if bytes.len() > INLINE_BINARY_MAX && looks_binary(&bytes) {
                return Err(ApiError::bad_request(format!(
                    "Your push was rejected because it contains binary files ({path}). \
                     Please use https://huggingface.co/docs/hub/xet to store binary files."
                )));
            }
            check_readme(kind, &path, &bytes)?;
            let oid = ctx.state.store.put_blob(&bytes)?;
            Ok(Op::Add(path, FileEntry::regular(oid, bytes.len() as u64)))
        }
        "lfsFile" => {
            let path = check_repo_path(&field("path")?, false).map_err(invalid_path)?;
            let oid = field("oid")?;
            if let Some(algo) = value.get("algo").and_then(Value::as_str)
                && algo != "sha256"
            {
                return Err(ApiError::bad_request(format!(
                    "unsupported LFS algo {algo:?}: use sha256"
                )));
            }
            if !is_sha256_hex(&oid) {
                return Err(ApiError::bad_request(format!(
                    "LFS oid of {path} must be 64 lowercase hex characters"
                )));
            }
            let stored = ctx.state.store.lfs_size(&oid).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "Your push was rejected because an LFS pointer pointed to a file that does not \
                     exist: {path} (sha256 {oid}); upload it through the LFS batch API first"
                ))
            })?;
            if let Some(size) = value.get("size").and_then(Value::as_u64)
                && size != stored
            {
                return Err(ApiError::bad_request(format!(
                    "LFS object {oid} for {path} has {stored} bytes, not the {size} the commit says"
                )));
            }
            Ok(Op::Add(path, FileEntry::lfs(oid, stored)))
        }
        "deletedFile" => Ok(Op::DeleteFile(
            check_repo_path(&field("path")?, false).map_err(invalid_path)?,
        )),
        "deletedFolder" => Ok(Op::DeleteFolder(
            check_repo_path(&field("path")?, true).map_err(invalid_path)?,
        )),
        other => Err(ApiError::bad_request(format!(
            "unknown commit operation key {other:?}: use header, file, lfsFile, deletedFile or deletedFolder"
        ))),
    }
}

/// Applies the operations, in order, to the parent's manifest.
fn apply(files: &mut BTreeMap<String, FileEntry>, ops: Vec<Op>) -> Result<(), ApiError> {
    for op in ops {
        match op {
            Op::Add(path, entry) => {
                check_addition(files, &path).map_err(invalid_path)?;
                files.insert(path, entry);
            }
            // A `deletedFile` naming a folder deletes the folder, as on the Hub:
            // huggingface_hub sends `deletedFile` for `CommitOperationDelete("folder")` (no
            // trailing `/`, so it cannot know it is one).
            Op::DeleteFile(path) => {
                if files.remove(&path).is_none() && !remove_folder(files, &path) {
                    return Err(ApiError::new(
                        StatusCode::NOT_FOUND,
                        format!("A file with this name doesn't exist: {path}"),
                    )
                    .code("EntryNotFound"));
                }
            }
            Op::DeleteFolder(path) => {
                if !remove_folder(files, &path) {
                    return Err(ApiError::new(
                        StatusCode::NOT_FOUND,
                        format!("A folder with this name doesn't exist: {path}"),
                    )
                    .code("EntryNotFound"));
                }
            }
        }
    }
    Ok(())
}

/// Removes every file under the folder `path`; false when there is none.
fn remove_folder(files: &mut BTreeMap<String, FileEntry>, path: &str) -> bool {
    let under = format!("{path}/");
    let before = files.len();
    files.retain(|p, _| !p.starts_with(&under));
    files.len() != before
}
