//! The repo endpoints of the Hub API: whoami, create, delete, settings and the listing of a
//! kind (a repo's info is `info.rs`).

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::IntoResponse as _;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{DEFAULT_BRANCH, repo_url, short_id};
use crate::context::{Auth, Ctx, read_json};
use crate::error::{ApiError, ApiResult};
use crate::store::{RepoId, RepoKind, RepoMeta};

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
    /// A Space's SDK, which huggingface_hub requires for Spaces.
    sdk: Option<String>,
}

/// The SDKs a Space may use (huggingface_hub's `SPACES_SDK_TYPES`).
const SPACE_SDKS: [&str; 4] = ["gradio", "streamlit", "docker", "static"];

/// The `README.md` the Hub writes into a new Space: front matter naming the SDK (which
/// `space_info().sdk` reads back), then a pointer to the configuration reference. The title is
/// quoted so that a name like `1e5` stays a string.
fn space_readme(name: &str, sdk: &str) -> String {
    let app_file = if matches!(sdk, "gradio" | "streamlit") {
        "app_file: app.py\n"
    } else {
        ""
    };
    format!(
        "---\ntitle: \"{name}\"\nemoji: \u{1f680}\ncolorFrom: blue\ncolorTo: green\nsdk: {sdk}\n{app_file}pinned: false\n---\n\n\
         Check out the configuration reference at https://huggingface.co/docs/hub/spaces-config-reference\n"
    )
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
    // Assumption: the Hub refuses a Space without a known SDK (huggingface_hub checks before
    // it sends, so only other clients meet this answer).
    let readme = match (id.kind, req.sdk.as_deref()) {
        (RepoKind::Space, Some(sdk)) if SPACE_SDKS.contains(&sdk) => {
            Some(space_readme(&id.name, sdk))
        }
        (RepoKind::Space, other) => {
            return Err(ApiError::bad_request(format!(
                "a Space needs an sdk, one of {}; got {other:?}",
                SPACE_SDKS.join(", ")
            )));
        }
        _ => None,
    };
    let lock = ctx.state.locks.get(&id);
    let _guard = lock.lock().await;
    let store = &ctx.state.store;
    // Repo ids are case-insensitive: `Me/MyRepo` exists when `me/myrepo` does, and the 409
    // carries the stored id's URL.
    if let Some(existing) = store.find_repo(&id)? {
        let url = repo_url(ctx, &existing);
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("You already created this {} repo", id.kind.singular()),
        )
        .code("RepoExists")
        .with("url", Value::String(url)));
    }
    // On the Hub every commit of a new repo, the initial one included, is the creator's.
    let readme = readme.as_ref().map(|r| ("README.md", r.as_bytes()));
    store.create_repo(&id, DEFAULT_BRANCH, &ctx.state.config.user, private, readme)?;
    let url = repo_url(ctx, &id);
    Ok(axum::Json(json!({"url": url, "name": id.full(), "id": id.full()})).into_response())
}

/// `DELETE /api/repos/delete`.
pub(crate) async fn delete_repo(ctx: &Ctx, body: Body) -> ApiResult {
    ctx.require_write()?;
    let req: RepoName = read_json(ctx, body).await?;
    let named = req.id(ctx)?;
    let id = ctx.state.store.find_repo(&named)?.unwrap_or(named);
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
    gated: Option<Value>,
}

/// `PUT /api/{t}/{repo}/settings`: visibility (`private`, or `visibility` `public`, `private`,
/// and for Spaces `protected`, served as public here) and gating (`gated`: `"auto"`,
/// `"manual"` or `false`), the settings huggingface_hub's `update_repo_settings` sends. A value
/// the Hub would refuse is 400 and changes nothing.
pub(super) async fn settings(ctx: &Ctx, id: &RepoId, body: Body) -> ApiResult {
    let req: SettingsBody = read_json(ctx, body).await?;
    let private = match req.visibility.as_deref() {
        None => req.private,
        Some("private") => Some(true),
        Some("public") => Some(false),
        Some("protected") if id.kind == RepoKind::Space => Some(false),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "unknown visibility {other:?}: use public or private (or protected for a Space)"
            )));
        }
    };
    let gated = match &req.gated {
        None => None,
        Some(Value::Bool(false)) => Some(None),
        Some(Value::String(mode)) if mode == "auto" || mode == "manual" => Some(Some(mode.clone())),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "invalid gated value {other}: use \"auto\", \"manual\" or false"
            )));
        }
    };
    let lock = ctx.state.locks.get(id);
    let _guard = lock.lock().await;
    let mut meta = ctx.writable_repo(id)?;
    if let Some(p) = private {
        meta.private = p;
    }
    if let Some(g) = gated {
        meta.gated = g;
    }
    ctx.state.store.write_repo_meta(id, &meta)?;
    Ok(axum::Json(json!({"private": meta.private, "gated": gated_json(&meta)})).into_response())
}

/// `gated` as the Hub shows it: `"auto"`, `"manual"` or `false`.
pub(super) fn gated_json(meta: &RepoMeta) -> Value {
    meta.gated
        .as_ref()
        .map_or(Value::Bool(false), |g| Value::String(g.clone()))
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
            || author.is_some_and(|a| !a.eq_ignore_ascii_case(&id.namespace))
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
            "gated": gated_json(&meta),
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
