//! Publishing to the ModelScope mode: the LFS batch request that hands out upload URLs for the
//! missing objects, the upload URLs themselves (the shared intake), and the one-request commit.

use std::collections::BTreeMap;
use std::time::Instant;

use axum::body::Body;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::json;

use super::{DEFAULT_BRANCH, bad, model_id, not_found, ok, readable, require_write};
use crate::context::{Ctx, Site, Upload, UploadKind, UploadSessions, read_body, read_json};
use crate::error::{ApiError, ApiResult};
use crate::store::{
    FileEntry, Store, check_addition, check_ref_name, check_repo_path, is_sha256_hex, new_commit,
    unix_secs,
};
use crate::transfer::intake::receive_object;

/// The largest object accepted (ModelScope's own limit is far above what tests use).
const MAX_OBJECT: u64 = 50 * 1000 * 1000 * 1000;
/// The most objects one batch request may list.
const MAX_BATCH: usize = 10_000;
/// The largest commit body: base64 inline files plus JSON.
const MAX_COMMIT_BODY: usize = 256 * 1024 * 1024;

#[derive(Deserialize)]
struct BatchBody {
    operation: String,
    objects: Vec<BatchObject>,
}

#[derive(Deserialize)]
struct BatchObject {
    oid: String,
    size: u64,
}

/// `POST /api/v1/repos/models/{id}/info/lfs/objects/batch`: an upload URL for each missing
/// object; objects already stored come back without `actions`.
pub(super) async fn batch(ctx: &Ctx, owner: &str, name: &str, body: Body) -> ApiResult {
    require_write(ctx)?;
    let req: BatchBody = read_json(ctx, body).await?;
    if req.operation != "upload" {
        return Err(bad(format!(
            "operation {:?} is not supported: use \"upload\"",
            req.operation
        )));
    }
    if req.objects.len() > MAX_BATCH {
        return Err(bad(format!(
            "at most {MAX_BATCH} objects per batch request"
        )));
    }
    let st = ctx.state.modelscope_store()?;
    let id = model_id(owner, name)?;
    readable(ctx, &st, &id)?;
    let ttl = ctx.state.config.upload_url_ttl;
    let mut out = Vec::new();
    for obj in &req.objects {
        if !is_sha256_hex(&obj.oid) {
            return Err(bad(format!("oid {:?} is not a lowercase sha256", obj.oid)));
        }
        if obj.size > MAX_OBJECT {
            return Err(bad(format!(
                "object {} is over {MAX_OBJECT} bytes",
                obj.oid
            )));
        }
        if st.lfs_size(&obj.oid) == Some(obj.size) {
            out.push(json!({"oid": obj.oid, "size": obj.size}));
            continue;
        }
        let token = UploadSessions::new_token();
        ctx.state.uploads.insert(
            token.clone(),
            Upload {
                site: Site::ModelScope,
                oid: obj.oid.clone(),
                size: obj.size,
                expires: Instant::now() + ttl,
                kind: UploadKind::Basic,
            },
        );
        let href = format!("{}/api/v1/lfs-upload/{token}", ctx.base);
        out.push(json!({
            "oid": obj.oid,
            "size": obj.size,
            "actions": {"upload": {"href": href, "expires_in": ttl.as_secs()}},
        }));
    }
    ok(json!({"transfer": "basic", "objects": out}))
}

/// `PUT /api/v1/lfs-upload/{token}`: the object's bytes, through the shared intake (size and
/// sha256 checked against the batch request before it becomes an object).
pub(super) async fn put_object(ctx: &Ctx, token: &str, body: Body) -> ApiResult {
    let upload = ctx.state.uploads.get(token, Site::ModelScope)?;
    let st = ctx.state.modelscope_store()?;
    // The Hub mode's byte counter stays the Hub's (see `Stats::upload_bytes`).
    receive_object(&st, token, body, &upload.oid, upload.size, None).await?;
    ctx.state.uploads.remove(token);
    ok(json!({"oid": upload.oid, "size": upload.size}))
}

#[derive(Deserialize)]
struct CommitBody {
    #[serde(default)]
    commit_message: String,
    actions: Vec<CommitAction>,
}

#[derive(Deserialize)]
struct CommitAction {
    action: String,
    path: String,
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    size: Option<u64>,
    #[serde(default)]
    sha256: String,
    #[serde(default)]
    content: String,
    #[serde(default)]
    encoding: String,
}

/// `POST /api/v1/repos/models/{id}/commit/{revision}`: applies every action in one commit, on
/// a new branch from `master` when `revision` is not a branch yet.
pub(super) async fn commit(ctx: &Ctx, owner: &str, name: &str, rev: &str, body: Body) -> ApiResult {
    require_write(ctx)?;
    let bytes = read_body(body, MAX_COMMIT_BODY).await?;
    let req: CommitBody =
        serde_json::from_slice(&bytes).map_err(|e| bad(format!("invalid commit JSON: {e}")))?;
    drop(bytes);
    if req.actions.is_empty() {
        return Err(bad("the commit has no actions"));
    }
    let st = ctx.state.modelscope_store()?;
    let id = model_id(owner, name)?;
    readable(ctx, &st, &id)?;
    let lock = ctx.state.modelscope.locks.get(&id);
    let _guard = lock.lock().await;
    let mut refs = st.refs(&id)?;
    let parent = match refs.branches.get(rev) {
        Some(head) => head.clone(),
        // A new branch starts at master's head (see the module documentation).
        None => {
            if refs.tags.contains_key(rev) {
                return Err(bad(format!(
                    "{rev} is a tag, not a branch: commit to a branch"
                )));
            }
            check_ref_name(rev)
                .map_err(|why| bad(format!("invalid branch name {rev:?}: {why}")))?;
            refs.branches.get(DEFAULT_BRANCH).cloned().ok_or_else(|| {
                not_found(format!(
                    "branch {rev} not found and there is no {DEFAULT_BRANCH} to create it from"
                ))
            })?
        }
    };
    let parent_record = st
        .commit(&id, &parent)?
        .ok_or_else(|| ApiError::internal(format!("commit {parent} is missing")))?;
    let mut files = parent_record.files;
    for a in &req.actions {
        apply(&st, &mut files, a)?;
    }
    let (title, message) = match req.commit_message.split_once('\n') {
        Some((t, m)) => (t.trim().to_owned(), m.trim().to_owned()),
        None => (req.commit_message.trim().to_owned(), String::new()),
    };
    let title = if title.is_empty() {
        "Upload files".to_owned()
    } else {
        title
    };
    let record = new_commit(
        vec![parent],
        files,
        &ctx.state.config.user,
        &title,
        &message,
    );
    st.write_commit(&id, &record)?;
    refs.branches.insert(rev.to_owned(), record.id.clone());
    st.write_refs(&id, &refs)?;
    ok(json!({
        "Id": record.id,
        "ShortId": &record.id[..8],
        "Title": record.title,
        "Message": record.message,
        "Revision": rev,
        "CommittedDate": unix_secs(&record.date),
    }))
}

/// Applies one commit action to the manifest.
fn apply(
    st: &Store,
    files: &mut BTreeMap<String, FileEntry>,
    a: &CommitAction,
) -> Result<(), ApiError> {
    let path = check_repo_path(&a.path, false)
        .map_err(|e| bad(format!("invalid path {:?}: {e}", a.path)))?;
    match a.action.as_str() {
        "create" | "update" => {
            let entry = match a.kind.as_str() {
                "lfs" => {
                    let size = a
                        .size
                        .ok_or_else(|| bad(format!("{path}: an lfs action needs its size")))?;
                    if !is_sha256_hex(&a.sha256) {
                        return Err(bad(format!(
                            "{path}: sha256 {:?} is not lowercase hex",
                            a.sha256
                        )));
                    }
                    if st.lfs_size(&a.sha256) != Some(size) {
                        return Err(bad(format!(
                            "{path}: object {} of {size} bytes was not uploaded: upload it through the batch endpoint first",
                            a.sha256
                        )));
                    }
                    FileEntry::lfs(a.sha256.clone(), size)
                }
                "normal" | "" => {
                    let content = match a.encoding.as_str() {
                        "base64" => base64::engine::general_purpose::STANDARD
                            .decode(a.content.as_bytes())
                            .map_err(|e| bad(format!("{path}: content is not base64: {e}")))?,
                        "" | "utf-8" | "utf8" => a.content.clone().into_bytes(),
                        other => {
                            return Err(bad(format!(
                                "{path}: encoding {other:?} is not supported"
                            )));
                        }
                    };
                    if let Some(size) = a.size
                        && size != content.len() as u64
                    {
                        return Err(bad(format!(
                            "{path}: size says {size} but the content has {} bytes",
                            content.len()
                        )));
                    }
                    FileEntry::regular(st.put_blob(&content)?, content.len() as u64)
                }
                other => {
                    return Err(bad(format!(
                        "{path}: type {other:?} is not \"normal\" or \"lfs\""
                    )));
                }
            };
            check_addition(files, &path).map_err(bad)?;
            files.insert(path, entry);
        }
        "delete" => {
            if files.remove(&path).is_none() {
                return Err(not_found(format!("{path}: file not found")));
            }
        }
        other => {
            return Err(bad(format!(
                "action {other:?} is not create, update or delete"
            )));
        }
    }
    Ok(())
}
