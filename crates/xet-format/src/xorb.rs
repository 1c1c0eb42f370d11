//! Xorbs, the CAS objects: a sequence of chunks, each an 8-byte header and its (maybe
//! compressed) payload, with no footer as uploads carry them. The encoder works one chunk at a
//! time into the caller's buffer and the decoder takes the bytes in slices, so neither needs the
//! whole xorb in memory; a xorb's hash only depends on its chunks' hashes and lengths.

use crate::chunking::MAX_CHUNK_LEN;
use crate::compression::{self, CompressionPolicy, DecompressError, RETEST_INTERVAL, Scheme};
use crate::error::XorbError;
use crate::hash::{XetHash, chunk_hash, xorb_hash};

/// The length of a chunk header.
pub const CHUNK_HEADER_LEN: usize = 8;
/// The most uncompressed bytes a xorb holds (the official client cuts a new xorb before this).
pub const MAX_XORB_RAW_BYTES: u64 = 64 * 1024 * 1024;
/// The most chunks a xorb holds.
pub const MAX_XORB_CHUNKS: usize = 8 * 1024;
/// The most serialized bytes a xorb can have: its chunks' bytes stored as they are, plus a
/// header per chunk.
pub const MAX_XORB_SERIALIZED_BYTES: u64 =
    MAX_XORB_RAW_BYTES + (CHUNK_HEADER_LEN * MAX_XORB_CHUNKS) as u64;
/// The largest compressed payload a chunk header may declare (the reference decoder's bound:
/// twice the largest chunk).
pub const MAX_STORED_CHUNK_LEN: u32 = 2 * MAX_CHUNK_LEN as u32;
/// The bytes that start a xorb footer (the object info), which uploads do not carry.
const FOOTER_TAG: &[u8; 7] = b"XETBLOB";

/// The bounds a decoder enforces; the defaults are the format's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XorbLimits {
    /// The most serialized bytes.
    pub max_serialized_bytes: u64,
    /// The most uncompressed bytes.
    pub max_raw_bytes: u64,
    /// The most chunks.
    pub max_chunks: usize,
}

impl Default for XorbLimits {
    fn default() -> Self {
        XorbLimits {
            max_serialized_bytes: MAX_XORB_SERIALIZED_BYTES,
            max_raw_bytes: MAX_XORB_RAW_BYTES,
            max_chunks: MAX_XORB_CHUNKS,
        }
    }
}

/// A chunk header: `[u8 version = 0][u24 LE stored length][u8 scheme][u24 LE raw length]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkHeader {
    /// The payload's length as stored.
    pub stored_len: u32,
    /// How the payload is stored.
    pub scheme: Scheme,
    /// The chunk's length once decompressed.
    pub raw_len: u32,
}

impl ChunkHeader {
    /// The header's 8 bytes.
    pub fn to_bytes(&self) -> [u8; CHUNK_HEADER_LEN] {
        let s = self.stored_len.to_le_bytes();
        let r = self.raw_len.to_le_bytes();
        [0, s[0], s[1], s[2], self.scheme.byte(), r[0], r[1], r[2]]
    }

    /// Reads and checks the header of chunk `index`, which starts at byte `offset` of the xorb.
    pub fn parse(
        bytes: &[u8; CHUNK_HEADER_LEN],
        index: usize,
        offset: u64,
    ) -> Result<ChunkHeader, XorbError> {
        if bytes[..FOOTER_TAG.len()] == FOOTER_TAG[..] {
            return Err(XorbError::Footer { offset });
        }
        if bytes[0] != 0 {
            return Err(XorbError::Version {
                index,
                version: bytes[0],
            });
        }
        let scheme = Scheme::from_byte(bytes[4]).ok_or(XorbError::Scheme {
            index,
            scheme: bytes[4],
        })?;
        let stored_len = u32::from_le_bytes([bytes[1], bytes[2], bytes[3], 0]);
        let raw_len = u32::from_le_bytes([bytes[5], bytes[6], bytes[7], 0]);
        if raw_len == 0 {
            return Err(XorbError::EmptyChunk { index });
        }
        if raw_len as usize > MAX_CHUNK_LEN {
            return Err(XorbError::ChunkTooLarge {
                index,
                len: raw_len.into(),
                limit: MAX_CHUNK_LEN as u32,
            });
        }
        if stored_len > MAX_STORED_CHUNK_LEN {
            return Err(XorbError::CompressedTooLarge {
                index,
                len: stored_len,
                limit: MAX_STORED_CHUNK_LEN,
            });
        }
        if scheme == Scheme::None && stored_len != raw_len {
            return Err(XorbError::StoredLength {
                index,
                stored: stored_len,
                raw: raw_len,
            });
        }
        Ok(ChunkHeader {
            stored_len,
            scheme,
            raw_len,
        })
    }
}

/// Where one chunk of a xorb is and what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XorbChunk {
    /// Its hash.
    pub hash: XetHash,
    /// Its uncompressed length.
    pub raw_len: u32,
    /// Its offset among the xorb's uncompressed bytes (what a shard's CAS entry records).
    pub raw_offset: u32,
    /// Where its header starts in the serialized xorb (byte ranges of downloads use these).
    pub serialized_offset: u32,
    /// Its serialized length, header included.
    pub serialized_len: u32,
    /// How its payload is stored.
    pub scheme: Scheme,
}

/// What a whole xorb is: its hash and its chunks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XorbSummary {
    /// The xorb hash (the Merkle root of its chunks).
    pub hash: XetHash,
    /// Its chunks, in order.
    pub chunks: Vec<XorbChunk>,
    /// Its uncompressed bytes.
    pub raw_bytes: u64,
    /// Its serialized bytes.
    pub serialized_bytes: u64,
}

impl XorbSummary {
    fn from_chunks(chunks: Vec<XorbChunk>, raw_bytes: u64, serialized_bytes: u64) -> Self {
        let leaves: Vec<(XetHash, u64)> =
            chunks.iter().map(|c| (c.hash, c.raw_len.into())).collect();
        XorbSummary {
            hash: xorb_hash(&leaves),
            chunks,
            raw_bytes,
            serialized_bytes,
        }
    }

    /// Fails unless the xorb's hash is `expected` (the hash it was sent under).
    pub fn check_hash(&self, expected: &XetHash) -> Result<(), XorbError> {
        if self.hash == *expected {
            Ok(())
        } else {
            Err(XorbError::HashMismatch {
                expected: *expected,
                actual: self.hash,
            })
        }
    }

    /// The serialized byte range `start..end` of chunks `first..end_chunk` (end-exclusive), as
    /// a download of those chunks needs it; `None` when the range is empty or out of bounds.
    pub fn serialized_range(&self, first: usize, end_chunk: usize) -> Option<(u64, u64)> {
        if first >= end_chunk || end_chunk > self.chunks.len() {
            return None;
        }
        let start = self.chunks[first].serialized_offset;
        let last = &self.chunks[end_chunk - 1];
        Some((
            start.into(),
            u64::from(last.serialized_offset) + u64::from(last.serialized_len),
        ))
    }
}

/// The official client's cut rule: whether a chunk of `raw_len` bytes can join a xorb that
/// holds `chunks` chunks of `raw_bytes` uncompressed bytes (at most [`MAX_XORB_RAW_BYTES`]
/// and [`MAX_XORB_CHUNKS`]); otherwise a new xorb starts with it. A client plans its xorbs,
/// and knows their hashes, from its chunk list alone.
pub fn fits_in_xorb(raw_bytes: u64, chunks: usize, raw_len: usize) -> bool {
    raw_bytes + raw_len as u64 <= MAX_XORB_RAW_BYTES && chunks < MAX_XORB_CHUNKS
}

/// Writes chunk `data` stored with `scheme` (falling back to [`Scheme::None`] when that does
/// not make it smaller) at the end of `out`; returns the scheme used and the bytes written.
pub fn write_chunk(data: &[u8], scheme: Scheme, out: &mut Vec<u8>) -> (Scheme, usize) {
    let (scheme, payload) = compression::compress(data, scheme);
    let header = ChunkHeader {
        stored_len: payload.len() as u32,
        scheme,
        raw_len: data.len() as u32,
    };
    out.extend_from_slice(&header.to_bytes());
    out.extend_from_slice(&payload);
    (scheme, CHUNK_HEADER_LEN + payload.len())
}

/// Builds a xorb one chunk at a time, writing each chunk into the caller's buffer, so that a
/// xorb can be streamed from a file in constant memory (the hash needs only the chunks' hashes
/// and lengths, which [`crate::xorb_hash`] takes directly when they are known beforehand).
///
/// With [`CompressionPolicy::Auto`] the schemes are those the official client picks, given the
/// same file starts ([`XorbEncoder::start_file`]), so the bytes are the same too.
#[derive(Debug, Clone)]
pub struct XorbEncoder {
    policy: CompressionPolicy,
    /// The scheme of the current block of chunks and how many chunks it has left.
    block: Option<(Scheme, usize)>,
    chunks: Vec<XorbChunk>,
    raw_bytes: u64,
    serialized_bytes: u64,
}

impl XorbEncoder {
    /// An empty xorb whose chunks will be stored according to `policy`.
    pub fn new(policy: CompressionPolicy) -> XorbEncoder {
        XorbEncoder {
            policy,
            block: None,
            chunks: Vec::new(),
            raw_bytes: 0,
            serialized_bytes: 0,
        }
    }

    /// Says that the next chunk starts the data of another file (the automatic policy picks a
    /// scheme again there, as the official client does); the first chunk always does.
    pub fn start_file(&mut self) {
        self.block = None;
    }

    /// Whether a chunk of `raw_len` bytes still fits ([`fits_in_xorb`]).
    pub fn fits(&self, raw_len: usize) -> bool {
        fits_in_xorb(self.raw_bytes, self.chunks.len(), raw_len)
    }

    /// The chunks so far.
    pub fn chunks(&self) -> &[XorbChunk] {
        &self.chunks
    }

    /// The serialized bytes written so far.
    pub fn serialized_bytes(&self) -> u64 {
        self.serialized_bytes
    }

    /// The uncompressed bytes added so far.
    pub fn raw_bytes(&self) -> u64 {
        self.raw_bytes
    }

    /// Adds a chunk, hashing it, and appends its serialized bytes to `out`.
    pub fn push_chunk(&mut self, data: &[u8], out: &mut Vec<u8>) -> Result<XorbChunk, XorbError> {
        self.push(data, chunk_hash(data), None, out)
    }

    /// Adds a chunk whose hash is already known (from the check pass) without hashing it again.
    pub fn push_hashed_chunk(
        &mut self,
        data: &[u8],
        hash: XetHash,
        out: &mut Vec<u8>,
    ) -> Result<XorbChunk, XorbError> {
        self.push(data, hash, None, out)
    }

    /// Adds a chunk stored with `scheme` whatever the policy (still stored as is when that is
    /// not smaller): re-encoding a decoded xorb chunk by chunk gives back its bytes.
    pub fn push_chunk_with_scheme(
        &mut self,
        data: &[u8],
        scheme: Scheme,
        out: &mut Vec<u8>,
    ) -> Result<XorbChunk, XorbError> {
        self.push(data, chunk_hash(data), Some(scheme), out)
    }

    fn push(
        &mut self,
        data: &[u8],
        hash: XetHash,
        scheme: Option<Scheme>,
        out: &mut Vec<u8>,
    ) -> Result<XorbChunk, XorbError> {
        let index = self.chunks.len();
        if data.is_empty() {
            return Err(XorbError::EmptyChunk { index });
        }
        if data.len() > MAX_CHUNK_LEN {
            return Err(XorbError::ChunkTooLarge {
                index,
                len: data.len() as u64,
                limit: MAX_CHUNK_LEN as u32,
            });
        }
        if index >= MAX_XORB_CHUNKS {
            return Err(XorbError::TooManyChunks {
                limit: MAX_XORB_CHUNKS,
            });
        }
        if self.raw_bytes + data.len() as u64 > MAX_XORB_RAW_BYTES {
            return Err(XorbError::RawTooLarge {
                limit: MAX_XORB_RAW_BYTES,
            });
        }
        let scheme = scheme.unwrap_or_else(|| self.policy_scheme(data));
        let (scheme, written) = write_chunk(data, scheme, out);
        let chunk = XorbChunk {
            hash,
            raw_len: data.len() as u32,
            raw_offset: self.raw_bytes as u32,
            serialized_offset: self.serialized_bytes as u32,
            serialized_len: written as u32,
            scheme,
        };
        self.chunks.push(chunk);
        self.raw_bytes += data.len() as u64;
        self.serialized_bytes += written as u64;
        Ok(chunk)
    }

    fn policy_scheme(&mut self, data: &[u8]) -> Scheme {
        match self.policy {
            CompressionPolicy::Fixed(scheme) => scheme,
            CompressionPolicy::Auto => {
                let (scheme, left) = match self.block {
                    Some((scheme, left)) if left > 0 => (scheme, left),
                    _ => (compression::choose_scheme(data), RETEST_INTERVAL),
                };
                self.block = Some((scheme, left - 1));
                scheme
            }
        }
    }

    /// The finished xorb's summary (hash and chunk table); fails when it has no chunk.
    pub fn finish(self) -> Result<XorbSummary, XorbError> {
        if self.chunks.is_empty() {
            return Err(XorbError::Empty);
        }
        Ok(XorbSummary::from_chunks(
            self.chunks,
            self.raw_bytes,
            self.serialized_bytes,
        ))
    }
}

/// Encodes whole chunks into one xorb (all of them data of one file; see [`XorbEncoder`] for
/// more control).
pub fn encode_xorb<'a>(
    chunks: impl IntoIterator<Item = &'a [u8]>,
    policy: CompressionPolicy,
) -> Result<(Vec<u8>, XorbSummary), XorbError> {
    let mut encoder = XorbEncoder::new(policy);
    let mut out = Vec::new();
    for chunk in chunks {
        encoder.push_chunk(chunk, &mut out)?;
    }
    Ok((out, encoder.finish()?))
}

/// One decoded chunk, as [`XorbDecoder::feed`] hands it over.
#[derive(Debug, Clone, Copy)]
pub struct DecodedChunk<'a> {
    /// Its index in the xorb.
    pub index: usize,
    /// Where it is and what it is.
    pub info: XorbChunk,
    /// Its uncompressed bytes.
    pub data: &'a [u8],
}

/// Decodes a xorb from its bytes fed in slices of any size, checking every chunk and hashing
/// it; memory stays at one chunk whatever the xorb's size (a chunk split between two slices is
/// copied, others are decoded in place).
#[derive(Debug, Clone)]
pub struct XorbDecoder {
    limits: XorbLimits,
    /// The start of a chunk that the previous slices ended inside.
    pending: Vec<u8>,
    /// The current chunk's uncompressed bytes.
    scratch: Vec<u8>,
    chunks: Vec<XorbChunk>,
    raw_bytes: u64,
    /// Serialized bytes of the chunks decoded so far.
    consumed: u64,
}

impl Default for XorbDecoder {
    fn default() -> Self {
        XorbDecoder::new()
    }
}

impl XorbDecoder {
    /// A decoder with the format's limits.
    pub fn new() -> XorbDecoder {
        XorbDecoder::with_limits(XorbLimits::default())
    }

    /// A decoder with other limits (never looser than the format's makes sense).
    pub fn with_limits(limits: XorbLimits) -> XorbDecoder {
        XorbDecoder {
            limits,
            pending: Vec::new(),
            scratch: Vec::new(),
            chunks: Vec::new(),
            raw_bytes: 0,
            consumed: 0,
        }
    }

    /// The chunks decoded so far.
    pub fn chunks(&self) -> &[XorbChunk] {
        &self.chunks
    }

    /// Feeds the next bytes; calls `on_chunk` with each chunk completed by them, in order.
    pub fn feed(
        &mut self,
        mut data: &[u8],
        mut on_chunk: impl FnMut(DecodedChunk<'_>),
    ) -> Result<(), XorbError> {
        let seen = self.consumed + self.pending.len() as u64 + data.len() as u64;
        if seen > self.limits.max_serialized_bytes {
            return Err(XorbError::TooLarge {
                limit: self.limits.max_serialized_bytes,
            });
        }
        if !self.pending.is_empty() {
            // Complete the chunk split across slices: its header first, then its payload.
            loop {
                let need = self.pending_need()?;
                if self.pending.len() >= need {
                    break;
                }
                if data.is_empty() {
                    return Ok(());
                }
                let take = (need - self.pending.len()).min(data.len());
                self.pending.extend_from_slice(&data[..take]);
                data = &data[take..];
            }
            let mut whole = std::mem::take(&mut self.pending);
            let used = self.decode_one(&whole, &mut on_chunk)?;
            debug_assert_eq!(used, Some(whole.len()));
            // Keep the allocation for the next split chunk.
            whole.clear();
            self.pending = whole;
        }
        while !data.is_empty() {
            match self.decode_one(data, &mut on_chunk)? {
                Some(used) => data = &data[used..],
                None => {
                    self.pending.extend_from_slice(data);
                    break;
                }
            }
        }
        Ok(())
    }

    /// The serialized length of the pending chunk, once its header is complete.
    fn pending_need(&self) -> Result<usize, XorbError> {
        if self.pending.len() < CHUNK_HEADER_LEN {
            return Ok(CHUNK_HEADER_LEN);
        }
        let header = self.header_at(&self.pending)?;
        Ok(CHUNK_HEADER_LEN + header.stored_len as usize)
    }

    fn header_at(&self, data: &[u8]) -> Result<ChunkHeader, XorbError> {
        let mut bytes = [0u8; CHUNK_HEADER_LEN];
        bytes.copy_from_slice(&data[..CHUNK_HEADER_LEN]);
        ChunkHeader::parse(&bytes, self.chunks.len(), self.consumed)
    }

    /// Decodes the chunk at the start of `data` if all of it is there: the bytes it used, or
    /// `None` when `data` ends inside it.
    fn decode_one(
        &mut self,
        data: &[u8],
        on_chunk: &mut impl FnMut(DecodedChunk<'_>),
    ) -> Result<Option<usize>, XorbError> {
        let index = self.chunks.len();
        if data.len() >= FOOTER_TAG.len() && data[..FOOTER_TAG.len()] == FOOTER_TAG[..] {
            return Err(XorbError::Footer {
                offset: self.consumed,
            });
        }
        if data.len() < CHUNK_HEADER_LEN {
            return Ok(None);
        }
        let header = self.header_at(data)?;
        if index >= self.limits.max_chunks {
            return Err(XorbError::TooManyChunks {
                limit: self.limits.max_chunks,
            });
        }
        if self.raw_bytes + u64::from(header.raw_len) > self.limits.max_raw_bytes {
            return Err(XorbError::RawTooLarge {
                limit: self.limits.max_raw_bytes,
            });
        }
        let len = CHUNK_HEADER_LEN + header.stored_len as usize;
        if data.len() < len {
            return Ok(None);
        }
        let payload = &data[CHUNK_HEADER_LEN..len];
        compression::decompress_into(
            payload,
            header.scheme,
            header.raw_len as usize,
            &mut self.scratch,
        )
        .map_err(|e| match e {
            DecompressError::Lz4(reason) => XorbError::Decompress { index, reason },
            DecompressError::Length(actual) => XorbError::LengthMismatch {
                index,
                declared: header.raw_len,
                actual,
            },
        })?;
        let info = XorbChunk {
            hash: chunk_hash(&self.scratch),
            raw_len: header.raw_len,
            raw_offset: self.raw_bytes as u32,
            serialized_offset: self.consumed as u32,
            serialized_len: len as u32,
            scheme: header.scheme,
        };
        self.chunks.push(info);
        self.raw_bytes += u64::from(header.raw_len);
        self.consumed += len as u64;
        on_chunk(DecodedChunk {
            index,
            info,
            data: &self.scratch,
        });
        Ok(Some(len))
    }

    /// Ends the xorb: its summary; fails when the bytes ended inside a chunk or held none.
    pub fn finish(self) -> Result<XorbSummary, XorbError> {
        if !self.pending.is_empty() {
            let index = self.chunks.len();
            let offset = self.consumed;
            if self.pending.len() < CHUNK_HEADER_LEN {
                return Err(XorbError::TruncatedHeader { index, offset });
            }
            let header = self.header_at(&self.pending)?;
            return Err(XorbError::TruncatedPayload {
                index,
                offset: offset + CHUNK_HEADER_LEN as u64,
                need: header.stored_len,
            });
        }
        if self.chunks.is_empty() {
            return Err(XorbError::Empty);
        }
        Ok(XorbSummary::from_chunks(
            self.chunks,
            self.raw_bytes,
            self.consumed,
        ))
    }
}

/// A whole decoded xorb: its summary and its chunks' uncompressed bytes end to end (chunk `i`
/// is `data[raw_offset..raw_offset + raw_len]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedXorb {
    /// Hash and chunk table.
    pub summary: XorbSummary,
    /// Every chunk's bytes, in order.
    pub data: Vec<u8>,
}

impl DecodedXorb {
    /// The bytes of chunk `index`.
    pub fn chunk_data(&self, index: usize) -> &[u8] {
        let c = &self.summary.chunks[index];
        &self.data[c.raw_offset as usize..][..c.raw_len as usize]
    }

    /// Encodes the chunks again, each with the scheme it was stored with: the same bytes as
    /// the input for any xorb whose encoder compressed as this crate does.
    pub fn reencode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.summary.serialized_bytes as usize);
        for (i, c) in self.summary.chunks.iter().enumerate() {
            write_chunk(self.chunk_data(i), c.scheme, &mut out);
        }
        out
    }
}

/// Decodes a whole xorb held in memory, with the format's limits.
pub fn decode_xorb(bytes: &[u8]) -> Result<DecodedXorb, XorbError> {
    decode_xorb_with_limits(bytes, XorbLimits::default())
}

/// Decodes a whole xorb held in memory, with other limits.
pub fn decode_xorb_with_limits(bytes: &[u8], limits: XorbLimits) -> Result<DecodedXorb, XorbError> {
    let mut decoder = XorbDecoder::with_limits(limits);
    let mut data = Vec::new();
    decoder.feed(bytes, |c| data.extend_from_slice(c.data))?;
    let summary = decoder.finish()?;
    Ok(DecodedXorb { summary, data })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_chunks() -> Vec<Vec<u8>> {
        let mut x = 7u32;
        let noise: Vec<u8> = (0..3000)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (x >> 16) as u8
            })
            .collect();
        let floats: Vec<u8> = (0..2048u32)
            .flat_map(|i| (1.0f32 + i as f32 * 1e-4).to_le_bytes())
            .collect();
        vec![b"hello xet".repeat(100), noise, floats, vec![1]]
    }

    #[test]
    fn round_trips_with_every_scheme() {
        let chunks = sample_chunks();
        let (bytes, summary) =
            encode_xorb(chunks.iter().map(|c| c.as_slice()), CompressionPolicy::Auto).unwrap();
        let schemes: Vec<Scheme> = summary.chunks.iter().map(|c| c.scheme).collect();
        // The first chunk picks LZ4 for the whole block; noise and the floats (which only byte
        // grouping would shrink) fall back to none.
        assert_eq!(
            schemes,
            [Scheme::Lz4, Scheme::None, Scheme::None, Scheme::None]
        );
        let decoded = decode_xorb(&bytes).unwrap();
        assert_eq!(decoded.summary, summary);
        for (i, c) in chunks.iter().enumerate() {
            assert_eq!(decoded.chunk_data(i), &c[..]);
        }
        assert_eq!(decoded.reencode(), bytes);

        let mut enc = XorbEncoder::new(CompressionPolicy::Fixed(Scheme::ByteGrouping4Lz4));
        let mut out = Vec::new();
        enc.push_chunk(&chunks[2], &mut out).unwrap();
        assert_eq!(enc.chunks()[0].scheme, Scheme::ByteGrouping4Lz4);
        let decoded = decode_xorb(&out).unwrap();
        assert_eq!(decoded.data, chunks[2]);
    }

    #[test]
    fn any_slicing_decodes_the_same() {
        let chunks = sample_chunks();
        let (bytes, summary) =
            encode_xorb(chunks.iter().map(|c| c.as_slice()), CompressionPolicy::Auto).unwrap();
        for piece in [1, 3, 8, 9, 100, 4096] {
            let mut dec = XorbDecoder::new();
            let mut data = Vec::new();
            for part in bytes.chunks(piece) {
                dec.feed(part, |c| data.extend_from_slice(c.data)).unwrap();
            }
            assert_eq!(dec.finish().unwrap(), summary, "slices of {piece}");
            assert_eq!(data, chunks.concat());
        }
    }

    #[test]
    fn truncations_say_where() {
        let (bytes, _) = encode_xorb([&b"abc"[..], b"defg"], CompressionPolicy::Auto).unwrap();
        assert_eq!(decode_xorb(&[]).unwrap_err(), XorbError::Empty);
        assert_eq!(
            decode_xorb(&bytes[..5]).unwrap_err(),
            XorbError::TruncatedHeader {
                index: 0,
                offset: 0
            }
        );
        assert_eq!(
            decode_xorb(&bytes[..20]).unwrap_err(),
            XorbError::TruncatedPayload {
                index: 1,
                offset: 19,
                need: 4
            }
        );
        let mut footer = bytes.clone();
        footer.extend_from_slice(b"XETBLOB\x01");
        assert_eq!(
            decode_xorb(&footer).unwrap_err(),
            XorbError::Footer { offset: 23 }
        );
    }

    #[test]
    fn bad_headers_are_refused() {
        let check = |header: [u8; 8], payload: &[u8]| {
            let mut b = header.to_vec();
            b.extend_from_slice(payload);
            decode_xorb(&b).unwrap_err()
        };
        assert!(matches!(
            check([1, 1, 0, 0, 0, 1, 0, 0], b"x"),
            XorbError::Version { .. }
        ));
        assert!(matches!(
            check([0, 1, 0, 0, 9, 1, 0, 0], b"x"),
            XorbError::Scheme { .. }
        ));
        assert!(matches!(
            check([0, 0, 0, 0, 0, 0, 0, 0], b""),
            XorbError::EmptyChunk { .. }
        ));
        assert!(matches!(
            check([0, 1, 0, 0, 0, 2, 0, 0], b"x"),
            XorbError::StoredLength { .. }
        ));
        assert!(matches!(
            check([0, 1, 0, 0, 0, 1, 0, 2], b"x"),
            XorbError::ChunkTooLarge { .. }
        ));
        assert!(matches!(
            check([0, 1, 0, 9, 1, 1, 0, 0], b"x"),
            XorbError::CompressedTooLarge { .. }
        ));
        assert!(matches!(
            check([0, 3, 0, 0, 1, 1, 0, 0], b"xyz"),
            XorbError::Decompress { .. }
        ));
    }

    #[test]
    fn limits_are_enforced() {
        let chunk = vec![5u8; 1000];
        let (bytes, _) = encode_xorb(
            [&chunk[..], &chunk[..], &chunk[..]],
            CompressionPolicy::Auto,
        )
        .unwrap();
        let tight = XorbLimits {
            max_chunks: 2,
            ..XorbLimits::default()
        };
        assert_eq!(
            decode_xorb_with_limits(&bytes, tight).unwrap_err(),
            XorbError::TooManyChunks { limit: 2 }
        );
        let tight = XorbLimits {
            max_raw_bytes: 2500,
            ..XorbLimits::default()
        };
        assert_eq!(
            decode_xorb_with_limits(&bytes, tight).unwrap_err(),
            XorbError::RawTooLarge { limit: 2500 }
        );
        let tight = XorbLimits {
            max_serialized_bytes: 10,
            ..XorbLimits::default()
        };
        assert_eq!(
            decode_xorb_with_limits(&bytes, tight).unwrap_err(),
            XorbError::TooLarge { limit: 10 }
        );
        let mut enc = XorbEncoder::new(CompressionPolicy::Auto);
        assert!(matches!(
            enc.push_chunk(&vec![0; MAX_CHUNK_LEN + 1], &mut Vec::new()),
            Err(XorbError::ChunkTooLarge { .. })
        ));
        assert!(enc.fits(MAX_CHUNK_LEN));
        assert_eq!(enc.finish().unwrap_err(), XorbError::Empty);
    }

    #[test]
    fn serialized_ranges_cover_whole_chunks() {
        let (bytes, summary) =
            encode_xorb([&b"abc"[..], b"defg", b"h"], CompressionPolicy::Auto).unwrap();
        assert_eq!(
            summary.serialized_range(0, 3),
            Some((0, bytes.len() as u64))
        );
        assert_eq!(summary.serialized_range(1, 2), Some((11, 23)));
        assert_eq!(summary.serialized_range(2, 2), None);
        assert_eq!(summary.serialized_range(2, 4), None);
        summary.check_hash(&summary.hash).unwrap();
        assert!(matches!(
            summary.check_hash(&XetHash::ZERO),
            Err(XorbError::HashMismatch { .. })
        ));
    }
}
