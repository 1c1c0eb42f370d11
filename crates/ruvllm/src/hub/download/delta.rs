//! Delta updates: where the chunks of an older revision of a file are in its cached copy, so
//! that the terms an update shares with it are copied from the disk instead of fetched.
//!
//! A term names chunks by their xorb and their index in it, which the bytes alone do not
//! tell. The layout is therefore computed, not stored: the older copy is chunked with
//! `xet-format` (about 1.6 GB/s), which gives its chunks and its Xet hash, and the CAS's
//! reconstruction of that hash says which xorb chunk each of them is. Nothing is added to the
//! cache the official client shares, nothing can go stale, and it works whichever client
//! fetched the older revision. `docs/XET-NOTES.md` says why this was preferred to an index
//! kept beside the cache.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read};
use std::ops::Range;
use std::path::{Path, PathBuf};

use hub_client::xet::XetReader;
use xet_format::{ChunkInfo, ChunkStream, XetHash, file_hash};

/// One chunk of the older copy.
#[derive(Debug, Clone, Copy)]
struct OldChunk {
    offset: u64,
    len: u32,
    hash: XetHash,
}

/// The chunk layout of an older copy of a file: which xorb chunk sits where in it.
#[derive(Debug)]
pub(super) struct OldCopy {
    /// The copy (a snapshot entry, read through its link).
    pub(super) path: PathBuf,
    /// The commit whose snapshot it is.
    pub(super) commit: String,
    chunks: HashMap<(XetHash, u32), OldChunk>,
}

/// Chunks of a term found in the older copy: the byte runs to copy, in order, and each chunk's
/// hash and length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Found {
    pub(super) runs: Vec<Range<u64>>,
    pub(super) chunks: Vec<(XetHash, u64)>,
}

impl OldCopy {
    /// Where chunks `chunks` of `xorb` are in the copy; `None` unless every one of them is.
    pub(super) fn find(&self, xorb: &XetHash, chunks: Range<u32>) -> Option<Found> {
        let mut runs: Vec<Range<u64>> = Vec::new();
        let mut hashes = Vec::with_capacity(chunks.len());
        for index in chunks {
            let c = self.chunks.get(&(*xorb, index))?;
            let end = c.offset + u64::from(c.len);
            match runs.last_mut() {
                Some(last) if last.end == c.offset => last.end = end,
                _ => runs.push(c.offset..end),
            }
            hashes.push((c.hash, u64::from(c.len)));
        }
        Some(Found {
            runs,
            chunks: hashes,
        })
    }

    /// Chunks the copy at `path` (snapshot of `commit`) and maps its chunks onto xorb chunks
    /// through the CAS's reconstruction of its Xet hash. The error says why no delta is
    /// possible (the caller then fetches everything).
    pub(super) async fn load(
        reader: &XetReader,
        path: PathBuf,
        commit: String,
    ) -> Result<OldCopy, String> {
        let target = path.clone();
        let chunks = tokio::task::spawn_blocking(move || chunk_file(&target))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let leaves: Vec<(XetHash, u64)> =
            chunks.iter().map(|c| (c.hash, u64::from(c.len))).collect();
        let hash = file_hash(&leaves);
        let plan = reader
            .reconstruction(&hash, None)
            .await
            .map_err(|e| format!("the CAS has no reconstruction of the older copy: {e}"))?;
        let mut map = HashMap::new();
        let mut next = 0usize;
        for (i, term) in plan.terms.iter().enumerate() {
            let n = term.chunks.len();
            let Some(mine) = chunks.get(next..next + n) else {
                return Err(format!("term {i} goes past the older copy's chunks"));
            };
            let len: u64 = mine.iter().map(|c| u64::from(c.len)).sum();
            if len != term.unpacked_length {
                return Err(format!(
                    "term {i} has {} bytes, the older copy's chunks {len}",
                    term.unpacked_length
                ));
            }
            for (j, c) in mine.iter().enumerate() {
                map.entry((term.xorb, term.chunks.start + j as u32))
                    .or_insert(OldChunk {
                        offset: c.offset,
                        len: c.len,
                        hash: c.hash,
                    });
            }
            next += n;
        }
        if next != chunks.len() {
            return Err("the reconstruction does not cover the older copy".into());
        }
        Ok(OldCopy {
            path,
            commit,
            chunks: map,
        })
    }
}

/// The chunks of a file, read in 1 MiB slices.
fn chunk_file(path: &Path) -> io::Result<Vec<ChunkInfo>> {
    let mut file = File::open(path)?;
    let mut stream = ChunkStream::new();
    let mut chunks = Vec::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        stream.feed_into(&buf[..n], &mut chunks);
    }
    chunks.extend(stream.finish());
    Ok(chunks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_are_found_as_merged_runs_or_not_at_all() {
        let (x, y) = (XetHash([1; 32]), XetHash([2; 32]));
        let mut chunks = HashMap::new();
        for (i, (offset, len)) in [(0u64, 10u32), (10, 5), (40, 7)].into_iter().enumerate() {
            let hash = XetHash([i as u8 + 10; 32]);
            chunks.insert((x, i as u32), OldChunk { offset, len, hash });
        }
        let old = OldCopy {
            path: PathBuf::new(),
            commit: String::new(),
            chunks,
        };
        let found = old.find(&x, 0..3).unwrap();
        assert_eq!(found.runs, vec![0..15, 40..47]);
        assert_eq!(found.chunks.len(), 3);
        assert_eq!(found.chunks[2], (XetHash([12; 32]), 7));
        assert_eq!(old.find(&x, 1..2).unwrap().runs, vec![10..15]);
        assert_eq!(old.find(&x, 2..4), None, "chunk 3 is not in the copy");
        assert_eq!(old.find(&y, 0..1), None);
    }

    #[test]
    fn files_are_chunked_as_in_one_pass() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let data: Vec<u8> = (0..3_000_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        std::fs::write(&path, &data).unwrap();
        assert_eq!(chunk_file(&path).unwrap(), xet_format::chunk_file(&data));
    }
}
