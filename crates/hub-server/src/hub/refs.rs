//! Refs and history: `GET .../refs`, `GET .../commits/{rev}` (paginated), and creating and
//! deleting tags and branches, under the one set of ref-name rules (`store::check_ref_name`).

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::IntoResponse as _;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{DEFAULT_BRANCH, MAX_HISTORY, json_page, load_rev, paginate, resolve_rev};
use crate::context::{Ctx, read_json};
use crate::error::{ApiError, ApiResult};
use crate::store::{RepoId, check_ref_name};

/// `GET /api/{t}/{repo}/refs`.
pub(super) fn refs(ctx: &Ctx, id: &RepoId) -> ApiResult {
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

/// `GET /api/{t}/{repo}/commits/{rev}`, newest first.
pub(super) fn commits(ctx: &Ctx, id: &RepoId, rev: &str) -> ApiResult {
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
    json_page(items, link)
}

/// `POST /api/{t}/{repo}/tag/{rev}` with `{"tag"}`.
pub(super) async fn create_tag(ctx: &Ctx, id: &RepoId, rev: &str, body: Body) -> ApiResult {
    #[derive(Deserialize)]
    struct TagBody {
        tag: String,
    }
    ctx.writable_repo(id)?;
    let req: TagBody = read_json(ctx, body).await?;
    let lock = ctx.state.locks.get(id);
    let _guard = lock.lock().await;
    let store = &ctx.state.store;
    let mut refs = store.refs(id)?;
    // The Hub checks the revision first: a missing one is 404 `RevisionNotFound` even when
    // the tag name is invalid too.
    let commit = resolve_rev(ctx, id, &refs, rev)?;
    check_ref_name(&req.tag).map_err(|why| {
        ApiError::bad_request(format!(
            "Invalid reference for a tag: {:?} ({why})",
            req.tag
        ))
    })?;
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

/// `POST /api/{t}/{repo}/branch/{name}` with an optional `startingPoint`.
pub(super) async fn create_branch(ctx: &Ctx, id: &RepoId, branch: &str, body: Body) -> ApiResult {
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
        req.starting_point.as_deref().unwrap_or(DEFAULT_BRANCH),
    )?;
    refs.branches.insert(branch.to_owned(), start);
    store.write_refs(id, &refs)?;
    Ok(axum::Json(json!({})).into_response())
}

/// `DELETE /api/{t}/{repo}/tag/{name}` and `.../branch/{name}`.
pub(super) async fn delete_ref(ctx: &Ctx, id: &RepoId, name: &str, branch: bool) -> ApiResult {
    ctx.writable_repo(id)?;
    let lock = ctx.state.locks.get(id);
    let _guard = lock.lock().await;
    let store = &ctx.state.store;
    let mut refs = store.refs(id)?;
    if branch && name == DEFAULT_BRANCH {
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
