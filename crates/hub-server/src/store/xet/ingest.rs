//! Turning a whole file that arrived through LFS into a Xet file, as the Hub does: its bytes
//! are chunked as they are fed (in slices of any size), chunks the store already holds are
//! referenced where they are, and only new chunks are written, uncompressed, into new xorbs.
//! Nothing is visible until [`Store::commit_ingest`], which the caller runs only once the
//! sha256 and size are the announced ones; dropping an [`Ingest`] removes its xorbs.

use std::collections::HashMap;
use std::io::{self, Read as _};

use bytes::Bytes;
use sha2::{Digest as _, Sha256};
use xet_format::{
    CasInfo, ChunkInfo, ChunkStream, FileInfo, FileTerm, Shard, XetHash, file_hash,
    term_verification_hash,
};

use super::ChunkIndex;
use super::xorb_file::{PendingXorb, XorbBuilder};
use super::{XetFile, XetTerm};
use crate::store::Store;

/// Where a chunk of the file being ingested lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Loc {
    /// In a xorb the store holds.
    Stored(XetHash, u32),
    /// In new xorb number `.0` of this ingest.
    New(usize, u32),
}

/// The sha256 of a file, computed on a thread of its own (hashing is most of an ingest's
/// work, and the chunk hashes are computed meanwhile), or inline when no thread can start.
#[derive(Debug)]
enum Sha256Pass {
    Thread(
        std::sync::mpsc::SyncSender<Bytes>,
        std::thread::JoinHandle<[u8; 32]>,
    ),
    Inline(Sha256),
}

impl Sha256Pass {
    fn start() -> Sha256Pass {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Bytes>(16);
        let spawned = std::thread::Builder::new()
            .name("hub-server-sha256".to_owned())
            .spawn(move || {
                let mut h = Sha256::new();
                for piece in rx {
                    h.update(&piece);
                }
                h.finalize().into()
            });
        match spawned {
            Ok(handle) => Sha256Pass::Thread(tx, handle),
            Err(_) => Sha256Pass::Inline(Sha256::new()),
        }
    }

    fn update(&mut self, piece: &Bytes) {
        match self {
            Sha256Pass::Thread(tx, _) => {
                if tx.send(piece.clone()).is_err() {
                    // The thread is gone (it cannot fail but by a panic): finish() says so.
                }
            }
            Sha256Pass::Inline(h) => h.update(piece),
        }
    }

    fn finish(self) -> io::Result<[u8; 32]> {
        match self {
            Sha256Pass::Thread(tx, handle) => {
                drop(tx);
                handle
                    .join()
                    .map_err(|_| io::Error::other("the sha256 thread failed"))
            }
            Sha256Pass::Inline(h) => Ok(h.finalize().into()),
        }
    }
}

/// A file being ingested.
#[derive(Debug)]
pub struct Ingest<'s> {
    store: &'s Store,
    label: String,
    stream: ChunkStream,
    sha256: Sha256Pass,
    size: u64,
    /// The first bytes of the chunk in progress, from earlier slices.
    carry: Vec<u8>,
    chunks: Vec<(XetHash, u64)>,
    locs: Vec<Loc>,
    /// New chunks of this file, so that a chunk repeated inside it is stored once.
    new_chunks: HashMap<XetHash, Loc>,
    building: Option<XorbBuilder>,
    built: Vec<PendingXorb>,
}

/// A file ingested but not yet visible.
#[derive(Debug)]
pub struct Ingested {
    /// Its size.
    pub size: u64,
    /// Its sha256 (lowercase hex).
    pub sha256: String,
    file: XetFile,
    shard: Shard,
    xorbs: Vec<PendingXorb>,
}

impl Store {
    /// Starts ingesting a file; `label` names its temporary xorbs.
    pub fn ingest(&self, label: &str) -> Ingest<'_> {
        Ingest {
            store: self,
            label: label.to_owned(),
            stream: ChunkStream::new(),
            sha256: Sha256Pass::start(),
            size: 0,
            carry: Vec::new(),
            chunks: Vec::new(),
            locs: Vec::new(),
            new_chunks: HashMap::new(),
            building: None,
            built: Vec::new(),
        }
    }

    /// Makes an ingested file visible: its new xorbs, its record, its shard (which indexes its
    /// chunks for the next files and for global dedup) and the link from its sha256.
    pub fn commit_ingest(&self, ingested: Ingested) -> io::Result<()> {
        for x in ingested.xorbs {
            self.put_xorb(x)?;
        }
        let bytes = ingested.shard.encode().map_err(io::Error::other)?;
        self.put_shard(&bytes, &ingested.shard, &[ingested.file])?;
        Ok(())
    }

    /// Ingests a whole file already on disk (the parts of a multipart upload, or a whole-file
    /// object of an older data directory).
    pub fn ingest_path(&self, path: &std::path::Path, label: &str) -> io::Result<Ingested> {
        let mut file = std::fs::File::open(path)?;
        let mut ingest = self.ingest(label);
        loop {
            let mut buf = Vec::with_capacity(4 << 20);
            let n = (&mut file).take(4 << 20).read_to_end(&mut buf)?;
            if n == 0 {
                break;
            }
            ingest.feed(Bytes::from(buf))?;
        }
        ingest.finish()
    }
}

impl Ingest<'_> {
    /// Takes the next bytes of the file.
    pub fn feed(&mut self, data: Bytes) -> io::Result<()> {
        self.sha256.update(&data);
        self.size += data.len() as u64;
        let mut done = Vec::new();
        self.stream.feed(&data, |c| done.push(c));
        let store = self.store;
        let index = store.chunk_index()?;
        let mut at = 0usize;
        for c in &done {
            let len = c.len as usize;
            if self.carry.is_empty() {
                self.place(&index, c, &data[at..at + len])?;
                at += len;
            } else {
                // The chunk began in an earlier slice.
                let rest = len - self.carry.len();
                let mut whole = std::mem::take(&mut self.carry);
                whole.extend_from_slice(&data[at..at + rest]);
                at += rest;
                self.place(&index, c, &whole)?;
                whole.clear();
                self.carry = whole;
            }
        }
        self.carry.extend_from_slice(&data[at..]);
        Ok(())
    }

    /// Records where chunk `c` (its bytes `bytes`) lives, writing it when it is new.
    fn place(&mut self, index: &ChunkIndex, c: &ChunkInfo, bytes: &[u8]) -> io::Result<()> {
        let loc = match self.new_chunks.get(&c.hash).copied() {
            Some(loc) => loc,
            None => match index.get(&c.hash) {
                Some(stored) => Loc::Stored(stored.xorb, stored.index),
                None => {
                    let loc = add_new(
                        self.store,
                        &self.label,
                        &mut self.building,
                        &mut self.built,
                        bytes,
                        c.hash,
                    )?;
                    self.new_chunks.insert(c.hash, loc);
                    loc
                }
            },
        };
        self.chunks.push((c.hash, u64::from(c.len)));
        self.locs.push(loc);
        Ok(())
    }

    /// Ends the file: its record and shard, ready to commit.
    pub fn finish(mut self) -> io::Result<Ingested> {
        if let Some(last) = self.stream.finish() {
            let store = self.store;
            let index = store.chunk_index()?;
            let bytes = std::mem::take(&mut self.carry);
            self.place(&index, &last, &bytes)?;
        }
        if let Some(b) = self.building.take() {
            self.built.push(b.finish()?);
        }
        let hashes: Vec<XetHash> = self.built.iter().map(|x| x.summary.hash).collect();
        let xorb_of = |loc: Loc| match loc {
            Loc::Stored(h, i) => (h, i),
            Loc::New(slot, i) => (hashes[slot], i),
        };
        // Terms: runs of consecutive chunks of one xorb.
        let mut terms: Vec<FileTerm> = Vec::new();
        let mut verification = Vec::new();
        let mut run_hashes: Vec<XetHash> = Vec::new();
        for (i, &loc) in self.locs.iter().enumerate() {
            let (xorb, idx) = xorb_of(loc);
            let (hash, len) = self.chunks[i];
            let extends = terms
                .last()
                .is_some_and(|t| t.xorb == xorb && t.chunk_end == idx);
            if extends && let Some(t) = terms.last_mut() {
                t.chunk_end += 1;
                t.unpacked_bytes += len as u32;
            } else {
                if !run_hashes.is_empty() {
                    verification.push(term_verification_hash(&run_hashes));
                    run_hashes.clear();
                }
                terms.push(FileTerm {
                    xorb,
                    unpacked_bytes: len as u32,
                    chunk_start: idx,
                    chunk_end: idx + 1,
                });
            }
            run_hashes.push(hash);
        }
        if !run_hashes.is_empty() {
            verification.push(term_verification_hash(&run_hashes));
        }
        let sha = self.sha256.finish()?;
        let hash = file_hash(&self.chunks);
        let file = XetFile {
            hash: hash.to_hex(),
            size: self.size,
            sha256: hex::encode(sha),
            terms: terms
                .iter()
                .map(|t| XetTerm {
                    xorb: t.xorb.to_hex(),
                    start: t.chunk_start,
                    end: t.chunk_end,
                    bytes: t.unpacked_bytes,
                })
                .collect(),
        };
        let shard = Shard {
            files: vec![FileInfo {
                hash,
                terms,
                verification: Some(verification),
                sha256: Some(sha),
            }],
            xorbs: self
                .built
                .iter()
                .map(|x| CasInfo::from_summary(&x.summary))
                .collect(),
            footer: None,
        };
        Ok(Ingested {
            size: self.size,
            sha256: file.sha256.clone(),
            file,
            shard,
            xorbs: self.built,
        })
    }
}

/// Appends a new chunk to the xorb being built (sealing it first when the chunk does not fit).
fn add_new(
    store: &Store,
    label: &str,
    building: &mut Option<XorbBuilder>,
    built: &mut Vec<PendingXorb>,
    data: &[u8],
    hash: XetHash,
) -> io::Result<Loc> {
    if building.as_ref().is_some_and(|b| !b.fits(data.len()))
        && let Some(full) = building.take()
    {
        built.push(full.finish()?);
    }
    let builder = match building {
        Some(b) => b,
        None => building.insert(XorbBuilder::create(store.xorb_tmp(label))?),
    };
    let idx = builder.push(data, hash)?;
    Ok(Loc::New(built.len(), idx))
}
