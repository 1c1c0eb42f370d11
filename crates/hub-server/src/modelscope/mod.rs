//! The ModelScope-compatible mode of the server: the `/api/v1/...` (and the two `/openapi/v1/...`)
//! endpoints the official `modelscope` SDK and `modelscope-client` use to create a model, ask
//! which LFS objects are missing, upload them, commit, list, download, and tag.
//!
//! ModelScope repos live in their own store under `{data_dir}/modelscope/` (created on first
//! use): another site, so a model of the same name on the Hub side never collides with it, and
//! the default branch is `master`. Everything below the API is the Hub mode's: the store, the
//! revision resolver and ref-name rules, the request context, the upload sessions and the
//! intake of uploaded bytes; this module holds only ModelScope's paths, payloads and envelope.
//! `models.rs` serves the account, models, listings, downloads and tags; `upload.rs` the
//! batch request, the upload URLs and the commit.
//!
//! Behaviour where ModelScope is not public:
//! * Auth: `Authorization: Bearer <token>` or the cookie `m_session_id=<token>`, checked against
//!   the same token lists as the Hub side. Answers are `{"Code", "Data", "Message",
//!   "RequestId", "Success"}`; failures carry the HTTP status the SDK maps to its errors (the
//!   ModelScope form of the one error type, `crate::error`).
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
//! * Branch and tag names follow the server's one set of ref-name rules (`store/refs.rs`):
//!   git's, so names such as `v1.0+build` are taken and `v1.` is refused.

mod models;
mod upload;

use axum::body::Body;
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::context::{Auth, Ctx, token_auth};
use crate::error::{ApiError, ApiResult};
use crate::store::{CommitRecord, RepoId, RepoKind, RepoMeta, Store, random_hex};

/// ModelScope's default branch.
pub(crate) const DEFAULT_BRANCH: &str = "master";
/// The business code of a failed login.
const CODE_BAD_TOKEN: u64 = 10010103009;

/// Routes a request under `/api/v1` or `/openapi/v1`; errors take ModelScope's envelope.
pub(crate) async fn route(ctx: &Ctx, body: Body) -> Response {
    match route_inner(ctx, body).await {
        Ok(r) => r,
        Err(e) => e.into_modelscope_response(),
    }
}

async fn route_inner(ctx: &Ctx, body: Body) -> ApiResult {
    let segs: Vec<&str> = ctx.segs.iter().map(String::as_str).collect();
    let m = &ctx.method;
    let get = m == Method::GET || m == Method::HEAD;
    if auth(ctx) == Auth::Invalid && !matches!(segs.as_slice(), ["api", "v1", "lfs-upload", _]) {
        return Err(
            unauthorized("the access token is invalid or expired").business_code(CODE_BAD_TOKEN)
        );
    }
    match segs.as_slice() {
        ["api", "v1", "login"] if m == Method::POST => models::login(ctx, body).await,
        ["openapi", "v1", "users", "me"] if get => models::whoami(ctx),
        ["openapi", "v1", "models", owner, name] if get => models::info(ctx, owner, name, true),
        ["api", "v1", "models"] if m == Method::POST => models::create(ctx, body).await,
        ["api", "v1", "models", owner, name] if get => models::info(ctx, owner, name, false),
        ["api", "v1", "models", owner, name] if m == Method::DELETE => {
            models::delete(ctx, owner, name).await
        }
        ["api", "v1", "models", owner, name, "revisions"] if get => {
            models::revisions(ctx, owner, name)
        }
        ["api", "v1", "models", owner, name, "repo", "files"] if get => {
            models::list_files(ctx, owner, name)
        }
        ["api", "v1", "models", owner, name, "repo"] if get => {
            models::download(ctx, owner, name).await
        }
        ["api", "v1", "models", owner, name, "repo", "tag"] if m == Method::POST => {
            models::create_tag(ctx, owner, name, body).await
        }
        ["api", "v1", "repos", "models", owner, name, rest @ ..] if m == Method::POST => match rest
        {
            ["info", "lfs", "objects", "batch"] => upload::batch(ctx, owner, name, body).await,
            ["commit", rev @ ..] if !rev.is_empty() => {
                upload::commit(ctx, owner, name, &rev.join("/"), body).await
            }
            _ => Err(no_endpoint(ctx)),
        },
        ["api", "v1", "lfs-upload", token] if m == Method::PUT => {
            upload::put_object(ctx, token, body).await
        }
        _ => Err(no_endpoint(ctx)),
    }
}

fn no_endpoint(ctx: &Ctx) -> ApiError {
    not_found(format!(
        "no ModelScope endpoint {} {}",
        ctx.method, ctx.raw_path
    ))
}

/// The success envelope around `data`.
fn ok(data: Value) -> ApiResult {
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
fn openapi_ok(data: Value) -> ApiResult {
    Ok(
        axum::Json(json!({"success": true, "data": data, "request_id": random_hex(16)}))
            .into_response(),
    )
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, message)
}

fn not_found(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, message)
}

fn unauthorized(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, message)
}

/// Who is calling: the Hub side's answer from the `Authorization` header, else the cookie.
fn auth(ctx: &Ctx) -> Auth {
    if ctx.auth != Auth::Anonymous {
        return ctx.auth;
    }
    match session_cookie(ctx) {
        Some(token) => token_auth(&ctx.state.config, &token).0,
        None => Auth::Anonymous,
    }
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

fn require_write(ctx: &Ctx) -> Result<(), ApiError> {
    match auth(ctx) {
        Auth::Write => Ok(()),
        Auth::Anonymous => Err(unauthorized(
            "login first: send the access token as cookie m_session_id or Bearer",
        )),
        Auth::Invalid => Err(unauthorized("the access token is invalid or expired")),
        Auth::Read | Auth::Guest => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "the access token may not write to this model",
        )),
    }
}

/// A query parameter, its name compared case-insensitively (the SDK sends `Revision`).
fn q<'a>(ctx: &'a Ctx, key: &str) -> Option<&'a str> {
    ctx.query
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v.as_str())
}

fn model_id(owner: &str, name: &str) -> Result<RepoId, ApiError> {
    RepoId::new(RepoKind::Model, owner, name)
        .ok_or_else(|| not_found(format!("model {owner}/{name} not found")))
}

/// Loads a model the caller may read: 404 for a missing one and for a private one the caller
/// may not see.
fn readable(ctx: &Ctx, st: &Store, id: &RepoId) -> Result<RepoMeta, ApiError> {
    let may_read_private = matches!(auth(ctx), Auth::Write | Auth::Read);
    match st.repo_meta(id)? {
        Some(meta) if !meta.private || may_read_private => Ok(meta),
        _ => Err(not_found(format!("model {} not found", id.full()))),
    }
}

/// The commit a branch, tag or commit id of a model resolves to (`master` when empty).
fn load_rev(st: &Store, id: &RepoId, rev: &str) -> Result<CommitRecord, ApiError> {
    st.load_revision(id, rev, DEFAULT_BRANCH)?.ok_or_else(|| {
        let rev = if rev.is_empty() { DEFAULT_BRANCH } else { rev };
        not_found(format!("revision {rev} not found"))
    })
}
