//! The Xet part of the store: xorbs, shards, file reconstructions and the link from an LFS
//! object's sha256 to the Xet file that holds its bytes. Every large file lives here, whichever
//! way it arrived (a client's xorbs and shard, or an LFS upload chunked by the server), so
//! equal chunks are stored once.
//!
//! ```text
//! objects/xet/xorbs/{aa}/{xorb hash}      a xorb and its chunk table (xorb_file.rs)
//! objects/xet/shards/{aa}/{sha256}        every accepted shard, named by the sha256 of its bytes
//! objects/xet/files/{aa}/{file hash}      a file's reconstruction: size, sha256, terms (JSON)
//! objects/xet/sha256/{aa}/{sha256}        the LFS object with that sha256 is this Xet file
//! repos/.../lfs/{sha256}                  the repo references that object (CAS read scope)
//! ```
//! Order of writes: xorbs, then file records, then the shard, then the sha256 links; what a
//! restart finds is consistent at every step, and the chunk index (which xorb holds a chunk,
//! which shard introduced a xorb) is rebuilt from the shards on first use.

mod ingest;
mod reader;
mod xorb_file;

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, RwLock, RwLockReadGuard};

use serde::{Deserialize, Serialize};
use xet_format::{Shard, XetHash};

use super::files::{random_hex, write_atomic};
use super::{RepoId, Store, read_json, write_json};

pub use ingest::Ingested;
pub use reader::{XetReader, out_buffer};
pub use xorb_file::{PendingXorb, ReceiveError, XorbReceiver, XorbTable};

/// The largest shard the store reads back (its own shards of huge files can pass the 64 MiB
/// of uploads).
const MAX_STORED_SHARD: u64 = 1 << 30;

/// One term of a file: chunks `start..end` of a xorb, `bytes` long once uncompressed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct XetTerm {
    /// The xorb, in the Xet hash string form.
    pub xorb: String,
    /// The first chunk.
    pub start: u32,
    /// The chunk after the last.
    pub end: u32,
    /// The uncompressed length.
    pub bytes: u32,
}

/// How to rebuild a stored file from xorb chunk ranges.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct XetFile {
    /// The Xet file hash (string form).
    pub hash: String,
    /// Its length in bytes.
    pub size: u64,
    /// The sha256 of its bytes (lowercase hex): the LFS object it is.
    pub sha256: String,
    /// Its terms, in order.
    pub terms: Vec<XetTerm>,
}

/// The link from an LFS object to its Xet file.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Link {
    file: String,
    size: u64,
}

/// Where a chunk is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkLoc {
    /// The xorb that holds it.
    pub xorb: XetHash,
    /// Its index in that xorb.
    pub index: u32,
}

/// Which xorb holds each known chunk, and which shard introduced each xorb; derived from the
/// shards on disk.
#[derive(Debug, Default)]
pub struct ChunkIndex {
    chunks: HashMap<XetHash, ChunkLoc>,
    shard_of: HashMap<XetHash, String>,
}

impl ChunkIndex {
    /// Where a chunk is stored, if it is.
    pub fn get(&self, chunk: &XetHash) -> Option<ChunkLoc> {
        self.chunks.get(chunk).copied()
    }

    fn add(&mut self, shard_id: &str, shard: &Shard) {
        for x in &shard.xorbs {
            self.shard_of
                .entry(x.hash)
                .or_insert_with(|| shard_id.to_owned());
            for (i, c) in x.chunks.iter().enumerate() {
                self.chunks.entry(c.hash).or_insert(ChunkLoc {
                    xorb: x.hash,
                    index: i as u32,
                });
            }
        }
    }
}

/// The Xet state a store keeps in memory: the chunk index, loaded on first use.
#[derive(Debug, Default)]
pub struct XetState {
    index: RwLock<ChunkIndex>,
    loaded: Mutex<bool>,
}

/// `{dir}/{first two characters}/{name}`.
fn fanned(dir: &Path, name: &str) -> PathBuf {
    dir.join(&name[..2]).join(name)
}

/// Where xorb `hash` is stored under the xorbs directory `dir`.
fn xorb_path_in(dir: &Path, hash: &XetHash) -> PathBuf {
    fanned(dir, &hash.to_hex())
}

impl Store {
    fn xet_dir(&self, what: &str) -> PathBuf {
        self.root.join("objects/xet").join(what)
    }

    /// Where xorb `hash` is stored (it may not exist).
    pub fn xorb_path(&self, hash: &XetHash) -> PathBuf {
        xorb_path_in(&self.xet_dir("xorbs"), hash)
    }

    /// Makes a received or built xorb visible; false when one with its hash was stored
    /// already (the new one is dropped).
    pub fn put_xorb(&self, pending: PendingXorb) -> io::Result<bool> {
        let dest = self.xorb_path(&pending.summary.hash);
        xorb_file::publish(pending, &dest)
    }

    /// The chunk table of a stored xorb; `None` when it is not stored.
    pub fn xorb_table(&self, hash: &XetHash) -> io::Result<Option<XorbTable>> {
        match std::fs::File::open(self.xorb_path(hash)) {
            Ok(mut f) => xorb_file::read_table(&mut f).map(Some),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A temporary path for a xorb being received or built.
    pub fn xorb_tmp(&self, label: &str) -> PathBuf {
        self.tmp_dir()
            .join(format!("{label}.{}.xorb", random_hex(6)))
    }

    /// The record of Xet file `hash` (string form); `None` when it is not stored.
    pub fn xet_file(&self, hash: &str) -> io::Result<Option<XetFile>> {
        if XetHash::from_hex(hash).is_err() {
            return Ok(None);
        }
        read_json(&fanned(&self.xet_dir("files"), &hash.to_ascii_lowercase()))
    }

    /// The Xet file holding the LFS object `sha256`, if it is stored that way.
    pub fn xet_file_of(&self, sha256: &str) -> io::Result<Option<XetFile>> {
        if !super::is_sha256_hex(sha256) {
            return Ok(None);
        }
        match read_json::<Link>(&self.link_path(sha256))? {
            Some(link) => self.xet_file(&link.file),
            None => Ok(None),
        }
    }

    /// The Xet file hash and size of the LFS object `sha256`, from its link alone.
    pub fn xet_link(&self, sha256: &str) -> Option<(String, u64)> {
        if !super::is_sha256_hex(sha256) {
            return None;
        }
        let link: Link = read_json(&self.link_path(sha256)).ok()??;
        Some((link.file, link.size))
    }

    /// Where the link of LFS object `sha256` is (what makes it visible to commits).
    pub fn link_path(&self, sha256: &str) -> PathBuf {
        fanned(&self.xet_dir("sha256"), sha256)
    }

    /// A reader of a stored file's bytes.
    pub fn xet_reader(&self, file: XetFile) -> XetReader {
        XetReader {
            xorbs: self.xet_dir("xorbs"),
            file,
        }
    }

    fn shard_path(&self, id: &str) -> PathBuf {
        fanned(&self.xet_dir("shards"), id)
    }

    /// Stores an accepted shard (its bytes as sent, `shard` decoded from them) and the records
    /// of its files, then links each file's sha256 to it and indexes its chunks. Storing the
    /// same shard again changes nothing; returns whether it was new.
    pub fn put_shard(&self, bytes: &[u8], shard: &Shard, files: &[XetFile]) -> io::Result<bool> {
        for f in files {
            let path = fanned(&self.xet_dir("files"), &f.hash);
            if !path.exists() {
                write_json(&path, f)?;
            }
        }
        let id = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes));
        let path = self.shard_path(&id);
        let inserted = !path.exists();
        if inserted {
            write_atomic(&path, bytes)?;
        }
        for f in files {
            let link = Link {
                file: f.hash.clone(),
                size: f.size,
            };
            if self.xet_link(&f.sha256).is_none_or(|(h, _)| h != f.hash) {
                write_json(&self.link_path(&f.sha256), &link)?;
            }
        }
        self.ensure_index()?;
        self.xet
            .index
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .add(&id, shard);
        Ok(inserted)
    }

    /// Loads the chunk index from the stored shards, once.
    fn ensure_index(&self) -> io::Result<()> {
        let mut loaded = self.xet.loaded.lock().unwrap_or_else(|e| e.into_inner());
        if *loaded {
            return Ok(());
        }
        let mut index = ChunkIndex::default();
        for (id, path) in fanned_files(&self.xet_dir("shards"))? {
            let bytes = std::fs::read(&path)?;
            let shard = Shard::decode_with_limit(&bytes, MAX_STORED_SHARD).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("stored shard {} is damaged: {e}", path.display()),
                )
            })?;
            index.add(&id, &shard);
        }
        *self.xet.index.write().unwrap_or_else(|e| e.into_inner()) = index;
        *loaded = true;
        Ok(())
    }

    /// The chunk index, for lookups (held while reading it).
    pub fn chunk_index(&self) -> io::Result<RwLockReadGuard<'_, ChunkIndex>> {
        self.ensure_index()?;
        Ok(self.xet.index.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// The stored shard that introduced the xorb holding `chunk`: what a global dedup query
    /// for that chunk is answered with.
    pub fn shard_with_chunk(&self, chunk: &XetHash) -> io::Result<Option<Shard>> {
        let id = {
            let index = self.chunk_index()?;
            let Some(loc) = index.get(chunk) else {
                return Ok(None);
            };
            match index.shard_of.get(&loc.xorb) {
                Some(id) => id.clone(),
                None => return Ok(None),
            }
        };
        let bytes = std::fs::read(self.shard_path(&id))?;
        Shard::decode_with_limit(&bytes, MAX_STORED_SHARD)
            .map(Some)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))
    }

    /// Records that a repo references the LFS object `sha256` (a commit added it, or its own
    /// CAS token uploaded it), so that the repo's CAS tokens may read it.
    pub fn add_repo_object(&self, id: &RepoId, sha256: &str) -> io::Result<()> {
        let path = self.repo_dir(id).join("lfs").join(sha256);
        if !super::is_sha256_hex(sha256) || path.exists() {
            return Ok(());
        }
        write_atomic(&path, b"")
    }

    /// Whether a repo references the LFS object `sha256`: its record, or else any of its
    /// commits (a repo written before records existed), which then adds the record.
    pub fn repo_has_object(&self, id: &RepoId, sha256: &str) -> io::Result<bool> {
        if !super::is_sha256_hex(sha256) {
            return Ok(false);
        }
        if self.repo_dir(id).join("lfs").join(sha256).exists() {
            return Ok(true);
        }
        let dir = self.repo_dir(id).join("commits");
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(e),
        };
        for entry in entries {
            let path = entry?.path();
            let Some(record) = read_json::<super::CommitRecord>(&path)? else {
                continue;
            };
            let found = record
                .files
                .values()
                .any(|f| f.lfs.as_ref().is_some_and(|l| l.sha256 == sha256));
            if found {
                self.add_repo_object(id, sha256)?;
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// A 32-byte secret kept in the data directory (created on first use), so that what is
    /// signed with it (CAS tokens, xorb URLs) stays valid across restarts.
    pub fn secret(&self, name: &str) -> io::Result<[u8; 32]> {
        let path = self.root.join("secrets").join(name);
        let parse = |text: &str| -> Option<[u8; 32]> {
            let bytes = hex::decode(text.trim()).ok()?;
            bytes.try_into().ok()
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                return parse(&text).ok_or_else(|| {
                    io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "{} is damaged: delete it (tokens and URLs signed with it stop working)",
                            path.display()
                        ),
                    )
                });
            }
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            Err(_) => {}
        }
        write_atomic(&path, random_hex(32).as_bytes())?;
        let text = std::fs::read_to_string(&path)?;
        parse(&text).ok_or_else(|| io::Error::other("the new secret cannot be read back"))
    }

    /// Every stored Xet file reachable from an LFS link, as (sha256, record).
    pub fn xet_links(&self) -> io::Result<Vec<(String, Option<XetFile>)>> {
        let mut out = Vec::new();
        for (sha, _) in fanned_files(&self.xet_dir("sha256"))? {
            let file = self.xet_file_of(&sha)?;
            out.push((sha, file));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }
}

/// Every `{dir}/{aa}/{name}` file as (name, path), temporary files left out.
fn fanned_files(dir: &Path) -> io::Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    let fans = match std::fs::read_dir(dir) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e),
    };
    for fan in fans {
        let fan = fan?;
        if !fan.file_type()?.is_dir() {
            continue;
        }
        for entry in std::fs::read_dir(fan.path())? {
            let entry = entry?;
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            if !name.starts_with('.') {
                out.push((name, entry.path()));
            }
        }
    }
    Ok(out)
}
