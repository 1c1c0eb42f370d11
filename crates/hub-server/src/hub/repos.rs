//! The repo endpoints of the Hub API: whoami, create, delete, settings, the listing of a
//! kind, and model (dataset, Space) info.

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::IntoResponse as _;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{DEFAULT_BRANCH, load_rev, repo_url, short_id};
use crate::context::{Auth, Ctx, read_json};
use crate::error::{ApiError, ApiResult};
use crate::store::{RepoId, RepoKind, lfs_pointer};

/// `GET /api/whoami-v2`.
pub(crate) fn whoami(ctx: &Ctx) -> ApiResult {
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
    let uid = short_id(&name);
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

/// The repo a create or delete body names: `name` (`ns/name`, or a name in `organization`,
/// else in the user's namespace) and `type`.
#[derive(Deserialize)]
struct RepoName {
    name: String,
    organization: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

impl RepoName {
    fn id(&self, ctx: &Ctx) -> Result<RepoId, ApiError> {
        let kind = match self.kind.as_deref() {
            None => RepoKind::Model,
            Some(k) => RepoKind::from_singular(k).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "unknown repo type {k:?}: use model, dataset or space"
                ))
            })?,
        };
        let (ns, name) = match self.name.split_once('/') {
            Some((ns, n)) => (ns.to_owned(), n.to_owned()),
            None => (
                self.organization
                    .clone()
                    .unwrap_or_else(|| ctx.state.config.user.clone()),
                self.name.clone(),
            ),
        };
        RepoId::new(kind, &ns, &name).ok_or_else(|| {
            ApiError::bad_request(format!(
                "invalid repo name {ns}/{name}: use letters, digits, '-', '_' and '.', at most 96 characters"
            ))
        })
    }
}

#[derive(Deserialize)]
struct CreateRepoBody {
    #[serde(flatten)]
    repo: RepoName,
    private: Option<bool>,
    visibility: Option<String>,
}

/// `POST /api/repos/create`.
pub(crate) async fn create_repo(ctx: &Ctx, body: Body) -> ApiResult {
    ctx.require_write()?;
    let req: CreateRepoBody = read_json(ctx, body).await?;
    let id = req.repo.id(ctx)?;
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

/// `DELETE /api/repos/delete`.
pub(crate) async fn delete_repo(ctx: &Ctx, body: Body) -> ApiResult {
    ctx.require_write()?;
    let req: RepoName = read_json(ctx, body).await?;
    let id = req.id(ctx)?;
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

/// `PUT /api/{t}/{repo}/settings`: visibility.
pub(super) async fn settings(ctx: &Ctx, id: &RepoId, body: Body) -> ApiResult {
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

/// `GET /api/models?author=&search=&limit=`: the repos of one kind the caller may see, sorted.
pub(crate) fn list_repos(ctx: &Ctx, kind: RepoKind) -> ApiResult {
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
        let sha = ctx
            .state
            .store
            .refs(&id)?
            .branches
            .get(DEFAULT_BRANCH)
            .cloned();
        let full = id.full();
        out.push(json!({
            "_id": short_id(&full),
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

/// `GET /api/{t}/{repo}[/revision/{rev}]`.
pub(super) fn info(ctx: &Ctx, id: &RepoId, rev: &str) -> ApiResult {
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
                        "pointerSize": lfs_pointer(&lfs.sha256, lfs.size).len(),
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
        "_id": short_id(&full),
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
