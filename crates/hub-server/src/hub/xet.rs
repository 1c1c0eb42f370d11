//! The Hub side of Xet: the token routes that hand out CAS access tokens
//! (`GET /api/{t}/{repo}/xet-write-token/{rev}` and `xet-read-token/{rev}`), and what other
//! answers add for files stored in xorbs (`X-Xet-Hash` and the `xet-auth` link of `resolve`,
//! `xetHash` in listings). The CAS itself is a transfer (`transfer/xet/`).

use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::IntoResponse as _;
use serde_json::json;

use super::{DEFAULT_BRANCH, resolve_rev};
use crate::context::{Ctx, XetScope};
use crate::error::{ApiError, ApiResult};
use crate::store::{RepoId, unix_now};

/// The answer of a token route when Xet is switched off.
fn xet_off() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "this server does not speak xet; set HF_HUB_DISABLE_XET=1 to use the LFS path",
    )
    .code("NotFound")
}

/// `GET .../xet-write-token/{rev}` (a Hub write token; `rev` may be `None` with
/// `create_pr=1`) and `GET .../xet-read-token/{rev}` (anyone who may read the repo):
/// `{accessToken, exp, casUrl}` and the same in `X-Xet-*` headers, which the Python download
/// path reads while the refresher reads the JSON.
pub(super) fn token(ctx: &Ctx, id: &RepoId, rev: &str, scope: XetScope) -> ApiResult {
    if !ctx.state.config.xet {
        return Err(xet_off());
    }
    match scope {
        XetScope::Write => {
            ctx.writable_repo(id)?;
            // A pull request's revision is not known before it is opened.
            let open_pr = ctx.q_true("create_pr") && matches!(rev, "" | "None");
            if !open_pr {
                let refs = ctx.state.store.refs(id)?;
                let rev = if rev.is_empty() || rev == "None" {
                    DEFAULT_BRANCH
                } else {
                    rev
                };
                resolve_rev(ctx, id, &refs, rev)?;
            }
        }
        XetScope::Read => {
            ctx.readable_repo(id)?;
            let refs = ctx.state.store.refs(id)?;
            resolve_rev(ctx, id, &refs, rev)?;
        }
    }
    let exp = unix_now() + ctx.state.config.xet_token_ttl.as_secs().max(1);
    let token = ctx.state.xet_tokens.issue(id, scope, exp);
    let mut resp = axum::Json(json!({
        "accessToken": token,
        "exp": exp,
        "casUrl": ctx.base,
    }))
    .into_response();
    let h = resp.headers_mut();
    for (name, value) in [
        ("x-xet-cas-url", ctx.base.clone()),
        ("x-xet-access-token", token),
        ("x-xet-token-expiration", exp.to_string()),
    ] {
        h.insert(
            HeaderName::from_static(name),
            HeaderValue::from_str(&value).map_err(ApiError::internal)?,
        );
    }
    Ok(resp)
}

/// The Xet file hash of LFS object `sha256` when it is stored in xorbs and Xet is on.
pub(super) fn xet_hash_of(ctx: &Ctx, sha256: &str) -> Option<String> {
    if !ctx.state.config.xet {
        return None;
    }
    ctx.state.store.xet_link(sha256).map(|(hash, _)| hash)
}

/// What `resolve` adds for an LFS file stored in xorbs: `X-Xet-Hash` and the link to the read
/// token route of the commit it was resolved at, which a Xet client follows instead of the
/// bytes.
pub(super) fn resolve_headers(
    ctx: &Ctx,
    id: &RepoId,
    commit: &str,
    sha256: &str,
) -> Vec<(&'static str, String)> {
    let Some(hash) = xet_hash_of(ctx, sha256) else {
        return Vec::new();
    };
    let route = format!(
        "{}/api/{}/{}/xet-read-token/{commit}",
        ctx.base,
        id.kind.plural(),
        id.full()
    );
    vec![
        ("x-xet-hash", hash),
        ("link", format!("<{route}>; rel=\"xet-auth\"")),
    ]
}
