//! Request routing, auth, errors and the JSON API endpoints (repos, info, tree, paths-info,
//! preupload, commit, refs, tags, branches, commit history, validate-yaml).
//!
//! Paths are routed by hand: the raw path is split on `/` and every segment percent-decoded
//! afterwards, because revisions and tree paths arrive with `/` encoded as `%2F`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use futures_util::StreamExt as _;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::AsyncBufReadExt as _;
use tokio::io::AsyncReadExt as _;

use crate::context::{
    AppState, Auth, Ctx, form_encode, invalid_credentials, parse_form, read_body, read_json,
};
use crate::error::{ApiError, ApiResult};
use crate::fault::{Action, BodyFault, ConnInfo, faulty_body, tracked_body};
use crate::store::{
    self, CommitRecord, FileEntry, Refs, RepoId, RepoKind, RepoMeta, check_addition,
    check_ref_name, check_repo_path,
};
use crate::transfer;

/// The Hub's limit for any file sent inline in a commit.
const INLINE_MAX: usize = 10 * 1024 * 1024;
/// The Hub's limit for binary files sent inline in a commit.
const INLINE_BINARY_MAX: usize = 1_000_000;
/// Files above this size must go through LFS.
const LFS_SIZE_RULE: u64 = 10 * 1024 * 1024;
/// The longest NDJSON line accepted: a 10 MiB file in base64 plus the JSON around it.
const MAX_COMMIT_LINE: u64 = 15 * 1024 * 1024;
/// The most paths a paths-info request may ask for (the Hub answers 413 above 1000).
const MAX_PATHS_INFO: usize = 1000;
/// The most files one preupload request may list.
const MAX_PREUPLOAD_FILES: usize = 1000;
/// How far commit history walks go.
const MAX_HISTORY: usize = 100_000;

/// Builds the router: one fallback that routes by hand.
pub(crate) fn router(state: Arc<AppState>) -> Router {
    Router::new().fallback(dispatch).with_state(state)
}

fn is_transfer_path(path: &str) -> bool {
    path.contains("/resolve/") || path.starts_with("/lfs-upload/") || path.starts_with("/lfs-cdn/")
}

async fn dispatch(
    State(state): State<Arc<AppState>>,
    ConnectInfo(conn): ConnectInfo<ConnInfo>,
    req: Request,
) -> Response {
    let method = req.method().clone();
    let raw_path = req.uri().path().to_owned();
    let counter = if is_transfer_path(&raw_path) {
        &state.counters.transfer_requests
    } else {
        &state.counters.api_requests
    };
    counter.fetch_add(1, Ordering::Relaxed);

    let action = state.faults.take(method.as_str(), &raw_path);
    let has_body = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|n| n > 0)
        || req.headers().contains_key(header::TRANSFER_ENCODING);
    let (parts, body) = req.into_parts();
    let mut headers = parts.headers;
    let body_read = Arc::new(std::sync::atomic::AtomicBool::new(!has_body));
    let mut body = if has_body {
        tracked_body(body, body_read.clone())
    } else {
        body
    };
    let mut response_fault = None;
    let early = match &action {
        Some(Action::Status(code)) => Some(fault_status(*code, None)),
        Some(Action::StatusRetryAfter(code, secs)) => Some(fault_status(*code, Some(*secs))),
        Some(Action::Html200) => Some(
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>\
                 <body><h1>Bad Gateway</h1><p>The upstream server is unavailable.</p></body></html>",
            )
                .into_response(),
        ),
        _ => None,
    };
    if let Some(mut resp) = early {
        if has_body {
            close_connection(&mut resp);
        }
        return resp;
    }
    match &action {
        Some(Action::Stall(d)) => {
            let mut stopping = state.stopping.clone();
            tokio::select! {
                () = tokio::time::sleep(*d) => {}
                _ = stopping.wait_for(|stop| *stop) => {}
            }
        }
        Some(Action::IgnoreRange) => {
            headers.remove(header::RANGE);
        }
        Some(Action::DropAfter(n)) if has_body => {
            body = faulty_body(body, BodyFault::DropAfter(*n), conn.switch.clone());
        }
        Some(Action::DropAfter(n) | Action::DropResponseAfter(n)) => {
            response_fault = Some(BodyFault::DropAfter(*n));
        }
        Some(Action::CorruptBody) => response_fault = Some(BodyFault::Corrupt),
        Some(Action::TruncateBody(n)) => response_fault = Some(BodyFault::Truncate(*n)),
        _ => {}
    }

    let ctx = match Ctx::new(state, method, &parts.uri, headers) {
        Ok(ctx) => ctx,
        Err(e) => return e.into_response(),
    };
    let mut resp = match route(&ctx, body).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    };
    if !body_read.load(Ordering::SeqCst) {
        close_connection(&mut resp);
    }
    if let Some(fault) = response_fault {
        if let BodyFault::Truncate(n) = fault {
            let len = resp
                .headers()
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            if let Some(len) = len {
                resp.headers_mut()
                    .insert(header::CONTENT_LENGTH, HeaderValue::from(len.min(n)));
            }
        }
        let (parts, body) = resp.into_parts();
        resp = Response::from_parts(parts, faulty_body(body, fault, conn.switch));
    }
    resp
}

/// Marks a response as the last on its connection (used when the request body was not read).
fn close_connection(resp: &mut Response) {
    resp.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
}

fn fault_status(code: u16, retry_after: Option<u64>) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = (
        status,
        axum::Json(json!({"error": format!("injected fault: status {code}")})),
    )
        .into_response();
    if let Some(secs) = retry_after {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    resp
}

/// Joins revision segments: `refs/pr/1` may arrive as one `%2F` segment or as three.
fn take_revision(rest: &[String]) -> (String, &[String]) {
    if rest.len() >= 3 && rest[0] == "refs" && matches!(rest[1].as_str(), "pr" | "heads" | "tags") {
        (rest[..3].join("/"), &rest[3..])
    } else if let Some(first) = rest.first() {
        (first.clone(), &rest[1..])
    } else {
        (String::new(), rest)
    }
}

async fn route(ctx: &Ctx, body: Body) -> ApiResult {
    let segs: Vec<&str> = ctx.segs.iter().map(String::as_str).collect();
    // Presigned URLs ignore credentials, as S3 and the CDN do; everything else rejects bad ones.
    let presigned = matches!(segs.first(), Some(&("lfs-upload" | "lfs-cdn")));
    if ctx.auth == Auth::Invalid && !presigned {
        return Err(invalid_credentials());
    }
    let m = &ctx.method;
    match segs.as_slice() {
        ["api" | "openapi", "v1", ..] => Ok(crate::modelscope::route(ctx, body).await),
        ["api", "whoami-v2"] if m == Method::GET => whoami(ctx),
        ["api", "repos", "create"] if m == Method::POST => create_repo(ctx, body).await,
        ["api", "repos", "delete"] if m == Method::DELETE => delete_repo(ctx, body).await,
        ["api", kind] if m == Method::GET && RepoKind::from_plural(kind).is_some() => {
            list_repos(ctx, RepoKind::from_plural(kind).unwrap_or(RepoKind::Model))
        }
        ["api", "validate-yaml"] if m == Method::POST => validate_yaml(ctx, body).await,
        ["api", kind, ns, name, rest @ ..] if RepoKind::from_plural(kind).is_some() => {
            let kind = RepoKind::from_plural(kind).unwrap_or(RepoKind::Model);
            let id = RepoId::new(kind, ns, name).ok_or_else(|| ctx.repo_not_found())?;
            let rest = &ctx.segs[4..];
            repo_api(ctx, &id, rest, body).await
        }
        ["lfs-upload", ..] | ["lfs-cdn", ..] => transfer::route_presigned(ctx, body).await,
        [first, ..] => {
            let (kind, skip) = match *first {
                "datasets" => (RepoKind::Dataset, 1),
                "spaces" => (RepoKind::Space, 1),
                _ => (RepoKind::Model, 0),
            };
            let rest = &ctx.segs[skip..];
            if rest.len() < 3 {
                return Err(ApiError::page_not_found());
            }
            if let Some(name) = rest[1].strip_suffix(".git") {
                let id = RepoId::new(kind, &rest[0], name).ok_or_else(|| ctx.repo_not_found())?;
                let tail: Vec<&str> = rest[2..].iter().map(String::as_str).collect();
                return match tail.as_slice() {
                    ["info", "lfs", "objects", "batch"] if m == Method::POST => {
                        transfer::lfs_batch(ctx, &id, body).await
                    }
                    ["info", "lfs", "objects", "verify"] if m == Method::POST => {
                        transfer::lfs_verify(ctx, &id, body).await
                    }
                    _ => Err(ApiError::page_not_found()),
                };
            }
            if rest[2] == "resolve" && (m == Method::GET || m == Method::HEAD) {
                let id =
                    RepoId::new(kind, &rest[0], &rest[1]).ok_or_else(|| ctx.repo_not_found())?;
                let (rev, path) = take_revision(&rest[3..]);
                return transfer::resolve(ctx, &id, &rev, &path.join("/")).await;
            }
            Err(ApiError::page_not_found())
        }
        _ => Err(ApiError::page_not_found()),
    }
}

async fn repo_api(ctx: &Ctx, id: &RepoId, rest: &[String], body: Body) -> ApiResult {
    let m = &ctx.method;
    let head: Option<&str> = rest.first().map(String::as_str);
    let after = rest.get(1..).unwrap_or(&[]);
    match head {
        None if m == Method::GET => repo_info(ctx, id, "main"),
        Some("revision") if m == Method::GET => repo_info(ctx, id, &after.join("/")),
        Some("tree") if m == Method::GET => {
            let (rev, path) = take_revision(after);
            tree(ctx, id, &rev, &path.join("/"))
        }
        Some("paths-info") if m == Method::POST => {
            paths_info(ctx, id, &after.join("/"), body).await
        }
        Some("preupload") if m == Method::POST => preupload(ctx, id, &after.join("/"), body).await,
        Some("commit") if m == Method::POST => commit(ctx, id, &after.join("/"), body).await,
        Some("refs") if m == Method::GET => refs(ctx, id),
        Some("commits") if m == Method::GET => commits(ctx, id, &after.join("/")),
        Some("tag") if m == Method::POST => create_tag(ctx, id, &after.join("/"), body).await,
        Some("tag") if m == Method::DELETE => delete_ref(ctx, id, &after.join("/"), false).await,
        Some("branch") if m == Method::POST => create_branch(ctx, id, &after.join("/"), body).await,
        Some("branch") if m == Method::DELETE => delete_ref(ctx, id, &after.join("/"), true).await,
        Some("settings") if m == Method::PUT => settings(ctx, id, body).await,
        Some("xet-write-token" | "xet-read-token") => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "this server does not speak xet; set HF_HUB_DISABLE_XET=1 to use the LFS path",
        )
        .code("NotFound")),
        None
        | Some("revision" | "tree" | "paths-info" | "preupload" | "commit" | "refs")
        | Some("commits" | "tag" | "branch" | "settings") => Err(ApiError::method_not_allowed()),
        _ => Err(ApiError::page_not_found()),
    }
}

pub(crate) fn repo_url(ctx: &Ctx, id: &RepoId) -> String {
    format!("{}/{}", ctx.base, id.url_path())
}

fn whoami(ctx: &Ctx) -> ApiResult {
    let (role, name) = match ctx.auth {
        Auth::Write => ("write", ctx.state.config.user.clone()),
        Auth::Read => ("read", ctx.state.config.user.clone()),
        Auth::Guest => ("read", "guest".to_owned()),
        Auth::Anonymous | Auth::Invalid => {
            return Err(
                ApiError::new(StatusCode::UNAUTHORIZED, "Invalid user token.").code("Unauthorized"),
            );
        }
    };
    let uid = &hex::encode(sha2::Sha256::digest_str(&name))[..24];
    Ok(axum::Json(json!({
        "type": "user",
        "id": uid,
        "name": name,
        "fullname": name,
        "email": format!("{name}@localhost"),
        "emailVerified": true,
        "canPay": false,
        "isPro": false,
        "periodEnd": null,
        "avatarUrl": "",
        "orgs": [],
        "auth": {"type": "access_token", "accessToken": {"displayName": ctx.token_name, "role": role}},
    }))
    .into_response())
}

/// A tiny helper so `whoami` can hash a string in one expression.
trait DigestStr {
    fn digest_str(s: &str) -> Vec<u8>;
}

impl DigestStr for sha2::Sha256 {
    fn digest_str(s: &str) -> Vec<u8> {
        use sha2::Digest as _;
        sha2::Sha256::digest(s.as_bytes()).to_vec()
    }
}

#[derive(Deserialize)]
struct CreateRepoBody {
    name: String,
    organization: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    private: Option<bool>,
    visibility: Option<String>,
}

fn repo_id_from_body(
    ctx: &Ctx,
    name: &str,
    org: Option<&str>,
    kind: Option<&str>,
) -> Result<RepoId, ApiError> {
    let kind = match kind {
        None => RepoKind::Model,
        Some(k) => RepoKind::from_singular(k).ok_or_else(|| {
            ApiError::bad_request(format!(
                "unknown repo type {k:?}: use model, dataset or space"
            ))
        })?,
    };
    let (ns, name) = match name.split_once('/') {
        Some((ns, n)) => (ns.to_owned(), n.to_owned()),
        None => (
            org.map(str::to_owned)
                .unwrap_or_else(|| ctx.state.config.user.clone()),
            name.to_owned(),
        ),
    };
    RepoId::new(kind, &ns, &name).ok_or_else(|| {
        ApiError::bad_request(format!(
            "invalid repo name {ns}/{name}: use letters, digits, '-', '_' and '.', at most 96 characters"
        ))
    })
}

async fn create_repo(ctx: &Ctx, body: Body) -> ApiResult {
    ctx.require_write()?;
    let req: CreateRepoBody = read_json(ctx, body).await?;
    let id = repo_id_from_body(
        ctx,
        &req.name,
        req.organization.as_deref(),
        req.kind.as_deref(),
    )?;
    let private = match req.visibility.as_deref() {
        Some("private") => true,
        Some("public") => false,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "unknown visibility {other:?}: use public or private"
            )));
        }
        None => req.private.unwrap_or(false),
    };
    let url = repo_url(ctx, &id);
    let lock = ctx.state.locks.get(&id);
    let _guard = lock.lock().await;
    let store = &ctx.state.store;
    if store.repo_meta(&id)?.is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("You already created this {} repo", id.kind.singular()),
        )
        .code("RepoExists")
        .with("url", Value::String(url)));
    }
    store.create_repo(&id, DEFAULT_BRANCH, "system", private)?;
    Ok(axum::Json(json!({"url": url, "name": id.full(), "id": id.full()})).into_response())
}

#[derive(Deserialize)]
struct DeleteRepoBody {
    name: String,
    organization: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

async fn delete_repo(ctx: &Ctx, body: Body) -> ApiResult {
    ctx.require_write()?;
    let req: DeleteRepoBody = read_json(ctx, body).await?;
    let id = repo_id_from_body(
        ctx,
        &req.name,
        req.organization.as_deref(),
        req.kind.as_deref(),
    )?;
    let lock = ctx.state.locks.get(&id);
    let _guard = lock.lock().await;
    ctx.writable_repo(&id)?;
    ctx.state.store.delete_repo(&id)?;
    Ok(axum::Json(json!({})).into_response())
}

#[derive(Deserialize)]
struct SettingsBody {
    private: Option<bool>,
    visibility: Option<String>,
}

async fn settings(ctx: &Ctx, id: &RepoId, body: Body) -> ApiResult {
    let req: SettingsBody = read_json(ctx, body).await?;
    let lock = ctx.state.locks.get(id);
    let _guard = lock.lock().await;
    let mut meta = ctx.writable_repo(id)?;
    if let Some(p) = req.private {
        meta.private = p;
    }
    match req.visibility.as_deref() {
        Some("private") => meta.private = true,
        Some("public") => meta.private = false,
        _ => {}
    }
    ctx.state.store.write_repo_meta(id, &meta)?;
    Ok(axum::Json(json!({"private": meta.private})).into_response())
}

/// The Hub's default branch.
pub(crate) const DEFAULT_BRANCH: &str = "main";

/// Resolves a revision of a Hub repo to a commit id (see `Store::resolve_revision`).
pub(crate) fn resolve_rev(
    ctx: &Ctx,
    id: &RepoId,
    refs: &Refs,
    rev: &str,
) -> Result<String, ApiError> {
    ctx.state
        .store
        .resolve_revision(id, refs, rev, DEFAULT_BRANCH)?
        .ok_or_else(|| {
            ApiError::revision_not_found(if rev.is_empty() { DEFAULT_BRANCH } else { rev })
        })
}

/// Loads the commit a revision points to in a readable repo.
pub(crate) fn load_rev(
    ctx: &Ctx,
    id: &RepoId,
    rev: &str,
) -> Result<(RepoMeta, CommitRecord), ApiError> {
    let meta = ctx.readable_repo(id)?;
    let record = ctx
        .state
        .store
        .load_revision(id, rev, DEFAULT_BRANCH)?
        .ok_or_else(|| {
            ApiError::revision_not_found(if rev.is_empty() { DEFAULT_BRANCH } else { rev })
        })?;
    Ok((meta, record))
}

/// `GET /api/models?author=&search=&limit=`: the repos of one kind the caller may see, sorted.
fn list_repos(ctx: &Ctx, kind: RepoKind) -> ApiResult {
    let author = ctx.q("author");
    let search = ctx.q("search").map(str::to_lowercase);
    let limit: usize = ctx
        .q("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(usize::MAX);
    let mut out = Vec::new();
    for (id, meta) in ctx.state.store.list_repos(kind)? {
        if (meta.private && !ctx.can_read_private())
            || author.is_some_and(|a| a != id.namespace)
            || search
                .as_deref()
                .is_some_and(|q| !id.full().to_lowercase().contains(q))
        {
            continue;
        }
        let sha = ctx.state.store.refs(&id)?.branches.get("main").cloned();
        let full = id.full();
        out.push(json!({
            "_id": &hex::encode(sha2::Sha256::digest_str(&full))[..24],
            "id": full,
            "author": id.namespace,
            "sha": sha,
            "private": meta.private,
            "createdAt": meta.created_at,
            "downloads": 0,
            "likes": 0,
            "tags": [],
        }));
        if out.len() >= limit {
            break;
        }
    }
    Ok(axum::Json(out).into_response())
}

fn repo_info(ctx: &Ctx, id: &RepoId, rev: &str) -> ApiResult {
    let (meta, record) = load_rev(ctx, id, rev)?;
    let blobs = ctx.q_true("blobs");
    let siblings: Vec<Value> = record
        .files
        .iter()
        .map(|(path, e)| {
            if blobs {
                let mut v = json!({"rfilename": path, "size": e.size, "blobId": e.oid});
                if let Some(lfs) = &e.lfs {
                    v["lfs"] = json!({
                        "size": lfs.size,
                        "sha256": lfs.sha256,
                        "pointerSize": store::lfs_pointer(&lfs.sha256, lfs.size).len(),
                    });
                }
                v
            } else {
                json!({"rfilename": path})
            }
        })
        .collect();
    let used: u64 = record.files.values().map(|e| e.size).sum();
    let full = id.full();
    let mut info = json!({
        "_id": &hex::encode(sha2::Sha256::digest_str(&full))[..24],
        "id": full,
        "author": id.namespace,
        "sha": record.id,
        "lastModified": record.date,
        "createdAt": meta.created_at,
        "private": meta.private,
        "gated": false,
        "disabled": false,
        "downloads": 0,
        "likes": 0,
        "tags": [],
        "siblings": siblings,
        "usedStorage": used,
    });
    if id.kind == RepoKind::Model {
        info["modelId"] = Value::String(id.full());
    }
    Ok(axum::Json(info).into_response())
}

fn file_json(path: &str, e: &FileEntry) -> Value {
    let mut v = json!({"type": "file", "oid": e.oid, "size": e.size, "path": path});
    if let Some(lfs) = &e.lfs {
        v["lfs"] = json!({
            "oid": lfs.sha256,
            "size": lfs.size,
            "pointerSize": store::lfs_pointer(&lfs.sha256, lfs.size).len(),
        });
    }
    v
}

fn dir_json(path: &str, oid: &str) -> Value {
    json!({"type": "directory", "oid": oid, "size": 0, "path": path})
}

/// Finds the newest commit on the first-parent chain that changed `path` (file oid or
/// directory tree id differs from its parent's).
struct History<'a> {
    ctx: &'a Ctx,
    id: &'a RepoId,
    chain: Vec<(CommitRecord, BTreeMap<String, String>)>,
    exhausted: bool,
}

impl<'a> History<'a> {
    fn new(ctx: &'a Ctx, id: &'a RepoId, head: CommitRecord) -> History<'a> {
        let dirs = store::tree_ids(&head.files);
        History {
            ctx,
            id,
            chain: vec![(head, dirs)],
            exhausted: false,
        }
    }

    fn oid_at(entry: &(CommitRecord, BTreeMap<String, String>), path: &str) -> Option<String> {
        entry
            .0
            .files
            .get(path)
            .map(|e| e.oid.clone())
            .or_else(|| entry.1.get(path).cloned())
    }

    fn extend(&mut self) -> Result<bool, ApiError> {
        if self.exhausted || self.chain.len() >= MAX_HISTORY {
            return Ok(false);
        }
        let Some(parent) = self.chain.last().and_then(|c| c.0.parents.first().cloned()) else {
            self.exhausted = true;
            return Ok(false);
        };
        match self.ctx.state.store.commit(self.id, &parent)? {
            Some(rec) => {
                let dirs = store::tree_ids(&rec.files);
                self.chain.push((rec, dirs));
                Ok(true)
            }
            None => {
                self.exhausted = true;
                Ok(false)
            }
        }
    }

    fn last_commit(&mut self, path: &str) -> Result<Value, ApiError> {
        let mut i = 0;
        loop {
            if i + 1 >= self.chain.len() && !self.extend()? {
                break;
            }
            if i + 1 >= self.chain.len() {
                break;
            }
            if Self::oid_at(&self.chain[i], path) != Self::oid_at(&self.chain[i + 1], path) {
                break;
            }
            i += 1;
        }
        let c = &self.chain[i].0;
        Ok(json!({"id": c.id, "title": c.title, "date": c.date}))
    }
}

fn tree(ctx: &Ctx, id: &RepoId, rev: &str, path: &str) -> ApiResult {
    let (_, record) = load_rev(ctx, id, rev)?;
    let recursive = ctx.q_true("recursive");
    let expand = ctx.q_true("expand");
    let dirs = store::tree_ids(&record.files);
    let base = path.trim_matches('/');
    let mut entries: Vec<(String, Value)> = Vec::new();
    if !base.is_empty() && !dirs.contains_key(base) {
        match record.files.get(base) {
            Some(e) => entries.push((base.to_owned(), file_json(base, e))),
            None => return Err(ApiError::entry_not_found(base, &record.id)),
        }
    } else {
        let prefix = if base.is_empty() {
            String::new()
        } else {
            format!("{base}/")
        };
        let is_listed = |p: &str| -> bool {
            match p.strip_prefix(prefix.as_str()) {
                Some(rest) if !rest.is_empty() => recursive || !rest.contains('/'),
                _ => false,
            }
        };
        for (p, oid) in &dirs {
            if is_listed(p) {
                entries.push((p.clone(), dir_json(p, oid)));
            }
        }
        for (p, e) in &record.files {
            if is_listed(p) {
                entries.push((p.clone(), file_json(p, e)));
            }
        }
        // Directories first, then files, each sorted by path (as the Hub lists them).
        entries.sort_by(|a, b| {
            let a_dir = a.1["type"] == "directory";
            let b_dir = b.1["type"] == "directory";
            b_dir.cmp(&a_dir).then_with(|| a.0.cmp(&b.0))
        });
    }
    let page_size = if expand {
        ctx.state.config.tree_expand_page_size
    } else {
        ctx.state.config.tree_page_size
    }
    .max(1);
    let (start, link) = paginate(ctx, entries.len(), page_size)?;
    let end = (start + page_size).min(entries.len());
    let mut page: Vec<Value> = entries
        .drain(..)
        .skip(start)
        .take(end.saturating_sub(start))
        .map(|(_, v)| v)
        .collect();
    if expand {
        let mut history = History::new(ctx, id, record);
        for v in &mut page {
            let p = v["path"].as_str().unwrap_or_default().to_owned();
            v["lastCommit"] = history.last_commit(&p)?;
        }
    }
    let mut resp = axum::Json(page).into_response();
    if let Some(link) = link {
        resp.headers_mut().insert(
            header::LINK,
            HeaderValue::from_str(&link).map_err(ApiError::internal)?,
        );
    }
    Ok(resp)
}

/// Reads the opaque `cursor` and builds the `Link` header for the next page, if any.
fn paginate(
    ctx: &Ctx,
    total: usize,
    page_size: usize,
) -> Result<(usize, Option<String>), ApiError> {
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let start = match ctx.q("cursor") {
        None => 0,
        Some(c) => engine
            .decode(c)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| {
                s.strip_prefix("offset:")
                    .and_then(|n| n.parse::<usize>().ok())
            })
            .ok_or_else(|| {
                ApiError::bad_request("invalid pagination cursor: restart from the first page")
            })?,
    };
    let next = start + page_size;
    if next >= total {
        return Ok((start, None));
    }
    let cursor = engine.encode(format!("offset:{next}"));
    let mut query: Vec<String> = ctx
        .query
        .iter()
        .filter(|(k, _)| k != "cursor")
        .map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v)))
        .collect();
    query.push(format!("cursor={cursor}"));
    let url = format!("{}{}?{}", ctx.base, ctx.raw_path, query.join("&"));
    Ok((start, Some(format!("<{url}>; rel=\"next\""))))
}

async fn paths_info(ctx: &Ctx, id: &RepoId, rev: &str, body: Body) -> ApiResult {
    let is_json = ctx
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    let bytes = read_body(body, ctx.state.config.max_json_bytes).await?;
    let (paths, expand) = if is_json {
        #[derive(Deserialize)]
        struct PathsBody {
            paths: Vec<String>,
            #[serde(default)]
            expand: bool,
        }
        let b: PathsBody = serde_json::from_slice(&bytes)
            .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))?;
        (b.paths, b.expand)
    } else {
        let form = parse_form(&String::from_utf8_lossy(&bytes));
        let paths: Vec<String> = form
            .iter()
            .filter(|(k, _)| k == "paths" || k == "paths[]")
            .map(|(_, v)| v.clone())
            .collect();
        let expand = form
            .iter()
            .any(|(k, v)| k == "expand" && matches!(v.as_str(), "1" | "true" | "True"));
        (paths, expand)
    };
    if paths.len() > MAX_PATHS_INFO {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "too many paths ({}): ask for at most {MAX_PATHS_INFO} per request",
                paths.len()
            ),
        ));
    }
    let (_, record) = load_rev(ctx, id, rev)?;
    let dirs = store::tree_ids(&record.files);
    let mut out = Vec::new();
    let mut history = expand.then(|| History::new(ctx, id, record.clone()));
    for p in &paths {
        let p = p.trim_matches('/');
        let mut v = if let Some(e) = record.files.get(p) {
            file_json(p, e)
        } else if let Some(oid) = dirs.get(p).filter(|_| !p.is_empty()) {
            dir_json(p, oid)
        } else {
            continue;
        };
        if let Some(h) = history.as_mut() {
            v["lastCommit"] = h.last_commit(p)?;
        }
        out.push(v);
    }
    Ok(axum::Json(out).into_response())
}

/// Whether a sample looks binary: a NUL byte in the first 8 KiB, or invalid UTF-8 (a multibyte
/// character cut at the end of the sample does not count).
pub(crate) fn looks_binary(sample: &[u8]) -> bool {
    if sample.iter().take(8192).any(|&b| b == 0) {
        return true;
    }
    match std::str::from_utf8(sample) {
        Ok(_) => false,
        Err(e) => e.error_len().is_some(),
    }
}

fn lfs_patterns_of(ctx: &Ctx, record: &CommitRecord) -> Vec<String> {
    let Some(entry) = record
        .files
        .get(".gitattributes")
        .filter(|e| e.lfs.is_none())
    else {
        return Vec::new();
    };
    std::fs::read(ctx.state.store.blob_path(&entry.oid))
        .map(|b| store::lfs_patterns(&String::from_utf8_lossy(&b)))
        .unwrap_or_default()
}

async fn preupload(ctx: &Ctx, id: &RepoId, rev: &str, body: Body) -> ApiResult {
    #[derive(Deserialize)]
    struct PreFile {
        path: String,
        #[serde(default)]
        sample: String,
        size: u64,
    }
    #[derive(Deserialize)]
    struct PreBody {
        files: Vec<PreFile>,
    }
    ctx.writable_repo(id)?;
    let req: PreBody = read_json(ctx, body).await?;
    if req.files.len() > MAX_PREUPLOAD_FILES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("too many files: send at most {MAX_PREUPLOAD_FILES} per preupload request"),
        ));
    }
    let (_, record) = load_rev(ctx, id, rev)?;
    let patterns = lfs_patterns_of(ctx, &record);
    let mut files = Vec::new();
    for f in &req.files {
        let path = check_repo_path(&f.path, false)
            .map_err(|m| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, m).code("InvalidPath"))?;
        let sample = base64::engine::general_purpose::STANDARD
            .decode(f.sample.as_bytes())
            .map_err(|e| ApiError::bad_request(format!("sample of {path} is not base64: {e}")))?;
        let lfs = patterns.iter().any(|p| store::pattern_matches(p, &path))
            || f.size > LFS_SIZE_RULE
            || looks_binary(&sample);
        let mut v = json!({
            "path": f.path,
            "uploadMode": if lfs { "lfs" } else { "regular" },
            "shouldIgnore": false,
        });
        if let Some(e) = record.files.get(&path) {
            v["oid"] = Value::String(e.etag().to_owned());
        }
        files.push(v);
    }
    Ok(axum::Json(json!({"files": files, "commitOid": record.id})).into_response())
}

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

/// `POST /api/validate-yaml` with `{"content": "<README.md>", "repoType"?: "model"}`: the
/// card's front matter checked as at commit time (see the `yaml` module).
///
/// Answer: 200 `{"errors": [], "warnings": [{"message"}]}`, or 400 with the same shape and
/// at least one error. huggingface_hub reads `errors[].message` and `warnings[].message`
/// and calls `response.json()` before it checks the status, so every answer, even a refused
/// body, is this JSON. The Hub's exact messages are not public; the shape is what the client
/// reads. A request that accepts only `text/plain` gets the error messages as text.
async fn validate_yaml(ctx: &Ctx, body: Body) -> ApiResult {
    #[derive(Deserialize)]
    struct ValidateBody {
        content: String,
        #[serde(rename = "repoType")]
        repo_type: Option<String>,
    }
    let refused = |message: String| {
        (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"errors": [{"message": message}], "warnings": []})),
        )
            .into_response()
    };
    let bytes = read_body(body, ctx.state.config.max_json_bytes).await?;
    let req: ValidateBody = match serde_json::from_slice(&bytes) {
        Ok(req) => req,
        Err(e) => {
            return Ok(refused(format!(
                "the body must be JSON with a string \"content\" and an optional \"repoType\": {e}"
            )));
        }
    };
    let repo_type = req.repo_type.as_deref().unwrap_or("model");
    if !matches!(repo_type, "model" | "dataset" | "space") {
        return Ok(refused(format!(
            "unknown repoType {repo_type:?}: use model, dataset or space"
        )));
    }
    let found = crate::yaml::check_card(&req.content, repo_type);
    let status = if found.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    // `ModelCard.validate` asks for `text/plain` and raises the body as its error: the
    // messages, one a line (assumption: the Hub answers in kind; either way the client shows
    // the body).
    let wants_text = ctx
        .headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/plain") && !a.contains("json"));
    if wants_text {
        let text: String = found.errors.iter().map(|e| format!("{e}\n")).collect();
        return Ok((
            status,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            text,
        )
            .into_response());
    }
    let messages =
        |list: &[String]| -> Vec<Value> { list.iter().map(|m| json!({ "message": m })).collect() };
    Ok((
        status,
        axum::Json(json!({
            "errors": messages(&found.errors),
            "warnings": messages(&found.warnings),
        })),
    )
        .into_response())
}

/// Refuses a root `README.md` whose front matter the Hub would refuse, as the Hub does when
/// it applies a commit: 400 "Invalid metadata in README.md: ..." (the words huggingface_hub
/// uses for a refused validate-yaml), every problem in the one `error` message.
fn check_readme(kind: RepoKind, path: &str, bytes: &[u8]) -> Result<(), ApiError> {
    if path != "README.md" {
        return Ok(());
    }
    // Bytes that are not UTF-8 are replaced, as a renderer would; only the metadata counts.
    let text = String::from_utf8_lossy(bytes);
    let found = crate::yaml::check_card(&text, kind.singular());
    if found.errors.is_empty() {
        return Ok(());
    }
    Err(ApiError::bad_request(format!(
        "Invalid metadata in README.md: {}; fix the YAML block at the top of the card",
        found.errors.join("; ")
    )))
}

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
            if !store::is_sha256_hex(&oid) {
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

async fn commit(ctx: &Ctx, id: &RepoId, rev: &str, body: Body) -> ApiResult {
    ctx.writable_repo(id)?;
    let rev = if rev.is_empty() { "main" } else { rev };
    let create_pr = ctx.q_true("create_pr");
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
            ops.push(parse_op(ctx, id.kind, &parsed.key, parsed.value)?);
        }
    }
    let header = header.ok_or_else(|| ApiError::bad_request("the commit has no header line"))?;
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
    let head = if create_pr {
        resolve_rev(ctx, id, &refs, rev)?
    } else {
        let branch = rev.strip_prefix("refs/heads/").unwrap_or(rev);
        if let Some(c) = refs.branches.get(branch) {
            c.clone()
        } else if let Some(c) = rev
            .strip_prefix("refs/pr/")
            .and_then(|n| n.parse::<u64>().ok())
            .and_then(|n| refs.pulls.get(&n))
        {
            c.clone()
        } else {
            return Err(ApiError::revision_not_found(rev));
        }
    };
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
    for op in ops {
        match op {
            Op::Add(path, entry) => {
                check_addition(&files, &path).map_err(invalid_path)?;
                files.insert(path, entry);
            }
            Op::DeleteFile(path) => {
                if files.remove(&path).is_none() {
                    return Err(ApiError::new(
                        StatusCode::NOT_FOUND,
                        format!("A file with this name doesn't exist: {path}"),
                    )
                    .code("EntryNotFound"));
                }
            }
            Op::DeleteFolder(path) => {
                let under = format!("{path}/");
                let before = files.len();
                files.retain(|p, _| !p.starts_with(&under));
                if files.len() == before {
                    return Err(ApiError::new(
                        StatusCode::NOT_FOUND,
                        format!("A folder with this name doesn't exist: {path}"),
                    )
                    .code("EntryNotFound"));
                }
            }
        }
    }
    let record = store::new_commit(
        vec![head],
        files,
        &ctx.state.config.user,
        &title,
        &header.description,
    );
    store.write_commit(id, &record)?;
    let mut pr_url = None;
    if create_pr {
        let n = refs.pulls.keys().next_back().copied().unwrap_or(0) + 1;
        refs.pulls.insert(n, record.id.clone());
        pr_url = Some(format!("{}/discussions/{n}", repo_url(ctx, id)));
    } else if let Some(n) = rev
        .strip_prefix("refs/pr/")
        .and_then(|n| n.parse::<u64>().ok())
        .filter(|n| refs.pulls.contains_key(n))
    {
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

fn refs(ctx: &Ctx, id: &RepoId) -> ApiResult {
    ctx.readable_repo(id)?;
    let refs = ctx.state.store.refs(id)?;
    let branches: Vec<Value> = refs
        .branches
        .iter()
        .map(|(n, c)| json!({"name": n, "ref": format!("refs/heads/{n}"), "targetCommit": c}))
        .collect();
    let tags: Vec<Value> = refs
        .tags
        .iter()
        .map(|(n, c)| json!({"name": n, "ref": format!("refs/tags/{n}"), "targetCommit": c}))
        .collect();
    let pulls: Vec<Value> = refs
        .pulls
        .iter()
        .map(|(n, c)| json!({"name": n.to_string(), "ref": format!("refs/pr/{n}"), "targetCommit": c}))
        .collect();
    Ok(axum::Json(json!({
        "branches": branches,
        "converts": [],
        "tags": tags,
        "pullRequests": pulls,
    }))
    .into_response())
}

fn commits(ctx: &Ctx, id: &RepoId, rev: &str) -> ApiResult {
    let (_, head) = load_rev(ctx, id, rev)?;
    let formatted = ctx
        .query
        .iter()
        .any(|(k, v)| (k == "expand[]" || k == "expand") && v == "formatted");
    let page_size = ctx.state.config.commits_page_size.max(1);
    // Count the whole first-parent chain so the cursor knows when to stop.
    let mut chain = vec![head];
    while chain.len() < MAX_HISTORY {
        let Some(parent) = chain.last().and_then(|c| c.parents.first().cloned()) else {
            break;
        };
        match ctx.state.store.commit(id, &parent)? {
            Some(rec) => chain.push(rec),
            None => break,
        }
    }
    let (start, link) = paginate(ctx, chain.len(), page_size)?;
    let items: Vec<Value> = chain
        .iter()
        .skip(start)
        .take(page_size)
        .map(|c| {
            let mut v = json!({
                "id": c.id,
                "title": c.title,
                "message": c.message,
                "date": c.date,
                "authors": [{"user": c.author, "avatar": ""}],
            });
            if formatted {
                v["formatted"] = json!({"title": c.title, "message": c.message});
            }
            v
        })
        .collect();
    let mut resp = axum::Json(items).into_response();
    if let Some(link) = link {
        resp.headers_mut().insert(
            header::LINK,
            HeaderValue::from_str(&link).map_err(ApiError::internal)?,
        );
    }
    Ok(resp)
}

async fn create_tag(ctx: &Ctx, id: &RepoId, rev: &str, body: Body) -> ApiResult {
    #[derive(Deserialize)]
    struct TagBody {
        tag: String,
    }
    ctx.writable_repo(id)?;
    let req: TagBody = read_json(ctx, body).await?;
    check_ref_name(&req.tag).map_err(|why| {
        ApiError::bad_request(format!(
            "Invalid reference for a tag: {:?} ({why})",
            req.tag
        ))
    })?;
    let lock = ctx.state.locks.get(id);
    let _guard = lock.lock().await;
    let store = &ctx.state.store;
    let mut refs = store.refs(id)?;
    let commit = resolve_rev(ctx, id, &refs, rev)?;
    if refs.tags.contains_key(&req.tag) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("Tag {} already exists", req.tag),
        )
        .code("RefExists"));
    }
    refs.tags.insert(req.tag, commit);
    store.write_refs(id, &refs)?;
    Ok(axum::Json(json!({})).into_response())
}

async fn create_branch(ctx: &Ctx, id: &RepoId, branch: &str, body: Body) -> ApiResult {
    #[derive(Deserialize, Default)]
    #[serde(rename_all = "camelCase")]
    struct BranchBody {
        starting_point: Option<String>,
    }
    ctx.writable_repo(id)?;
    let req: BranchBody = read_json(ctx, body).await?;
    check_ref_name(branch).map_err(|why| {
        ApiError::bad_request(format!(
            "Invalid reference for a branch: {branch:?} ({why})"
        ))
    })?;
    let lock = ctx.state.locks.get(id);
    let _guard = lock.lock().await;
    let store = &ctx.state.store;
    let mut refs = store.refs(id)?;
    if refs.branches.contains_key(branch) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("Reference refs/heads/{branch} already exists"),
        )
        .code("RefExists"));
    }
    let start = resolve_rev(
        ctx,
        id,
        &refs,
        req.starting_point.as_deref().unwrap_or("main"),
    )?;
    refs.branches.insert(branch.to_owned(), start);
    store.write_refs(id, &refs)?;
    Ok(axum::Json(json!({})).into_response())
}

async fn delete_ref(ctx: &Ctx, id: &RepoId, name: &str, branch: bool) -> ApiResult {
    ctx.writable_repo(id)?;
    let lock = ctx.state.locks.get(id);
    let _guard = lock.lock().await;
    let store = &ctx.state.store;
    let mut refs = store.refs(id)?;
    if branch && name == "main" {
        return Err(
            ApiError::new(StatusCode::FORBIDDEN, "Cannot delete refs/heads/main").code("Forbidden"),
        );
    }
    let removed = if branch {
        refs.branches.remove(name)
    } else {
        refs.tags.remove(name)
    };
    if removed.is_none() {
        return Err(ApiError::revision_not_found(name));
    }
    store.write_refs(id, &refs)?;
    Ok(axum::Json(json!({})).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_detection() {
        assert!(!looks_binary(b"hello world\n"));
        assert!(looks_binary(b"GGUF\0\0\0\x03"));
        assert!(looks_binary(&[0xff, 0xfe, 0x41]));
        // A multibyte character cut by the sample boundary is still text.
        let text = "é".repeat(10);
        assert!(!looks_binary(&text.as_bytes()[..text.len() - 1]));
    }

    #[test]
    fn revisions_with_slashes() {
        let segs: Vec<String> = ["refs", "pr", "1", "a.txt"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let (rev, rest) = take_revision(&segs);
        assert_eq!(rev, "refs/pr/1");
        assert_eq!(rest, &segs[3..]);
        let segs: Vec<String> = ["main", "a", "b"].iter().map(|s| s.to_string()).collect();
        assert_eq!(take_revision(&segs).0, "main");
    }
}
