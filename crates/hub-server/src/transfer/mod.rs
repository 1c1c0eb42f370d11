//! Moving file bytes, below both APIs: the one intake of uploaded bytes (`intake.rs`), the
//! Git LFS protocol with its upload URLs (`lfs.rs`), and serving stored bytes with ranges and
//! signed CDN URLs (`download.rs`). The Xet CAS is the next sibling (`xet.rs`), on the same
//! intake, store and upload sessions.
//!
//! An object becomes visible under `objects/lfs/` only after its size and sha256 match,
//! through fsync and rename. Upload and CDN URLs need no token, as presigned S3 and CDN URLs do.

mod download;
pub(crate) mod intake;
pub(crate) mod lfs;

use std::sync::atomic::Ordering;

use axum::body::Body;
use axum::http::{Method, StatusCode};

use crate::context::Ctx;
use crate::error::{ApiError, ApiResult};

pub(crate) use download::{cdn_url, serve_file};

/// Routes `/lfs-upload/...` and `/lfs-cdn/...`, which need no token.
pub(crate) async fn route_presigned(ctx: &Ctx, body: Body) -> ApiResult {
    if ctx.has_authorization() {
        ctx.state
            .counters
            .auth_on_presigned
            .store(true, Ordering::Relaxed);
    }
    let segs: Vec<&str> = ctx.segs.iter().map(String::as_str).collect();
    let m = &ctx.method;
    match segs.as_slice() {
        ["lfs-upload", token] if m == Method::PUT => lfs::put_basic(ctx, token, body).await,
        ["lfs-upload", token, "part", n] if m == Method::PUT => {
            let n: usize = n
                .parse()
                .map_err(|_| ApiError::bad_request("part number must be an integer"))?;
            lfs::put_part(ctx, token, n, body).await
        }
        ["lfs-upload", token, "complete"] if m == Method::POST => {
            lfs::complete(ctx, token, body).await
        }
        ["lfs-cdn", oid, ..] if m == Method::GET || m == Method::HEAD => {
            download::cdn_get(ctx, oid).await
        }
        _ => Err(ApiError::new(StatusCode::NOT_FOUND, "unknown transfer URL").code("NotFound")),
    }
}
