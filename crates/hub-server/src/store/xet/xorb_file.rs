//! A stored xorb: the serialized xorb exactly as it is served (as a client uploaded it, or as
//! the server built it, uncompressed), followed by its chunk table and a trailer, in one file
//! made visible by one rename. The table says where each chunk is, so reads, reconstructions
//! and shard checks never decode a xorb to find a chunk, and a xorb and its table can never
//! disagree.
//!
//! ```text
//! [xorb: S bytes][n records of 48 bytes: chunk hash, u32 raw offset, u32 raw length,
//!  u32 serialized offset, u32 serialized length (low 24 bits) and scheme (high 8 bits)]
//! [trailer: "RVXORB02", u64 S, u64 n]
//! ```

use std::fs::File;
use std::io::{self, BufWriter, Read as _, Seek as _, SeekFrom, Write as _};
use std::path::PathBuf;

use xet_format::{
    CompressionPolicy, Scheme, XetHash, XorbDecoder, XorbEncoder, XorbError, XorbSummary,
};

use crate::store::files::{TempFile, sync_dir};

/// The bytes a table ends with.
const MAGIC: &[u8; 8] = b"RVXORB02";
/// One record of the table.
const RECORD_LEN: usize = 48;
/// The trailer after the table.
const TRAILER_LEN: usize = 24;
/// Write buffer of xorbs being built or received.
const WRITE_BUFFER: usize = 1 << 20;

/// Where one chunk of a stored xorb is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableChunk {
    /// The chunk hash.
    pub hash: XetHash,
    /// Its offset among the xorb's uncompressed bytes.
    pub raw_offset: u32,
    /// Its uncompressed length.
    pub raw_len: u32,
    /// Where its header starts in the serialized xorb.
    pub ser_offset: u32,
    /// Its serialized length, header included.
    pub ser_len: u32,
    /// How its payload is stored.
    pub scheme: Scheme,
}

/// The chunk table of a stored xorb.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XorbTable {
    /// The length of the serialized xorb (what a download URL serves).
    pub serialized_len: u64,
    /// Its chunks, in order.
    pub chunks: Vec<TableChunk>,
}

impl XorbTable {
    fn from_summary(summary: &XorbSummary) -> XorbTable {
        XorbTable {
            serialized_len: summary.serialized_bytes,
            chunks: summary
                .chunks
                .iter()
                .map(|c| TableChunk {
                    hash: c.hash,
                    raw_offset: c.raw_offset,
                    raw_len: c.raw_len,
                    ser_offset: c.serialized_offset,
                    ser_len: c.serialized_len,
                    scheme: c.scheme,
                })
                .collect(),
        }
    }

    /// The serialized bytes `start..end` (end-exclusive) of chunks `first..end_chunk`; `None`
    /// when the chunk range is empty or outside the xorb.
    pub fn serialized_range(&self, first: u32, end_chunk: u32) -> Option<(u64, u64)> {
        let (first, end_chunk) = (first as usize, end_chunk as usize);
        if first >= end_chunk || end_chunk > self.chunks.len() {
            return None;
        }
        let last = &self.chunks[end_chunk - 1];
        Some((
            self.chunks[first].ser_offset.into(),
            u64::from(last.ser_offset) + u64::from(last.ser_len),
        ))
    }

    /// The uncompressed length of chunks `first..end_chunk` (which must be in the xorb).
    pub fn raw_len(&self, first: u32, end_chunk: u32) -> u64 {
        self.chunks[first as usize..end_chunk as usize]
            .iter()
            .map(|c| u64::from(c.raw_len))
            .sum()
    }

    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.chunks.len() * RECORD_LEN + TRAILER_LEN);
        for c in &self.chunks {
            out.extend_from_slice(&c.hash.0);
            let len_and_scheme = c.ser_len | (u32::from(c.scheme.byte()) << 24);
            for w in [c.raw_offset, c.raw_len, c.ser_offset, len_and_scheme] {
                out.extend_from_slice(&w.to_le_bytes());
            }
        }
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.serialized_len.to_le_bytes());
        out.extend_from_slice(&(self.chunks.len() as u64).to_le_bytes());
        out
    }
}

fn corrupt(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("stored xorb {what}"))
}

/// Reads the chunk table at the end of a stored xorb file.
pub fn read_table(file: &mut File) -> io::Result<XorbTable> {
    let len = file.metadata()?.len();
    if len < TRAILER_LEN as u64 {
        return Err(corrupt("has no table"));
    }
    let mut trailer = [0u8; TRAILER_LEN];
    file.seek(SeekFrom::Start(len - TRAILER_LEN as u64))?;
    file.read_exact(&mut trailer)?;
    let word = |i: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&trailer[i..i + 8]);
        u64::from_le_bytes(w)
    };
    let (serialized_len, n) = (word(8), word(16));
    let table_len = n.checked_mul(RECORD_LEN as u64);
    if &trailer[..8] != MAGIC
        || table_len.and_then(|t| t.checked_add(serialized_len + TRAILER_LEN as u64)) != Some(len)
    {
        return Err(corrupt("has a damaged table"));
    }
    let mut records = vec![0u8; table_len.unwrap_or(0) as usize];
    file.seek(SeekFrom::Start(serialized_len))?;
    file.read_exact(&mut records)?;
    let chunks = records
        .chunks_exact(RECORD_LEN)
        .map(|r| {
            let u = |i: usize| u32::from_le_bytes([r[i], r[i + 1], r[i + 2], r[i + 3]]);
            let mut hash = [0u8; 32];
            hash.copy_from_slice(&r[..32]);
            let scheme = Scheme::from_byte(r[47]).ok_or_else(|| corrupt("has a bad scheme"))?;
            Ok(TableChunk {
                hash: XetHash(hash),
                raw_offset: u(32),
                raw_len: u(36),
                ser_offset: u(40),
                ser_len: u(44) & 0x00FF_FFFF,
                scheme,
            })
        })
        .collect::<io::Result<_>>()?;
    Ok(XorbTable {
        serialized_len,
        chunks,
    })
}

/// A xorb written and fsynced in `tmp/`, waiting to be made visible by [`super::super::Store::put_xorb`].
#[derive(Debug)]
pub struct PendingXorb {
    pub(super) tmp: TempFile,
    /// Its hash and chunks.
    pub summary: XorbSummary,
}

/// Writes the table after the xorb's bytes, then flushes and fsyncs the file.
fn seal(mut file: BufWriter<File>, summary: &XorbSummary) -> io::Result<()> {
    file.write_all(&XorbTable::from_summary(summary).encode())?;
    let file = file.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()
}

/// Builds a xorb on the server (from a file that arrived through LFS): chunks stored
/// uncompressed, so that reading them back is a plain file read.
#[derive(Debug)]
pub struct XorbBuilder {
    tmp: TempFile,
    file: BufWriter<File>,
    encoder: XorbEncoder,
    buf: Vec<u8>,
}

impl XorbBuilder {
    /// Starts a xorb in the temporary file `path`.
    pub fn create(path: PathBuf) -> io::Result<XorbBuilder> {
        let tmp = TempFile::new(path);
        let file = BufWriter::with_capacity(WRITE_BUFFER, File::create(tmp.path())?);
        Ok(XorbBuilder {
            tmp,
            file,
            encoder: XorbEncoder::new(CompressionPolicy::Fixed(Scheme::None)),
            buf: Vec::new(),
        })
    }

    /// Whether a chunk of `len` bytes still fits (the official client's cut rule).
    pub fn fits(&self, len: usize) -> bool {
        self.encoder.fits(len)
    }

    /// How many chunks the xorb holds.
    pub fn len(&self) -> usize {
        self.encoder.chunks().len()
    }

    /// Adds a chunk whose hash is known; returns its index in the xorb.
    pub fn push(&mut self, data: &[u8], hash: XetHash) -> io::Result<u32> {
        self.buf.clear();
        self.encoder
            .push_hashed_chunk(data, hash, &mut self.buf)
            .map_err(io::Error::other)?;
        self.file.write_all(&self.buf)?;
        Ok((self.len() - 1) as u32)
    }

    /// Seals the xorb (table, fsync); it stays in `tmp/` until it is put into the store.
    pub fn finish(self) -> io::Result<PendingXorb> {
        let summary = self.encoder.finish().map_err(io::Error::other)?;
        seal(self.file, &summary)?;
        Ok(PendingXorb {
            tmp: self.tmp,
            summary,
        })
    }
}

/// Why an uploaded xorb was refused, or could not be stored.
#[derive(Debug)]
pub enum ReceiveError {
    /// The bytes are not a xorb, or not the announced one.
    Invalid(XorbError),
    /// The store failed.
    Io(io::Error),
}

impl From<io::Error> for ReceiveError {
    fn from(e: io::Error) -> ReceiveError {
        ReceiveError::Io(e)
    }
}

/// Receives a xorb a client uploads, fed in slices: written as it comes while every chunk is
/// decoded and hashed, so a xorb whose bytes or hash are wrong is never stored.
#[derive(Debug)]
pub struct XorbReceiver {
    tmp: TempFile,
    file: BufWriter<File>,
    decoder: XorbDecoder,
}

impl XorbReceiver {
    /// Starts receiving into the temporary file `path`.
    pub fn create(path: PathBuf) -> io::Result<XorbReceiver> {
        let tmp = TempFile::new(path);
        let file = BufWriter::with_capacity(WRITE_BUFFER, File::create(tmp.path())?);
        Ok(XorbReceiver {
            tmp,
            file,
            decoder: XorbDecoder::new(),
        })
    }

    /// Takes the next bytes of the upload.
    pub fn feed(&mut self, data: &[u8]) -> Result<(), ReceiveError> {
        self.decoder
            .feed(data, |_| {})
            .map_err(ReceiveError::Invalid)?;
        self.file.write_all(data)?;
        Ok(())
    }

    /// Ends the upload: the xorb must be whole and hash to `expected`.
    pub fn finish(self, expected: &XetHash) -> Result<PendingXorb, ReceiveError> {
        let summary = self.decoder.finish().map_err(ReceiveError::Invalid)?;
        summary
            .check_hash(expected)
            .map_err(ReceiveError::Invalid)?;
        seal(self.file, &summary)?;
        Ok(PendingXorb {
            tmp: self.tmp,
            summary,
        })
    }
}

/// Makes a pending xorb visible at `dest` unless one is already there (a hard link never
/// replaces a file, so a xorb and its table are never swapped under a reader). True when it
/// was inserted.
pub(super) fn publish(pending: PendingXorb, dest: &std::path::Path) -> io::Result<bool> {
    let dir = dest
        .parent()
        .ok_or_else(|| io::Error::other("xorb path has no parent"))?;
    std::fs::create_dir_all(dir)?;
    match std::fs::hard_link(pending.tmp.path(), dest) {
        Ok(()) => {
            sync_dir(dir)?;
            Ok(true)
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    }
    // The temporary name is removed when `pending` drops.
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_and_received_xorbs_keep_their_table() {
        let dir = tempfile::tempdir().unwrap();
        let chunks: Vec<Vec<u8>> = vec![b"abc".repeat(1000), vec![7; 5000], b"z".to_vec()];
        let mut b = XorbBuilder::create(dir.path().join("b")).unwrap();
        for c in &chunks {
            b.push(c, xet_format::chunk_hash(c)).unwrap();
        }
        let built = b.finish().unwrap();
        let dest = dir.path().join("x/b");
        assert!(publish(built, &dest).unwrap());
        let mut f = File::open(&dest).unwrap();
        let table = read_table(&mut f).unwrap();
        assert_eq!(table.chunks.len(), 3);
        assert_eq!(table.serialized_len, 3 * 8 + 3000 + 5000 + 1);
        assert_eq!(table.serialized_range(1, 3), Some((3008, 8025)));
        assert_eq!(table.raw_len(0, 2), 8000);

        // The same chunks as a client would send them, compressed where that helps.
        let (bytes, summary) =
            xet_format::encode_xorb(chunks.iter().map(Vec::as_slice), CompressionPolicy::Auto)
                .unwrap();
        let mut r = XorbReceiver::create(dir.path().join("r")).unwrap();
        for piece in bytes.chunks(1000) {
            r.feed(piece).unwrap();
        }
        let received = r.finish(&summary.hash).unwrap();
        // Already stored under that hash: not replaced.
        assert!(!publish(received, &dest).unwrap());
        let mut r = XorbReceiver::create(dir.path().join("r2")).unwrap();
        r.feed(&bytes).unwrap();
        assert!(matches!(
            r.finish(&XetHash::ZERO),
            Err(ReceiveError::Invalid(XorbError::HashMismatch { .. }))
        ));
        // Nothing is left of the refused or duplicate uploads.
        assert!(!dir.path().join("r").exists() && !dir.path().join("r2").exists());
    }
}
