//! The Git LFS protocol as the Hub speaks it: the batch API (upload and download), the
//! verify call, and the upload URLs it hands out, basic (one PUT) and multipart (parts with
//! ETags, then a completion), all without a token, like presigned S3 URLs. A client that
//! offers the `xet` transfer is sent to the CAS instead (a write token and its route).

use std::io::SeekFrom;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use sha1::Sha1;
use sha2::Digest as _;
use tokio::io::AsyncSeekExt as _;

use super::download::cdn_url;
use super::intake::{TempFile, receive_file, receive_object, stream_into};
use crate::context::{
    Ctx, Site, Upload, UploadKind, UploadSessions, XetScope, form_encode, read_json,
};
use crate::error::{ApiError, ApiResult};
use crate::store::{RepoId, is_sha256_hex, random_hex, unix_now};

/// The largest LFS object accepted (the Hub's LFS path limit).
const MAX_LFS_SIZE: u64 = 50 * 1000 * 1000 * 1000;
/// The most parts a multipart upload may have (S3's bound).
const MAX_PARTS: u64 = 10_000;

#[derive(Deserialize)]
struct BatchObject {
    oid: String,
    size: u64,
}

#[derive(Deserialize)]
struct BatchRef {
    name: String,
}

#[derive(Deserialize)]
struct BatchBody {
    operation: String,
    #[serde(default)]
    transfers: Vec<String>,
    objects: Vec<BatchObject>,
    #[serde(rename = "ref")]
    git_ref: Option<BatchRef>,
}

fn lfs_json(value: Value) -> Response {
    let mut resp = axum::Json(value).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/vnd.git-lfs+json"),
    );
    resp
}

/// `POST {repo}.git/info/lfs/objects/batch`.
pub(crate) async fn batch(ctx: &Ctx, id: &RepoId, body: Body) -> ApiResult {
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
            ctx.downloadable_repo(id)?;
            false
        }
        other => {
            return Err(ApiError::bad_request(format!(
                "unknown LFS operation {other:?}: use upload or download"
            )));
        }
    };
    let multipart_ok = req.transfers.is_empty() || req.transfers.iter().any(|t| t == "multipart");
    // A client that offers xet uploads through the CAS, as the Hub asks it to.
    let xet = upload && ctx.state.config.xet && req.transfers.iter().any(|t| t == "xet");
    let xet_action = xet.then(|| xet_upload_action(ctx, id, req.git_ref.as_ref()));
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
        if let Some(action) = &xet_action {
            out["actions"] = json!({"upload": action});
            objects.push(out);
            continue;
        }
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
    let transfer = if xet {
        "xet"
    } else if any_multipart {
        "multipart"
    } else {
        "basic"
    };
    Ok(lfs_json(json!({
        "transfer": transfer,
        "objects": objects,
        "hash_algo": "sha256",
    })))
}

/// The upload action of the xet transfer: the write token route (to refresh the token) and a
/// first token, in the headers the client copies.
fn xet_upload_action(ctx: &Ctx, id: &RepoId, git_ref: Option<&BatchRef>) -> Value {
    let rev = git_ref
        .map(|r| r.name.strip_prefix("refs/heads/").unwrap_or(&r.name))
        .unwrap_or("main");
    let rev = form_encode(rev);
    let exp = unix_now() + ctx.state.config.xet_token_ttl.as_secs().max(1);
    let token = ctx.state.xet_tokens.issue(id, XetScope::Write, exp);
    json!({
        "href": format!("{}/api/{}/{}/xet-write-token/{rev}", ctx.base, id.kind.plural(), id.full()),
        "header": {
            "X-Xet-Cas-Url": ctx.base,
            "X-Xet-Access-Token": token,
            "X-Xet-Token-Expiration": exp.to_string(),
            "X-Xet-Session-Id": random_hex(16),
        },
    })
}

/// `POST {repo}.git/info/lfs/objects/verify`, after a basic upload.
pub(crate) async fn verify(ctx: &Ctx, id: &RepoId, body: Body) -> ApiResult {
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

/// `PUT /lfs-upload/{token}`: the whole object.
pub(super) async fn put_basic(ctx: &Ctx, token: &str, body: Body) -> ApiResult {
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
        .lfs_files_chunked
        .fetch_add(1, Ordering::Relaxed);
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

/// `PUT /lfs-upload/{token}/part/{n}`: one part, answered with its ETag.
pub(super) async fn put_part(ctx: &Ctx, token: &str, n: usize, body: Body) -> ApiResult {
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

/// `POST /lfs-upload/{token}/complete`: checks the parts' ETags and the whole sha256.
pub(super) async fn complete(ctx: &Ctx, token: &str, body: Body) -> ApiResult {
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
    // From here on the parts are removed, whether they become the object or not, and so is
    // the session (a failed check cannot succeed on a second try).
    let parts = TempFile::new(data.clone());
    let received = receive_file(&ctx.state.store, parts.path(), &upload.oid, upload.size).await;
    ctx.state.uploads.remove(token);
    drop(parts);
    received?;
    ctx.state
        .counters
        .lfs_files_chunked
        .fetch_add(1, Ordering::Relaxed);
    ctx.state
        .counters
        .multipart_uploads
        .fetch_add(1, Ordering::Relaxed);
    Ok(lfs_json(json!({"success": true})))
}
