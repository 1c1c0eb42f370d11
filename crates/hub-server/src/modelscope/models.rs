//! The ModelScope account and model endpoints: login, whoami, model info, create and delete,
//! revisions, file listings, downloads and tags.

use std::collections::{BTreeMap, BTreeSet};

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    CODE_BAD_TOKEN, DEFAULT_BRANCH, bad, load_rev, model_id, not_found, ok, openapi_ok, q,
    readable, require_write, unauthorized,
};
use crate::context::{Auth, Ctx, read_json, token_auth};
use crate::error::{ApiError, ApiResult};
use crate::store::{
    FileEntry, RepoId, RepoKind, RepoMeta, Store, check_ref_name, sha256_file, tree_ids, unix_secs,
};
use crate::transfer::{serve_file, serve_lfs_object};

/// ModelScope's business code for "model already exists" (China site).
const CODE_MODEL_EXISTS: u64 = 10010101001;

fn user_json(ctx: &Ctx) -> Result<Value, ApiError> {
    let name = match super::auth(ctx) {
        Auth::Write | Auth::Read => ctx.state.config.user.clone(),
        Auth::Guest => "guest".to_owned(),
        Auth::Anonymous | Auth::Invalid => {
            return Err(unauthorized("login first: send the access token"));
        }
    };
    Ok(
        json!({"Username": name, "username": name, "Email": format!("{name}@localhost"), "email": format!("{name}@localhost")}),
    )
}

/// `GET /openapi/v1/users/me`.
pub(super) fn whoami(ctx: &Ctx) -> ApiResult {
    openapi_ok(user_json(ctx)?)
}

#[derive(Deserialize)]
struct LoginBody {
    #[serde(rename = "AccessToken")]
    access_token: String,
}

/// `POST /api/v1/login`: checks the token and sets the session cookie, as ModelScope does.
pub(super) async fn login(ctx: &Ctx, body: Body) -> ApiResult {
    let req: LoginBody = read_json(ctx, body).await?;
    let c = &ctx.state.config;
    let name = match token_auth(c, &req.access_token).0 {
        Auth::Invalid | Auth::Anonymous => {
            return Err(bad("AccessToken is invalid or expired").business_code(CODE_BAD_TOKEN));
        }
        Auth::Guest => "guest".to_owned(),
        Auth::Write | Auth::Read => c.user.clone(),
    };
    let mut resp = ok(json!({"Username": name, "Email": format!("{name}@localhost")}))?;
    let cookie = format!("m_session_id={}; Path=/; HttpOnly", req.access_token);
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(|_| bad("the token is not a valid cookie value"))?,
    );
    Ok(resp)
}

fn model_json(id: &RepoId, meta: &RepoMeta, openapi: bool) -> Value {
    let visibility = if meta.private { 1 } else { 5 };
    if openapi {
        json!({
            "id": id.full(),
            "owner": id.namespace,
            "name": id.name,
            "visibility": if meta.private { "private" } else { "public" },
            "created_at": meta.created_at,
        })
    } else {
        json!({
            "Id": id.full(),
            "Path": id.namespace,
            "Name": id.name,
            "Visibility": visibility,
            "CreatedTime": meta.created_at,
            "DefaultBranch": DEFAULT_BRANCH,
        })
    }
}

/// `GET /api/v1/models/{id}` and `GET /openapi/v1/models/{id}`.
pub(super) fn info(ctx: &Ctx, owner: &str, name: &str, openapi: bool) -> ApiResult {
    let st = ctx.state.modelscope_store()?;
    let id = model_id(owner, name)?;
    let meta = readable(ctx, &st, &id)?;
    if openapi {
        openapi_ok(model_json(&id, &meta, true))
    } else {
        ok(model_json(&id, &meta, false))
    }
}

#[derive(Deserialize)]
struct CreateBody {
    #[serde(rename = "Path")]
    path: String,
    #[serde(rename = "Name")]
    name: String,
    #[serde(rename = "Visibility", default)]
    visibility: Option<u8>,
}

/// `POST /api/v1/models`: a new model with `.gitattributes` on `master`.
pub(super) async fn create(ctx: &Ctx, body: Body) -> ApiResult {
    require_write(ctx)?;
    let req: CreateBody = read_json(ctx, body).await?;
    let id = RepoId::new(RepoKind::Model, &req.path, &req.name).ok_or_else(|| {
        bad(format!(
            "invalid model id {}/{}: use letters, digits, '-', '_' and '.'",
            req.path, req.name
        ))
    })?;
    let private = match req.visibility.unwrap_or(5) {
        5 => false,
        1 | 3 => true,
        v => return Err(bad(format!("Visibility {v} is not 1, 3 or 5"))),
    };
    let st = ctx.state.modelscope_store()?;
    let lock = ctx.state.modelscope.locks.get(&id);
    let _guard = lock.lock().await;
    if st.repo_meta(&id)?.is_some() {
        return Err(bad("model already exists").business_code(CODE_MODEL_EXISTS));
    }
    let meta = st.create_repo(&id, DEFAULT_BRANCH, &ctx.state.config.user, private, None)?;
    ok(model_json(&id, &meta, false))
}

/// `DELETE /api/v1/models/{id}`.
pub(super) async fn delete(ctx: &Ctx, owner: &str, name: &str) -> ApiResult {
    require_write(ctx)?;
    let st = ctx.state.modelscope_store()?;
    let id = model_id(owner, name)?;
    let lock = ctx.state.modelscope.locks.get(&id);
    let _guard = lock.lock().await;
    if st.repo_meta(&id)?.is_none() {
        return Err(not_found(format!("model {} not found", id.full())));
    }
    st.delete_repo(&id)?;
    ok(Value::Null)
}

/// `GET /api/v1/models/{id}/revisions`: branches and tags with their commit and time.
pub(super) fn revisions(ctx: &Ctx, owner: &str, name: &str) -> ApiResult {
    let st = ctx.state.modelscope_store()?;
    let id = model_id(owner, name)?;
    readable(ctx, &st, &id)?;
    let refs = st.refs(&id)?;
    let detail = |map: &BTreeMap<String, String>| -> Result<Vec<Value>, ApiError> {
        map.iter()
            .map(|(rev, commit)| {
                let created = st.commit(&id, commit)?.map_or(0, |c| unix_secs(&c.date));
                Ok(json!({"Revision": rev, "CommitId": commit, "CreatedAt": created}))
            })
            .collect()
    };
    ok(json!({"RevisionMap": {"Branches": detail(&refs.branches)?, "Tags": detail(&refs.tags)?}}))
}

/// The sha256 of a stored file: from the LFS info, or hashed from the blob (small files).
fn file_sha256(st: &Store, entry: &FileEntry) -> Result<String, ApiError> {
    match &entry.lfs {
        Some(lfs) => Ok(lfs.sha256.clone()),
        None => Ok(sha256_file(&st.blob_path(&entry.oid))?.1),
    }
}

/// `GET /api/v1/models/{id}/repo/files?Revision=&Recursive=&Root=`: `Data.Files`, sorted by path.
pub(super) fn list_files(ctx: &Ctx, owner: &str, name: &str) -> ApiResult {
    let st = ctx.state.modelscope_store()?;
    let id = model_id(owner, name)?;
    readable(ctx, &st, &id)?;
    let record = load_rev(&st, &id, q(ctx, "Revision").unwrap_or(""))?;
    let recursive = q(ctx, "Recursive").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let root = q(ctx, "Root").unwrap_or("").trim_matches('/');
    let prefix = if root.is_empty() {
        String::new()
    } else {
        format!("{root}/")
    };
    let trees = tree_ids(&record.files);
    let mut out = Vec::new();
    let mut dirs = BTreeSet::new();
    for (path, entry) in &record.files {
        let Some(rel) = path.strip_prefix(&prefix) else {
            continue;
        };
        if !recursive && let Some((dir, _)) = rel.split_once('/') {
            dirs.insert(format!("{prefix}{dir}"));
            continue;
        }
        let file_name = path.rsplit('/').next().unwrap_or(path);
        out.push(json!({
            "Name": file_name,
            "Path": path,
            "Type": "blob",
            "Size": entry.size,
            "Sha256": file_sha256(&st, entry)?,
            "IsLFS": entry.lfs.is_some(),
            "Id": entry.oid,
            "Mode": "100644",
            "Revision": record.id,
            "CommitId": record.id,
            "CommitMessage": record.title,
            "CommittedDate": unix_secs(&record.date),
        }));
    }
    if !recursive {
        for dir in dirs {
            let file_name = dir.rsplit('/').next().unwrap_or(&dir).to_owned();
            out.push(json!({
                "Name": file_name,
                "Path": dir,
                "Type": "tree",
                "Size": 0,
                "Id": trees.get(&dir).cloned().unwrap_or_default(),
                "Mode": "040000",
                "Revision": record.id,
            }));
        }
    }
    ok(json!({"Files": out}))
}

/// `GET /api/v1/models/{id}/repo?Revision=&FilePath=`: the file's bytes, with ranges.
pub(super) async fn download(ctx: &Ctx, owner: &str, name: &str) -> ApiResult {
    let st = ctx.state.modelscope_store()?;
    let id = model_id(owner, name)?;
    readable(ctx, &st, &id)?;
    let path = q(ctx, "FilePath").ok_or_else(|| bad("FilePath is required"))?;
    let record = load_rev(&st, &id, q(ctx, "Revision").unwrap_or(""))?;
    let entry = record
        .files
        .get(path.trim_start_matches('/'))
        .ok_or_else(|| not_found(format!("file {path} not found")))?;
    let extra = vec![("x-repo-commit", record.id.clone())];
    match &entry.lfs {
        Some(lfs) => serve_lfs_object(ctx, &st, &lfs.sha256, &lfs.sha256, extra).await,
        None => {
            serve_file(
                ctx,
                &st.blob_path(&entry.oid),
                entry.size,
                &entry.oid,
                extra,
            )
            .await
        }
    }
}

#[derive(Deserialize)]
struct TagBody {
    #[serde(rename = "TagName")]
    tag_name: String,
    #[serde(rename = "Ref", default)]
    git_ref: String,
}

/// `POST /api/v1/models/{id}/repo/tag`: a tag on a branch, tag or commit.
pub(super) async fn create_tag(ctx: &Ctx, owner: &str, name: &str, body: Body) -> ApiResult {
    require_write(ctx)?;
    let req: TagBody = read_json(ctx, body).await?;
    let st = ctx.state.modelscope_store()?;
    let id = model_id(owner, name)?;
    readable(ctx, &st, &id)?;
    let tag = req.tag_name.trim();
    check_ref_name(tag).map_err(|why| bad(format!("invalid tag name {tag:?}: {why}")))?;
    let lock = ctx.state.modelscope.locks.get(&id);
    let _guard = lock.lock().await;
    let record = load_rev(&st, &id, &req.git_ref)?;
    let mut refs = st.refs(&id)?;
    if refs.tags.contains_key(tag) || refs.branches.contains_key(tag) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("tag {tag} already exists"),
        ));
    }
    refs.tags.insert(tag.to_owned(), record.id.clone());
    st.write_refs(&id, &refs)?;
    ok(json!({"TagName": tag, "Ref": req.git_ref, "CommitId": record.id}))
}
