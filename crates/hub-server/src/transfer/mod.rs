//! Moving file bytes, below both APIs: the one intake of uploaded bytes (`intake.rs`), the
//! Git LFS protocol with its upload URLs (`lfs.rs`), the Xet CAS (`xet/`), and serving stored
//! bytes with ranges and signed URLs (`download.rs`).
//!
//! Large files are stored as Xet files whichever way they arrive: an LFS upload is chunked
//! into xorbs by the intake, a Xet upload brings its own xorbs and shard. An object becomes
//! visible (its sha256 linked to its Xet file) only after its size and sha256 match, through
//! fsync and rename. Upload, CDN and xorb URLs need no token, as presigned S3 and CDN URLs do.

mod download;
pub(crate) mod intake;
pub(crate) mod lfs;
pub(crate) mod xet;

use std::sync::atomic::Ordering;

use axum::body::Body;
use axum::http::{Method, StatusCode};

use crate::context::Ctx;
use crate::error::{ApiError, ApiResult};

pub(crate) use download::{cdn_url, serve_file, serve_lfs_object};

/// Routes `/lfs-upload/...`, `/lfs-cdn/...` and `/xet-xorb/...`, which need no token.
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
        ["xet-xorb", xorb] if m == Method::GET || m == Method::HEAD => {
            xet::xorb_data(ctx, xorb).await
        }
        _ => Err(ApiError::new(StatusCode::NOT_FOUND, "unknown transfer URL").code("NotFound")),
    }
}
