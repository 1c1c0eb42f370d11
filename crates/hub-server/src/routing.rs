//! Routing: the one entry point of every request. It applies the fault rules (so every route,
//! of both APIs and the transfers, can be made to fail), builds the request context, and
//! sends the request to the API that owns its path:
//!
//! * `/api/v1/...`, `/openapi/v1/...`: the ModelScope API (`modelscope/`);
//! * `/lfs-upload/...`, `/lfs-cdn/...`, `/xet-xorb/...`: upload, CDN and xorb URLs, which need
//!   no token (`transfer/`);
//! * `/v1/...`, `/v2/...`: the Xet CAS, which checks its own tokens (`transfer/xet/`);
//! * `/{pfx}{ns}/{name}.git/info/lfs/...`: the LFS batch API (`transfer/lfs.rs`);
//! * every other `/api/...` path and `/{pfx}{ns}/{name}/resolve/...`: the Hub API (`hub/`).
//!
//! Dependencies run one way: routing → the Hub API, the ModelScope API, the transfers → the
//! request context and errors → the store. Nothing below imports this module.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::context::{AppState, Auth, Ctx, invalid_credentials};
use crate::error::{ApiError, ApiResult};
use crate::fault::{Action, BodyFault, ConnInfo, faulty_body, tracked_body};
use crate::store::RepoKind;
use crate::{hub, modelscope, transfer};

/// Builds the router: one fallback that routes by hand.
pub(crate) fn router(state: Arc<AppState>) -> Router {
    Router::new().fallback(dispatch).with_state(state)
}

/// Whether a request moves file bytes (counted as a transfer, not an API request).
fn is_transfer_path(path: &str) -> bool {
    path.contains("/resolve/")
        || path.starts_with("/lfs-upload/")
        || path.starts_with("/lfs-cdn/")
        || path.starts_with("/v1/xorbs/")
        || path.starts_with("/xet-xorb/")
}

/// Every request: gives it a request id (`X-Request-Id` on every answer, which
/// huggingface_hub shows as `(Request ID: ...)` in every error), then [`handle`]s it.
async fn dispatch(
    state: State<Arc<AppState>>,
    conn: ConnectInfo<ConnInfo>,
    req: Request,
) -> Response {
    let id = request_id(req.headers());
    let mut resp = handle(state, conn, req).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert("x-request-id", value);
    }
    resp
}

/// The id of a request: the trace id the client sent (`X-Amzn-Trace-Id`, which
/// huggingface_hub sets on every request, or `X-Request-Id`) when it is a short printable
/// token, else a new one in the same `Root=1-{time}-{random}` form. Assumption: the Hub, behind
/// AWS load balancers, answers the trace id it received; the client only shows the value.
fn request_id(headers: &axum::http::HeaderMap) -> String {
    let sent = ["x-amzn-trace-id", "x-request-id"].iter().find_map(|name| {
        headers
            .get(*name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty() && v.len() <= 200 && v.bytes().all(|b| b.is_ascii_graphic()))
    });
    match sent {
        Some(id) => id.to_owned(),
        None => format!(
            "Root=1-{:08x}-{}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            crate::store::random_hex(12)
        ),
    }
}

/// Counts a request, applies the first matching fault rule, builds the context, routes, and
/// closes the connection when the request body was left unread.
async fn handle(
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

    let mut ctx = match Ctx::new(state, method, &parts.uri, headers) {
        Ok(ctx) => ctx,
        Err(e) => return e.into_response(),
    };
    ctx.expire_xet_token = action == Some(Action::ExpireToken);
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

/// The top-level path table.
async fn route(ctx: &Ctx, body: Body) -> ApiResult {
    let segs: Vec<&str> = ctx.segs.iter().map(String::as_str).collect();
    // The CAS checks its own tokens, which are not Hub tokens.
    if transfer::xet::is_cas_path(&segs) {
        return transfer::xet::route(ctx, body).await;
    }
    // Presigned URLs ignore credentials, as S3 and the CDN do; everything else rejects bad ones.
    let presigned = matches!(segs.first(), Some(&("lfs-upload" | "lfs-cdn" | "xet-xorb")));
    if ctx.auth == Auth::Invalid && !presigned {
        return Err(invalid_credentials());
    }
    let m = &ctx.method;
    match segs.as_slice() {
        ["api" | "openapi", "v1", ..] => Ok(modelscope::route(ctx, body).await),
        ["api", "whoami-v2"] if m == Method::GET => hub::whoami(ctx),
        ["api", "repos", "create"] if m == Method::POST => hub::create_repo(ctx, body).await,
        ["api", "repos", "delete"] if m == Method::DELETE => hub::delete_repo(ctx, body).await,
        ["api", kind] if m == Method::GET && RepoKind::from_plural(kind).is_some() => {
            hub::list_repos(ctx, RepoKind::from_plural(kind).unwrap_or(RepoKind::Model))
        }
        ["api", "validate-yaml"] if m == Method::POST => hub::validate_yaml(ctx, body).await,
        // An id without a namespace (`/api/models/gpt2`, legacy ids the Hub redirects) names
        // no repo here: `RepoNotFound`, so `repo_exists()` and friends answer False.
        ["api", kind, _] if RepoKind::from_plural(kind).is_some() => Err(ctx.repo_not_found()),
        ["api", kind, ns, name, ..] if RepoKind::from_plural(kind).is_some() => {
            let kind = RepoKind::from_plural(kind).unwrap_or(RepoKind::Model);
            let id = ctx.hub_repo(kind, ns, name)?;
            // Every per-repo endpoint answers `RepoNotFound` for a repo the caller cannot see
            // before it looks at the rest of the path, as the Hub does: an unqualified id
            // followed by `/revision/x` or `/tree/x` reads as the repo `{id}/revision` here,
            // which does not exist either.
            ctx.readable_repo(&id)?;
            let rest = &ctx.segs[4..];
            hub::route_repo(ctx, &id, rest, body).await
        }
        ["lfs-upload", ..] | ["lfs-cdn", ..] | ["xet-xorb", ..] => {
            transfer::route_presigned(ctx, body).await
        }
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
            // `/{id}.git/info/...` and `/{id}/resolve/...` with an id without a namespace.
            if rest[0].ends_with(".git") && rest[1] == "info"
                || rest[1] == "resolve" && rest[2] != "resolve"
            {
                return Err(ctx.repo_not_found());
            }
            if let Some(name) = rest[1].strip_suffix(".git") {
                let id = ctx.hub_repo(kind, &rest[0], name)?;
                let tail: Vec<&str> = rest[2..].iter().map(String::as_str).collect();
                return match tail.as_slice() {
                    ["info", "lfs", "objects", "batch"] if m == Method::POST => {
                        transfer::lfs::batch(ctx, &id, body).await
                    }
                    ["info", "lfs", "objects", "verify"] if m == Method::POST => {
                        transfer::lfs::verify(ctx, &id, body).await
                    }
                    _ => Err(ApiError::page_not_found()),
                };
            }
            if rest[2] == "resolve" && (m == Method::GET || m == Method::HEAD) {
                let id = ctx.hub_repo(kind, &rest[0], &rest[1])?;
                return hub::resolve(ctx, &id, &rest[3..]).await;
            }
            Err(ApiError::page_not_found())
        }
        _ => Err(ApiError::page_not_found()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transfer_paths_are_counted_apart() {
        assert!(is_transfer_path("/local/m/resolve/main/a.gguf"));
        assert!(is_transfer_path("/lfs-upload/abc"));
        assert!(is_transfer_path("/lfs-cdn/abc/x"));
        assert!(is_transfer_path("/v1/xorbs/default/abc"));
        assert!(is_transfer_path("/xet-xorb/abc"));
        assert!(!is_transfer_path("/v1/shards"));
        // ModelScope's upload URLs count as API requests (the demo's counters rely on it).
        assert!(!is_transfer_path("/api/v1/lfs-upload/abc"));
        assert!(!is_transfer_path("/api/models/local/m/tree/main"));
    }
}
