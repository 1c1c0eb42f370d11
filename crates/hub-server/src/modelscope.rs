//! The ModelScope-compatible mode of the server: the `/api/v1/...` (and the two `/openapi/v1/...`)
//! endpoints the official `modelscope` SDK and `modelscope-client` use to create a model, ask
//! which LFS objects are missing, upload them, commit, list, download, and tag.
//!
//! ModelScope repos live in their own store under `{data_dir}/modelscope/` (created on first
//! use): another site, so a model of the same name on the Hub side never collides with it, and
//! the default branch is `master`. The store code (manifests, content-addressed objects, atomic
//! writes) is the Hub side's.
//!
//! Behaviour where ModelScope is not public:
//! * Auth: `Authorization: Bearer <token>` or the cookie `m_session_id=<token>`, checked against
//!   the same token lists as the Hub side. Answers are `{"Code", "Data", "Message",
//!   "RequestId", "Success"}`; failures carry the HTTP status the SDK maps to its errors.
//! * Creating a model writes a first commit on `master` holding `.gitattributes`.
//! * Upload URLs are `/api/v1/lfs-upload/{48 random hex}`, valid for `upload_url_ttl`, in memory;
//!   the bytes are streamed to a temporary file and become an object only if size and sha256
//!   match what the batch request announced.
//! * A commit's `create` action also replaces an existing file, as the SDK uses it for both.
//! * A commit to a branch that does not exist yet, on an existing model, creates the branch from
//!   the head of `master` and commits on top of it, as a `git push` of a new branch does. The
//!   official SDK has no create-branch call: `upload_file`, `upload_folder` and `push_model`
//!   with `revision=` just POST `/commit/{revision}` (`modelscope_hub/_legacy_api.py`
//!   `create_commit`), so they only work with a new branch if the server does this; what
//!   ModelScope itself answers is not documented. `modelscope-client` also copes with a 404
//!   (tested with fault injection). A failed commit creates no branch; a tag name is refused.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::body::Body;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use futures_util::StreamExt as _;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use tokio::io::AsyncWriteExt as _;

use crate::context::{Auth, Ctx, RepoLocks, read_body, token_auth};
use crate::store::{
    self, CommitRecord, FileEntry, LfsInfo, RepoId, RepoKind, RepoMeta, Store, check_repo_path,
    is_sha256_hex, random_hex, sha256_file, sync_dir,
};
use crate::store::{new_commit as make_commit, now_rfc3339, unix_secs};

/// ModelScope's default branch.
pub const DEFAULT_BRANCH: &str = "master";
/// The largest object accepted (ModelScope's own limit is far above what tests use).
const MAX_OBJECT: u64 = 50 * 1000 * 1000 * 1000;
/// The most objects one batch request may list.
const MAX_BATCH: usize = 10_000;
/// The largest commit body: base64 inline files plus JSON.
const MAX_COMMIT_BODY: usize = 256 * 1024 * 1024;
/// ModelScope's business code for "model already exists" (China site).
const CODE_MODEL_EXISTS: u64 = 10010101001;
/// The business code of a failed login.
const CODE_BAD_TOKEN: u64 = 10010103009;

/// An upload URL handed out by the batch endpoint.
#[derive(Debug, Clone)]
struct PendingUpload {
    oid: String,
    size: u64,
    expires: Instant,
}

/// State of the ModelScope mode, held by the server; the store opens on first use.
#[derive(Debug, Default)]
pub(crate) struct MsState {
    store: Mutex<Option<Arc<Store>>>,
    uploads: Mutex<HashMap<String, PendingUpload>>,
    locks: RepoLocks,
}

impl MsState {
    fn store(&self, ctx: &Ctx) -> Result<Arc<Store>, MsError> {
        let mut slot = self.store.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = slot.as_ref() {
            return Ok(s.clone());
        }
        let root = ctx.state.config.data_dir.join("modelscope");
        let opened = Arc::new(Store::open(root).map_err(MsError::internal)?);
        *slot = Some(opened.clone());
        Ok(opened)
    }
}

/// An error answer in ModelScope's envelope.
#[derive(Debug)]
pub(crate) struct MsError {
    status: StatusCode,
    code: u64,
    message: String,
}

impl MsError {
    fn new(status: StatusCode, message: impl Into<String>) -> MsError {
        MsError {
            status,
            code: u64::from(status.as_u16()),
            message: message.into(),
        }
    }

    fn bad(message: impl Into<String>) -> MsError {
        MsError::new(StatusCode::BAD_REQUEST, message)
    }

    fn not_found(message: impl Into<String>) -> MsError {
        MsError::new(StatusCode::NOT_FOUND, message)
    }

    fn internal(err: impl std::fmt::Display) -> MsError {
        tracing::error!("modelscope internal error: {err}");
        MsError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("internal server error: {err}"),
        )
    }

    fn code(mut self, code: u64) -> MsError {
        self.code = code;
        self
    }
}

impl From<std::io::Error> for MsError {
    fn from(err: std::io::Error) -> MsError {
        MsError::internal(err)
    }
}

impl From<crate::error::ApiError> for MsError {
    fn from(err: crate::error::ApiError) -> MsError {
        // Only the shared body reader produces these: a body too large or cut short.
        MsError::bad(format!("{err:?}"))
    }
}

impl IntoResponse for MsError {
    fn into_response(self) -> Response {
        let body = json!({
            "Code": self.code,
            "Message": self.message,
            "RequestId": random_hex(16),
            "Success": false,
        });
        (self.status, axum::Json(body)).into_response()
    }
}

type MsResult = Result<Response, MsError>;

/// The success envelope around `data`.
fn ok(data: Value) -> MsResult {
    Ok(axum::Json(json!({
        "Code": 200,
        "Data": data,
        "Message": "success",
        "RequestId": random_hex(16),
        "Success": true,
    }))
    .into_response())
}

/// The OpenAPI success envelope (`/openapi/v1`).
fn openapi_ok(data: Value) -> MsResult {
    Ok(
        axum::Json(json!({"success": true, "data": data, "request_id": random_hex(16)}))
            .into_response(),
    )
}

/// Who is calling: the Hub side's answer from the `Authorization` header, else the cookie.
fn auth(ctx: &Ctx) -> Auth {
    if ctx.auth != Auth::Anonymous {
        return ctx.auth;
    }
    let Some(token) = session_cookie(ctx) else {
        return Auth::Anonymous;
    };
    token_auth(&ctx.state.config, &token).0
}

/// The `m_session_id` cookie, if the request carries one.
fn session_cookie(ctx: &Ctx) -> Option<String> {
    ctx.headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == "m_session_id")
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

fn require_write(ctx: &Ctx) -> Result<(), MsError> {
    match auth(ctx) {
        Auth::Write => Ok(()),
        Auth::Anonymous => Err(MsError::new(
            StatusCode::UNAUTHORIZED,
            "login first: send the access token as cookie m_session_id or Bearer",
        )),
        Auth::Invalid => Err(MsError::new(
            StatusCode::UNAUTHORIZED,
            "the access token is invalid or expired",
        )),
        Auth::Read | Auth::Guest => Err(MsError::new(
            StatusCode::FORBIDDEN,
            "the access token may not write to this model",
        )),
    }
}

fn can_read_private(ctx: &Ctx) -> bool {
    matches!(auth(ctx), Auth::Write | Auth::Read)
}

fn q<'a>(ctx: &'a Ctx, key: &str) -> Option<&'a str> {
    ctx.query
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v.as_str())
}

fn model_id(owner: &str, name: &str) -> Result<RepoId, MsError> {
    RepoId::new(RepoKind::Model, owner, name)
        .ok_or_else(|| MsError::not_found(format!("model {owner}/{name} not found")))
}

/// Loads a model the caller may read.
fn readable(ctx: &Ctx, st: &Store, id: &RepoId) -> Result<RepoMeta, MsError> {
    match st.repo_meta(id)? {
        Some(meta) if !meta.private || can_read_private(ctx) => Ok(meta),
        _ => Err(MsError::not_found(format!("model {} not found", id.full()))),
    }
}

/// Resolves a branch, tag or commit id of a model to its commit.
fn load_rev(st: &Store, id: &RepoId, rev: &str) -> Result<CommitRecord, MsError> {
    let rev = if rev.is_empty() { DEFAULT_BRANCH } else { rev };
    let refs = st.refs(id)?;
    let commit = refs
        .branches
        .get(rev)
        .or_else(|| refs.tags.get(rev))
        .cloned()
        .or_else(|| store::is_sha1_hex(rev).then(|| rev.to_owned()))
        .ok_or_else(|| MsError::not_found(format!("revision {rev} not found")))?;
    st.commit(id, &commit)?
        .ok_or_else(|| MsError::not_found(format!("revision {rev} not found")))
}

/// Routes a request under `/api/v1` or `/openapi/v1`.
pub(crate) async fn route(ctx: &Ctx, body: Body) -> Response {
    match route_inner(ctx, body).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn route_inner(ctx: &Ctx, body: Body) -> MsResult {
    let ms = &ctx.state.modelscope;
    let segs: Vec<&str> = ctx.segs.iter().map(String::as_str).collect();
    let m = &ctx.method;
    let get = m == Method::GET || m == Method::HEAD;
    if auth(ctx) == Auth::Invalid && !matches!(segs.as_slice(), ["api", "v1", "lfs-upload", _]) {
        return Err(MsError::new(
            StatusCode::UNAUTHORIZED,
            "the access token is invalid or expired",
        )
        .code(CODE_BAD_TOKEN));
    }
    match segs.as_slice() {
        ["api", "v1", "login"] if m == Method::POST => login(ctx, body).await,
        ["openapi", "v1", "users", "me"] if get => whoami(ctx),
        ["openapi", "v1", "models", owner, name] if get => {
            let st = ms.store(ctx)?;
            let id = model_id(owner, name)?;
            let meta = readable(ctx, &st, &id)?;
            openapi_ok(model_json(&id, &meta, true))
        }
        ["api", "v1", "models"] if m == Method::POST => create_model(ctx, body).await,
        ["api", "v1", "models", owner, name] if get => {
            let st = ms.store(ctx)?;
            let id = model_id(owner, name)?;
            let meta = readable(ctx, &st, &id)?;
            ok(model_json(&id, &meta, false))
        }
        ["api", "v1", "models", owner, name] if m == Method::DELETE => {
            delete_model(ctx, owner, name).await
        }
        ["api", "v1", "models", owner, name, "revisions"] if get => revisions(ctx, owner, name),
        ["api", "v1", "models", owner, name, "repo", "files"] if get => {
            list_files(ctx, owner, name)
        }
        ["api", "v1", "models", owner, name, "repo"] if get => download(ctx, owner, name).await,
        ["api", "v1", "models", owner, name, "repo", "tag"] if m == Method::POST => {
            create_tag(ctx, owner, name, body).await
        }
        [
            "api",
            "v1",
            "repos",
            "models",
            owner,
            name,
            "info",
            "lfs",
            "objects",
            "batch",
        ] if m == Method::POST => batch(ctx, owner, name, body).await,
        [
            "api",
            "v1",
            "repos",
            "models",
            owner,
            name,
            "commit",
            rev @ ..,
        ] if m == Method::POST && !rev.is_empty() => {
            commit(ctx, owner, name, &rev.join("/"), body).await
        }
        ["api", "v1", "lfs-upload", token] if m == Method::PUT => {
            put_object(ctx, token, body).await
        }
        _ => Err(MsError::not_found(format!(
            "no ModelScope endpoint {} {}",
            ctx.method, ctx.raw_path
        ))),
    }
}

fn user_json(ctx: &Ctx) -> Result<Value, MsError> {
    let name = match auth(ctx) {
        Auth::Write | Auth::Read => ctx.state.config.user.clone(),
        Auth::Guest => "guest".to_owned(),
        Auth::Anonymous | Auth::Invalid => {
            return Err(MsError::new(
                StatusCode::UNAUTHORIZED,
                "login first: send the access token",
            ));
        }
    };
    Ok(
        json!({"Username": name, "username": name, "Email": format!("{name}@localhost"), "email": format!("{name}@localhost")}),
    )
}

fn whoami(ctx: &Ctx) -> MsResult {
    openapi_ok(user_json(ctx)?)
}

#[derive(Deserialize)]
struct LoginBody {
    #[serde(rename = "AccessToken")]
    access_token: String,
}

/// `POST /api/v1/login`: checks the token and sets the session cookie, as ModelScope does.
async fn login(ctx: &Ctx, body: Body) -> MsResult {
    let req: LoginBody = read_json(ctx, body).await?;
    let c = &ctx.state.config;
    let known = c
        .write_tokens
        .iter()
        .chain(&c.read_tokens)
        .chain(&c.guest_tokens)
        .any(|t| *t == req.access_token);
    if !known {
        return Err(MsError::bad("AccessToken is invalid or expired").code(CODE_BAD_TOKEN));
    }
    let name = if c.guest_tokens.contains(&req.access_token) {
        "guest".to_owned()
    } else {
        c.user.clone()
    };
    let mut resp = ok(json!({"Username": name, "Email": format!("{name}@localhost")}))?;
    let cookie = format!("m_session_id={}; Path=/; HttpOnly", req.access_token);
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie)
            .map_err(|_| MsError::bad("the token is not a valid cookie value"))?,
    );
    Ok(resp)
}

async fn read_json<T: for<'de> Deserialize<'de>>(ctx: &Ctx, body: Body) -> Result<T, MsError> {
    let bytes = read_body(body, ctx.state.config.max_json_bytes).await?;
    serde_json::from_slice(&bytes).map_err(|e| MsError::bad(format!("invalid JSON body: {e}")))
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
async fn create_model(ctx: &Ctx, body: Body) -> MsResult {
    require_write(ctx)?;
    let req: CreateBody = read_json(ctx, body).await?;
    let id = RepoId::new(RepoKind::Model, &req.path, &req.name).ok_or_else(|| {
        MsError::bad(format!(
            "invalid model id {}/{}: use letters, digits, '-', '_' and '.'",
            req.path, req.name
        ))
    })?;
    let private = match req.visibility.unwrap_or(5) {
        5 => false,
        1 | 3 => true,
        v => return Err(MsError::bad(format!("Visibility {v} is not 1, 3 or 5"))),
    };
    let ms = &ctx.state.modelscope;
    let st = ms.store(ctx)?;
    let lock = ms.locks.get(&id);
    let _guard = lock.lock().await;
    if st.repo_meta(&id)?.is_some() {
        return Err(MsError::bad("model already exists").code(CODE_MODEL_EXISTS));
    }
    let attrs = store::DEFAULT_GITATTRIBUTES.as_bytes();
    let oid = st.put_blob(attrs)?;
    let mut files = BTreeMap::new();
    files.insert(
        ".gitattributes".to_owned(),
        FileEntry {
            oid,
            size: attrs.len() as u64,
            lfs: None,
        },
    );
    let record = make_commit(
        Vec::new(),
        files,
        &ctx.state.config.user,
        "initial commit",
        "",
    );
    st.write_commit(&id, &record)?;
    let mut refs = store::Refs::default();
    refs.branches
        .insert(DEFAULT_BRANCH.to_owned(), record.id.clone());
    st.write_refs(&id, &refs)?;
    let meta = RepoMeta {
        private,
        created_at: now_rfc3339(),
    };
    // repo.json last: the model exists only once its refs and first commit are on disk.
    st.write_repo_meta(&id, &meta)?;
    ok(model_json(&id, &meta, false))
}

async fn delete_model(ctx: &Ctx, owner: &str, name: &str) -> MsResult {
    require_write(ctx)?;
    let ms = &ctx.state.modelscope;
    let st = ms.store(ctx)?;
    let id = model_id(owner, name)?;
    let lock = ms.locks.get(&id);
    let _guard = lock.lock().await;
    if st.repo_meta(&id)?.is_none() {
        return Err(MsError::not_found(format!("model {} not found", id.full())));
    }
    st.delete_repo(&id)?;
    ok(Value::Null)
}

/// `GET /api/v1/models/{id}/revisions`: branches and tags with their commit and time.
fn revisions(ctx: &Ctx, owner: &str, name: &str) -> MsResult {
    let st = ctx.state.modelscope.store(ctx)?;
    let id = model_id(owner, name)?;
    readable(ctx, &st, &id)?;
    let refs = st.refs(&id)?;
    let detail = |map: &BTreeMap<String, String>| -> Result<Vec<Value>, MsError> {
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
fn file_sha256(st: &Store, entry: &FileEntry) -> Result<String, MsError> {
    match &entry.lfs {
        Some(lfs) => Ok(lfs.sha256.clone()),
        None => Ok(sha256_file(&st.blob_path(&entry.oid))?.1),
    }
}

/// `GET /api/v1/models/{id}/repo/files?Revision=&Recursive=&Root=`: `Data.Files`, sorted by path.
fn list_files(ctx: &Ctx, owner: &str, name: &str) -> MsResult {
    let st = ctx.state.modelscope.store(ctx)?;
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
    let trees = store::tree_ids(&record.files);
    let mut out = Vec::new();
    let mut dirs = std::collections::BTreeSet::new();
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
async fn download(ctx: &Ctx, owner: &str, name: &str) -> MsResult {
    let st = ctx.state.modelscope.store(ctx)?;
    let id = model_id(owner, name)?;
    readable(ctx, &st, &id)?;
    let path = q(ctx, "FilePath").ok_or_else(|| MsError::bad("FilePath is required"))?;
    let record = load_rev(&st, &id, q(ctx, "Revision").unwrap_or(""))?;
    let entry = record
        .files
        .get(path.trim_start_matches('/'))
        .ok_or_else(|| MsError::not_found(format!("file {path} not found")))?;
    let (file, etag) = match &entry.lfs {
        Some(lfs) => (st.lfs_path(&lfs.sha256), lfs.sha256.clone()),
        None => (st.blob_path(&entry.oid), entry.oid.clone()),
    };
    let extra = vec![("x-repo-commit", record.id.clone())];
    crate::transfer::serve_file(ctx, &file, entry.size, &etag, extra)
        .await
        .map_err(|e| MsError::internal(format!("{e:?}")))
}

#[derive(Deserialize)]
struct TagBody {
    #[serde(rename = "TagName")]
    tag_name: String,
    #[serde(rename = "Ref", default)]
    git_ref: String,
}

/// `POST /api/v1/models/{id}/repo/tag`: a tag on a branch, tag or commit.
async fn create_tag(ctx: &Ctx, owner: &str, name: &str, body: Body) -> MsResult {
    require_write(ctx)?;
    let req: TagBody = read_json(ctx, body).await?;
    let ms = &ctx.state.modelscope;
    let st = ms.store(ctx)?;
    let id = model_id(owner, name)?;
    readable(ctx, &st, &id)?;
    let tag = req.tag_name.trim();
    if tag.is_empty()
        || tag.len() > 128
        || tag.starts_with(['-', '.', '/'])
        || tag.contains("..")
        || !tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'/'))
    {
        return Err(MsError::bad(format!(
            "invalid tag name {tag:?}: use letters, digits, '.', '-', '_'"
        )));
    }
    let lock = ms.locks.get(&id);
    let _guard = lock.lock().await;
    let record = load_rev(&st, &id, &req.git_ref)?;
    let mut refs = st.refs(&id)?;
    if refs.tags.contains_key(tag) || refs.branches.contains_key(tag) {
        return Err(MsError::new(
            StatusCode::CONFLICT,
            format!("tag {tag} already exists"),
        ));
    }
    refs.tags.insert(tag.to_owned(), record.id.clone());
    st.write_refs(&id, &refs)?;
    ok(json!({"TagName": tag, "Ref": req.git_ref, "CommitId": record.id}))
}

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
async fn batch(ctx: &Ctx, owner: &str, name: &str, body: Body) -> MsResult {
    require_write(ctx)?;
    let req: BatchBody = read_json(ctx, body).await?;
    if req.operation != "upload" {
        return Err(MsError::bad(format!(
            "operation {:?} is not supported: use \"upload\"",
            req.operation
        )));
    }
    if req.objects.len() > MAX_BATCH {
        return Err(MsError::bad(format!(
            "at most {MAX_BATCH} objects per batch request"
        )));
    }
    let ms = &ctx.state.modelscope;
    let st = ms.store(ctx)?;
    let id = model_id(owner, name)?;
    readable(ctx, &st, &id)?;
    let mut out = Vec::new();
    for obj in &req.objects {
        if !is_sha256_hex(&obj.oid) {
            return Err(MsError::bad(format!(
                "oid {:?} is not a lowercase sha256",
                obj.oid
            )));
        }
        if obj.size > MAX_OBJECT {
            return Err(MsError::bad(format!(
                "object {} is over {MAX_OBJECT} bytes",
                obj.oid
            )));
        }
        if st.lfs_size(&obj.oid) == Some(obj.size) {
            out.push(json!({"oid": obj.oid, "size": obj.size}));
            continue;
        }
        let token = random_hex(24);
        let ttl = ctx.state.config.upload_url_ttl;
        {
            let mut map = ms.uploads.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            map.retain(|_, u| u.expires > now);
            map.insert(
                token.clone(),
                PendingUpload {
                    oid: obj.oid.clone(),
                    size: obj.size,
                    expires: now + ttl,
                },
            );
        }
        let href = format!("{}/api/v1/lfs-upload/{token}", ctx.base);
        out.push(json!({
            "oid": obj.oid,
            "size": obj.size,
            "actions": {"upload": {"href": href, "expires_in": ttl.as_secs()}},
        }));
    }
    ok(json!({"transfer": "basic", "objects": out}))
}

struct TempGuard(Option<PathBuf>);

impl Drop for TempGuard {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// `PUT /api/v1/lfs-upload/{token}`: streams the body to a temporary file, checks size and
/// sha256, then makes it the object.
async fn put_object(ctx: &Ctx, token: &str, body: Body) -> MsResult {
    let ms = &ctx.state.modelscope;
    let upload = {
        let map = ms.uploads.lock().unwrap_or_else(|e| e.into_inner());
        match map.get(token) {
            Some(u) if u.expires > Instant::now() => u.clone(),
            _ => {
                return Err(MsError::new(
                    StatusCode::FORBIDDEN,
                    "this upload URL is unknown or expired: ask the batch endpoint again",
                ));
            }
        }
    };
    let st = ms.store(ctx)?;
    let tmp = st
        .tmp_dir()
        .join(format!("ms-{token}.{}.put", random_hex(4)));
    let mut guard = TempGuard(Some(tmp.clone()));
    let file = tokio::fs::File::create(&tmp).await?;
    let mut writer = tokio::io::BufWriter::with_capacity(1 << 20, file);
    let mut hasher = Sha256::new();
    let mut n = 0u64;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| MsError::bad(format!("the upload was interrupted: {e}")))?;
        n += chunk.len() as u64;
        if n > upload.size {
            return Err(MsError::bad(format!(
                "received more than the {} bytes the batch request announced",
                upload.size
            )));
        }
        hasher.update(&chunk);
        writer.write_all(&chunk).await?;
    }
    writer.flush().await?;
    drop(writer);
    if n != upload.size {
        return Err(MsError::bad(format!(
            "received {n} bytes but the batch request announced {}: upload the whole file",
            upload.size
        )));
    }
    let got = hex::encode(hasher.finalize());
    if got != upload.oid {
        return Err(MsError::bad(format!(
            "sha256 of the uploaded bytes is {got}, not {}: upload the file again",
            upload.oid
        )));
    }
    let dest = st.lfs_path(&upload.oid);
    let tmp_moved = tmp.clone();
    tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        std::fs::File::open(&tmp_moved)?.sync_all()?;
        let dir = dest
            .parent()
            .ok_or_else(|| std::io::Error::other("object path has no parent"))?;
        std::fs::create_dir_all(dir)?;
        std::fs::rename(&tmp_moved, &dest)?;
        sync_dir(dir)
    })
    .await
    .map_err(MsError::internal)??;
    guard.0 = None;
    ms.uploads
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(token);
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

/// Whether `name` may be a new branch: a git ref name of the characters ModelScope's tags allow.
fn valid_branch_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && !name.starts_with(['-', '.', '/'])
        && !name.ends_with(['/', '.'])
        && !name.ends_with(".lock")
        && !name.contains("..")
        && !name.contains("//")
        && !store::is_sha1_hex(name)
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'/'))
}

/// `POST /api/v1/repos/models/{id}/commit/{revision}`: applies every action in one commit, on
/// a new branch from `master` when `revision` is not a branch yet.
async fn commit(ctx: &Ctx, owner: &str, name: &str, rev: &str, body: Body) -> MsResult {
    require_write(ctx)?;
    let bytes = read_body(body, MAX_COMMIT_BODY).await?;
    let req: CommitBody = serde_json::from_slice(&bytes)
        .map_err(|e| MsError::bad(format!("invalid commit JSON: {e}")))?;
    drop(bytes);
    if req.actions.is_empty() {
        return Err(MsError::bad("the commit has no actions"));
    }
    let ms = &ctx.state.modelscope;
    let st = ms.store(ctx)?;
    let id = model_id(owner, name)?;
    readable(ctx, &st, &id)?;
    let lock = ms.locks.get(&id);
    let _guard = lock.lock().await;
    let mut refs = st.refs(&id)?;
    let parent = match refs.branches.get(rev) {
        Some(head) => head.clone(),
        // A new branch starts at master's head (see the module documentation).
        None => {
            if refs.tags.contains_key(rev) {
                return Err(MsError::bad(format!(
                    "{rev} is a tag, not a branch: commit to a branch"
                )));
            }
            if !valid_branch_name(rev) {
                return Err(MsError::bad(format!(
                    "invalid branch name {rev:?}: use letters, digits, '.', '-', '_' and '/'"
                )));
            }
            refs.branches.get(DEFAULT_BRANCH).cloned().ok_or_else(|| {
                MsError::not_found(format!(
                    "branch {rev} not found and there is no {DEFAULT_BRANCH} to create it from"
                ))
            })?
        }
    };
    let parent_record = st
        .commit(&id, &parent)?
        .ok_or_else(|| MsError::internal(format!("commit {parent} is missing")))?;
    let mut files = parent_record.files;
    for a in &req.actions {
        let path = check_repo_path(&a.path, false)
            .map_err(|e| MsError::bad(format!("invalid path {:?}: {e}", a.path)))?;
        match a.action.as_str() {
            "create" | "update" => {
                let entry = match a.kind.as_str() {
                    "lfs" => {
                        let size = a.size.ok_or_else(|| {
                            MsError::bad(format!("{path}: an lfs action needs its size"))
                        })?;
                        if !is_sha256_hex(&a.sha256) {
                            return Err(MsError::bad(format!(
                                "{path}: sha256 {:?} is not lowercase hex",
                                a.sha256
                            )));
                        }
                        if st.lfs_size(&a.sha256) != Some(size) {
                            return Err(MsError::bad(format!(
                                "{path}: object {} of {size} bytes was not uploaded: upload it through the batch endpoint first",
                                a.sha256
                            )));
                        }
                        let pointer = store::lfs_pointer(&a.sha256, size);
                        FileEntry {
                            oid: store::git_blob_id(pointer.as_bytes()),
                            size,
                            lfs: Some(LfsInfo {
                                sha256: a.sha256.clone(),
                                size,
                            }),
                        }
                    }
                    "normal" | "" => {
                        let content = match a.encoding.as_str() {
                            "base64" => base64::engine::general_purpose::STANDARD
                                .decode(a.content.as_bytes())
                                .map_err(|e| {
                                    MsError::bad(format!("{path}: content is not base64: {e}"))
                                })?,
                            "" | "utf-8" | "utf8" => a.content.clone().into_bytes(),
                            other => {
                                return Err(MsError::bad(format!(
                                    "{path}: encoding {other:?} is not supported"
                                )));
                            }
                        };
                        if let Some(size) = a.size
                            && size != content.len() as u64
                        {
                            return Err(MsError::bad(format!(
                                "{path}: size says {size} but the content has {} bytes",
                                content.len()
                            )));
                        }
                        let oid = st.put_blob(&content)?;
                        FileEntry {
                            oid,
                            size: content.len() as u64,
                            lfs: None,
                        }
                    }
                    other => {
                        return Err(MsError::bad(format!(
                            "{path}: type {other:?} is not \"normal\" or \"lfs\""
                        )));
                    }
                };
                if files.keys().any(|p| p.starts_with(&format!("{path}/")))
                    || path
                        .match_indices('/')
                        .any(|(i, _)| files.contains_key(&path[..i]))
                {
                    return Err(MsError::bad(format!(
                        "{path}: a file and a directory cannot share a path"
                    )));
                }
                files.insert(path, entry);
            }
            "delete" => {
                if files.remove(&path).is_none() {
                    return Err(MsError::not_found(format!("{path}: file not found")));
                }
            }
            other => {
                return Err(MsError::bad(format!(
                    "action {other:?} is not create, update or delete"
                )));
            }
        }
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
    let record = make_commit(
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
