//! Serving stored bytes: single ranges, conditional requests, and signed, expiring CDN URLs
//! that need no token (another origin when `lfs_redirect` is on). LFS objects are reassembled
//! from their xorbs on a blocking thread. Used by the Hub's `resolve`, the LFS batch download,
//! the CDN listener, ModelScope's download and the CAS's xorb URLs.

use std::io::SeekFrom;
use std::path::Path;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest as _, Sha256};
use tokio::io::AsyncSeekExt as _;

use crate::context::Ctx;
use crate::error::{ApiError, ApiResult};
use crate::store::{LfsObject, Store, XetReader, out_buffer, unix_now};

/// Read buffer for downloads.
const IO_CHUNK: usize = 256 * 1024;

fn cdn_signature(secret: &str, oid: &str, expires: u64) -> String {
    let mut h = Sha256::new();
    h.update(secret.as_bytes());
    h.update(b"\0");
    h.update(oid.as_bytes());
    h.update(b"\0");
    h.update(expires.to_string().as_bytes());
    hex::encode(h.finalize())
}

/// A signed, expiring URL serving the object `oid` without a token.
pub(crate) fn cdn_url(ctx: &Ctx, origin: &str, oid: &str, file_name: &str) -> String {
    let expires = unix_now() + ctx.state.config.upload_url_ttl.as_secs();
    let sig = cdn_signature(&ctx.state.cdn_secret, oid, expires);
    let name = percent_encoding::utf8_percent_encode(file_name, percent_encoding::NON_ALPHANUMERIC);
    format!("{origin}/lfs-cdn/{oid}/{name}?expires={expires}&signature={sig}")
}

/// `GET /lfs-cdn/{oid}/{name}?expires=&signature=`.
pub(super) async fn cdn_get(ctx: &Ctx, oid: &str) -> ApiResult {
    let expires: u64 = ctx.q("expires").and_then(|e| e.parse().ok()).unwrap_or(0);
    let sig = ctx.q("signature").unwrap_or_default();
    if expires < unix_now() || sig != cdn_signature(&ctx.state.cdn_secret, oid, expires) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "this download URL is invalid or expired: resolve the file again",
        )
        .code("Forbidden"));
    }
    serve_lfs_object(ctx, &ctx.state.store, oid, oid, Vec::new()).await
}

/// Parses a single `bytes=` range against `size`: `Ok(None)` means serve everything,
/// `Err(())` means unsatisfiable.
fn parse_range(value: &str, size: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        // Multiple ranges are not supported; the full body is a valid answer.
        return Ok(None);
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return Ok(None);
    };
    let (a, b) = (a.trim(), b.trim());
    let range = if a.is_empty() {
        let n: u64 = b.parse().map_err(|_| ())?;
        if n == 0 || size == 0 {
            return Err(());
        }
        (size.saturating_sub(n), size - 1)
    } else {
        let start: u64 = a.parse().map_err(|_| ())?;
        let end: u64 = if b.is_empty() {
            size.saturating_sub(1)
        } else {
            b.parse::<u64>()
                .map_err(|_| ())?
                .min(size.saturating_sub(1))
        };
        if start >= size || end < start {
            return Err(());
        }
        (start, end)
    };
    Ok(Some(range))
}

/// What a download answers, once the request's conditions and range are read.
enum Plan {
    /// The whole body or one range: status, first byte, length, `Content-Range`.
    Bytes(StatusCode, u64, u64, Option<String>),
    /// 304: the client's copy is current.
    NotModified,
    /// 416: the range (the header's text) is outside the body.
    Unsatisfiable(String),
}

/// Reads `If-None-Match` and `Range` against a body of `size` bytes tagged `etag`.
fn plan(ctx: &Ctx, size: u64, etag: &str) -> Plan {
    let quoted = format!("\"{etag}\"");
    let not_modified = ctx
        .headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim().trim_start_matches("W/") == quoted)
        });
    if not_modified {
        return Plan::NotModified;
    }
    let Some(range) = ctx.headers.get(header::RANGE).and_then(|v| v.to_str().ok()) else {
        return Plan::Bytes(StatusCode::OK, 0, size, None);
    };
    match parse_range(range, size) {
        Ok(None) => Plan::Bytes(StatusCode::OK, 0, size, None),
        Ok(Some((a, b))) => Plan::Bytes(
            StatusCode::PARTIAL_CONTENT,
            a,
            b - a + 1,
            Some(format!("bytes {a}-{b}/{size}")),
        ),
        Err(()) => Plan::Unsatisfiable(range.to_owned()),
    }
}

/// Where the bytes of a download come from.
enum Source<'a> {
    /// A whole file.
    File(&'a Path),
    /// A file reassembled from xorbs.
    Xet(XetReader),
}

/// Answers with stored bytes: 200, 206 for a single range, 304 when `If-None-Match` matches
/// `etag`, 416 for a range outside them; `extra` headers are added to each.
async fn serve(
    ctx: &Ctx,
    source: Source<'_>,
    size: u64,
    etag: &str,
    extra: Vec<(&'static str, String)>,
) -> ApiResult {
    let (status, start, len, content_range) = match plan(ctx, size, etag) {
        Plan::Bytes(status, start, len, range) => (status, start, len, range),
        Plan::NotModified => (StatusCode::NOT_MODIFIED, 0, 0, None),
        Plan::Unsatisfiable(range) => {
            let mut resp = ApiError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                format!("range {range} is outside the {size}-byte file"),
            )
            .into_response();
            resp.headers_mut().insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&format!("bytes */{size}")).map_err(ApiError::internal)?,
            );
            return Ok(resp);
        }
    };
    let body = if ctx.method == Method::HEAD || len == 0 {
        Body::empty()
    } else {
        match source {
            Source::File(path) => {
                let mut file = tokio::fs::File::open(path).await?;
                if start > 0 {
                    file.seek(SeekFrom::Start(start)).await?;
                }
                use tokio::io::AsyncReadExt as _;
                Body::from_stream(tokio_util::io::ReaderStream::with_capacity(
                    file.take(len),
                    IO_CHUNK,
                ))
            }
            Source::Xet(reader) => xet_body(reader, start, len),
        }
    };
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    let hv = |s: &str| HeaderValue::from_str(s).map_err(ApiError::internal);
    if status != StatusCode::NOT_MODIFIED {
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        );
    }
    h.insert(header::ETAG, hv(&format!("\"{etag}\""))?);
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Some(cr) = content_range {
        h.insert(header::CONTENT_RANGE, hv(&cr)?);
    }
    for (k, v) in extra {
        h.insert(k, hv(&v)?);
    }
    Ok(resp)
}

/// A body reassembled from xorbs on a blocking thread, a few pieces ahead of the client; the
/// thread stops when the client goes away. A read failure (a damaged store) cuts the body
/// short, which the client sees against `Content-Length`.
fn xet_body(reader: XetReader, start: u64, len: u64) -> Body {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    tokio::task::spawn_blocking(move || {
        // Buffers come back once sent, so a download reuses a handful of them.
        let (back, recycled) = std::sync::mpsc::channel();
        let result = reader.read(start, len, &mut |piece| {
            let piece = Bytes::from_owner(Recycled {
                buf: piece,
                back: back.clone(),
            });
            tx.blocking_send(Ok(piece))
                .map_err(|_| std::io::Error::other("the client went away"))?;
            Ok(recycled.try_recv().unwrap_or_else(|_| out_buffer()))
        });
        if let Err(e) = result {
            tracing::error!("reading a stored file failed: {e}");
            let _ = tx.blocking_send(Err(e));
        }
    });
    Body::from_stream(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    }))
}

/// A buffer lent to the HTTP body, sent back to its reader once written out.
struct Recycled {
    buf: Vec<u8>,
    back: std::sync::mpsc::Sender<Vec<u8>>,
}

impl AsRef<[u8]> for Recycled {
    fn as_ref(&self) -> &[u8] {
        &self.buf
    }
}

impl Drop for Recycled {
    fn drop(&mut self) {
        let _ = self.back.send(std::mem::take(&mut self.buf));
    }
}

/// Answers with a regular file's bytes (see [`serve`]).
pub(crate) async fn serve_file(
    ctx: &Ctx,
    path: &Path,
    size: u64,
    etag: &str,
    extra: Vec<(&'static str, String)>,
) -> ApiResult {
    serve(ctx, Source::File(path), size, etag, extra).await
}

/// Answers with the bytes of the LFS object `sha256` of `store`, reassembled from its xorbs
/// (or read whole from an older data directory); 404 when it is not stored.
pub(crate) async fn serve_lfs_object(
    ctx: &Ctx,
    store: &Store,
    sha256: &str,
    etag: &str,
    extra: Vec<(&'static str, String)>,
) -> ApiResult {
    let object = store.lfs_object(sha256)?.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!("the stored object {sha256} is missing: upload the file again"),
        )
        .code("EntryNotFound")
    })?;
    match object {
        LfsObject::Xet(file) => {
            let size = file.size;
            serve(ctx, Source::Xet(store.xet_reader(file)), size, etag, extra).await
        }
        LfsObject::Whole { path, size } => serve(ctx, Source::File(&path), size, etag, extra).await,
    }
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100), Ok(Some((0, 9))));
        assert_eq!(parse_range("bytes=90-", 100), Ok(Some((90, 99))));
        assert_eq!(parse_range("bytes=-10", 100), Ok(Some((90, 99))));
        assert_eq!(parse_range("bytes=50-500", 100), Ok(Some((50, 99))));
        assert_eq!(parse_range("bytes=100-", 100), Err(()));
        assert_eq!(parse_range("bytes=5-2", 100), Err(()));
        assert_eq!(parse_range("bytes=0-1,5-6", 100), Ok(None));
        assert_eq!(parse_range("items=0-1", 100), Ok(None));
    }
}
