//! The local Xet index: which chunks of which xorbs this machine has sent to a CAS, so that a
//! re-publish after a header edit sends the changed chunks only, even where the CAS's global
//! dedup would find nothing (a small file has no key chunk).
//!
//! **Where.** `$RUVLTRA_XET_CACHE`, else `$XDG_CACHE_HOME/ruvltra/xet`, else
//! `~/.cache/ruvltra/xet`; one folder per CAS (`v1/{first 16 hex digits of the sha256 of its
//! URL}`, with a `cas-url` file saying which), since xorbs are shared by every repository of a
//! CAS but nothing says another CAS has them.
//!
//! **What.** One small file per xorb, `{xorb hash}.xorb`, written atomically (`atomic-file`)
//! as soon as the CAS accepted the xorb: a magic, a flag word (bit 0: a shard that references
//! the xorb was accepted too), and the xorb's chunk hashes and lengths. Its name is checked
//! against the xorb hash of its chunks when it is read, so a damaged or foreign file is
//! deleted rather than trusted; the index rebuilds itself as xorbs are sent again.
//!
//! **Bounds.** A publish reads every record of its CAS once (36 bytes per chunk, about 0.06%
//! of the bytes published) and keeps only the entries of its own chunks in memory. Records
//! used or written by a publish get a fresh modification time; when the records of every CAS
//! together pass the limit ([`DEFAULT_MAX_BYTES`], about 100 GiB of published data), the
//! least recently used go first, and a CAS folder left empty goes too. Records of xorbs no accepted shard references yet (a publish killed after its
//! xorb uploads) are used by the next publish, which lists them in its shard, and dropped
//! after [`UNCONFIRMED_TTL`], since a CAS may collect unreferenced xorbs.
//!
//! **Invalidation.** A CAS that refuses a shard because a xorb the index named is not stored
//! (its data was wiped, or another server now answers at that URL) invalidates the folder's
//! records of that publish: the publish is planned again without them.

use std::collections::{HashMap, HashSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use sha2::Digest as _;
use xet_format::{MAX_XORB_CHUNKS, XetHash, xorb_hash};

use super::plan::Known;

/// The variable that says where the local Xet index lives.
pub const XET_CACHE_ENV: &str = "RUVLTRA_XET_CACHE";

/// The size the records of one CAS may reach before the least recently used are dropped.
pub const DEFAULT_MAX_BYTES: u64 = 64 << 20;

/// How long the record of a xorb that no accepted shard references is kept.
pub const UNCONFIRMED_TTL: Duration = Duration::from_secs(24 * 3600);

const MAGIC: &[u8; 8] = b"RUVXETX1";
const HEADER_LEN: usize = 16;
const ENTRY_LEN: usize = 36;
const CONFIRMED: u32 = 1;
const SUFFIX: &str = ".xorb";

/// The default folder of the local index: [`XET_CACHE_ENV`], else the user's cache folder;
/// `None` when neither is known (the publish then works without a local index).
pub fn default_cache_dir() -> Option<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = var(XET_CACHE_ENV) {
        return Some(PathBuf::from(dir));
    }
    if let Some(dir) = var("XDG_CACHE_HOME") {
        return Some(PathBuf::from(dir).join("ruvltra").join("xet"));
    }
    var("HOME").map(|home| {
        PathBuf::from(home)
            .join(".cache")
            .join("ruvltra")
            .join("xet")
    })
}

/// One xorb this machine sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The xorb hash.
    pub xorb: XetHash,
    /// Whether an accepted shard references it.
    pub confirmed: bool,
    /// Its chunks: hash and length.
    pub chunks: Vec<(XetHash, u32)>,
}

/// The local index of one CAS.
#[derive(Debug, Clone)]
pub struct LocalIndex {
    /// The folder of every CAS (`{root}/v1`).
    all: PathBuf,
    dir: PathBuf,
    max_bytes: u64,
}

/// What a publish found in the index: where its chunks are, and the records that placed them.
#[derive(Debug, Default)]
pub struct Found {
    /// The chunks placed.
    pub known: Known,
    /// The records with at least one of the wanted chunks.
    pub records: HashMap<XetHash, Record>,
    /// Records deleted because they were damaged or expired.
    pub dropped: usize,
}

impl LocalIndex {
    /// The index of the CAS at `cas_url` under `root`, created when missing.
    pub fn open(root: &Path, cas_url: &str, max_bytes: u64) -> std::io::Result<LocalIndex> {
        let digest = sha2::Sha256::digest(cas_url.as_bytes());
        let all = root.join("v1");
        let dir = all.join(&hex_prefix(&digest)[..16]);
        std::fs::create_dir_all(&dir)?;
        let label = dir.join("cas-url");
        if std::fs::read(&label).ok().as_deref() != Some(cas_url.as_bytes()) {
            atomic_file::write(&label, cas_url.as_bytes())?;
        }
        Ok(LocalIndex {
            all,
            dir,
            max_bytes,
        })
    }

    /// Its folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path_of(&self, xorb: &XetHash) -> PathBuf {
        self.dir.join(format!("{}{SUFFIX}", xorb.to_hex()))
    }

    /// Reads every record, keeping the places of the `wanted` chunks; damaged records, and
    /// unconfirmed ones older than [`UNCONFIRMED_TTL`], are deleted. Also removes temporary
    /// files an interrupted write left behind.
    pub fn find(&self, wanted: &HashSet<XetHash>) -> std::io::Result<Found> {
        let mut found = Found::default();
        for entry in std::fs::read_dir(&self.dir)? {
            let entry = entry?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let path = entry.path();
            if name.starts_with('.') && name.ends_with(".tmp") {
                if older_than(&path, Duration::from_secs(3600)) {
                    let _ = std::fs::remove_file(&path);
                }
                continue;
            }
            let Some(stem) = name.strip_suffix(SUFFIX) else {
                continue;
            };
            let record = XetHash::from_hex(stem)
                .ok()
                .and_then(|xorb| read_record(&path, xorb));
            let Some(record) = record else {
                tracing::debug!(path = %path.display(), "dropping a damaged local Xet index record");
                let _ = std::fs::remove_file(&path);
                found.dropped += 1;
                continue;
            };
            if !record.confirmed && older_than(&path, UNCONFIRMED_TTL) {
                let _ = std::fs::remove_file(&path);
                found.dropped += 1;
                continue;
            }
            let mut hit = false;
            for (i, (chunk, _)) in record.chunks.iter().enumerate() {
                if wanted.contains(chunk) {
                    found.known.add(*chunk, record.xorb, i as u32);
                    hit = true;
                }
            }
            if hit {
                found.records.insert(record.xorb, record);
            }
        }
        Ok(found)
    }

    /// Records a xorb the CAS accepted (`confirmed` once a shard referencing it was accepted).
    pub fn record(
        &self,
        xorb: &XetHash,
        chunks: &[(XetHash, u32)],
        confirmed: bool,
    ) -> std::io::Result<()> {
        let mut bytes = Vec::with_capacity(HEADER_LEN + chunks.len() * ENTRY_LEN);
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&u32::from(confirmed).to_le_bytes());
        bytes.extend_from_slice(&(chunks.len() as u32).to_le_bytes());
        for (hash, len) in chunks {
            bytes.extend_from_slice(hash.as_bytes());
            bytes.extend_from_slice(&len.to_le_bytes());
        }
        atomic_file::write_with(&self.path_of(xorb), |f| f.write_all(&bytes))
    }

    /// Marks records as just used (the least recently used are dropped first).
    pub fn touch(&self, xorbs: impl IntoIterator<Item = XetHash>) {
        let now = SystemTime::now();
        for xorb in xorbs {
            if let Ok(file) = std::fs::File::options()
                .write(true)
                .open(self.path_of(&xorb))
            {
                let _ = file.set_modified(now);
            }
        }
    }

    /// Deletes the records of `xorbs` (the CAS does not hold them after all).
    pub fn forget(&self, xorbs: impl IntoIterator<Item = XetHash>) {
        for xorb in xorbs {
            let _ = std::fs::remove_file(self.path_of(&xorb));
        }
    }

    /// Drops the least recently used records, of every CAS, until all of them together are
    /// within the limit, and the folders of other CASes left without records; returns how
    /// many records were dropped.
    pub fn enforce_limit(&self) -> std::io::Result<usize> {
        let mut records = Vec::new();
        let mut total = 0u64;
        let mut folders = Vec::new();
        for folder in std::fs::read_dir(&self.all)? {
            let folder = folder?.path();
            if !folder.is_dir() {
                continue;
            }
            for entry in std::fs::read_dir(&folder)? {
                let entry = entry?;
                if !entry.file_name().to_string_lossy().ends_with(SUFFIX) {
                    continue;
                }
                let meta = entry.metadata()?;
                total += meta.len();
                let used = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
                records.push((used, meta.len(), entry.path()));
            }
            folders.push(folder);
        }
        records.sort();
        let mut dropped = 0;
        for (_, len, path) in records {
            if total <= self.max_bytes {
                break;
            }
            std::fs::remove_file(&path)?;
            total -= len;
            dropped += 1;
        }
        for folder in folders.into_iter().filter(|f| *f != self.dir) {
            let empty = std::fs::read_dir(&folder)?
                .flatten()
                .all(|e| !e.file_name().to_string_lossy().ends_with(SUFFIX));
            if empty {
                // Another publish may be writing there right now; then it simply stays.
                let _ = std::fs::remove_file(folder.join("cas-url"));
                let _ = std::fs::remove_dir(&folder);
            }
        }
        Ok(dropped)
    }
}

fn hex_prefix(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn older_than(path: &Path, age: Duration) -> bool {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|elapsed| elapsed > age)
}

/// Reads and checks one record: the magic, the lengths, and that its chunks hash to `xorb`.
fn read_record(path: &Path, xorb: XetHash) -> Option<Record> {
    let max = HEADER_LEN + MAX_XORB_CHUNKS * ENTRY_LEN;
    let bytes = std::fs::read(path).ok()?;
    if bytes.len() < HEADER_LEN || bytes.len() > max || &bytes[..8] != MAGIC {
        return None;
    }
    let word = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap_or([0; 4]));
    let flags = word(8);
    let count = word(12) as usize;
    if count == 0 || bytes.len() != HEADER_LEN + count * ENTRY_LEN {
        return None;
    }
    let chunks: Vec<(XetHash, u32)> = bytes[HEADER_LEN..]
        .chunks_exact(ENTRY_LEN)
        .map(|e| {
            let mut hash = [0u8; 32];
            hash.copy_from_slice(&e[..32]);
            (
                XetHash(hash),
                u32::from_le_bytes([e[32], e[33], e[34], e[35]]),
            )
        })
        .collect();
    if chunks.iter().any(|(_, len)| *len == 0) {
        return None;
    }
    let leaves: Vec<(XetHash, u64)> = chunks.iter().map(|(h, l)| (*h, u64::from(*l))).collect();
    (xorb_hash(&leaves) == xorb).then_some(Record {
        xorb,
        confirmed: flags & CONFIRMED != 0,
        chunks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(seed: u64, n: u64) -> Vec<(XetHash, u32)> {
        (0..n)
            .map(|i| (XetHash::from_words([seed, i, 3, 4]), 1000 + i as u32))
            .collect()
    }

    fn hash_of(chunks: &[(XetHash, u32)]) -> XetHash {
        let leaves: Vec<(XetHash, u64)> = chunks.iter().map(|(h, l)| (*h, u64::from(*l))).collect();
        xorb_hash(&leaves)
    }

    #[test]
    fn records_are_found_by_chunk_and_checked_against_their_name() {
        let root = tempfile::tempdir().unwrap();
        let index = LocalIndex::open(root.path(), "http://127.0.0.1:1", 1 << 20).unwrap();
        let a = chunks(1, 5);
        let b = chunks(2, 3);
        let (xa, xb) = (hash_of(&a), hash_of(&b));
        index.record(&xa, &a, true).unwrap();
        index.record(&xb, &b, false).unwrap();
        // Another CAS has its own folder.
        let other = LocalIndex::open(root.path(), "https://cas.test", 1 << 20).unwrap();
        assert_ne!(other.dir(), index.dir());
        assert!(
            other
                .find(&HashSet::from([a[0].0]))
                .unwrap()
                .records
                .is_empty()
        );

        let wanted = HashSet::from([a[2].0, b[0].0, XetHash::from_words([9, 9, 9, 9])]);
        let found = index.find(&wanted).unwrap();
        assert_eq!(found.known.get(&a[2].0)[0].index, 2);
        assert_eq!(found.known.get(&b[0].0)[0].xorb, xb);
        assert!(found.records[&xa].confirmed && !found.records[&xb].confirmed);

        // A damaged record (or one under another name) is deleted, never trusted.
        let path = index.path_of(&xa);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[HEADER_LEN + 40] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        std::fs::write(index.path_of(&XetHash::from_words([1, 1, 1, 1])), b"junk").unwrap();
        let foreign = index.path_of(&XetHash::from_words([2, 2, 2, 2]));
        std::fs::copy(index.path_of(&xb), &foreign).unwrap();
        let found = index.find(&wanted).unwrap();
        assert_eq!(found.dropped, 3);
        assert!(!foreign.exists());
        assert!(!path.exists());
        assert_eq!(found.records.len(), 1);

        index.forget([xb]);
        assert!(index.find(&wanted).unwrap().records.is_empty());
    }

    #[test]
    fn the_least_recently_used_records_of_every_cas_go_first() {
        let root = tempfile::tempdir().unwrap();
        let one = HEADER_LEN as u64 + 4 * ENTRY_LEN as u64;
        // A record of another CAS, the oldest of all: it goes, and its folder with it.
        let other = LocalIndex::open(root.path(), "http://other", 2 * one).unwrap();
        let stale = chunks(9, 4);
        other.record(&hash_of(&stale), &stale, true).unwrap();
        let file = std::fs::File::options()
            .write(true)
            .open(other.path_of(&hash_of(&stale)))
            .unwrap();
        file.set_modified(SystemTime::now() - Duration::from_secs(1000))
            .unwrap();
        let index = LocalIndex::open(root.path(), "http://cas", 2 * one).unwrap();
        let lists: Vec<Vec<(XetHash, u32)>> = (0..3).map(|s| chunks(s, 4)).collect();
        let old = SystemTime::now() - Duration::from_secs(100);
        for (i, c) in lists.iter().enumerate() {
            index.record(&hash_of(c), c, true).unwrap();
            let file = std::fs::File::options()
                .write(true)
                .open(index.path_of(&hash_of(c)))
                .unwrap();
            file.set_modified(old + Duration::from_secs(i as u64))
                .unwrap();
        }
        // The first is used again: the second is now the oldest.
        index.touch([hash_of(&lists[0])]);
        assert_eq!(index.enforce_limit().unwrap(), 2);
        assert!(!other.dir().exists());
        assert!(index.path_of(&hash_of(&lists[0])).exists());
        assert!(!index.path_of(&hash_of(&lists[1])).exists());
        assert!(index.path_of(&hash_of(&lists[2])).exists());
    }
}
