//! Reassembling a Xet file's bytes from its xorbs, for a plain `GET` (with ranges) and for the
//! sha256 check of an uploaded shard: whole runs of chunks are read at once, stored chunks are
//! copied as they are and compressed ones decompressed, in buffers of bounded size whatever
//! the file's size.

use std::fs::File;
use std::io::{self, Read as _, Seek as _, SeekFrom};
use std::path::PathBuf;

use xet_format::{CHUNK_HEADER_LEN, ChunkHeader, Scheme, XetHash, XorbDecoder};

use super::XetFile;
use super::xorb_file::{XorbTable, read_table};

/// The most serialized bytes read at once.
const READ_BLOCK: u64 = 8 << 20;
/// Output is handed over in pieces of about this size.
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

impl XetReader {
    /// Hands bytes `start..start + len` of the file to `sink`, in order, in pieces of about
    /// 1 MiB; fails when the store does not hold what the file's record says.
    pub fn read(
        &self,
        start: u64,
        len: u64,
        sink: &mut dyn FnMut(&[u8]) -> io::Result<()>,
    ) -> io::Result<()> {
        let end = start
            .checked_add(len)
            .filter(|&e| e <= self.file.size)
            .ok_or_else(|| corrupt(format!("range {start}+{len} is outside the file")))?;
        let mut out = Vec::with_capacity(OUT_BLOCK + xet_format::MAX_CHUNK_LEN);
        let mut block = Vec::new();
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
            let mut c = term.start;
            while c < term.end && pos < end {
                let chunk = o.table.chunks[c as usize];
                if pos + u64::from(chunk.raw_len) <= start {
                    pos += u64::from(chunk.raw_len);
                    c += 1;
                    continue;
                }
                // A run of chunks to read at once: up to READ_BLOCK serialized bytes.
                let mut g = c + 1;
                let mut raw_end = pos + u64::from(chunk.raw_len);
                while g < term.end && raw_end < end {
                    let next = o.table.chunks[g as usize];
                    let span = u64::from(next.ser_offset) + u64::from(next.ser_len)
                        - u64::from(chunk.ser_offset);
                    if span > READ_BLOCK {
                        break;
                    }
                    raw_end += u64::from(next.raw_len);
                    g += 1;
                }
                let (a, b) = o
                    .table
                    .serialized_range(c, g)
                    .ok_or_else(|| corrupt(format!("bad chunk range in xorb {hash}")))?;
                block.resize((b - a) as usize, 0);
                o.file.seek(SeekFrom::Start(a))?;
                o.file.read_exact(&mut block)?;
                for i in c..g {
                    let ch = o.table.chunks[i as usize];
                    let at = (u64::from(ch.ser_offset) - a) as usize;
                    let ser = &block[at..at + ch.ser_len as usize];
                    let raw_len = u64::from(ch.raw_len);
                    // The part of this chunk inside the range.
                    let from = start.saturating_sub(pos).min(raw_len) as usize;
                    let to = (end - pos).min(raw_len) as usize;
                    append_chunk(ser, &hash, i, &mut out, from, to)?;
                    pos += raw_len;
                    if out.len() >= OUT_BLOCK {
                        written += out.len() as u64;
                        sink(&out)?;
                        out.clear();
                    }
                }
                c = g;
            }
            term_start = term_end;
        }
        written += out.len() as u64;
        if !out.is_empty() {
            sink(&out)?;
        }
        if written != len {
            return Err(corrupt(format!(
                "the file's terms hold {written} of the {len} bytes asked for"
            )));
        }
        Ok(())
    }
}

/// Appends bytes `from..to` of the chunk serialized as `ser` (header included) to `out`.
fn append_chunk(
    ser: &[u8],
    xorb: &XetHash,
    index: u32,
    out: &mut Vec<u8>,
    from: usize,
    to: usize,
) -> io::Result<()> {
    let mut header = [0u8; CHUNK_HEADER_LEN];
    header.copy_from_slice(&ser[..CHUNK_HEADER_LEN]);
    let parsed = ChunkHeader::parse(&header, index as usize, 0)
        .map_err(|e| corrupt(format!("xorb {xorb}: {e}")))?;
    if parsed.scheme == Scheme::None {
        let payload = &ser[CHUNK_HEADER_LEN..];
        if payload.len() < to {
            return Err(corrupt(format!("xorb {xorb}: chunk {index} is short")));
        }
        out.extend_from_slice(&payload[from..to]);
        return Ok(());
    }
    let mut decoder = XorbDecoder::new();
    let mut got = false;
    decoder
        .feed(ser, |c| {
            if c.data.len() >= to {
                out.extend_from_slice(&c.data[from..to]);
                got = true;
            }
        })
        .map_err(|e| corrupt(format!("xorb {xorb}: {e}")))?;
    if !got {
        return Err(corrupt(format!("xorb {xorb}: chunk {index} is damaged")));
    }
    Ok(())
}
