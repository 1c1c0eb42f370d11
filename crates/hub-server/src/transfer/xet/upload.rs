//! CAS uploads. A xorb is decoded and hashed as it arrives and stored only when its hash is
//! the one in its URL. A shard is accepted only when every xorb it names is stored and is what
//! it says, every term's verification hash matches the stored chunks, each file's hash is its
//! chunks' and its sha256 is the sha256 of its bytes, reassembled from the xorbs in bounded
//! memory; then its files become LFS objects that commits may name. Sending either again is
//! harmless.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::IntoResponse as _;
use serde_json::json;
use sha2::{Digest as _, Sha256};
use xet_format::{
    MAX_SHARD_BYTES, MAX_XORB_SERIALIZED_BYTES, Shard, XetHash, file_hash, term_verification_hash,
};

use super::refused_xorb;
use crate::context::{Ctx, XetScope, read_body};
use crate::error::{ApiError, ApiResult};
use crate::store::{ReceiveError, RepoId, Store, XetFile, XetTerm, XorbReceiver, XorbTable};
use crate::transfer::intake::pipe_to_blocking;

/// `POST /v1/xorbs/{prefix}/{hash}`: `{"was_inserted": bool}`; 400 when the bytes are not a
/// whole xorb or hash to something else, and nothing is stored then.
pub(super) async fn xorb(ctx: &Ctx, expected: XetHash, body: Body) -> ApiResult {
    ctx.xet_grant(XetScope::Write)?;
    let store = ctx.state.store.clone();
    let tmp = store.xorb_tmp("upload");
    let counter = &ctx.state.counters.xorb_upload_bytes;
    let too_large = |n| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("{n} bytes is more than a xorb may have ({MAX_XORB_SERIALIZED_BYTES})"),
        )
    };
    let refuse = |e: ReceiveError| match e {
        ReceiveError::Invalid(e) => refused_xorb(&e),
        ReceiveError::Io(e) => ApiError::internal(e),
    };
    let inserted = pipe_to_blocking(
        body,
        MAX_XORB_SERIALIZED_BYTES,
        Some(counter),
        too_large,
        move |mut body| {
            let mut receiver = XorbReceiver::create(tmp)?;
            while let Some(piece) = body.next()? {
                receiver.feed(&piece).map_err(refuse)?;
            }
            let pending = receiver.finish(&expected).map_err(refuse)?;
            Ok(store.put_xorb(pending)?)
        },
    )
    .await?;
    if inserted {
        ctx.state
            .counters
            .xorbs_inserted
            .fetch_add(1, Ordering::Relaxed);
    }
    Ok(axum::Json(json!({"was_inserted": inserted})).into_response())
}

/// `POST /v1/shards`: `{"result": 1}` for a new shard, `{"result": 0}` for one already stored.
pub(super) async fn shard(ctx: &Ctx, body: Body) -> ApiResult {
    let grant = ctx.xet_grant(XetScope::Write)?;
    let bytes = read_body(body, MAX_SHARD_BYTES as usize).await?;
    let store: Arc<Store> = ctx.state.store.clone();
    let inserted = tokio::task::spawn_blocking(move || accept(&store, &bytes, &grant.repo))
        .await
        .map_err(ApiError::internal)??;
    if inserted {
        ctx.state
            .counters
            .shards_inserted
            .fetch_add(1, Ordering::Relaxed);
    }
    Ok(axum::Json(json!({"result": u8::from(inserted)})).into_response())
}

fn refused(msg: String) -> ApiError {
    ApiError::bad_request(format!("the shard is refused: {msg}"))
}

/// Checks a shard against the store and stores it; whether it was new.
fn accept(store: &Store, bytes: &[u8], repo: &RepoId) -> Result<bool, ApiError> {
    let shard = Shard::decode(bytes).map_err(|e| refused(e.to_string()))?;
    if shard.footer.is_some() {
        return Err(refused("an uploaded shard carries no footer".into()));
    }
    let mut tables: HashMap<XetHash, XorbTable> = HashMap::new();
    for x in &shard.xorbs {
        let table = store.xorb_table(&x.hash)?.ok_or_else(|| {
            refused(format!(
                "xorb {} is not stored: upload it before the shard",
                x.hash
            ))
        })?;
        let same = table.chunks.len() == x.chunks.len()
            && table.chunks.iter().zip(&x.chunks).all(|(t, c)| {
                t.hash == c.hash && t.raw_offset == c.raw_offset && t.raw_len == c.raw_len
            })
            && table.raw_len(0, table.chunks.len() as u32) == u64::from(x.raw_bytes);
        if !same {
            return Err(refused(format!(
                "its entry for xorb {} does not list the chunks that xorb holds",
                x.hash
            )));
        }
        tables.insert(x.hash, table);
    }
    let mut files = Vec::new();
    for f in &shard.files {
        files.push(check_file(store, &mut tables, f)?);
    }
    let inserted = store.put_shard(bytes, &shard, &files)?;
    for f in &files {
        store.add_repo_object(repo, &f.sha256)?;
    }
    Ok(inserted)
}

/// Checks one file of a shard: terms, verification hashes, file hash, then the sha256 of its
/// bytes (skipped when the same file was checked and stored before).
fn check_file(
    store: &Store,
    tables: &mut HashMap<XetHash, XorbTable>,
    f: &xet_format::FileInfo,
) -> Result<XetFile, ApiError> {
    let verification = f.verification.as_ref().ok_or_else(|| {
        refused(format!(
            "file {} has no verification hashes, which uploads must carry",
            f.hash
        ))
    })?;
    let sha256 = f.sha256.ok_or_else(|| {
        refused(format!(
            "file {} has no sha256 (the metadata extension), which links it to its LFS pointer",
            f.hash
        ))
    })?;
    let mut chunks: Vec<(XetHash, u64)> = Vec::new();
    let mut terms = Vec::with_capacity(f.terms.len());
    for (i, t) in f.terms.iter().enumerate() {
        let table = match tables.entry(t.xorb) {
            Entry::Occupied(known) => known.into_mut(),
            Entry::Vacant(slot) => slot.insert(store.xorb_table(&t.xorb)?.ok_or_else(|| {
                refused(format!(
                    "file {} uses xorb {}, which is not stored: upload it first",
                    f.hash, t.xorb
                ))
            })?),
        };
        let (s, e) = (t.chunk_start as usize, t.chunk_end as usize);
        if e > table.chunks.len() {
            return Err(refused(format!(
                "term {i} of file {} asks for chunks {s}..{e} of xorb {}, which has {}",
                f.hash,
                t.xorb,
                table.chunks.len()
            )));
        }
        let hashes: Vec<XetHash> = table.chunks[s..e].iter().map(|c| c.hash).collect();
        if term_verification_hash(&hashes) != verification[i] {
            return Err(refused(format!(
                "the verification hash of term {i} of file {} does not match chunks {s}..{e} \
                 of xorb {}",
                f.hash, t.xorb
            )));
        }
        let raw = table.raw_len(t.chunk_start, t.chunk_end);
        if raw != u64::from(t.unpacked_bytes) {
            return Err(refused(format!(
                "term {i} of file {} says {} bytes but its chunks hold {raw}",
                f.hash, t.unpacked_bytes
            )));
        }
        chunks.extend(
            table.chunks[s..e]
                .iter()
                .map(|c| (c.hash, u64::from(c.raw_len))),
        );
        terms.push(XetTerm {
            xorb: t.xorb.to_hex(),
            start: t.chunk_start,
            end: t.chunk_end,
            bytes: t.unpacked_bytes,
        });
    }
    if file_hash(&chunks) != f.hash {
        return Err(refused(format!(
            "file {} is not the hash of the chunks its terms name",
            f.hash
        )));
    }
    let record = XetFile {
        hash: f.hash.to_hex(),
        size: chunks.iter().map(|c| c.1).sum(),
        sha256: hex::encode(sha256),
        terms,
    };
    if store.xet_file(&record.hash)?.as_ref() == Some(&record) {
        return Ok(record);
    }
    let mut hasher = Sha256::new();
    store
        .xet_reader(record.clone())
        .read(0, record.size, &mut |piece| {
            hasher.update(&piece);
            Ok(piece)
        })?;
    let got = hex::encode(hasher.finalize());
    if got != record.sha256 {
        return Err(refused(format!(
            "file {} says its sha256 is {} but its bytes hash to {got}",
            f.hash, record.sha256
        )));
    }
    Ok(record)
}
