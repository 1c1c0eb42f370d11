//! The Hub API: the `/api/...` endpoints the official `huggingface_hub` client uses, one file
//! per endpoint group, with the Hub's answers (`X-Error-Code`, `{"error": ...}`).
//!
//! * `repos.rs`: whoami, create, delete, settings and listing;
//! * `info.rs`: a repo's info (`expand[]`, the card's metadata);
//! * `tree.rs`: tree listings and paths-info;
//! * `preupload.rs`: preupload and validate-yaml (what a client asks before committing);
//! * `commit.rs`: the NDJSON commit;
//! * `refs.rs`: refs, commit history, tags and branches;
//! * `resolve.rs`: `resolve` downloads;
//! * `xet.rs`: the Xet token routes and the Xet fields of other answers;
//! * `yaml.rs`: the card checks validate-yaml and commits share.
//!
//! It sits on the transfers (bytes in and out), the request context and the store, and never
//! reaches into the ModelScope API.

mod commit;
mod info;
mod preupload;
mod refs;
mod repos;
mod resolve;
mod tree;
mod xet;
mod yaml;

use axum::body::Body;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use base64::Engine as _;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::context::{Ctx, XetScope, form_encode};
use crate::error::{ApiError, ApiResult};
use crate::store::{CommitRecord, Refs, RepoId, RepoMeta, is_short_commit_id};

pub(crate) use preupload::validate_yaml;
pub(crate) use repos::{create_repo, delete_repo, list_repos, whoami};
pub(crate) use resolve::resolve;

/// The Hub's default branch.
pub(crate) const DEFAULT_BRANCH: &str = "main";
/// How far commit history walks go.
const MAX_HISTORY: usize = 100_000;

/// Routes `/api/{models|datasets|spaces}/{ns}/{name}/...`: the per-repo endpoints.
pub(crate) async fn route_repo(ctx: &Ctx, id: &RepoId, rest: &[String], body: Body) -> ApiResult {
    let m = &ctx.method;
    let head: Option<&str> = rest.first().map(String::as_str);
    let after = rest.get(1..).unwrap_or(&[]);
    match head {
        None if m == Method::GET => info::info(ctx, id, DEFAULT_BRANCH),
        Some("revision") if m == Method::GET => info::info(ctx, id, &after.join("/")),
        Some("tree") if m == Method::GET => {
            let (rev, path) = take_revision(after);
            tree::tree(ctx, id, &rev, &path.join("/"))
        }
        Some("paths-info") if m == Method::POST => {
            tree::paths_info(ctx, id, &after.join("/"), body).await
        }
        Some("preupload") if m == Method::POST => {
            preupload::preupload(ctx, id, &after.join("/"), body).await
        }
        Some("commit") if m == Method::POST => {
            commit::commit(ctx, id, &after.join("/"), body).await
        }
        Some("refs") if m == Method::GET => refs::refs(ctx, id),
        Some("commits") if m == Method::GET => refs::commits(ctx, id, &after.join("/")),
        Some("tag") if m == Method::POST => refs::create_tag(ctx, id, &after.join("/"), body).await,
        Some("tag") if m == Method::DELETE => {
            refs::delete_ref(ctx, id, &after.join("/"), false).await
        }
        Some("branch") if m == Method::POST => {
            refs::create_branch(ctx, id, &after.join("/"), body).await
        }
        Some("branch") if m == Method::DELETE => {
            refs::delete_ref(ctx, id, &after.join("/"), true).await
        }
        Some("settings") if m == Method::PUT => repos::settings(ctx, id, body).await,
        // The Xet token routes: the CAS itself is a transfer (`transfer/xet/`), next to LFS.
        Some("xet-write-token") if m == Method::GET => {
            xet::token(ctx, id, &after.join("/"), XetScope::Write)
        }
        Some("xet-read-token") if m == Method::GET => {
            xet::token(ctx, id, &after.join("/"), XetScope::Read)
        }
        None
        | Some("revision" | "tree" | "paths-info" | "preupload" | "commit" | "refs")
        | Some("commits" | "tag" | "branch" | "settings")
        | Some("xet-write-token" | "xet-read-token") => Err(ApiError::method_not_allowed()),
        _ => Err(ApiError::page_not_found()),
    }
}

/// The web URL of a repo, on the host the client used.
fn repo_url(ctx: &Ctx, id: &RepoId) -> String {
    format!("{}/{}", ctx.base, id.url_path())
}

/// The 24-hex id the Hub gives users and repos (`_id`), here derived from the name.
fn short_id(name: &str) -> String {
    hex::encode(Sha256::digest(name.as_bytes()))[..24].to_owned()
}

/// Joins revision segments: `refs/pr/1` may arrive as one `%2F` segment or as three.
pub(crate) fn take_revision(rest: &[String]) -> (String, &[String]) {
    if rest.len() >= 3 && rest[0] == "refs" && matches!(rest[1].as_str(), "pr" | "heads" | "tags") {
        (rest[..3].join("/"), &rest[3..])
    } else if let Some(first) = rest.first() {
        (first.clone(), &rest[1..])
    } else {
        (String::new(), rest)
    }
}

/// Resolves a revision of a Hub repo to a commit id (see `Store::resolve_revision`).
fn resolve_rev(ctx: &Ctx, id: &RepoId, refs: &Refs, rev: &str) -> Result<String, ApiError> {
    ctx.state
        .store
        .resolve_revision(id, refs, rev, DEFAULT_BRANCH)?
        .ok_or_else(|| unresolved(ctx, id, rev))
}

/// Loads the commit a revision points to in a readable repo.
fn load_rev(ctx: &Ctx, id: &RepoId, rev: &str) -> Result<(RepoMeta, CommitRecord), ApiError> {
    let meta = ctx.readable_repo(id)?;
    let record = ctx
        .state
        .store
        .load_revision(id, rev, DEFAULT_BRANCH)?
        .ok_or_else(|| unresolved(ctx, id, rev))?;
    Ok((meta, record))
}

/// The answer for a revision that names nothing: 404 `RevisionNotFound`, whose message says
/// so when it is a commit-id prefix several commits share. Assumption: the Hub answers an
/// ambiguous prefix like a missing revision (git cannot resolve it either).
fn unresolved(ctx: &Ctx, id: &RepoId, rev: &str) -> ApiError {
    if is_short_commit_id(rev)
        && ctx
            .state
            .store
            .commits_with_prefix(id, rev)
            .is_ok_and(|found| found.len() > 1)
    {
        return ApiError::new(
            StatusCode::NOT_FOUND,
            format!(
                "Invalid rev id: {rev} is the start of several commit ids; give more hex digits"
            ),
        )
        .code("RevisionNotFound");
    }
    revision_not_found(rev)
}

fn revision_not_found(rev: &str) -> ApiError {
    ApiError::revision_not_found(if rev.is_empty() { DEFAULT_BRANCH } else { rev })
}

/// Reads the opaque `cursor` and builds the `Link` header for the next page, if any.
pub(super) fn paginate(
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

/// A JSON array answer with the `Link` header of the next page, if any.
fn json_page(items: Vec<Value>, link: Option<String>) -> ApiResult {
    let mut resp: Response = axum::Json(items).into_response();
    if let Some(link) = link {
        resp.headers_mut().insert(
            header::LINK,
            HeaderValue::from_str(&link).map_err(ApiError::internal)?,
        );
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

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
