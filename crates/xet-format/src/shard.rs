//! Shards, the metadata objects: which xorb chunk ranges make each file (file-info section,
//! with verification hashes and the sha256 extension) and which chunks each new xorb holds
//! (CAS-info section), with or without the footer that global dedup answers carry.

use crate::error::ShardError;
use crate::hash::XetHash;

/// The 32 bytes every shard starts with.
pub const SHARD_TAG: [u8; 32] = [
    b'H', b'F', b'R', b'e', b'p', b'o', b'M', b'e', b't', b'a', b'D', b'a', b't', b'a', 0, 85, 105,
    103, 69, 106, 123, 129, 87, 131, 165, 189, 217, 92, 205, 209, 74, 169,
];
/// The header version shards carry.
pub const SHARD_VERSION: u64 = 2;
/// The footer version.
pub const FOOTER_VERSION: u64 = 1;
/// The length of the header.
pub const HEADER_LEN: usize = 48;
/// The length of the footer.
pub const FOOTER_LEN: usize = 200;
/// The length of every record of the two sections.
pub const RECORD_LEN: usize = 48;
/// The most bytes a shard may have (the CAS refuses larger uploads).
pub const MAX_SHARD_BYTES: u64 = 64 * 1024 * 1024;
/// The file flag saying that verification records follow the terms.
pub const FILE_FLAG_VERIFICATION: u32 = 1 << 31;
/// The file flag saying that the sha256 extension follows.
pub const FILE_FLAG_SHA256: u32 = 1 << 30;
/// The chunk flag a dedup answer sets on chunks that start a file (eligible for global dedup).
pub const CHUNK_FLAG_GLOBAL_DEDUP: u32 = 1 << 31;

/// One file: how to rebuild it from xorb chunk ranges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    /// The file hash.
    pub hash: XetHash,
    /// The chunk ranges that make the file, in order.
    pub terms: Vec<FileTerm>,
    /// One verification hash per term ([`crate::term_verification_hash`] of its chunks),
    /// mandatory in uploads.
    pub verification: Option<Vec<XetHash>>,
    /// The sha256 of the whole file (the digest's bytes as `sha2` gives them), which links the
    /// file to a Git LFS pointer.
    pub sha256: Option<[u8; 32]>,
}

impl FileInfo {
    /// The file's length: the sum of its terms' lengths.
    pub fn len(&self) -> u64 {
        self.terms.iter().map(|t| u64::from(t.unpacked_bytes)).sum()
    }

    /// Whether the file is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A range of chunks of one xorb, part of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileTerm {
    /// The xorb.
    pub xorb: XetHash,
    /// The range's uncompressed length.
    pub unpacked_bytes: u32,
    /// The first chunk.
    pub chunk_start: u32,
    /// The chunk after the last (end-exclusive).
    pub chunk_end: u32,
}

/// A xorb the shard introduces, and its chunks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CasInfo {
    /// The xorb hash.
    pub hash: XetHash,
    /// Its uncompressed bytes.
    pub raw_bytes: u32,
    /// Its serialized bytes (`hf_xet` 1.8.0 writes 0 here).
    pub serialized_bytes: u32,
    /// Its chunks, in order.
    pub chunks: Vec<CasChunk>,
}

impl CasInfo {
    /// The entry of a xorb from its summary (serialized bytes included).
    pub fn from_summary(summary: &crate::XorbSummary) -> CasInfo {
        CasInfo {
            hash: summary.hash,
            raw_bytes: summary.raw_bytes as u32,
            serialized_bytes: summary.serialized_bytes as u32,
            chunks: summary
                .chunks
                .iter()
                .map(|c| CasChunk {
                    hash: c.hash,
                    raw_offset: c.raw_offset,
                    raw_len: c.raw_len,
                    flags: 0,
                })
                .collect(),
        }
    }
}

/// One chunk of a xorb, in a shard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CasChunk {
    /// The chunk hash (keyed with the footer's key in a dedup answer that has one).
    pub hash: XetHash,
    /// Its offset among the xorb's uncompressed bytes.
    pub raw_offset: u32,
    /// Its uncompressed length.
    pub raw_len: u32,
    /// Flags ([`CHUNK_FLAG_GLOBAL_DEDUP`]).
    pub flags: u32,
}

/// The footer of a shard that has one (global dedup answers). The section offsets, the
/// lookup-table fields and the byte counts are computed when encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ShardFooter {
    /// The key of the CAS section's chunk hashes ([`XetHash::keyed`]); zero when they are
    /// plain chunk hashes.
    pub chunk_hash_key: XetHash,
    /// When the shard was made, in seconds since the Unix epoch.
    pub created_at: u64,
    /// When the key stops being valid, in seconds since the Unix epoch.
    pub key_expires_at: u64,
}

/// A whole shard.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Shard {
    /// The file-info section.
    pub files: Vec<FileInfo>,
    /// The CAS-info section.
    pub xorbs: Vec<CasInfo>,
    /// The footer, absent in uploads.
    pub footer: Option<ShardFooter>,
}

/// The sha256 is stored like the other hashes, each 8-byte group reversed (the reference
/// parses its hex text as a Xet hash); the same swap converts both ways.
fn swap_words(bytes: &[u8; 32]) -> [u8; 32] {
    let mut out = *bytes;
    for group in out.chunks_mut(8) {
        group.reverse();
    }
    out
}

const BOOKEND: [u8; 32] = [0xFF; 32];

impl Shard {
    /// Decodes a shard with the format's size limit ([`MAX_SHARD_BYTES`]).
    pub fn decode(bytes: &[u8]) -> Result<Shard, ShardError> {
        Shard::decode_with_limit(bytes, MAX_SHARD_BYTES)
    }

    /// Decodes a shard of at most `max_bytes` bytes. Every count is checked against the bytes
    /// that are left before anything is allocated, so memory stays proportional to the input.
    pub fn decode_with_limit(bytes: &[u8], max_bytes: u64) -> Result<Shard, ShardError> {
        if bytes.len() as u64 > max_bytes {
            return Err(ShardError::TooLarge {
                len: bytes.len() as u64,
                limit: max_bytes,
            });
        }
        let mut r = Reader { bytes, pos: 0 };
        let tag = r.take(32, "the header")?;
        if tag != SHARD_TAG {
            return Err(ShardError::Tag);
        }
        let version = r.u64("the header")?;
        if version != SHARD_VERSION {
            return Err(ShardError::Version(version));
        }
        let footer_size = r.u64("the header")?;
        let has_footer = match footer_size {
            0 => false,
            s if s == FOOTER_LEN as u64 => true,
            s => return Err(ShardError::FooterSize(s)),
        };
        // Sections are read from the bytes before the footer only.
        let body_end = if has_footer {
            if bytes.len() < HEADER_LEN + FOOTER_LEN {
                return Err(ShardError::Truncated {
                    part: "the footer",
                    offset: HEADER_LEN as u64,
                });
            }
            bytes.len() - FOOTER_LEN
        } else {
            bytes.len()
        };
        let mut r = Reader {
            bytes: &bytes[..body_end],
            pos: HEADER_LEN,
        };

        let mut files = Vec::new();
        loop {
            let at = r.pos as u64;
            let hash = r.hash("a file-info record")?;
            let flags = r.u32("a file-info record")?;
            let n = r.u32("a file-info record")?;
            r.skip(8, "a file-info record")?;
            if hash.0 == BOOKEND {
                break;
            }
            let with_verification = flags & FILE_FLAG_VERIFICATION != 0;
            let with_sha256 = flags & FILE_FLAG_SHA256 != 0;
            let records =
                u64::from(n) * if with_verification { 2 } else { 1 } + u64::from(with_sha256);
            r.check_count("a file-info record", at, records)?;
            let mut terms = Vec::with_capacity(n as usize);
            for term in 0..n as usize {
                let xorb = r.hash("a file term")?;
                let _flags = r.u32("a file term")?;
                let unpacked_bytes = r.u32("a file term")?;
                let chunk_start = r.u32("a file term")?;
                let chunk_end = r.u32("a file term")?;
                if chunk_start >= chunk_end {
                    return Err(ShardError::EmptyTerm {
                        file: hash,
                        term,
                        start: chunk_start,
                        end: chunk_end,
                    });
                }
                terms.push(FileTerm {
                    xorb,
                    unpacked_bytes,
                    chunk_start,
                    chunk_end,
                });
            }
            let verification = if with_verification {
                let mut v = Vec::with_capacity(n as usize);
                for _ in 0..n {
                    v.push(r.hash("a verification record")?);
                    r.skip(16, "a verification record")?;
                }
                Some(v)
            } else {
                None
            };
            let sha256 = if with_sha256 {
                let stored = r.hash("the sha256 record")?;
                r.skip(16, "the sha256 record")?;
                Some(swap_words(&stored.0))
            } else {
                None
            };
            files.push(FileInfo {
                hash,
                terms,
                verification,
                sha256,
            });
        }
        let cas_start = r.pos as u64;

        let mut xorbs = Vec::new();
        loop {
            let at = r.pos as u64;
            let hash = r.hash("a CAS-info record")?;
            let _flags = r.u32("a CAS-info record")?;
            let n = r.u32("a CAS-info record")?;
            let raw_bytes = r.u32("a CAS-info record")?;
            let serialized_bytes = r.u32("a CAS-info record")?;
            if hash.0 == BOOKEND {
                break;
            }
            r.check_count("a CAS-info record", at, n.into())?;
            let mut chunks = Vec::with_capacity(n as usize);
            for _ in 0..n {
                let hash = r.hash("a CAS chunk record")?;
                let raw_offset = r.u32("a CAS chunk record")?;
                let raw_len = r.u32("a CAS chunk record")?;
                let flags = r.u32("a CAS chunk record")?;
                r.skip(4, "a CAS chunk record")?;
                chunks.push(CasChunk {
                    hash,
                    raw_offset,
                    raw_len,
                    flags,
                });
            }
            xorbs.push(CasInfo {
                hash,
                raw_bytes,
                serialized_bytes,
                chunks,
            });
        }
        let cas_end = r.pos as u64;

        let footer = if has_footer {
            Some(read_footer(
                &bytes[body_end..],
                cas_start,
                cas_end,
                body_end as u64,
            )?)
        } else {
            if r.pos != bytes.len() {
                return Err(ShardError::Trailing {
                    offset: r.pos as u64,
                    extra: (bytes.len() - r.pos) as u64,
                });
            }
            None
        };
        Ok(Shard {
            files,
            xorbs,
            footer,
        })
    }

    /// The encoded shard: the header (footer size 0 without footer), the two sections each
    /// closed by its bookend, and the footer when there is one (section offsets set, lookup
    /// offsets at the end of the CAS section with no entries, byte counts computed).
    pub fn encode(&self) -> Result<Vec<u8>, ShardError> {
        let mut out = Vec::with_capacity(self.encoded_len());
        out.extend_from_slice(&SHARD_TAG);
        out.extend_from_slice(&SHARD_VERSION.to_le_bytes());
        let footer_size = if self.footer.is_some() { FOOTER_LEN } else { 0 };
        out.extend_from_slice(&(footer_size as u64).to_le_bytes());

        for file in &self.files {
            if let Some(v) = &file.verification
                && v.len() != file.terms.len()
            {
                return Err(ShardError::VerificationCount {
                    file: file.hash,
                    terms: file.terms.len(),
                    records: v.len(),
                });
            }
            let mut flags = 0;
            if file.verification.is_some() {
                flags |= FILE_FLAG_VERIFICATION;
            }
            if file.sha256.is_some() {
                flags |= FILE_FLAG_SHA256;
            }
            record(
                &mut out,
                &file.hash.0,
                [flags, file.terms.len() as u32, 0, 0],
            );
            for t in &file.terms {
                record(
                    &mut out,
                    &t.xorb.0,
                    [0, t.unpacked_bytes, t.chunk_start, t.chunk_end],
                );
            }
            for v in file.verification.iter().flatten() {
                record(&mut out, &v.0, [0; 4]);
            }
            if let Some(sha) = &file.sha256 {
                record(&mut out, &swap_words(sha), [0; 4]);
            }
        }
        record(&mut out, &BOOKEND, [0; 4]);
        let cas_start = out.len() as u64;

        for x in &self.xorbs {
            record(
                &mut out,
                &x.hash.0,
                [0, x.chunks.len() as u32, x.raw_bytes, x.serialized_bytes],
            );
            for c in &x.chunks {
                record(&mut out, &c.hash.0, [c.raw_offset, c.raw_len, c.flags, 0]);
            }
        }
        record(&mut out, &BOOKEND, [0; 4]);
        let cas_end = out.len() as u64;

        if let Some(f) = &self.footer {
            let materialized: u64 = self.files.iter().map(FileInfo::len).sum();
            let stored: u64 = self.xorbs.iter().map(|x| u64::from(x.raw_bytes)).sum();
            let on_disk: u64 = self
                .xorbs
                .iter()
                .map(|x| u64::from(x.serialized_bytes))
                .sum();
            let words = [
                FOOTER_VERSION,
                HEADER_LEN as u64,
                cas_start,
                // The file, xorb and chunk lookup tables: empty, at the end of the CAS section
                // (zeros here make hf_xet 1.8.0 fail).
                cas_end,
                0,
                cas_end,
                0,
                cas_end,
                0,
            ];
            for w in words {
                out.extend_from_slice(&w.to_le_bytes());
            }
            out.extend_from_slice(&f.chunk_hash_key.0);
            for w in [f.created_at, f.key_expires_at, 0, 0, 0, 0, 0, 0] {
                out.extend_from_slice(&w.to_le_bytes());
            }
            for w in [on_disk, materialized, stored, cas_end] {
                out.extend_from_slice(&w.to_le_bytes());
            }
        }
        debug_assert_eq!(out.len(), self.encoded_len());
        Ok(out)
    }

    /// The length of the encoded shard.
    pub fn encoded_len(&self) -> usize {
        let files: usize = self
            .files
            .iter()
            .map(|f| {
                1 + f.terms.len()
                    + f.verification.as_ref().map_or(0, Vec::len)
                    + usize::from(f.sha256.is_some())
            })
            .sum();
        let xorbs: usize = self.xorbs.iter().map(|x| 1 + x.chunks.len()).sum();
        HEADER_LEN
            + (files + 1 + xorbs + 1) * RECORD_LEN
            + if self.footer.is_some() { FOOTER_LEN } else { 0 }
    }

    /// The chunks a server offers to global dedup from this shard, as the reference does: the
    /// first chunk of each file (when its xorb is in the shard), chunks flagged
    /// [`CHUNK_FLAG_GLOBAL_DEDUP`] and key chunks ([`crate::is_global_dedup_key`]); each once,
    /// in CAS-section order.
    pub fn global_dedup_chunks(&self) -> Vec<XetHash> {
        let starts = self.file_start_chunks();
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for (xi, x) in self.xorbs.iter().enumerate() {
            for (ci, c) in x.chunks.iter().enumerate() {
                let eligible = c.flags & CHUNK_FLAG_GLOBAL_DEDUP != 0
                    || crate::is_global_dedup_key(&c.hash)
                    || starts.contains(&(xi, ci));
                if eligible && seen.insert(c.hash) {
                    out.push(c.hash);
                }
            }
        }
        out
    }

    /// (xorb index, chunk index) of each file's first chunk whose xorb is in this shard.
    fn file_start_chunks(&self) -> std::collections::HashSet<(usize, usize)> {
        let mut out = std::collections::HashSet::new();
        for f in &self.files {
            let Some(first) = f.terms.first() else {
                continue;
            };
            if let Some(xi) = self.xorbs.iter().position(|x| x.hash == first.xorb) {
                out.insert((xi, first.chunk_start as usize));
            }
        }
        out
    }

    /// The answer to a global dedup query built from this shard: its CAS section only, with
    /// the chunks that start a file flagged [`CHUNK_FLAG_GLOBAL_DEDUP`], every chunk hash keyed
    /// with `key` (unless it is zero) and a footer recording the key and its validity.
    pub fn dedup_answer(&self, key: XetHash, created_at: u64, key_expires_at: u64) -> Shard {
        let starts = self.file_start_chunks();
        let xorbs = self
            .xorbs
            .iter()
            .enumerate()
            .map(|(xi, x)| CasInfo {
                chunks: x
                    .chunks
                    .iter()
                    .enumerate()
                    .map(|(ci, c)| CasChunk {
                        hash: if key == XetHash::ZERO {
                            c.hash
                        } else {
                            c.hash.keyed(&key)
                        },
                        flags: if starts.contains(&(xi, ci)) {
                            c.flags | CHUNK_FLAG_GLOBAL_DEDUP
                        } else {
                            c.flags
                        },
                        ..*c
                    })
                    .collect(),
                ..x.clone()
            })
            .collect();
        Shard {
            files: Vec::new(),
            xorbs,
            footer: Some(ShardFooter {
                chunk_hash_key: key,
                created_at,
                key_expires_at,
            }),
        }
    }
}

/// Appends one 48-byte record: a hash and four `u32` words.
fn record(out: &mut Vec<u8>, hash: &[u8; 32], words: [u32; 4]) {
    out.extend_from_slice(hash);
    for w in words {
        out.extend_from_slice(&w.to_le_bytes());
    }
}

/// Reads and checks the footer (`bytes` is exactly its 200 bytes, found at `footer_at`).
fn read_footer(
    bytes: &[u8],
    cas_start: u64,
    cas_end: u64,
    footer_at: u64,
) -> Result<ShardFooter, ShardError> {
    let mut r = Reader { bytes, pos: 0 };
    let part = "the footer";
    let version = r.u64(part)?;
    if version != FOOTER_VERSION {
        return Err(ShardError::FooterVersion(version));
    }
    let expect = |field, found, expected| {
        if found == expected {
            Ok(())
        } else {
            Err(ShardError::FooterOffset {
                field,
                found,
                expected,
            })
        }
    };
    expect("file-info offset", r.u64(part)?, HEADER_LEN as u64)?;
    expect("CAS-info offset", r.u64(part)?, cas_start)?;
    for (table, entry_len) in [
        ("file lookup", 12),
        ("xorb lookup", 12),
        ("chunk lookup", 16),
    ] {
        let offset = r.u64(part)?;
        let count = r.u64(part)?;
        let fits = count
            .checked_mul(entry_len)
            .and_then(|len| offset.checked_add(len))
            .is_some_and(|end| offset >= cas_end && end <= footer_at);
        // An empty table may point anywhere; the reference writes the end of the CAS section.
        if count != 0 && !fits {
            return Err(ShardError::LookupTable {
                table,
                offset,
                count,
                start: cas_end,
                end: footer_at,
            });
        }
    }
    let chunk_hash_key = r.hash(part)?;
    let created_at = r.u64(part)?;
    let key_expires_at = r.u64(part)?;
    // Six reserved words and the three byte counts, which are only statistics.
    r.skip(9 * 8, part)?;
    expect("footer offset", r.u64(part)?, footer_at)?;
    Ok(ShardFooter {
        chunk_hash_key,
        created_at,
        key_expires_at,
    })
}

/// Reads little-endian fields from a byte slice, every read checked.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, part: &'static str) -> Result<&'a [u8], ShardError> {
        if self.bytes.len() - self.pos < n {
            return Err(ShardError::Truncated {
                part,
                offset: self.pos as u64,
            });
        }
        let out = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    fn skip(&mut self, n: usize, part: &'static str) -> Result<(), ShardError> {
        self.take(n, part).map(|_| ())
    }

    fn hash(&mut self, part: &'static str) -> Result<XetHash, ShardError> {
        let mut h = [0u8; 32];
        h.copy_from_slice(self.take(32, part)?);
        Ok(XetHash(h))
    }

    fn u32(&mut self, part: &'static str) -> Result<u32, ShardError> {
        let mut w = [0u8; 4];
        w.copy_from_slice(self.take(4, part)?);
        Ok(u32::from_le_bytes(w))
    }

    fn u64(&mut self, part: &'static str) -> Result<u64, ShardError> {
        let mut w = [0u8; 8];
        w.copy_from_slice(self.take(8, part)?);
        Ok(u64::from_le_bytes(w))
    }

    /// Fails unless `records` more records fit in the bytes left (before anything is
    /// allocated for them).
    fn check_count(&self, what: &'static str, at: u64, records: u64) -> Result<(), ShardError> {
        let left = (self.bytes.len() - self.pos) as u64;
        if records.saturating_mul(RECORD_LEN as u64) > left {
            return Err(ShardError::Count {
                what,
                offset: at,
                count: records,
                left,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::chunk_hash;

    fn sample() -> Shard {
        let x = chunk_hash(b"xorb");
        Shard {
            files: vec![
                FileInfo {
                    hash: chunk_hash(b"file"),
                    terms: vec![
                        FileTerm {
                            xorb: x,
                            unpacked_bytes: 10,
                            chunk_start: 0,
                            chunk_end: 2,
                        },
                        FileTerm {
                            xorb: x,
                            unpacked_bytes: 5,
                            chunk_start: 2,
                            chunk_end: 3,
                        },
                    ],
                    verification: Some(vec![chunk_hash(b"v1"), chunk_hash(b"v2")]),
                    sha256: Some([7; 32]),
                },
                FileInfo {
                    hash: chunk_hash(b"bare"),
                    terms: vec![],
                    verification: None,
                    sha256: None,
                },
            ],
            xorbs: vec![CasInfo {
                hash: x,
                raw_bytes: 15,
                serialized_bytes: 0,
                chunks: (0..3)
                    .map(|i| CasChunk {
                        hash: chunk_hash(&[i]),
                        raw_offset: u32::from(i) * 5,
                        raw_len: 5,
                        flags: 0,
                    })
                    .collect(),
            }],
            footer: None,
        }
    }

    #[test]
    fn round_trips_with_and_without_footer() {
        let mut shard = sample();
        let bytes = shard.encode().unwrap();
        assert_eq!(bytes.len(), shard.encoded_len());
        assert_eq!(bytes.len(), 48 + (1 + 2 + 2 + 1 + 1 + 1 + 1 + 3 + 1) * 48);
        assert_eq!(Shard::decode(&bytes).unwrap(), shard);
        shard.footer = Some(ShardFooter {
            chunk_hash_key: chunk_hash(b"key"),
            created_at: 1,
            key_expires_at: 2,
        });
        let bytes = shard.encode().unwrap();
        assert_eq!(Shard::decode(&bytes).unwrap(), shard);
        // The lookup offsets point at the end of the CAS section, which is the footer's start.
        let footer = &bytes[bytes.len() - FOOTER_LEN..];
        let word = |i: usize| u64::from_le_bytes(footer[i * 8..i * 8 + 8].try_into().unwrap());
        let cas_end = (bytes.len() - FOOTER_LEN) as u64;
        assert_eq!([word(3), word(5), word(7), word(24)], [cas_end; 4]);
        assert_eq!([word(4), word(6), word(8)], [0; 3]);
        // Stored bytes on disk, materialized bytes, stored bytes.
        assert_eq!([word(21), word(22), word(23)], [0, 15, 15]);
    }

    #[test]
    fn sha256_is_stored_word_reversed() {
        let mut shard = sample();
        let mut sha = [0u8; 32];
        for (i, b) in sha.iter_mut().enumerate() {
            *b = i as u8;
        }
        shard.files[0].sha256 = Some(sha);
        let bytes = shard.encode().unwrap();
        let at = 48 + 5 * 48;
        assert_eq!(&bytes[at..at + 8], &[7, 6, 5, 4, 3, 2, 1, 0]);
        assert_eq!(Shard::decode(&bytes).unwrap().files[0].sha256, Some(sha));
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let bytes = sample().encode().unwrap();
        for cut in [0, 10, 47, 48, 100, bytes.len() - 1] {
            let e = Shard::decode(&bytes[..cut]).unwrap_err();
            assert!(
                matches!(e, ShardError::Truncated { .. } | ShardError::Count { .. }),
                "{cut}: {e}"
            );
        }
        let mut extra = bytes.clone();
        extra.push(0);
        assert_eq!(
            Shard::decode(&extra).unwrap_err(),
            ShardError::Trailing {
                offset: bytes.len() as u64,
                extra: 1
            }
        );
        let mut bad = bytes.clone();
        bad[0] = b'X';
        assert_eq!(Shard::decode(&bad).unwrap_err(), ShardError::Tag);
        let mut bad = bytes.clone();
        bad[32] = 3;
        assert_eq!(Shard::decode(&bad).unwrap_err(), ShardError::Version(3));
        let mut bad = bytes.clone();
        bad[40] = 7;
        assert_eq!(Shard::decode(&bad).unwrap_err(), ShardError::FooterSize(7));
        // A huge term count is refused before any allocation.
        let mut bad = bytes.clone();
        bad[48 + 36..48 + 40].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(
            Shard::decode(&bad).unwrap_err(),
            ShardError::Count { .. }
        ));
        assert!(matches!(
            Shard::decode_with_limit(&bytes, 100).unwrap_err(),
            ShardError::TooLarge { .. }
        ));
        let mut bad_shard = sample();
        bad_shard.files[0].terms[1].chunk_end = 2;
        let bad = bad_shard.encode().unwrap();
        assert!(matches!(
            Shard::decode(&bad).unwrap_err(),
            ShardError::EmptyTerm { term: 1, .. }
        ));
        bad_shard.files[0].verification = Some(vec![]);
        assert!(matches!(
            bad_shard.encode().unwrap_err(),
            ShardError::VerificationCount { .. }
        ));
    }

    #[test]
    fn footer_fields_are_checked() {
        let mut shard = sample();
        shard.footer = Some(ShardFooter::default());
        let good = shard.encode().unwrap();
        let f = good.len() - FOOTER_LEN;
        let set = |word: usize, value: u64| {
            let mut b = good.clone();
            b[f + word * 8..f + word * 8 + 8].copy_from_slice(&value.to_le_bytes());
            Shard::decode(&b).unwrap_err()
        };
        assert_eq!(set(0, 2), ShardError::FooterVersion(2));
        assert!(matches!(set(1, 0), ShardError::FooterOffset { .. }));
        assert!(matches!(set(24, 0), ShardError::FooterOffset { .. }));
        assert!(matches!(set(8, 1), ShardError::LookupTable { .. }));
        // An empty table may point anywhere.
        let mut zeros = good.clone();
        zeros[f + 24..f + 72].fill(0);
        assert!(Shard::decode(&zeros).is_ok());
    }

    #[test]
    fn dedup_answers_key_and_flag_chunks() {
        let shard = sample();
        let key = chunk_hash(b"key");
        let answer = shard.dedup_answer(key, 10, 20);
        assert!(answer.files.is_empty());
        let chunks = &answer.xorbs[0].chunks;
        assert_eq!(chunks[0].hash, shard.xorbs[0].chunks[0].hash.keyed(&key));
        assert_eq!(chunks[0].flags, CHUNK_FLAG_GLOBAL_DEDUP);
        assert_eq!(chunks[1].flags, 0);
        let bytes = answer.encode().unwrap();
        assert_eq!(Shard::decode(&bytes).unwrap(), answer);
        // The first chunk is eligible through the file in the upload and through the flag in
        // the answer.
        assert!(
            shard
                .global_dedup_chunks()
                .contains(&shard.xorbs[0].chunks[0].hash)
        );
        assert!(answer.global_dedup_chunks().contains(&chunks[0].hash));
    }
}
