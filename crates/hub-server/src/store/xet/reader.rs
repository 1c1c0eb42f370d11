//! Reassembling a Xet file's bytes from its xorbs, for a plain `GET` (with ranges) and for the
//! sha256 check of an uploaded shard. A run of chunks is read in order from its xorb; a chunk
//! stored as it is (every chunk the server builds) is read straight into the output buffer,
//! a compressed one decompressed; output goes out in owned buffers of about 1 MiB, so memory
//! stays bounded whatever the file's size and no byte is copied twice.

use std::fs::File;
use std::io::{self, Read as _, Seek as _, SeekFrom};
use std::path::PathBuf;

use xet_format::{CHUNK_HEADER_LEN, ChunkHeader, Scheme, XetHash, XorbDecoder};

use super::XetFile;
use super::xorb_file::{TableChunk, XorbTable, read_table};

/// Output is handed over in buffers of about this size.
const OUT_BLOCK: usize = 1 << 20;

/// Reads the bytes of one stored Xet file; owns what it needs, so it can run on any thread.
#[derive(Debug, Clone)]
pub struct XetReader {
    pub(super) xorbs: PathBuf,
    pub(super) file: XetFile,
}

fn corrupt(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

/// The stored xorb a term reads from, kept open while consecutive terms use it.
struct Open {
    hash: XetHash,
    file: File,
    table: XorbTable,
}

/// A buffer for output, with room for a whole chunk past the hand-over size.
pub fn out_buffer() -> Vec<u8> {
    Vec::with_capacity(OUT_BLOCK + xet_format::MAX_CHUNK_LEN)
}

impl XetReader {
    /// Hands bytes `start..start + len` of the file to `sink`, in order, in buffers of about
    /// 1 MiB; `sink` gives back an empty buffer to fill next (the one it got, or a recycled
    /// one, so that memory is not allocated and faulted in again for every piece). Fails when
    /// the store does not hold what the file's record says.
    pub fn read(
        &self,
        start: u64,
        len: u64,
        sink: &mut dyn FnMut(Vec<u8>) -> io::Result<Vec<u8>>,
    ) -> io::Result<()> {
        let end = start
            .checked_add(len)
            .filter(|&e| e <= self.file.size)
            .ok_or_else(|| corrupt(format!("range {start}+{len} is outside the file")))?;
        let mut out = out_buffer();
        let mut scratch = Vec::new();
        let mut open: Option<Open> = None;
        let mut term_start = 0u64;
        let mut written = 0u64;
        for term in &self.file.terms {
            let term_end = term_start + u64::from(term.bytes);
            if term_end <= start {
                term_start = term_end;
                continue;
            }
            if term_start >= end {
                break;
            }
            let hash = XetHash::from_hex(&term.xorb)
                .map_err(|e| corrupt(format!("bad xorb hash in a file record: {e}")))?;
            if open.as_ref().is_none_or(|o| o.hash != hash) {
                let path = super::xorb_path_in(&self.xorbs, &hash);
                let mut file = File::open(&path)
                    .map_err(|e| corrupt(format!("xorb {hash} is missing: {e}")))?;
                let table = read_table(&mut file)?;
                open = Some(Open { hash, file, table });
            }
            let Some(o) = open.as_mut() else { break };
            if term.end as usize > o.table.chunks.len() || term.start >= term.end {
                return Err(corrupt(format!("a term is outside xorb {hash}")));
            }
            let mut pos = term_start;
            let mut c = term.start as usize;
            // Chunks before the range are skipped without reading them.
            while c < term.end as usize && pos + u64::from(o.table.chunks[c].raw_len) <= start {
                pos += u64::from(o.table.chunks[c].raw_len);
                c += 1;
            }
            if c < term.end as usize && pos < end {
                o.file
                    .seek(SeekFrom::Start(o.table.chunks[c].ser_offset.into()))?;
            }
            // Each read takes a chunk's payload and the header of the next one.
            let mut header = None;
            while c < term.end as usize && pos < end {
                let chunk = o.table.chunks[c];
                let raw_len = u64::from(chunk.raw_len);
                // The part of this chunk inside the range.
                let from = start.saturating_sub(pos) as usize;
                let to = (end - pos).min(raw_len) as usize;
                let more = c + 1 < term.end as usize && pos + raw_len < end;
                let read = ChunkRead {
                    xorb: &hash,
                    index: c,
                    from,
                    to,
                    more,
                };
                header = read.run(&mut o.file, &chunk, header, &mut out, &mut scratch)?;
                pos += raw_len;
                c += 1;
                if out.len() >= OUT_BLOCK {
                    written += out.len() as u64;
                    out = sink(out)?;
                    out.clear();
                }
            }
            term_start = term_end;
        }
        written += out.len() as u64;
        if !out.is_empty() {
            sink(out)?;
        }
        if written != len {
            return Err(corrupt(format!(
                "the file's terms hold {written} of the {len} bytes asked for"
            )));
        }
        Ok(())
    }
}

/// One chunk to read at the file's position: bytes `from..to` of its data, and whether the
/// next chunk of the xorb is read after it.
struct ChunkRead<'a> {
    xorb: &'a XetHash,
    index: usize,
    from: usize,
    to: usize,
    more: bool,
}

impl ChunkRead<'_> {
    /// Reads the chunk (its header unless `header` already holds it, then its payload and, with
    /// `more`, the next chunk's header in the same read), appends the wanted bytes to `out`,
    /// and returns the next header.
    fn run(
        &self,
        file: &mut File,
        chunk: &TableChunk,
        header: Option<[u8; CHUNK_HEADER_LEN]>,
        out: &mut Vec<u8>,
        scratch: &mut Vec<u8>,
    ) -> io::Result<Option<[u8; CHUNK_HEADER_LEN]>> {
        let (xorb, index, from, to) = (self.xorb, self.index, self.from, self.to);
        let header = match header {
            Some(h) => h,
            None => {
                let mut h = [0u8; CHUNK_HEADER_LEN];
                file.read_exact(&mut h)?;
                h
            }
        };
        let parsed = ChunkHeader::parse(&header, index, chunk.ser_offset.into())
            .map_err(|e| corrupt(format!("xorb {xorb}: {e}")))?;
        let stored = parsed.stored_len as usize;
        if parsed.raw_len != chunk.raw_len || stored + CHUNK_HEADER_LEN != chunk.ser_len as usize {
            return Err(corrupt(format!(
                "xorb {xorb}: chunk {index} is not what its table says"
            )));
        }
        let extra = if self.more { CHUNK_HEADER_LEN } else { 0 };
        // The common case, a whole chunk stored as it is, is read straight into place.
        let direct = parsed.scheme == Scheme::None && from == 0 && to == stored;
        let buf = if direct { &mut *out } else { &mut *scratch };
        if !direct {
            buf.clear();
        }
        let at = buf.len();
        buf.resize(at + stored + extra, 0);
        file.read_exact(&mut buf[at..])?;
        let next = self.more.then(|| {
            let mut h = [0u8; CHUNK_HEADER_LEN];
            h.copy_from_slice(&buf[at + stored..]);
            h
        });
        buf.truncate(at + stored);
        if direct {
            return Ok(next);
        }
        if parsed.scheme == Scheme::None {
            out.extend_from_slice(&scratch[from..to]);
            return Ok(next);
        }
        let mut decoder = XorbDecoder::new();
        let mut done = false;
        let mut feed = |bytes: &[u8]| {
            decoder.feed(bytes, |c| {
                if c.data.len() >= to {
                    out.extend_from_slice(&c.data[from..to]);
                    done = true;
                }
            })
        };
        feed(&header)
            .and_then(|()| feed(scratch))
            .map_err(|e| corrupt(format!("xorb {xorb}: {e}")))?;
        if !done {
            return Err(corrupt(format!("xorb {xorb}: chunk {index} is damaged")));
        }
        Ok(next)
    }
}
