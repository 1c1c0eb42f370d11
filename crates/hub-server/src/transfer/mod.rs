//! Moving file bytes: the LFS batch API, presigned-style upload URLs (basic and multipart),
//! verification, and `resolve`/CDN downloads streamed from disk with single-range support.
//!
//! Uploaded bytes go through the one intake (`intake.rs`): an object becomes visible under
//! `objects/lfs/` only after its size and sha256 match, through fsync and rename.

use std::io::SeekFrom;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::body::Body;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use sha1::Sha1;
use sha2::{Digest as _, Sha256};
use tokio::io::AsyncSeekExt as _;

use crate::api::load_rev;
use crate::context::{Ctx, read_json};
use crate::context::{Site, Upload, UploadKind, UploadSessions};
use crate::error::{ApiError, ApiResult};
use crate::store::{RepoId, is_sha256_hex, unix_now};

pub(crate) mod intake;

use intake::{TempFile, publish, receive_object, sha256_of, size_mismatch, stream_into};

/// The largest LFS object accepted (the Hub's LFS path limit).
const MAX_LFS_SIZE: u64 = 50 * 1000 * 1000 * 1000;
/// Read buffer for downloads and hashing.
const IO_CHUNK: usize = 256 * 1024;
/// The most parts a multipart upload may have (S3's bound).
const MAX_PARTS: u64 = 10_000;

#[derive(Deserialize)]
struct BatchObject {
    oid: String,
    size: u64,
}

#[derive(Deserialize)]
struct BatchBody {
    operation: String,
    #[serde(default)]
    transfers: Vec<String>,
    objects: Vec<BatchObject>,
}

fn lfs_json(value: Value) -> Response {
    let mut resp = axum::Json(value).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/vnd.git-lfs+json"),
    );
    resp
}

pub(crate) async fn lfs_batch(ctx: &Ctx, id: &RepoId, body: Body) -> ApiResult {
    let req: BatchBody = read_json(ctx, body).await?;
    let cfg = &ctx.state.config;
    if req.objects.len() > cfg.max_batch_objects {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "too many objects ({}): send at most {} per batch request",
                req.objects.len(),
                cfg.max_batch_objects
            ),
        ));
    }
    let upload = match req.operation.as_str() {
        "upload" => {
            ctx.writable_repo(id)?;
            true
        }
        "download" => {
            ctx.readable_repo(id)?;
            false
        }
        other => {
            return Err(ApiError::bad_request(format!(
                "unknown LFS operation {other:?}: use upload or download"
            )));
        }
    };
    let multipart_ok = req.transfers.is_empty() || req.transfers.iter().any(|t| t == "multipart");
    let ttl = cfg.upload_url_ttl;
    let mut any_multipart = false;
    let mut objects = Vec::new();
    for obj in req.objects {
        let mut out = json!({"oid": obj.oid, "size": obj.size});
        if !is_sha256_hex(&obj.oid) {
            out["error"] = json!({"code": 422, "message": "oid must be 64 lowercase hex characters (a sha256)"});
            objects.push(out);
            continue;
        }
        if obj.size > MAX_LFS_SIZE {
            out["error"] = json!({"code": 422, "message": format!("object is larger than the {MAX_LFS_SIZE}-byte limit")});
            objects.push(out);
            continue;
        }
        let stored = ctx.state.store.lfs_size(&obj.oid);
        if !upload {
            match stored {
                Some(size) => {
                    out["size"] = json!(size);
                    out["authenticated"] = json!(true);
                    out["actions"] = json!({"download": {
                        "href": cdn_url(ctx, &ctx.base, &obj.oid, "object"),
                        "expires_in": ttl.as_secs(),
                    }});
                }
                None => out["error"] = json!({"code": 404, "message": "Object does not exist"}),
            }
            objects.push(out);
            continue;
        }
        if stored == Some(obj.size) {
            // Already stored: no actions, so the client skips the upload.
            objects.push(out);
            continue;
        }
        out["authenticated"] = json!(true);
        let multipart = multipart_ok && obj.size >= cfg.multipart_threshold && obj.size > 0;
        let chunk = cfg
            .multipart_chunk_size
            .max(obj.size.div_ceil(MAX_PARTS))
            .max(1);
        let token = UploadSessions::new_token();
        let kind = if multipart {
            let parts = obj.size.div_ceil(chunk);
            UploadKind::Multipart {
                chunk,
                etags: vec![None; usize::try_from(parts).unwrap_or(0)],
                data: multipart_data(ctx, &token),
            }
        } else {
            UploadKind::Basic
        };
        ctx.state.uploads.insert(
            token.clone(),
            Upload {
                site: Site::Hub,
                oid: obj.oid.clone(),
                size: obj.size,
                expires: Instant::now() + ttl,
                kind: kind.clone(),
            },
        );
        let base = format!("{}/lfs-upload/{token}", ctx.base);
        match kind {
            UploadKind::Basic => {
                out["actions"] = json!({
                    "upload": {"href": base, "expires_in": ttl.as_secs()},
                    "verify": {
                        "href": format!("{}/{}.git/info/lfs/objects/verify", ctx.base, id.url_path()),
                        "expires_in": ttl.as_secs(),
                    },
                });
            }
            UploadKind::Multipart { chunk, etags, .. } => {
                any_multipart = true;
                let mut header = serde_json::Map::new();
                header.insert("chunk_size".into(), Value::String(chunk.to_string()));
                for n in 1..=etags.len() {
                    header.insert(format!("{n:05}"), Value::String(format!("{base}/part/{n}")));
                }
                out["actions"] = json!({"upload": {
                    "href": format!("{base}/complete"),
                    "header": header,
                    "expires_in": ttl.as_secs(),
                }});
            }
        }
        objects.push(out);
    }
    Ok(lfs_json(json!({
        "transfer": if any_multipart { "multipart" } else { "basic" },
        "objects": objects,
        "hash_algo": "sha256",
    })))
}

pub(crate) async fn lfs_verify(ctx: &Ctx, id: &RepoId, body: Body) -> ApiResult {
    ctx.writable_repo(id)?;
    let req: BatchObject = read_json(ctx, body).await?;
    match ctx.state.store.lfs_size(&req.oid) {
        Some(size) if size == req.size => Ok(lfs_json(json!({"success": true}))),
        Some(size) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("object {} has {size} bytes, not {}", req.oid, req.size),
        )),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!(
                "object {} was not uploaded: upload it before verifying",
                req.oid
            ),
        )
        .code("EntryNotFound")),
    }
}

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
        ["lfs-upload", token] if m == Method::PUT => put_basic(ctx, token, body).await,
        ["lfs-upload", token, "part", n] if m == Method::PUT => {
            let n: usize = n
                .parse()
                .map_err(|_| ApiError::bad_request("part number must be an integer"))?;
            put_part(ctx, token, n, body).await
        }
        ["lfs-upload", token, "complete"] if m == Method::POST => complete(ctx, token, body).await,
        ["lfs-cdn", oid, ..] if m == Method::GET || m == Method::HEAD => cdn_get(ctx, oid).await,
        _ => Err(ApiError::new(StatusCode::NOT_FOUND, "unknown transfer URL").code("NotFound")),
    }
}

async fn put_basic(ctx: &Ctx, token: &str, body: Body) -> ApiResult {
    let upload = ctx.state.uploads.get(token, Site::Hub)?;
    if !matches!(upload.kind, UploadKind::Basic) {
        return Err(ApiError::bad_request(
            "this object uses a multipart upload: PUT its parts",
        ));
    }
    let counter = &ctx.state.counters.upload_bytes;
    let store = &ctx.state.store;
    receive_object(store, token, body, &upload.oid, upload.size, Some(counter)).await?;
    ctx.state.uploads.remove(token);
    ctx.state
        .counters
        .basic_uploads
        .fetch_add(1, Ordering::Relaxed);
    Ok(StatusCode::OK.into_response())
}

/// Where the parts of a multipart upload are written.
fn multipart_data(ctx: &Ctx, token: &str) -> PathBuf {
    ctx.state.store.tmp_dir().join(format!("{token}.multipart"))
}

async fn put_part(ctx: &Ctx, token: &str, n: usize, body: Body) -> ApiResult {
    let upload = ctx.state.uploads.get(token, Site::Hub)?;
    let UploadKind::Multipart { chunk, etags, data } = &upload.kind else {
        return Err(ApiError::bad_request(
            "this object uses a basic upload: PUT the whole file",
        ));
    };
    if n == 0 || n > etags.len() {
        return Err(ApiError::bad_request(format!(
            "part number {n} is out of range 1..={}",
            etags.len()
        )));
    }
    let offset = (n as u64 - 1) * chunk;
    let want = (*chunk).min(upload.size - offset);
    let mut file = tokio::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(data)
        .await?;
    file.seek(SeekFrom::Start(offset)).await?;
    let mut hasher = Sha1::new();
    let counter = Some(&ctx.state.counters.upload_bytes);
    let got = stream_into(body, &mut file, want, counter, |c| hasher.update(c)).await?;
    if got != want {
        return Err(ApiError::bad_request(format!(
            "part {n} has {got} bytes but must have {want}: send exactly chunk_size bytes per part"
        )));
    }
    file.sync_data().await?;
    let etag = format!("\"{}\"", hex::encode(hasher.finalize()));
    if !ctx.state.uploads.set_part_etag(token, n, etag.clone()) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "the upload was completed or cancelled while this part was sent",
        ));
    }
    let mut resp = StatusCode::OK.into_response();
    resp.headers_mut().insert(
        header::ETAG,
        HeaderValue::from_str(&etag).map_err(ApiError::internal)?,
    );
    Ok(resp)
}

async fn complete(ctx: &Ctx, token: &str, body: Body) -> ApiResult {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Part {
        part_number: usize,
        etag: String,
    }
    #[derive(Deserialize)]
    struct CompleteBody {
        oid: String,
        parts: Vec<Part>,
    }
    let upload = ctx.state.uploads.get(token, Site::Hub)?;
    let req: CompleteBody = read_json(ctx, body).await?;
    let UploadKind::Multipart { etags, data, .. } = &upload.kind else {
        return Err(ApiError::bad_request("this object uses a basic upload"));
    };
    if req.oid != upload.oid {
        return Err(ApiError::bad_request(format!(
            "completion is for {} but this upload URL is for {}",
            req.oid, upload.oid
        )));
    }
    if req.parts.len() != etags.len() {
        return Err(ApiError::bad_request(format!(
            "completion lists {} parts but the upload has {}",
            req.parts.len(),
            etags.len()
        )));
    }
    let unquote = |s: &str| s.trim_start_matches("W/").trim_matches('"').to_owned();
    for (i, part) in req.parts.iter().enumerate() {
        if part.part_number != i + 1 {
            return Err(ApiError::bad_request(
                "parts must be listed in order 1, 2, 3, ...",
            ));
        }
        match &etags[i] {
            Some(e) if unquote(e) == unquote(&part.etag) => {}
            Some(_) => {
                return Err(ApiError::bad_request(format!(
                    "part {} has another ETag than the one it was stored with",
                    i + 1
                )));
            }
            None => {
                return Err(ApiError::bad_request(format!(
                    "part {} was never uploaded: PUT it before completing",
                    i + 1
                )));
            }
        }
    }
    // From here on the parts are removed unless they become the object.
    let parts = TempFile::new(data.clone());
    let (size, got) = sha256_of(parts.path()).await?;
    if size != upload.size {
        return Err(size_mismatch(size, upload.size));
    }
    if got != upload.oid {
        ctx.state.uploads.remove(token);
        return Err(ApiError::bad_request(format!(
            "sha256 of the assembled parts is {got}, not {}: upload the file again",
            upload.oid
        )));
    }
    publish(&ctx.state.store, parts, &upload.oid).await?;
    ctx.state.uploads.remove(token);
    ctx.state
        .counters
        .multipart_uploads
        .fetch_add(1, Ordering::Relaxed);
    Ok(lfs_json(json!({"success": true})))
}

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
fn cdn_url(ctx: &Ctx, origin: &str, oid: &str, file_name: &str) -> String {
    let expires = unix_now() + ctx.state.config.upload_url_ttl.as_secs();
    let sig = cdn_signature(&ctx.state.cdn_secret, oid, expires);
    let name = percent_encoding::utf8_percent_encode(file_name, percent_encoding::NON_ALPHANUMERIC);
    format!("{origin}/lfs-cdn/{oid}/{name}?expires={expires}&signature={sig}")
}

async fn cdn_get(ctx: &Ctx, oid: &str) -> ApiResult {
    let expires: u64 = ctx.q("expires").and_then(|e| e.parse().ok()).unwrap_or(0);
    let sig = ctx.q("signature").unwrap_or_default();
    if expires < unix_now() || sig != cdn_signature(&ctx.state.cdn_secret, oid, expires) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "this download URL is invalid or expired: resolve the file again",
        )
        .code("Forbidden"));
    }
    let size = ctx.state.store.lfs_size(oid).ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, "object not found").code("EntryNotFound")
    })?;
    let path = ctx.state.store.lfs_path(oid);
    serve_file(ctx, &path, size, oid, Vec::new()).await
}

pub(crate) async fn resolve(ctx: &Ctx, id: &RepoId, rev: &str, path: &str) -> ApiResult {
    let (_, record) = load_rev(ctx, id, rev)?;
    let entry = record
        .files
        .get(path)
        .ok_or_else(|| ApiError::entry_not_found(path, &record.id))?;
    let etag = entry.etag().to_owned();
    let mut extra = vec![("x-repo-commit", record.id.clone())];
    if let Some(lfs) = &entry.lfs {
        extra.push(("x-linked-etag", format!("\"{}\"", lfs.sha256)));
        extra.push(("x-linked-size", lfs.size.to_string()));
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
        let file = ctx.state.store.lfs_path(&lfs.sha256);
        return serve_file(ctx, &file, lfs.size, &etag, extra).await;
    }
    let file = ctx.state.store.blob_path(&entry.oid);
    serve_file(ctx, &file, entry.size, &etag, extra).await
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

pub(crate) async fn serve_file(
    ctx: &Ctx,
    path: &Path,
    size: u64,
    etag: &str,
    extra: Vec<(&'static str, String)>,
) -> ApiResult {
    let quoted = format!("\"{etag}\"");
    let mut status = StatusCode::OK;
    let mut start = 0u64;
    let mut len = size;
    let mut content_range = None;
    let not_modified = ctx
        .headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim().trim_start_matches("W/") == quoted)
        });
    if not_modified {
        status = StatusCode::NOT_MODIFIED;
        len = 0;
    } else if let Some(range) = ctx.headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        match parse_range(range, size) {
            Ok(None) => {}
            Ok(Some((a, b))) => {
                status = StatusCode::PARTIAL_CONTENT;
                start = a;
                len = b - a + 1;
                content_range = Some(format!("bytes {a}-{b}/{size}"));
            }
            Err(()) => {
                let mut resp = ApiError::new(
                    StatusCode::RANGE_NOT_SATISFIABLE,
                    format!("range {range} is outside the {size}-byte file"),
                )
                .into_response();
                resp.headers_mut().insert(
                    header::CONTENT_RANGE,
                    HeaderValue::from_str(&format!("bytes */{size}"))
                        .map_err(ApiError::internal)?,
                );
                return Ok(resp);
            }
        }
    }
    let body = if ctx.method == Method::HEAD || len == 0 {
        Body::empty()
    } else {
        let mut file = tokio::fs::File::open(path).await?;
        if start > 0 {
            file.seek(SeekFrom::Start(start)).await?;
        }
        use tokio::io::AsyncReadExt as _;
        Body::from_stream(tokio_util::io::ReaderStream::with_capacity(
            file.take(len),
            IO_CHUNK,
        ))
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
    h.insert(header::ETAG, hv(&quoted)?);
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Some(cr) = content_range {
        h.insert(header::CONTENT_RANGE, hv(&cr)?);
    }
    for (k, v) in extra {
        h.insert(k, hv(&v)?);
    }
    Ok(resp)
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
