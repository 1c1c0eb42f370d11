//! The Xet plan of a publish, decided before a byte is sent (pure: no I/O): where each chunk
//! of each file comes from (a xorb the local index or a dedup answer knows, an earlier chunk
//! of this publish, or a new xorb), which chunks are worth a global dedup query, the new
//! xorbs (cut by the official client's rule, so their hashes are known from chunk hashes
//! alone), and each file's terms with their verification hashes.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use hub_client::Sha256;
use serde::Serialize;
use xet_format::{
    CasChunk, CasInfo, FileInfo, FileTerm, Shard, XetHash, fits_in_xorb, is_global_dedup_key,
    term_verification_hash, xorb_hash,
};

use crate::check::FileChunks;

/// A file to send through Xet.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path in the repository (for reports).
    pub repo_path: String,
    /// Where it is on disk.
    pub local: PathBuf,
    /// Its sha256 (the shard's metadata extension links it to the LFS pointer).
    pub sha256: Sha256,
    /// Its chunks, from the check pass.
    pub chunks: Arc<FileChunks>,
}

/// A chunk of a xorb the CAS already holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Location {
    /// The xorb.
    pub xorb: XetHash,
    /// The chunk's index in it.
    pub index: u32,
}

/// Chunks whose location in a stored xorb is known (from the local index or dedup answers).
#[derive(Debug, Clone, Default)]
pub struct Known {
    map: HashMap<XetHash, Vec<Location>>,
}

impl Known {
    /// Records that `chunk` is chunk `index` of `xorb`.
    pub fn add(&mut self, chunk: XetHash, xorb: XetHash, index: u32) {
        let at = self.map.entry(chunk).or_default();
        let location = Location { xorb, index };
        if !at.contains(&location) {
            at.push(location);
        }
    }

    /// Where `chunk` is, if known.
    pub fn get(&self, chunk: &XetHash) -> &[Location] {
        self.map.get(chunk).map_or(&[], Vec::as_slice)
    }

    /// Whether nothing is known.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Records every chunk of a global dedup answer that is one of `ours`: the answer's chunk
    /// hashes are keyed with its footer's key (unless that is zero), so ours are keyed the
    /// same way to match them. Returns how many of our chunks it located.
    pub fn add_answer(&mut self, answer: &Shard, ours: &HashSet<XetHash>) -> usize {
        let key = answer.footer.map_or(XetHash::ZERO, |f| f.chunk_hash_key);
        let keyed: HashMap<XetHash, XetHash> = ours
            .iter()
            .map(|h| {
                let k = if key == XetHash::ZERO {
                    *h
                } else {
                    h.keyed(&key)
                };
                (k, *h)
            })
            .collect();
        let mut found = 0;
        for x in &answer.xorbs {
            for (i, c) in x.chunks.iter().enumerate() {
                if let Some(raw) = keyed.get(&c.hash) {
                    self.add(*raw, x.hash, i as u32);
                    found += 1;
                }
            }
        }
        found
    }
}

/// Where one chunk of a file comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Source {
    /// A xorb the local index knows.
    Local(Location),
    /// A xorb a global dedup answer named.
    Server(Location),
    /// Chunk `index` of new xorb `xorb` of this publish; `first` when this is where it was
    /// put (not a repeat of an earlier chunk of the publish).
    Fresh {
        xorb: usize,
        index: u32,
        first: bool,
    },
}

impl Source {
    /// The xorb (stored, or new by its index) and the chunk index, for term runs.
    fn slot(&self) -> (Result<XetHash, usize>, u32) {
        match *self {
            Source::Local(l) | Source::Server(l) => (Ok(l.xorb), l.index),
            Source::Fresh { xorb, index, .. } => (Err(xorb), index),
        }
    }
}

/// One chunk of a new xorb: which file it is read from, where, and its hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewChunk {
    /// The index of its file among the plan's files.
    pub file: usize,
    /// Its offset in the file.
    pub offset: u64,
    /// Its length.
    pub len: u32,
    /// Its hash.
    pub hash: XetHash,
}

/// A xorb this publish sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewXorb {
    /// Its hash (the Merkle root of its chunks).
    pub hash: XetHash,
    /// Its chunks, in order.
    pub chunks: Vec<NewChunk>,
}

impl NewXorb {
    /// Its chunks as (hash, length), what the local index records.
    pub fn chunk_list(&self) -> Vec<(XetHash, u32)> {
        self.chunks.iter().map(|c| (c.hash, c.len)).collect()
    }
}

/// The shard's CAS entry of a xorb from its chunk list; `serialized` is its size as sent (0
/// when unknown, as `hf_xet` writes).
pub fn cas_info(hash: XetHash, chunks: &[(XetHash, u32)], serialized: u64) -> CasInfo {
    let mut offset = 0u32;
    let chunks: Vec<CasChunk> = chunks
        .iter()
        .map(|(h, len)| {
            let c = CasChunk {
                hash: *h,
                raw_offset: offset,
                raw_len: *len,
                flags: 0,
            };
            offset += len;
            c
        })
        .collect();
    CasInfo {
        hash,
        raw_bytes: offset,
        serialized_bytes: serialized as u32,
        chunks,
    }
}

/// What a publish did with one file's chunks: each chunk is counted once, where it came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct XetFileReport {
    /// The file's Xet hash.
    pub xet_hash: String,
    /// Its chunks.
    pub chunks: u64,
    /// Its bytes.
    pub bytes: u64,
    /// Chunks nobody had: put in new xorbs and sent.
    pub new_chunks: u64,
    /// Their bytes.
    pub new_bytes: u64,
    /// Chunks equal to an earlier chunk of this publish (sent once).
    pub repeated_chunks: u64,
    /// Their bytes.
    pub repeated_bytes: u64,
    /// Chunks the local index knew in a stored xorb (not sent).
    pub local_chunks: u64,
    /// Their bytes.
    pub local_bytes: u64,
    /// Chunks a global dedup answer found in a stored xorb (not sent).
    pub server_chunks: u64,
    /// Their bytes.
    pub server_bytes: u64,
    /// Bytes of xorbs sent for this file's new chunks, as sent (chunk headers included,
    /// compressed where they were).
    pub sent_bytes: u64,
}

/// The plan of one Xet upload.
#[derive(Debug, Clone)]
pub struct XetPlan {
    /// The xorbs to send.
    pub xorbs: Vec<NewXorb>,
    /// Per file (in the order given): its file-info entry for the shard.
    pub files: Vec<FileInfo>,
    /// Per file: where its chunks came from.
    pub reports: Vec<XetFileReport>,
    /// The stored xorbs the local index contributed (their entries may need confirming).
    pub local_xorbs: HashSet<XetHash>,
}

/// The chunks worth a global dedup query: per file, its first chunk and every key chunk
/// ([`is_global_dedup_key`]) that the local index does not already place, each hash once.
/// Every chunk is known before the upload, so all of them are asked about first and a hit
/// anywhere deduplicates the whole file, not only what follows it.
pub fn dedup_queries(files: &[SourceFile], local: &Known) -> Vec<XetHash> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for f in files {
        for (i, c) in f.chunks.chunks.iter().enumerate() {
            if (i == 0 || is_global_dedup_key(&c.hash))
                && local.get(&c.hash).is_empty()
                && seen.insert(c.hash)
            {
                out.push(c.hash);
            }
        }
    }
    out
}

/// Every chunk hash of the files that the local index does not place (the ones dedup answers
/// are matched against).
pub fn unplaced(files: &[SourceFile], local: &Known) -> HashSet<XetHash> {
    files
        .iter()
        .flat_map(|f| f.chunks.chunks.iter())
        .filter(|c| local.get(&c.hash).is_empty())
        .map(|c| c.hash)
        .collect()
}

/// Picks where a chunk comes from among `candidates`: the one that continues the previous
/// chunk's run (same xorb, next index) when there is one, else the first.
fn pick(candidates: &[Location], previous: Option<Source>) -> Option<Location> {
    let follows = previous.and_then(|p| match p.slot() {
        (Ok(xorb), index) => Some(Location {
            xorb,
            index: index + 1,
        }),
        _ => None,
    });
    follows
        .filter(|f| candidates.contains(f))
        .or_else(|| candidates.first().copied())
}

/// Makes the plan: each chunk from the local index, else a dedup answer, else an earlier
/// chunk of this publish, else a new xorb (filled in file order, cut when the next chunk
/// would not fit by the official client's rule).
pub fn make_plan(files: &[SourceFile], local: &Known, server: &Known) -> XetPlan {
    let mut fresh_at: HashMap<XetHash, (usize, u32)> = HashMap::new();
    let mut xorbs: Vec<Vec<NewChunk>> = Vec::new();
    let mut open_raw = 0u64;
    let mut sources: Vec<Vec<Source>> = Vec::with_capacity(files.len());
    let mut local_xorbs = HashSet::new();
    for (fi, f) in files.iter().enumerate() {
        let mut file_sources = Vec::with_capacity(f.chunks.chunks.len());
        for c in &f.chunks.chunks {
            let previous = file_sources.last().copied();
            let source = if let Some(l) = pick(local.get(&c.hash), previous) {
                local_xorbs.insert(l.xorb);
                Source::Local(l)
            } else if let Some(l) = pick(server.get(&c.hash), previous) {
                Source::Server(l)
            } else if let Some(&(xorb, index)) = fresh_at.get(&c.hash) {
                Source::Fresh {
                    xorb,
                    index,
                    first: false,
                }
            } else {
                let fits = xorbs
                    .last()
                    .is_some_and(|x| fits_in_xorb(open_raw, x.len(), c.len as usize));
                if !fits {
                    xorbs.push(Vec::new());
                    open_raw = 0;
                }
                let xorb = xorbs.len() - 1;
                let chunks = &mut xorbs[xorb];
                let index = chunks.len() as u32;
                chunks.push(NewChunk {
                    file: fi,
                    offset: c.offset,
                    len: c.len,
                    hash: c.hash,
                });
                open_raw += u64::from(c.len);
                fresh_at.insert(c.hash, (xorb, index));
                Source::Fresh {
                    xorb,
                    index,
                    first: true,
                }
            };
            file_sources.push(source);
        }
        sources.push(file_sources);
    }
    let xorbs: Vec<NewXorb> = xorbs
        .into_iter()
        .map(|chunks| {
            let leaves: Vec<(XetHash, u64)> =
                chunks.iter().map(|c| (c.hash, c.len.into())).collect();
            NewXorb {
                hash: xorb_hash(&leaves),
                chunks,
            }
        })
        .collect();

    let mut infos = Vec::with_capacity(files.len());
    let mut reports = Vec::with_capacity(files.len());
    for (f, file_sources) in files.iter().zip(&sources) {
        let mut report = XetFileReport {
            xet_hash: f.chunks.file_hash.to_hex(),
            ..XetFileReport::default()
        };
        let mut terms: Vec<FileTerm> = Vec::new();
        let mut verification = Vec::new();
        let mut run: Vec<XetHash> = Vec::new();
        for (c, source) in f.chunks.chunks.iter().zip(file_sources) {
            let len = u64::from(c.len);
            report.chunks += 1;
            report.bytes += len;
            let (count, bytes) = match source {
                Source::Local(_) => (&mut report.local_chunks, &mut report.local_bytes),
                Source::Server(_) => (&mut report.server_chunks, &mut report.server_bytes),
                Source::Fresh { first: true, .. } => {
                    report.sent_bytes += len + xet_format::CHUNK_HEADER_LEN as u64;
                    (&mut report.new_chunks, &mut report.new_bytes)
                }
                Source::Fresh { first: false, .. } => {
                    (&mut report.repeated_chunks, &mut report.repeated_bytes)
                }
            };
            *count += 1;
            *bytes += len;
            let (slot, index) = source.slot();
            let xorb = slot.unwrap_or_else(|i| xorbs[i].hash);
            match terms.last_mut() {
                Some(t) if t.xorb == xorb && t.chunk_end == index => {
                    t.chunk_end += 1;
                    t.unpacked_bytes += c.len;
                    run.push(c.hash);
                }
                _ => {
                    if !run.is_empty() {
                        verification.push(term_verification_hash(&run));
                        run.clear();
                    }
                    terms.push(FileTerm {
                        xorb,
                        unpacked_bytes: c.len,
                        chunk_start: index,
                        chunk_end: index + 1,
                    });
                    run.push(c.hash);
                }
            }
        }
        if !run.is_empty() {
            verification.push(term_verification_hash(&run));
        }
        infos.push(FileInfo {
            hash: f.chunks.file_hash,
            terms,
            verification: Some(verification),
            sha256: Some(f.sha256.0),
        });
        reports.push(report);
    }
    XetPlan {
        xorbs,
        files: infos,
        reports,
        local_xorbs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use xet_format::{ChunkInfo, MAX_XORB_CHUNKS};

    fn h(n: u64) -> XetHash {
        // Word 3 odd: never a key chunk unless asked for.
        XetHash::from_words([n, n ^ 0x55, 7, 2 * n + 1])
    }

    fn key(n: u64) -> XetHash {
        XetHash::from_words([n, 1, 2, 1024 * n])
    }

    fn file(name: &str, hashes: &[XetHash], len: u32) -> SourceFile {
        let chunks: Vec<ChunkInfo> = hashes
            .iter()
            .enumerate()
            .map(|(i, h)| ChunkInfo {
                offset: i as u64 * u64::from(len),
                len,
                hash: *h,
            })
            .collect();
        let leaves: Vec<(XetHash, u64)> = chunks.iter().map(|c| (c.hash, c.len.into())).collect();
        SourceFile {
            repo_path: name.into(),
            local: PathBuf::from(name),
            sha256: Sha256([1; 32]),
            chunks: Arc::new(FileChunks {
                file_hash: xet_format::file_hash(&leaves),
                chunks,
            }),
        }
    }

    fn terms(info: &FileInfo) -> Vec<(XetHash, u32, u32)> {
        info.terms
            .iter()
            .map(|t| (t.xorb, t.chunk_start, t.chunk_end))
            .collect()
    }

    #[test]
    fn a_first_publish_sends_every_chunk_once_in_file_order() {
        let a = file("a", &[h(1), h(2), h(3), h(2)], 100);
        let b = file("b", &[h(3), h(4)], 100);
        let plan = make_plan(&[a.clone(), b], &Known::default(), &Known::default());
        assert_eq!(plan.xorbs.len(), 1);
        let x = &plan.xorbs[0];
        let order: Vec<XetHash> = x.chunks.iter().map(|c| c.hash).collect();
        assert_eq!(order, [h(1), h(2), h(3), h(4)]);
        assert_eq!(x.chunks[3].file, 1);
        let leaves: Vec<(XetHash, u64)> = order.iter().map(|c| (*c, 100)).collect();
        assert_eq!(x.hash, xorb_hash(&leaves));
        assert_eq!(
            terms(&plan.files[0]),
            [(x.hash, 0, 3), (x.hash, 1, 2)],
            "a repeated chunk points back at its first copy"
        );
        assert_eq!(terms(&plan.files[1]), [(x.hash, 2, 4)]);
        let r = &plan.reports[0];
        assert_eq!((r.chunks, r.new_chunks, r.repeated_chunks), (4, 3, 1));
        assert_eq!(r.sent_bytes, 3 * 108);
        assert_eq!(plan.reports[1].repeated_chunks, 1);
        // The verification hash of each term is over its chunk hashes.
        let v = plan.files[0].verification.as_ref().unwrap();
        assert_eq!(v[0], term_verification_hash(&[h(1), h(2), h(3)]));
        assert_eq!(v[1], term_verification_hash(&[h(2)]));
        assert_eq!(plan.files[0].sha256, Some([1; 32]));
        assert_eq!(plan.files[0].hash, a.chunks.file_hash);
    }

    #[test]
    fn known_chunks_are_referenced_and_only_the_rest_is_sent() {
        // The previous publish: xorb X held chunks 1..=5. Now chunk 1 was edited (9).
        let x = h(100);
        let mut local = Known::default();
        for (i, c) in [h(1), h(2), h(3), h(4), h(5)].iter().enumerate() {
            local.add(*c, x, i as u32);
        }
        let edited = file("m.gguf", &[h(9), h(2), h(3), h(4), h(5)], 1000);
        let plan = make_plan(&[edited], &local, &Known::default());
        assert_eq!(plan.xorbs.len(), 1);
        assert_eq!(plan.xorbs[0].chunks.len(), 1);
        let new = plan.xorbs[0].hash;
        assert_eq!(terms(&plan.files[0]), [(new, 0, 1), (x, 1, 5)]);
        let r = &plan.reports[0];
        assert_eq!((r.new_chunks, r.local_chunks, r.local_bytes), (1, 4, 4000));
        assert_eq!(plan.local_xorbs, HashSet::from([x]));

        // The same chunks found by the server instead.
        let plan = make_plan(
            &[file("m.gguf", &[h(2), h(3)], 10)],
            &Known::default(),
            &local,
        );
        assert!(plan.xorbs.is_empty());
        assert_eq!(terms(&plan.files[0]), [(x, 1, 3)]);
        assert_eq!(plan.reports[0].server_chunks, 2);
    }

    #[test]
    fn a_run_follows_the_xorb_it_is_in() {
        // Chunk 2 is in two xorbs; the run 1, 2, 3 of Y is kept whole.
        let (x, y) = (h(100), h(200));
        let mut local = Known::default();
        local.add(h(2), x, 7);
        for (i, c) in [h(1), h(2), h(3)].iter().enumerate() {
            local.add(*c, y, i as u32);
        }
        let plan = make_plan(
            &[file("f", &[h(1), h(2), h(3)], 10)],
            &local,
            &Known::default(),
        );
        assert_eq!(terms(&plan.files[0]), [(y, 0, 3)]);
    }

    #[test]
    fn new_xorbs_are_cut_by_the_official_rule() {
        let hashes: Vec<XetHash> = (0..MAX_XORB_CHUNKS as u64 + 3).map(h).collect();
        let plan = make_plan(
            &[file("f", &hashes, 8)],
            &Known::default(),
            &Known::default(),
        );
        let sizes: Vec<usize> = plan.xorbs.iter().map(|x| x.chunks.len()).collect();
        assert_eq!(sizes, [MAX_XORB_CHUNKS, 3]);
        assert_eq!(plan.files[0].terms.len(), 2);
    }

    #[test]
    fn queries_ask_first_and_key_chunks_the_index_does_not_place() {
        let mut local = Known::default();
        local.add(key(2), h(100), 0);
        let files = [
            file("a", &[h(1), key(1), h(2), key(2), key(3)], 10),
            file("b", &[key(1), h(5)], 10),
            file("c", &[key(2)], 10),
        ];
        assert_eq!(dedup_queries(&files, &local), [h(1), key(1), key(3)]);
        let unplaced = unplaced(&files, &local);
        assert!(!unplaced.contains(&key(2)) && unplaced.contains(&h(5)));
    }

    #[test]
    fn dedup_answers_are_matched_through_their_key() {
        let stored = Shard {
            files: Vec::new(),
            xorbs: vec![cas_info(h(100), &[(h(1), 10), (h(2), 10)], 0)],
            footer: None,
        };
        let ours = HashSet::from([h(2), h(3)]);
        for k in [XetHash::ZERO, h(42)] {
            let answer = stored.dedup_answer(k, 1, 2);
            let mut known = Known::default();
            assert_eq!(known.add_answer(&answer, &ours), 1);
            assert_eq!(
                known.get(&h(2)),
                [Location {
                    xorb: h(100),
                    index: 1
                }]
            );
            assert!(known.get(&h(1)).is_empty());
        }
    }

    #[test]
    fn cas_entries_count_offsets() {
        let info = cas_info(h(1), &[(h(2), 10), (h(3), 5)], 31);
        assert_eq!(info.raw_bytes, 15);
        assert_eq!(info.chunks[1].raw_offset, 10);
        assert_eq!(info.serialized_bytes, 31);
    }
}
