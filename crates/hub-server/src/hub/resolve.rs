//! `HEAD`/`GET /{pfx}{repo}/resolve/{rev}/{path}`: a file's bytes with the metadata headers
//! huggingface_hub reads (`X-Repo-Commit`, `ETag`, `X-Linked-Etag`, `X-Linked-Size`, and for
//! large files `X-Xet-Hash` with the `xet-auth` link), served from the store, or a 302 to the
//! signed CDN URL when `lfs_redirect` is on.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse as _;

use super::{load_rev, take_revision};
use crate::context::Ctx;
use crate::error::{ApiError, ApiResult};
use crate::store::RepoId;
use crate::transfer::{cdn_url, serve_file, serve_lfs_object};

/// Serves a file of a repo; `rest` is what follows `resolve/` (the revision, then the path).
pub(crate) async fn resolve(ctx: &Ctx, id: &RepoId, rest: &[String]) -> ApiResult {
    let (rev, path) = take_revision(rest);
    let path = path.join("/");
    let path = path.as_str();
    ctx.downloadable_repo(id)?;
    let (_, record) = load_rev(ctx, id, &rev)?;
    let entry = record
        .files
        .get(path)
        .ok_or_else(|| ApiError::entry_not_found(path, &record.id))?;
    let etag = entry.etag().to_owned();
    let mut extra = vec![("x-repo-commit", record.id.clone())];
    if let Some(lfs) = &entry.lfs {
        extra.push(("x-linked-etag", format!("\"{}\"", lfs.sha256)));
        extra.push(("x-linked-size", lfs.size.to_string()));
        extra.extend(super::xet::resolve_headers(
            ctx,
            id,
            &record.id,
            &lfs.sha256,
        ));
        if ctx.state.config.lfs_redirect
            && let Some(port) = ctx.state.cdn_port.get()
        {
            let host = ctx
                .base
                .split_once("://")
                .map_or(ctx.base.as_str(), |(_, h)| h);
            let hostname = match host.rfind(':') {
                Some(i) if !host[i..].contains(']') => &host[..i],
                _ => host,
            };
            let file_name = path.rsplit('/').next().unwrap_or(path);
            let origin = format!("http://{hostname}:{port}");
            let location = cdn_url(ctx, &origin, &lfs.sha256, file_name);
            let mut resp = StatusCode::FOUND.into_response();
            let h = resp.headers_mut();
            h.insert(
                header::LOCATION,
                HeaderValue::from_str(&location).map_err(ApiError::internal)?,
            );
            h.insert(
                header::ETAG,
                HeaderValue::from_str(&format!("\"{etag}\"")).map_err(ApiError::internal)?,
            );
            for (k, v) in extra {
                h.insert(k, HeaderValue::from_str(&v).map_err(ApiError::internal)?);
            }
            return Ok(resp);
        }
        return serve_lfs_object(ctx, &ctx.state.store, &lfs.sha256, &etag, extra).await;
    }
    let file = ctx.state.store.blob_path(&entry.oid);
    serve_file(ctx, &file, entry.size, &etag, extra).await
}
