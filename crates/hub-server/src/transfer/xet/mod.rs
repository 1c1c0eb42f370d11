//! The Xet CAS, on the server's own port (the `casUrl` of its tokens is the base URL the client
//! used), as `hf_xet` 1.8.0 speaks it (`docs/XET-NOTES.md`, whose last section says what this
//! CAS decides where the Hub is not public):
//!
//! * `POST /v1/xorbs/{default|default-merkledb}/{hash}` and `POST /v1/shards` (`upload.rs`);
//! * `GET /v1/reconstructions/{file}` (with `Range`), answered with signed, expiring xorb URLs
//!   `/xet-xorb/{hash}?expires=&signature=` that need no credentials, and those URLs;
//! * `GET /v1/chunks/{prefix}/{chunk}`: global dedup, answered with the shard that introduced
//!   the chunk's xorb (its CAS section, chunk hashes keyed, with a footer);
//! * every other `/v1/` or `/v2/` route (v2 uploads and reconstructions, xorb grants,
//!   telemetry) is a 404, on which the client falls back to the routes above.
//!
//! Every call but the xorb URLs needs a CAS token (`context/xet_tokens.rs`): write scope for
//! uploads, a token of a repository that references the file for a reconstruction.

mod upload;

use std::sync::atomic::Ordering;

use axum::body::Body;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::IntoResponse as _;
use serde_json::{Map, Value, json};
use xet_format::{XetHash, XorbError};

use super::download::serve_file;
use crate::context::{Ctx, XetScope};
use crate::error::{ApiError, ApiResult};
use crate::store::{XetFile, random_hex, unix_now};

/// Whether a path is the CAS's and not a repo's: `/v1/x/resolve/...` is the repo `v1/x`,
/// `/v1/x.git/...` its LFS API, and `/v1/resolve/...` names a repo without a namespace.
pub(crate) fn is_cas_path(segs: &[&str]) -> bool {
    match segs {
        ["v1" | "v2", second, rest @ ..] => {
            *second != "resolve" && !second.ends_with(".git") && rest.first() != Some(&"resolve")
        }
        ["v1" | "v2"] => true,
        _ => false,
    }
}

fn not_here() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "this CAS route is not served here: use the v1 routes",
    )
    .code("NotFound")
}

fn bad_hash(what: &str, text: &str) -> ApiError {
    ApiError::bad_request(format!(
        "{what} {text:?} is not a Xet hash (64 hexadecimal digits)"
    ))
}

fn parse_hash(what: &str, text: &str) -> Result<XetHash, ApiError> {
    XetHash::from_hex(text).map_err(|_| bad_hash(what, text))
}

/// The two dedup prefixes: `hf_xet` 1.8.0 sends `default`, the spec says `default-merkledb`.
fn check_prefix(prefix: &str) -> Result<(), ApiError> {
    if matches!(prefix, "default" | "default-merkledb") {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "unknown prefix {prefix:?}: use default or default-merkledb"
        )))
    }
}

/// Routes a CAS path.
pub(crate) async fn route(ctx: &Ctx, body: Body) -> ApiResult {
    if !ctx.state.config.xet {
        return Err(not_here());
    }
    let segs: Vec<&str> = ctx.segs.iter().map(String::as_str).collect();
    let m = &ctx.method;
    match segs.as_slice() {
        ["v1", "xorbs", prefix, hash] if m == Method::POST => {
            check_prefix(prefix)?;
            upload::xorb(ctx, parse_hash("the xorb hash", hash)?, body).await
        }
        ["v1", "shards"] if m == Method::POST => upload::shard(ctx, body).await,
        ["v1", "reconstructions", file] if m == Method::GET => reconstruction(ctx, file),
        ["v1", "chunks", prefix, chunk] if m == Method::GET => {
            check_prefix(prefix)?;
            dedup(ctx, parse_hash("the chunk hash", chunk)?).await
        }
        _ => Err(not_here()),
    }
}

/// `GET /v1/reconstructions/{file}`: the terms of the file (or of the part a `Range: bytes=`
/// asks for) and where to fetch each xorb range.
fn reconstruction(ctx: &Ctx, file: &str) -> ApiResult {
    let grant = ctx.xet_grant(XetScope::Read)?;
    parse_hash("the file hash", file)?;
    let store = &ctx.state.store;
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!("file {file} is not stored here"),
        )
        .code("EntryNotFound")
    };
    let record = store.xet_file(file)?.ok_or_else(not_found)?;
    if !store.repo_has_object(&grant.repo, &record.sha256)? {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "this Xet access token is for {}, which does not hold file {file}: ask the \
                 token route of the file's own repository",
                grant.repo.full()
            ),
        )
        .code("Forbidden"));
    }
    ctx.state
        .counters
        .reconstructions
        .fetch_add(1, Ordering::Relaxed);
    let (start, end) = requested_range(ctx, &record)?;
    Ok(axum::Json(plan_reconstruction(ctx, &record, start, end)?).into_response())
}

/// The byte range `start..end` a reconstruction asks for: all of the file without `Range`.
fn requested_range(ctx: &Ctx, record: &XetFile) -> Result<(u64, u64), ApiError> {
    let Some(value) = ctx.headers.get(header::RANGE) else {
        return Ok((0, record.size));
    };
    let spec = value
        .to_str()
        .ok()
        .and_then(|v| v.trim().strip_prefix("bytes="))
        .and_then(|v| v.split_once('-'));
    let parsed = spec.and_then(|(a, b)| {
        let a: u64 = a.trim().parse().ok()?;
        let b = b.trim();
        let b: u64 = if b.is_empty() {
            u64::MAX
        } else {
            b.parse().ok()?
        };
        Some((a, b))
    });
    match parsed {
        Some((a, b)) if a < record.size && a <= b => Ok((a, b.saturating_add(1).min(record.size))),
        Some(_) => {
            let size = record.size;
            Err(ApiError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                format!("the range is outside the {size}-byte file"),
            )
            .header(header::CONTENT_RANGE, format!("bytes */{size}")))
        }
        None => Err(ApiError::bad_request(
            "the Range header must be one range, bytes=start-end",
        )),
    }
}

/// The reconstruction answer for bytes `start..end` of a file.
fn plan_reconstruction(
    ctx: &Ctx,
    record: &XetFile,
    start: u64,
    end: u64,
) -> Result<Value, ApiError> {
    let store = &ctx.state.store;
    let expires = unix_now() + ctx.state.config.upload_url_ttl.as_secs();
    let mut terms = Vec::new();
    let mut offset_into_first = 0;
    // Chunk ranges needed from each xorb, in the order the xorbs first appear.
    let mut wanted: Vec<(String, Vec<(u32, u32)>)> = Vec::new();
    let mut pos = 0u64;
    for t in &record.terms {
        let t_end = pos + u64::from(t.bytes);
        if t_end > start && pos < end {
            if terms.is_empty() {
                offset_into_first = start - pos;
            }
            terms.push(json!({
                "hash": t.xorb,
                "unpacked_length": t.bytes,
                "range": {"start": t.start, "end": t.end},
            }));
            match wanted.iter_mut().find(|(x, _)| *x == t.xorb) {
                Some((_, ranges)) => ranges.push((t.start, t.end)),
                None => wanted.push((t.xorb.clone(), vec![(t.start, t.end)])),
            }
        }
        pos = t_end;
    }
    let mut fetch_info = Map::new();
    for (xorb, mut ranges) in wanted {
        let hash = parse_hash("a stored xorb hash", &xorb)?;
        let table = store.xorb_table(&hash)?.ok_or_else(|| {
            ApiError::internal(format!("xorb {xorb} of a stored file is missing"))
        })?;
        ranges.sort_unstable();
        let mut merged: Vec<(u32, u32)> = Vec::new();
        for (a, b) in ranges {
            match merged.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        let url = xorb_url(ctx, &xorb, expires);
        let mut infos = Vec::new();
        for (a, b) in merged {
            let (from, to) = table.serialized_range(a, b).ok_or_else(|| {
                ApiError::internal(format!("a stored file's term is outside xorb {xorb}"))
            })?;
            infos.push(json!({
                "range": {"start": a, "end": b},
                "url": url,
                "url_range": {"start": from, "end": to - 1},
            }));
        }
        fetch_info.insert(xorb, Value::Array(infos));
    }
    Ok(json!({
        "offset_into_first_range": offset_into_first,
        "terms": terms,
        "fetch_info": fetch_info,
    }))
}

/// A signed URL serving xorb `xorb` until `expires`, without credentials.
fn xorb_url(ctx: &Ctx, xorb: &str, expires: u64) -> String {
    let sig = ctx.state.xet_tokens.url_signature(xorb, expires);
    format!(
        "{}/xet-xorb/{xorb}?expires={expires}&signature={sig}",
        ctx.base
    )
}

/// `GET /xet-xorb/{hash}?expires=&signature=`: the serialized xorb, with ranges.
pub(crate) async fn xorb_data(ctx: &Ctx, xorb: &str) -> ApiResult {
    let expires: u64 = ctx.q("expires").and_then(|e| e.parse().ok()).unwrap_or(0);
    let sig = ctx.q("signature").unwrap_or_default();
    if !ctx.state.xet_tokens.url_valid(xorb, expires, sig) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "this xorb URL is invalid or expired: ask for the reconstruction again",
        )
        .code("Forbidden"));
    }
    let hash = parse_hash("the xorb hash", xorb)?;
    let store = &ctx.state.store;
    let table = store.xorb_table(&hash)?.ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, format!("xorb {xorb} is not stored"))
            .code("EntryNotFound")
    })?;
    let path = store.xorb_path(&hash);
    let resp = serve_file(ctx, &path, table.serialized_len, xorb, Vec::new()).await?;
    if ctx.method == Method::GET
        && let Some(n) = resp
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
    {
        ctx.state
            .counters
            .xorb_download_bytes
            .fetch_add(n, Ordering::Relaxed);
    }
    Ok(resp)
}

/// `GET /v1/chunks/{prefix}/{chunk}`: the shard that introduced the xorb holding the chunk, as
/// a dedup answer (CAS section only, chunk hashes keyed with a fresh key, footer), or 404.
async fn dedup(ctx: &Ctx, chunk: XetHash) -> ApiResult {
    ctx.xet_grant(XetScope::Read)?;
    let counters = &ctx.state.counters;
    counters.dedup_queries.fetch_add(1, Ordering::Relaxed);
    // The first query may load the chunk index, and a shard can be large: off the runtime.
    let store = ctx.state.store.clone();
    let found = tokio::task::spawn_blocking(move || store.shard_with_chunk(&chunk))
        .await
        .map_err(ApiError::internal)??;
    let Some(shard) = found else {
        return Err(
            ApiError::new(StatusCode::NOT_FOUND, "no stored xorb holds this chunk")
                .code("EntryNotFound"),
        );
    };
    counters.dedup_hits.fetch_add(1, Ordering::Relaxed);
    let mut key = [0u8; 32];
    hex::decode_to_slice(random_hex(32), &mut key).map_err(ApiError::internal)?;
    let now = unix_now();
    let answer = shard
        .dedup_answer(
            XetHash(key),
            now,
            now + ctx.state.config.xet_token_ttl.as_secs(),
        )
        .encode()
        .map_err(ApiError::internal)?;
    let mut resp = answer.into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    Ok(resp)
}

/// The answer to bytes that are not the xorb they claim to be.
fn refused_xorb(e: &XorbError) -> ApiError {
    ApiError::bad_request(format!("the xorb is refused: {e}"))
}

#[cfg(test)]
mod tests {
    use super::is_cas_path;

    #[test]
    fn cas_paths_leave_repos_alone() {
        assert!(is_cas_path(&["v1", "xorbs", "default", "ab"]));
        assert!(is_cas_path(&["v1", "shards"]));
        assert!(is_cas_path(&["v2", "reconstructions", "ab"]));
        assert!(!is_cas_path(&["v1", "xorbs", "resolve", "main", "f"]));
        assert!(!is_cas_path(&[
            "v1", "m.git", "info", "lfs", "objects", "batch"
        ]));
        assert!(!is_cas_path(&["v1", "resolve", "main", "f"]));
        assert!(!is_cas_path(&["api", "v1", "models"]));
    }
}
