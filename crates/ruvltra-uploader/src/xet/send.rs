//! One Xet upload, start to end: the local index and the global dedup queries place what they
//! can, the plan says what is new, the new xorbs go out (a few at a time, each streamed from
//! its files and recorded in the local index once the CAS took it), then the shard that
//! names every file. Sending a xorb or the shard again is harmless, so every CAS call is
//! retried by the transport; a token that expires is renewed by the session.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use futures_util::StreamExt as _;
use hub_client::HubError;
use hub_client::xet::{Body, XetSession};
use serde::Serialize;
use xet_format::{CasInfo, MAX_SHARD_BYTES, Shard, XetHash};

use super::body::{SMALL_XORB, small_xorb, xorb_body};
use super::index::{DEFAULT_MAX_BYTES, Found, LocalIndex};
use super::plan::{
    Known, SourceFile, XetFileReport, XetPlan, cas_info, dedup_queries, make_plan, unplaced,
};
use crate::error::UploadError;
use crate::event::{Event, Observer};

/// Xorbs sent at the same time.
const PARALLEL_XORBS: usize = 3;
/// Global dedup queries in flight at the same time.
const PARALLEL_QUERIES: usize = 8;

/// What a Xet upload did, besides the per-file reports.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct XetSummary {
    /// Xorbs sent (each new to this publish).
    pub xorbs_sent: u64,
    /// Their bytes as sent (chunk headers included).
    pub xorb_bytes: u64,
    /// Shards sent.
    pub shards_sent: u64,
    /// Their bytes.
    pub shard_bytes: u64,
    /// Global dedup queries made.
    pub dedup_queries: u64,
    /// Queries the CAS answered with a shard.
    pub dedup_hits: u64,
    /// Queries that failed (after retries); their chunks were sent rather than looked up.
    pub dedup_failures: u64,
    /// Xorbs the local index placed chunks in.
    pub local_xorbs_used: u64,
    /// Whether a local index was used (none when no cache folder is known or it failed).
    pub local_index: bool,
    /// The local index was found stale (the CAS lacked a xorb it named) and the publish was
    /// planned again without its records.
    pub local_index_invalidated: bool,
    /// New CAS tokens fetched during the upload (before expiry or after a 401).
    pub token_refreshes: u64,
}

/// The outcome of [`send_files`].
#[derive(Debug, Clone)]
pub struct XetOutcome {
    /// Per file, in the order given.
    pub files: Vec<XetFileReport>,
    /// The whole upload.
    pub summary: XetSummary,
}

/// Progress of one file: the bytes of its chunks in xorbs that went out.
struct FileProgress {
    path: String,
    total: u64,
    done: AtomicU64,
    observer: Observer,
}

/// A xorb's progress, shared out to its files by their share of its bytes when it is accepted.
struct XorbProgress {
    shares: Vec<(Arc<FileProgress>, u64)>,
}

impl XorbProgress {
    fn accepted(&self) {
        for (file, bytes) in &self.shares {
            let done = file.done.fetch_add(*bytes, Ordering::Relaxed) + bytes;
            (file.observer)(Event::UploadProgress {
                path: file.path.clone(),
                done,
            });
            if done >= file.total {
                (file.observer)(Event::UploadDone {
                    path: file.path.clone(),
                    sent: true,
                });
            }
        }
    }
}

/// Sends `files` through the CAS of `session`: every chunk placed by the local index under
/// `cache` (when given) or a dedup answer is referenced, the others sent once in new xorbs;
/// then one shard names every file (several when one would pass the CAS's size limit).
pub async fn send_files(
    session: &XetSession,
    files: &[SourceFile],
    cache: Option<&Path>,
    observer: &Observer,
) -> Result<XetOutcome, UploadError> {
    let cas = session.cas_url().await;
    let index = match cache {
        Some(root) => {
            let root = root.to_owned();
            let url = cas.as_str().to_owned();
            match blocking(move || LocalIndex::open(&root, &url, DEFAULT_MAX_BYTES)).await {
                Ok(index) => Some(index),
                Err(e) => {
                    observer(Event::Warning(format!(
                        "the local Xet index cannot be used ({e}); every chunk is looked up on the Hub instead"
                    )));
                    None
                }
            }
        }
        None => None,
    };
    let mut summary = XetSummary {
        local_index: index.is_some(),
        ..XetSummary::default()
    };
    let wanted: HashSet<XetHash> = files
        .iter()
        .flat_map(|f| f.chunks.chunks.iter().map(|c| c.hash))
        .collect();
    let wanted = Arc::new(wanted);
    let mut uploaded: HashSet<XetHash> = HashSet::new();
    loop {
        let found = match &index {
            Some(index) => {
                let (index, wanted) = (index.clone(), Arc::clone(&wanted));
                match blocking(move || index.find(&wanted)).await {
                    Ok(found) => found,
                    Err(e) => {
                        observer(Event::Warning(format!(
                            "the local Xet index cannot be read ({e}); continuing without it"
                        )));
                        Found::default()
                    }
                }
            }
            None => Found::default(),
        };
        let server = query_server(session, files, &found.known, &mut summary, observer).await;
        let plan = make_plan(files, &found.known, &server);
        summary.local_xorbs_used = plan.local_xorbs.len() as u64;
        observer(Event::Step(format!(
            "Xet: {} new chunk(s) in {} xorb(s) to send; {} chunk(s) placed by the local index, {} by the Hub's dedup",
            plan.reports.iter().map(|r| r.new_chunks).sum::<u64>(),
            plan.xorbs.len(),
            plan.reports.iter().map(|r| r.local_chunks).sum::<u64>(),
            plan.reports.iter().map(|r| r.server_chunks).sum::<u64>(),
        )));
        let sent = send_xorbs(session, files, &plan, index.as_ref(), observer).await?;
        summary.xorbs_sent += sent.len() as u64;
        summary.xorb_bytes += sent.iter().map(|x| x.bytes).sum::<u64>();
        uploaded.extend(sent.iter().map(|x| x.hash));
        let sizes: HashMap<XetHash, u64> = sent.iter().map(|x| (x.hash, x.bytes)).collect();
        let shards = build_shards(&plan, &found, &sizes)?;
        match send_shards(session, shards, &mut summary).await {
            Ok(()) => {}
            // The CAS refused a shard that leans on the local index: a xorb the index named
            // may be missing there (its data wiped, another server at the URL). Forget what
            // the index contributed (never the xorbs just sent) and plan once more.
            Err(e) if e.status() == Some(400) && !plan.local_xorbs.is_empty() => {
                if summary.local_index_invalidated {
                    return Err(e.into());
                }
                observer(Event::Warning(format!(
                    "the Hub does not hold every xorb the local Xet index named ({e}); planning again without those records"
                )));
                summary.local_index_invalidated = true;
                if let Some(index) = &index {
                    let stale: Vec<XetHash> =
                        plan.local_xorbs.difference(&uploaded).copied().collect();
                    let index = index.clone();
                    blocking(move || {
                        index.forget(stale);
                        Ok(())
                    })
                    .await
                    .ok();
                }
                continue;
            }
            Err(e) => return Err(e.into()),
        }
        // Everything the accepted shard references is confirmed; what this publish used is
        // the most recently used.
        if let Some(index) = &index {
            let index = index.clone();
            let mut confirm: Vec<(XetHash, Vec<(XetHash, u32)>)> = plan
                .xorbs
                .iter()
                .map(|x| (x.hash, x.chunk_list()))
                .collect();
            confirm.extend(
                found
                    .records
                    .values()
                    .filter(|r| !r.confirmed && plan.local_xorbs.contains(&r.xorb))
                    .map(|r| (r.xorb, r.chunks.clone())),
            );
            let used: Vec<XetHash> = plan.local_xorbs.iter().copied().collect();
            let kept = blocking(move || {
                for (xorb, chunks) in &confirm {
                    index.record(xorb, chunks, true)?;
                }
                index.touch(used);
                index.enforce_limit()
            })
            .await;
            if let Err(e) = kept {
                observer(Event::Warning(format!(
                    "the local Xet index could not be updated ({e}); the next publish may send more"
                )));
            }
        }
        summary.token_refreshes = session.refreshes();
        let mut reports = plan.reports;
        for (i, r) in reports.iter_mut().enumerate() {
            r.sent_bytes = sent.iter().filter_map(|x| x.per_file.get(&i)).sum();
        }
        return Ok(XetOutcome {
            files: reports,
            summary,
        });
    }
}

/// Runs blocking file work off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> std::io::Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| std::io::Error::other(format!("the local index thread failed: {e}")))?
}

/// Asks the CAS about the files' first and key chunks the local index did not place; every
/// answer places whatever chunks of ours its xorbs hold. Dedup only saves bytes, so a query
/// that fails (after the transport's retries) costs a warning, not the publish: its chunks
/// are sent.
async fn query_server(
    session: &XetSession,
    files: &[SourceFile],
    local: &Known,
    summary: &mut XetSummary,
    observer: &Observer,
) -> Known {
    let queries = dedup_queries(files, local);
    let mut server = Known::default();
    if queries.is_empty() {
        return server;
    }
    let ours = unplaced(files, local);
    summary.dedup_queries += queries.len() as u64;
    let mut answers = futures_util::stream::iter(queries.iter().map(|h| session.query_chunk(h)))
        .buffer_unordered(PARALLEL_QUERIES);
    let mut failed = None;
    while let Some(answer) = answers.next().await {
        match answer {
            Ok(Some(shard)) => {
                summary.dedup_hits += 1;
                server.add_answer(&shard, &ours);
            }
            Ok(None) => {}
            Err(e) => {
                summary.dedup_failures += 1;
                failed.get_or_insert(e);
            }
        }
    }
    if let Some(e) = failed {
        observer(Event::Warning(format!(
            "{} of {} global dedup queries failed ({e}); the chunks they asked about are sent",
            summary.dedup_failures,
            queries.len()
        )));
    }
    server
}

/// A xorb as sent: its hash, its bytes, and the bytes of each file's chunks in it.
struct SentXorb {
    hash: XetHash,
    bytes: u64,
    per_file: HashMap<usize, u64>,
}

/// Sends the plan's new xorbs, [`PARALLEL_XORBS`] at a time, each recorded in the local index
/// as soon as the CAS accepted it: small ones encoded (compressed) in memory, the others
/// streamed from the files.
async fn send_xorbs(
    session: &XetSession,
    files: &[SourceFile],
    plan: &XetPlan,
    index: Option<&LocalIndex>,
    observer: &Observer,
) -> Result<Vec<SentXorb>, UploadError> {
    let paths: Arc<Vec<PathBuf>> = Arc::new(files.iter().map(|f| f.local.clone()).collect());
    let progress: Vec<Arc<FileProgress>> = files
        .iter()
        .zip(&plan.reports)
        .map(|(f, r)| {
            Arc::new(FileProgress {
                path: f.repo_path.clone(),
                total: r.new_bytes,
                done: AtomicU64::new(0),
                observer: Arc::clone(observer),
            })
        })
        .collect();
    for (f, r) in files.iter().zip(&plan.reports) {
        observer(Event::UploadStart {
            path: f.repo_path.clone(),
            bytes: r.new_bytes,
        });
        if r.new_bytes == 0 {
            observer(Event::UploadDone {
                path: f.repo_path.clone(),
                sent: false,
            });
        }
    }
    let jobs = plan.xorbs.iter().map(|x| {
        let mut shares: HashMap<usize, u64> = HashMap::new();
        for c in &x.chunks {
            *shares.entry(c.file).or_default() += u64::from(c.len);
        }
        let tracker = Arc::new(XorbProgress {
            shares: shares
                .into_iter()
                .map(|(file, bytes)| (Arc::clone(&progress[file]), bytes))
                .collect(),
        });
        let xorb = Arc::new(x.clone());
        let paths = Arc::clone(&paths);
        let index = index.cloned();
        async move {
            let raw: u64 = xorb.chunks.iter().map(|c| u64::from(c.len)).sum();
            let (body, per_chunk) = if raw <= SMALL_XORB {
                let (x, p) = (Arc::clone(&xorb), Arc::clone(&paths));
                let (bytes, lens) = tokio::task::spawn_blocking(move || small_xorb(&x, &p))
                    .await
                    .map_err(|e| HubError::InvalidInput {
                        what: "xorb".into(),
                        reason: format!("the encoding thread failed: {e}"),
                    })?
                    .map_err(|e| HubError::InvalidInput {
                        what: "xorb".into(),
                        reason: e.to_string(),
                    })?;
                (Body::bytes(bytes, "application/octet-stream"), lens)
            } else {
                let lens = xorb
                    .chunks
                    .iter()
                    .map(|c| c.len + xet_format::CHUNK_HEADER_LEN as u32)
                    .collect();
                (xorb_body(Arc::clone(&xorb), paths, None), lens)
            };
            let mut per_file: HashMap<usize, u64> = HashMap::new();
            for (c, len) in xorb.chunks.iter().zip(&per_chunk) {
                *per_file.entry(c.file).or_default() += u64::from(*len);
            }
            let len = per_chunk.iter().map(|l| u64::from(*l)).sum();
            session.upload_xorb(&xorb.hash, body).await?;
            if let Some(index) = index {
                let (hash, chunks) = (xorb.hash, xorb.chunk_list());
                // A failed record only costs a re-send later; the upload goes on.
                let _ = blocking(move || index.record(&hash, &chunks, false)).await;
            }
            tracker.accepted();
            Ok::<_, HubError>(SentXorb {
                hash: xorb.hash,
                bytes: len,
                per_file,
            })
        }
    });
    let mut sent = Vec::with_capacity(plan.xorbs.len());
    let mut results = futures_util::stream::iter(jobs).buffer_unordered(PARALLEL_XORBS);
    while let Some(result) = results.next().await {
        sent.push(result?);
    }
    Ok(sent)
}

/// The shard(s) of the plan: every file, the CAS entries of the new xorbs and of the index's
/// xorbs that no accepted shard references yet (a publish killed after sending them). One
/// shard unless it would pass [`MAX_SHARD_BYTES`].
fn build_shards(
    plan: &XetPlan,
    found: &Found,
    sizes: &HashMap<XetHash, u64>,
) -> Result<Vec<Shard>, UploadError> {
    let mut entries: Vec<CasInfo> = plan
        .xorbs
        .iter()
        .map(|x| {
            cas_info(
                x.hash,
                &x.chunk_list(),
                sizes.get(&x.hash).copied().unwrap_or(0),
            )
        })
        .collect();
    let mut pending: Vec<&super::index::Record> = found
        .records
        .values()
        .filter(|r| !r.confirmed && plan.local_xorbs.contains(&r.xorb))
        .collect();
    pending.sort_by_key(|r| r.xorb);
    entries.extend(pending.iter().map(|r| cas_info(r.xorb, &r.chunks, 0)));
    let whole = Shard {
        files: plan.files.clone(),
        xorbs: entries,
        footer: None,
    };
    if whole.encoded_len() as u64 <= MAX_SHARD_BYTES {
        return Ok(vec![whole]);
    }
    // Split: files first, then CAS entries, each shard filled up to the limit.
    let mut shards = vec![Shard::default()];
    let limit = MAX_SHARD_BYTES as usize;
    for f in whole.files {
        let mut grown = shards.last().cloned().unwrap_or_default();
        grown.files.push(f.clone());
        if grown.encoded_len() > limit {
            let single = Shard {
                files: vec![f],
                ..Shard::default()
            };
            if single.encoded_len() > limit {
                return Err(UploadError::InvalidInput(
                    "a file has too many chunks for one shard; split it (llama.cpp's gguf-split)"
                        .into(),
                ));
            }
            shards.push(single);
        } else if let Some(last) = shards.last_mut() {
            *last = grown;
        }
    }
    for x in whole.xorbs {
        let fits = shards.last().is_some_and(|s| {
            s.encoded_len() + (1 + x.chunks.len()) * xet_format::RECORD_LEN <= limit
        });
        if !fits {
            shards.push(Shard::default());
        }
        if let Some(last) = shards.last_mut() {
            last.xorbs.push(x);
        }
    }
    Ok(shards)
}

/// Sends the shards; the CAS answers `result: 0` to one it already has (a retry after a lost
/// answer), which is fine.
async fn send_shards(
    session: &XetSession,
    shards: Vec<Shard>,
    summary: &mut XetSummary,
) -> Result<(), HubError> {
    for shard in shards {
        let bytes = shard.encode().map_err(|e| HubError::InvalidInput {
            what: "shard".into(),
            reason: format!("it cannot be encoded: {e}"),
        })?;
        summary.shard_bytes += bytes.len() as u64;
        summary.shards_sent += 1;
        session.upload_shard(Bytes::from(bytes)).await?;
    }
    Ok(())
}
