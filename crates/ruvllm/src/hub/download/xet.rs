//! One blob through Xet: the file's reconstruction from the CAS, its terms either copied from
//! an older revision in the cache (`delta`) or fetched as xorb ranges, several at once, and
//! written in file order through the same writer and hasher threads as a plain download.
//!
//! # Checks
//! A v1 reconstruction carries no hash per term, so a term is checked as far as the bytes
//! allow while it arrives: every chunk decodes (headers, LZ4 frames, lengths), the xorb range
//! holds the term's chunks, and their lengths add up to the term's. A chunk that fails is
//! fetched again from where it starts, then Xet is given up. At the end every chunk's hash
//! (computed while decoding, or known from the older copy) goes into the Merkle root, which
//! must give the file's `X-Xet-Hash`; the caller then checks the sha256 as for any download.
//!
//! # Memory
//! Xorb ranges are fetched in segments of [`SEGMENT_BYTES`], at most [`PARALLEL_FETCHES`] at a
//! time, and decoded in order into the writer; a download holds a few segments whatever the
//! file's or the xorbs' sizes.

use std::fs::File;
use std::future::Future;
use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use futures_util::{StreamExt, stream};
use hub_client::xet::{Reconstruction, ReconstructionTerm, XetReader, XorbFetch};
use hub_client::{HubError, RetryPolicy};
use xet_format::{XetHash, XorbDecoder, file_hash};

use super::delta::{Found, OldCopy};
use super::error::DownloadError;
use super::outcome::{FileReporter, ProgressEvent, Source, XetReport};
use super::transfer::Transfer;

/// Xorb range requests in flight (or fetched and waiting to be written) at most.
pub(super) const PARALLEL_FETCHES: usize = 4;
/// The largest request for xorb bytes: longer ranges are split, and each piece is fetched on
/// its own and fed in order to one decoder.
pub(super) const SEGMENT_BYTES: u64 = 8 << 20;
/// Attempts at each segment (a broken body is fetched again from where it broke), and at the
/// rest of a xorb range after a chunk failed to decode.
const FETCH_ATTEMPTS: u32 = 3;
/// The largest read from the older copy at once.
const COPY_BYTES: u64 = 4 << 20;
/// The most chunk bytes kept in memory for terms that reuse a fetched range later in the file.
const KEEP_BYTES: u64 = 64 << 20;

/// What a blob needs to come through Xet.
pub(super) struct XetSource {
    /// The CAS of the file's repository.
    pub(super) reader: XetReader,
    /// The file's Xet hash (`X-Xet-Hash`).
    pub(super) hash: XetHash,
    /// The file in the snapshots of other commits, newest first (commit, path).
    pub(super) older: Vec<(String, PathBuf)>,
}

/// A blob written through Xet into the partial file, not yet checked against its sha256.
pub(super) struct XetDone {
    /// The byte the transfer resumed from.
    pub(super) resumed_from: u64,
    /// The size written.
    pub(super) size: u64,
    /// The sha256 of everything.
    pub(super) digest: [u8; 32],
}

/// How one part of the file is obtained.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    /// One term, copied from the older copy.
    Copy(Found),
    /// Consecutive terms whose chunks come in order from one fetch entry, fetched together;
    /// the chunks `keep` are kept in memory for later pieces.
    Fetch {
        fetch: usize,
        terms: Range<usize>,
        keep: Vec<u32>,
    },
    /// Terms whose chunks an earlier fetch of the same entry kept in memory.
    Kept { fetch: usize, terms: Range<usize> },
}

/// Splits the terms into pieces: copies where the older copy holds every chunk of a term,
/// else fetches, consecutive terms sharing one fetch entry in increasing chunk order. A fetch
/// entry used again later (a chunk repeated in the file, or the server's merged ranges) is
/// fetched once and the chunks the later pieces need are kept, up to [`KEEP_BYTES`].
fn plan_pieces(plan: &Reconstruction, old: Option<&OldCopy>) -> Vec<Piece> {
    let mut pieces: Vec<Piece> = Vec::new();
    for (i, term) in plan.terms.iter().enumerate() {
        if let Some(found) = old.and_then(|o| o.find(&term.xorb, term.chunks.clone())) {
            pieces.push(Piece::Copy(found));
            continue;
        }
        if let Some(Piece::Fetch { fetch, terms, .. }) = pieces.last_mut()
            && *fetch == term.fetch
            && terms.end == i
            && plan.terms[i - 1].chunks.end <= term.chunks.start
        {
            terms.end = i + 1;
            continue;
        }
        pieces.push(Piece::Fetch {
            fetch: term.fetch,
            terms: i..i + 1,
            keep: Vec::new(),
        });
    }
    // The piece that fetches each entry, and what it keeps for the later ones.
    let mut carrier: std::collections::HashMap<usize, usize> = Default::default();
    let mut budget = KEEP_BYTES;
    for p in 0..pieces.len() {
        let Piece::Fetch { fetch, terms, .. } = &pieces[p] else {
            continue;
        };
        let (fetch, terms) = (*fetch, terms.clone());
        let need: u64 = plan.terms[terms.clone()]
            .iter()
            .map(|t| t.unpacked_length)
            .sum();
        match carrier.get(&fetch) {
            Some(&c) if need <= budget => {
                budget -= need;
                if let Piece::Fetch { keep, .. } = &mut pieces[c] {
                    keep.extend(
                        plan.terms[terms.clone()]
                            .iter()
                            .flat_map(|t| t.chunks.clone()),
                    );
                    keep.sort_unstable();
                    keep.dedup();
                }
                pieces[p] = Piece::Kept { fetch, terms };
            }
            _ => {
                carrier.insert(fetch, p);
            }
        }
    }
    pieces
}

/// `bytes` cut into requests of at most [`SEGMENT_BYTES`].
fn segments(bytes: Range<u64>) -> impl Iterator<Item = Range<u64>> {
    let end = bytes.end;
    (bytes.start..end)
        .step_by(SEGMENT_BYTES as usize)
        .map(move |s| s..(s + SEGMENT_BYTES).min(end))
}

/// A spawned task, aborted when dropped (a download given up stops its fetches).
struct Spawned<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for Spawned<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl<T> Future for Spawned<T> {
    type Output = Result<T, String>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0)
            .poll(cx)
            .map(|r| r.map_err(|e| e.to_string()))
    }
}

/// Fetches bytes `bytes` of a xorb range, fetching again from where a body broke.
async fn get_segment(
    reader: XetReader,
    fetch: XorbFetch,
    bytes: Range<u64>,
    retry: RetryPolicy,
    received: Arc<AtomicU64>,
) -> Result<Bytes, String> {
    let len = (bytes.end - bytes.start) as usize;
    let mut buf = BytesMut::with_capacity(len);
    let mut attempt = 0;
    loop {
        let from = bytes.start + buf.len() as u64;
        let result: Result<(), HubError> = async {
            let mut body = reader.xorb_bytes(&fetch, from..bytes.end).await?;
            while let Some(piece) = body.next().await {
                let piece = piece?;
                received.fetch_add(piece.len() as u64, Ordering::Relaxed);
                buf.extend_from_slice(&piece[..piece.len().min(len - buf.len())]);
            }
            Ok(())
        }
        .await;
        let why = match result {
            Ok(()) if buf.len() == len => return Ok(buf.freeze()),
            Ok(()) => format!("the answer ended after {} of {len} bytes", buf.len()),
            Err(e) => e.to_string(),
        };
        attempt += 1;
        if attempt >= FETCH_ATTEMPTS {
            return Err(why);
        }
        tracing::debug!(%why, "a xorb range broke; fetching the rest again");
        tokio::time::sleep(retry.backoff(attempt - 1)).await;
    }
}

/// Chunks kept for later pieces: (fetch entry, chunk index) to the chunk and its hash.
type KeptChunks = std::collections::HashMap<(usize, u32), (Bytes, XetHash)>;

/// The terms of one piece as their chunks come, in xorb order (out of the decoder, or out of
/// the kept chunks).
struct Group<'p> {
    terms: &'p [ReconstructionTerm],
    /// The term being filled.
    current: usize,
    term_bytes: u64,
    /// The xorb index of the next chunk the decoder gives.
    next_index: u32,
    /// Bytes still to drop from the front of the file (a resumed reconstruction's
    /// `offset_into_first_range`).
    skip: u64,
    /// Chunk data ready to write.
    ready: Vec<Bytes>,
    /// Every chunk of the terms, in file order.
    leaves: Vec<(XetHash, u64)>,
    /// A term whose chunks do not add up to its length.
    mismatch: Option<String>,
    /// The fetch entry and the chunks of it to keep for later pieces (sorted).
    fetch: usize,
    keep: &'p [u32],
}

impl<'p> Group<'p> {
    fn new(terms: &'p [ReconstructionTerm], fetch: usize, keep: &'p [u32], skip: u64) -> Self {
        Group {
            terms,
            current: 0,
            term_bytes: 0,
            next_index: terms.first().map_or(0, |t| t.chunks.start),
            skip,
            ready: Vec::new(),
            leaves: Vec::new(),
            mismatch: None,
            fetch,
            keep,
        }
    }

    /// True once every term is filled and every chunk to keep was seen.
    fn complete(&self) -> bool {
        self.current == self.terms.len() && self.keep.last().is_none_or(|&k| self.next_index > k)
    }

    /// Takes the next chunk the decoder gives.
    fn take(&mut self, data: &[u8], hash: XetHash, kept: &mut KeptChunks) {
        let index = self.next_index;
        self.next_index += 1;
        let mut bytes = None;
        if self.keep.binary_search(&index).is_ok() {
            let b = Bytes::copy_from_slice(data);
            kept.insert((self.fetch, index), (b.clone(), hash));
            bytes = Some(b);
        }
        let Some(term) = self.terms.get(self.current) else {
            return;
        };
        if index < term.chunks.start {
            return;
        }
        let len = data.len() as u64;
        self.term_bytes += len;
        self.leaves.push((hash, len));
        if self.skip >= len {
            self.skip -= len;
        } else {
            let skip = self.skip as usize;
            self.ready.push(match bytes {
                Some(b) => b.slice(skip..),
                None => Bytes::copy_from_slice(&data[skip..]),
            });
            self.skip = 0;
        }
        if index + 1 == term.chunks.end {
            if self.term_bytes != term.unpacked_length && self.mismatch.is_none() {
                self.mismatch = Some(format!(
                    "the term of xorb {} chunks {}..{} should hold {} bytes, its chunks hold {}",
                    term.xorb,
                    term.chunks.start,
                    term.chunks.end,
                    term.unpacked_length,
                    self.term_bytes
                ));
            }
            self.current += 1;
            self.term_bytes = 0;
        }
    }

    /// Feeds decoded bytes; the error says why the rest must be fetched again.
    fn feed(
        &mut self,
        decoder: &mut XorbDecoder,
        bytes: &[u8],
        kept: &mut KeptChunks,
    ) -> Result<(), String> {
        decoder
            .feed(bytes, |c| self.take(c.data, c.info.hash, kept))
            .map_err(|e| format!("a chunk does not decode: {e}"))
    }

    /// Fills the terms from chunks an earlier piece kept.
    fn take_kept(&mut self, kept: &mut KeptChunks) -> Result<(), String> {
        let terms = self.terms;
        for term in terms {
            for index in term.chunks.clone() {
                let (data, hash) = kept
                    .get(&(self.fetch, index))
                    .cloned()
                    .ok_or_else(|| format!("chunk {index} of xorb {} was not kept", term.xorb))?;
                self.next_index = index;
                self.take(&data, hash, kept);
            }
        }
        Ok(())
    }
}

/// The serialized bytes of the chunks a decoder completed.
fn consumed(decoder: &XorbDecoder) -> u64 {
    decoder.chunks().last().map_or(0, |c| {
        u64::from(c.serialized_offset) + u64::from(c.serialized_len)
    })
}

/// Why Xet was given up, and whether what it wrote may stay as the start of a resume.
struct Abandon {
    reason: String,
    /// False when bytes that did not check out may have been written.
    keep_prefix: bool,
}

fn network(reason: String) -> Abandon {
    Abandon {
        reason,
        keep_prefix: true,
    }
}

fn content(reason: String) -> Abandon {
    Abandon {
        reason,
        keep_prefix: false,
    }
}

/// Puts the file's bytes into `partial` through Xet, resuming what it holds. The outer `Err`
/// is local trouble (the partial file, the worker threads); the inner one says why Xet was
/// given up, after which the partial file holds only bytes worth resuming from.
pub(super) async fn fetch(
    to: FileReporter<'_>,
    partial: &Path,
    size: Option<u64>,
    xet: &XetSource,
    retry: &RetryPolicy,
    report: &mut XetReport,
) -> Result<Result<XetDone, DownloadError>, DownloadError> {
    let mut transfer = Transfer::start(partial, size)?;
    let resumed_from = transfer.pos;
    let received = Arc::new(AtomicU64::new(0));
    let outcome = run(to, &mut transfer, size, xet, retry, report, &received).await;
    report.fetched_bytes += received.load(Ordering::Relaxed);
    match outcome? {
        Ok(()) => {
            let (size, digest) = transfer.finish().await?;
            Ok(Ok(XetDone {
                resumed_from,
                size,
                digest,
            }))
        }
        Err(abandon) => {
            if !abandon.keep_prefix {
                transfer.restart().await?;
            }
            transfer.abort().await;
            Ok(Err(DownloadError::Xet {
                file: to.file().to_owned(),
                reason: abandon.reason,
            }))
        }
    }
}

/// The body of [`fetch`], with the transfer open.
async fn run(
    to: FileReporter<'_>,
    transfer: &mut Transfer,
    size: Option<u64>,
    xet: &XetSource,
    retry: &RetryPolicy,
    report: &mut XetReport,
    received: &Arc<AtomicU64>,
) -> Result<Result<(), Abandon>, DownloadError> {
    let start = transfer.pos;
    if start > 0 && size == Some(start) {
        return Ok(Ok(()));
    }
    let wanted = match size {
        Some(size) if start > 0 => Some(start..size),
        _ => None,
    };
    let older = xet.older.first().cloned();
    let (plan, old) = tokio::join!(xet.reader.reconstruction(&xet.hash, wanted), async {
        match older {
            Some((commit, path)) => Some(OldCopy::load(&xet.reader, path, commit).await),
            None => None,
        }
    });
    let plan = match plan {
        Ok(plan) => plan,
        Err(e) => return Ok(Err(network(format!("no reconstruction: {e}")))),
    };
    let old = match old {
        Some(Ok(old)) => Some(old),
        Some(Err(why)) => {
            tracing::info!(file = to.file(), %why, "no delta from the older revision; fetching every term");
            None
        }
        None => None,
    };
    let rebuilt = plan.unpacked_len() - plan.offset_into_first_range;
    if let Some(size) = size
        && rebuilt != size - start
    {
        return Ok(Err(network(format!(
            "the reconstruction rebuilds {rebuilt} bytes, {} were expected",
            size - start
        ))));
    }
    let pieces = plan_pieces(&plan, old.as_ref());
    report.terms = plan.terms.len();
    report.terms_copied = pieces
        .iter()
        .filter(|p| matches!(p, Piece::Copy(_)))
        .count();
    if report.terms_copied > 0 {
        report.copied_from = old.as_ref().map(|o| o.commit.clone());
    }

    // Every segment of every fetch piece, in file order, fetched ahead of the writer.
    let jobs: Vec<(usize, Range<u64>)> = pieces
        .iter()
        .filter_map(|p| match p {
            Piece::Fetch { fetch, .. } => Some(*fetch),
            Piece::Copy(_) | Piece::Kept { .. } => None,
        })
        .flat_map(|f| segments(plan.fetches[f].bytes.clone()).map(move |s| (f, s)))
        .collect();
    let mut incoming = stream::iter(jobs.into_iter().map(|(f, bytes)| {
        Spawned(tokio::spawn(get_segment(
            xet.reader.clone(),
            plan.fetches[f].clone(),
            bytes,
            retry.clone(),
            received.clone(),
        )))
    }))
    .buffered(PARALLEL_FETCHES);

    to.report(
        start,
        size,
        ProgressEvent::Started {
            source: Source::Hub,
            from: start,
        },
    );
    let mut skip = plan.offset_into_first_range;
    let mut leaves: Vec<(XetHash, u64)> = Vec::new();
    let mut old_file: Option<File> = None;
    let mut kept = KeptChunks::new();
    for piece in &pieces {
        match piece {
            Piece::Copy(found) => {
                let copy = copy_runs(transfer, to, size, old.as_ref(), &mut old_file, found, skip);
                match copy.await? {
                    Ok(copied) => report.copied_bytes += copied,
                    Err(e) => return Ok(Err(e)),
                }
                let len: u64 = found.chunks.iter().map(|c| c.1).sum();
                skip = skip.saturating_sub(len);
                leaves.extend_from_slice(&found.chunks);
            }
            Piece::Fetch { fetch, terms, keep } => {
                let mut group = Group::new(&plan.terms[terms.clone()], *fetch, keep, skip);
                group.next_index = plan.fetches[*fetch].chunks.start;
                let fetched = fetch_piece(
                    (transfer, to, size),
                    xet,
                    &plan.fetches[*fetch],
                    &mut incoming,
                    &mut group,
                    &mut kept,
                    (retry, report, received),
                );
                if let Err(abandon) = fetched.await? {
                    return Ok(Err(abandon));
                }
                skip = group.skip;
                leaves.append(&mut group.leaves);
            }
            Piece::Kept { fetch, terms } => {
                let mut group = Group::new(&plan.terms[terms.clone()], *fetch, &[], skip);
                if let Err(why) = group.take_kept(&mut kept) {
                    return Ok(Err(network(why)));
                }
                push_ready(transfer, to, size, &mut group).await?;
                if let Some(m) = group.mismatch.take() {
                    return Ok(Err(content(m)));
                }
                skip = group.skip;
                leaves.append(&mut group.leaves);
            }
        }
    }
    if start == 0 {
        let actual = file_hash(&leaves);
        if actual != xet.hash {
            return Ok(Err(content(format!(
                "the chunks rebuild the Xet hash {actual}, not the file's {}",
                xet.hash
            ))));
        }
    }
    Ok(Ok(()))
}

/// Fetches one piece's xorb range: its segments from `incoming`, decoded into `group`, and
/// written; a range that breaks or fails its check is fetched again from the failed chunk.
async fn fetch_piece(
    (transfer, to, size): (&mut Transfer, FileReporter<'_>, Option<u64>),
    xet: &XetSource,
    f: &XorbFetch,
    incoming: &mut (impl futures_util::Stream<Item = Result<Result<Bytes, String>, String>> + Unpin),
    group: &mut Group<'_>,
    kept: &mut KeptChunks,
    (retry, report, received): (&RetryPolicy, &mut XetReport, &Arc<AtomicU64>),
) -> Result<Result<(), Abandon>, DownloadError> {
    let mut decoder = XorbDecoder::new();
    let mut base = f.bytes.start;
    let mut broken: Option<String> = None;
    for _ in segments(f.bytes.clone()) {
        let Some(segment) = incoming.next().await else {
            return Ok(Err(network("a xorb range went missing".into())));
        };
        if broken.is_some() {
            // The rest of a broken range is fetched again below.
            continue;
        }
        match segment {
            Ok(Ok(bytes)) => broken = group.feed(&mut decoder, &bytes, kept).err(),
            Ok(Err(e)) | Err(e) => broken = Some(e),
        }
        push_ready(transfer, to, size, group).await?;
        if let Some(m) = group.mismatch.take() {
            return Ok(Err(content(m)));
        }
    }
    let mut attempts = 1;
    loop {
        if broken.is_none() && !group.complete() {
            broken = Some("the xorb range ended before the term's last chunk".into());
        }
        let Some(why) = broken.take() else {
            return Ok(Ok(()));
        };
        base += consumed(&decoder);
        if attempts >= FETCH_ATTEMPTS || base >= f.bytes.end {
            return Ok(Err(network(format!("xorb {}: {why}", f.xorb))));
        }
        attempts += 1;
        report.refetches += 1;
        tracing::warn!(file = to.file(), xorb = %f.xorb, %why, "a xorb range failed its check; fetching it again from the failed chunk");
        tokio::time::sleep(retry.backoff(attempts - 2)).await;
        decoder = XorbDecoder::new();
        if let Err(e) = refetch(xet, f, base, &mut decoder, group, kept, received).await {
            broken = Some(e);
        }
        push_ready(transfer, to, size, group).await?;
        if let Some(m) = group.mismatch.take() {
            return Ok(Err(content(m)));
        }
    }
}

/// Fetches the rest of a xorb range from byte `from` (a chunk's start) into `decoder`.
async fn refetch(
    xet: &XetSource,
    f: &XorbFetch,
    from: u64,
    decoder: &mut XorbDecoder,
    group: &mut Group<'_>,
    kept: &mut KeptChunks,
    received: &AtomicU64,
) -> Result<(), String> {
    let mut body = xet
        .reader
        .xorb_bytes(f, from..f.bytes.end)
        .await
        .map_err(|e| e.to_string())?;
    while let Some(piece) = body.next().await {
        let piece = piece.map_err(|e| e.to_string())?;
        received.fetch_add(piece.len() as u64, Ordering::Relaxed);
        group.feed(decoder, &piece, kept)?;
        if group.complete() {
            break;
        }
    }
    Ok(())
}

/// Writes the chunks a group has ready.
async fn push_ready(
    transfer: &mut Transfer,
    to: FileReporter<'_>,
    size: Option<u64>,
    group: &mut Group<'_>,
) -> Result<(), DownloadError> {
    for bytes in group.ready.drain(..) {
        transfer.push(bytes).await?;
    }
    to.report(transfer.pos, size, ProgressEvent::Bytes);
    Ok(())
}

/// Copies a term's runs from the older copy, dropping `skip` bytes from the front; returns the
/// bytes written.
async fn copy_runs(
    transfer: &mut Transfer,
    to: FileReporter<'_>,
    size: Option<u64>,
    old: Option<&OldCopy>,
    file: &mut Option<File>,
    found: &Found,
    mut skip: u64,
) -> Result<Result<u64, Abandon>, DownloadError> {
    let Some(old) = old else {
        return Ok(Err(network("a copy without an older copy".into())));
    };
    let mut written = 0;
    for run in &found.runs {
        let mut at = run.start + skip.min(run.end - run.start);
        skip = skip.saturating_sub(run.end - run.start);
        while at < run.end {
            let len = (run.end - at).min(COPY_BYTES);
            let handle = match file.take() {
                Some(f) => f,
                None => match File::open(&old.path) {
                    Ok(f) => f,
                    Err(e) => return Ok(Err(network(format!("cannot open the older copy: {e}")))),
                },
            };
            let read = tokio::task::spawn_blocking(move || {
                let mut f = handle;
                let mut buf = vec![0u8; len as usize];
                f.seek(SeekFrom::Start(at))?;
                f.read_exact(&mut buf)?;
                Ok::<_, std::io::Error>((f, buf))
            })
            .await
            .map_err(|e| DownloadError::Runtime(e.to_string()))?;
            let (handle, buf) = match read {
                Ok(r) => r,
                Err(e) => return Ok(Err(network(format!("cannot read the older copy: {e}")))),
            };
            *file = Some(handle);
            transfer.push(Bytes::from(buf)).await?;
            to.report(transfer.pos, size, ProgressEvent::Bytes);
            written += len;
            at += len;
        }
    }
    Ok(Ok(written))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn term(xorb: u8, chunks: Range<u32>, fetch: usize) -> ReconstructionTerm {
        ReconstructionTerm {
            xorb: XetHash([xorb; 32]),
            chunks: chunks.clone(),
            unpacked_length: u64::from(chunks.end - chunks.start) * 10,
            fetch,
        }
    }

    #[test]
    fn terms_in_order_from_one_fetch_entry_share_a_piece() {
        let plan = Reconstruction {
            offset_into_first_range: 0,
            terms: vec![
                term(1, 0..2, 0),
                term(1, 2..5, 0),
                term(2, 0..1, 1),
                term(1, 5..6, 0),
                term(1, 1..3, 0),
                term(2, 0..1, 1),
            ],
            fetches: Vec::new(),
        };
        assert_eq!(
            plan_pieces(&plan, None),
            vec![
                // The first piece of an entry fetches it and keeps what later pieces reuse.
                Piece::Fetch {
                    fetch: 0,
                    terms: 0..2,
                    keep: vec![1, 2, 5]
                },
                Piece::Fetch {
                    fetch: 1,
                    terms: 2..3,
                    keep: vec![0]
                },
                Piece::Kept {
                    fetch: 0,
                    terms: 3..4
                },
                // Going back in the xorb: from the kept chunks too.
                Piece::Kept {
                    fetch: 0,
                    terms: 4..5
                },
                Piece::Kept {
                    fetch: 1,
                    terms: 5..6
                },
            ]
        );
    }

    #[test]
    fn segments_cover_the_range() {
        let s: Vec<_> = segments(5..5 + 2 * SEGMENT_BYTES + 1).collect();
        assert_eq!(
            s,
            vec![
                5..5 + SEGMENT_BYTES,
                5 + SEGMENT_BYTES..5 + 2 * SEGMENT_BYTES,
                5 + 2 * SEGMENT_BYTES..6 + 2 * SEGMENT_BYTES
            ]
        );
        assert_eq!(segments(0..1).count(), 1);
    }

    #[test]
    fn a_group_takes_its_terms_chunks_keeps_some_and_checks_lengths() {
        let terms = [term(1, 1..3, 0), term(1, 3..4, 0)];
        let keep = [2, 5];
        let mut kept = KeptChunks::new();
        let mut g = Group::new(&terms, 7, &keep, 4);
        g.next_index = 0;
        let h = XetHash([3; 32]);
        g.take(&[9; 7], h, &mut kept); // chunk 0: no term needs it
        g.take(&[1; 10], h, &mut kept);
        g.take(&[2; 10], h, &mut kept);
        assert!(!g.complete());
        g.take(&[3; 10], h, &mut kept);
        assert!(!g.complete(), "chunk 5 is still to be kept");
        g.take(&[4; 10], h, &mut kept); // past the last term
        g.take(&[5; 10], h, &mut kept);
        assert!(g.complete());
        assert_eq!(g.leaves.len(), 3);
        let written: Vec<u8> = g.ready.iter().flat_map(|b| b.to_vec()).collect();
        assert_eq!(written.len(), 26, "4 bytes skipped");
        assert_eq!(written[0], 1);
        assert_eq!(g.mismatch, None);
        assert_eq!(kept.len(), 2);
        assert_eq!(kept[&(7, 5)].0.as_ref(), &[5; 10]);

        // Later terms from the kept chunks; a chunk that was not kept is an error.
        let later = [term(1, 5..6, 0), term(1, 2..3, 0)];
        let mut g = Group::new(&later, 7, &[], 0);
        g.take_kept(&mut kept).unwrap();
        assert!(g.complete());
        let written: Vec<u8> = g.ready.iter().flat_map(|b| b.to_vec()).collect();
        assert_eq!(written, [[5u8; 10], [2; 10]].concat());
        let missing = [term(1, 3..4, 0)];
        let err = Group::new(&missing, 7, &[], 0)
            .take_kept(&mut kept)
            .unwrap_err();
        assert!(err.contains("not kept"), "{err}");

        let mut g = Group::new(&terms[1..], 7, &[], 0);
        g.take(&[5; 9], h, &mut kept);
        assert!(g.mismatch.unwrap().contains("should hold 10 bytes"));
    }
}
