//! Content-defined chunking as Xet does it: a gear rolling hash over the bytes, streaming (feed
//! slices of any size, get the same boundaries as one pass over the whole file), and the chunk
//! hashes computed on the way.

use crate::hash::{ChunkHasher, XetHash};

/// The average chunk length the boundary rule aims at.
pub const TARGET_CHUNK_LEN: usize = 64 * 1024;
/// No boundary is taken before a chunk holds this many bytes (only the last chunk of a file
/// may be shorter).
pub const MIN_CHUNK_LEN: usize = TARGET_CHUNK_LEN / 8;
/// A chunk is cut at this length whatever its content.
pub const MAX_CHUNK_LEN: usize = TARGET_CHUNK_LEN * 2;
/// A boundary follows the byte after which the gear hash has these bits all zero.
pub const BOUNDARY_MASK: u64 = 0xFFFF_0000_0000_0000;

/// The gear hash only depends on the last 64 bytes, so the first bytes of a chunk need not be
/// hashed: hashing starts this many bytes before [`MIN_CHUNK_LEN`], which leaves more than a
/// full window hashed before the first boundary a chunk may take.
const SKIPPED: usize = MIN_CHUNK_LEN - 64 - 1;

/// Finds chunk boundaries in a stream of bytes fed in slices of any size.
///
/// The boundaries are those of one pass over the whole stream, whatever the slices: a chunk
/// ends after the first byte, at a chunk length of at least [`MIN_CHUNK_LEN`], where the gear
/// hash of the chunk's bytes (the table of the `gearhash` crate, restarted at each chunk) has
/// none of [`BOUNDARY_MASK`]'s bits set, and at [`MAX_CHUNK_LEN`] at the latest; the last chunk
/// ends with the stream ([`Chunker::finish`]). The chunker keeps no bytes, only the state of
/// the current chunk, and allocates nothing.
#[derive(Debug, Clone)]
pub struct Chunker {
    gear: gearhash::Hasher<'static>,
    /// Bytes of the current chunk seen so far.
    chunk_len: usize,
}

impl Default for Chunker {
    fn default() -> Self {
        Chunker::new()
    }
}

impl Chunker {
    /// A chunker at the start of a stream.
    pub fn new() -> Chunker {
        Chunker {
            gear: gearhash::Hasher::default(),
            chunk_len: 0,
        }
    }

    /// The bytes of the current, unfinished chunk seen so far.
    pub fn pending_len(&self) -> usize {
        self.chunk_len
    }

    /// Looks for the next boundary in `data`, the bytes following everything fed so far:
    /// returns how many of them belong to the current chunk when it ends inside `data`, else
    /// `None` (all of `data` belongs to the current chunk, which goes on).
    pub fn next_boundary(&mut self, data: &[u8]) -> Option<usize> {
        let mut pos = 0;
        while pos < data.len() {
            if self.chunk_len < SKIPPED {
                let skip = (SKIPPED - self.chunk_len).min(data.len() - pos);
                self.chunk_len += skip;
                pos += skip;
                continue;
            }
            let window = (data.len() - pos).min(MAX_CHUNK_LEN - self.chunk_len);
            match self
                .gear
                .next_match(&data[pos..pos + window], BOUNDARY_MASK)
            {
                Some(n) => {
                    pos += n;
                    self.chunk_len += n;
                    if self.chunk_len >= MIN_CHUNK_LEN {
                        return Some(self.cut(pos));
                    }
                }
                None => {
                    pos += window;
                    self.chunk_len += window;
                    if self.chunk_len == MAX_CHUNK_LEN {
                        return Some(self.cut(pos));
                    }
                }
            }
        }
        None
    }

    fn cut(&mut self, pos: usize) -> usize {
        self.chunk_len = 0;
        self.gear.set_hash(0);
        pos
    }

    /// The boundaries inside `data`: each item is the index in `data` just after a chunk's
    /// last byte (several chunks may end in one slice).
    pub fn boundaries<'c, 'd>(&'c mut self, data: &'d [u8]) -> Boundaries<'c, 'd> {
        Boundaries {
            chunker: self,
            data,
            pos: 0,
        }
    }

    /// Ends the stream: the length of its last chunk, if the stream did not end on a boundary
    /// (an empty stream has no chunk). The chunker is then at the start of a new stream.
    pub fn finish(&mut self) -> Option<usize> {
        let len = self.chunk_len;
        self.cut(0);
        (len > 0).then_some(len)
    }
}

/// The boundaries found in one slice ([`Chunker::boundaries`]).
#[derive(Debug)]
pub struct Boundaries<'c, 'd> {
    chunker: &'c mut Chunker,
    data: &'d [u8],
    pos: usize,
}

impl Iterator for Boundaries<'_, '_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        let n = self.chunker.next_boundary(&self.data[self.pos..])?;
        self.pos += n;
        Some(self.pos)
    }
}

/// The lengths of the chunks of `data`, in order (one pass, whole file in memory).
pub fn chunk_lengths(data: &[u8]) -> Vec<usize> {
    let mut chunker = Chunker::new();
    let mut out = Vec::with_capacity(data.len() / TARGET_CHUNK_LEN + 1);
    let mut start = 0;
    for end in chunker.boundaries(data) {
        out.push(end - start);
        start = end;
    }
    out.extend(chunker.finish());
    out
}

/// One chunk of a stream: where it starts, its length and its hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkInfo {
    /// Its offset in the stream.
    pub offset: u64,
    /// Its length (1 to [`MAX_CHUNK_LEN`]).
    pub len: u32,
    /// Its hash ([`crate::chunk_hash`]).
    pub hash: XetHash,
}

/// Chunks a stream and hashes each chunk on the way: feed slices of any size, get every chunk
/// that ends in them. One pass over the bytes, no copy and no allocation per byte; what the
/// check pass of an upload runs over a whole file.
#[derive(Debug, Clone, Default)]
pub struct ChunkStream {
    chunker: Chunker,
    hasher: ChunkHasher,
    offset: u64,
}

impl ChunkStream {
    /// A stream at its start.
    pub fn new() -> ChunkStream {
        ChunkStream::default()
    }

    /// Feeds the next bytes; calls `on_chunk` for each chunk that ends in them, in order.
    pub fn feed(&mut self, mut data: &[u8], mut on_chunk: impl FnMut(ChunkInfo)) {
        while let Some(n) = self.chunker.next_boundary(data) {
            self.hasher.update(&data[..n]);
            on_chunk(self.take_chunk());
            data = &data[n..];
        }
        self.hasher.update(data);
    }

    /// Feeds the next bytes and appends the chunks that end in them to `out`.
    pub fn feed_into(&mut self, data: &[u8], out: &mut Vec<ChunkInfo>) {
        self.feed(data, |c| out.push(c));
    }

    /// Ends the stream: its last chunk, if it did not end on a boundary.
    pub fn finish(&mut self) -> Option<ChunkInfo> {
        self.chunker.finish()?;
        Some(self.take_chunk())
    }

    /// Bytes fed so far.
    pub fn offset(&self) -> u64 {
        self.offset + self.hasher.len()
    }

    fn take_chunk(&mut self) -> ChunkInfo {
        let (hash, len) = self.hasher.finish_chunk();
        let chunk = ChunkInfo {
            offset: self.offset,
            // A chunk is at most MAX_CHUNK_LEN bytes, far below u32::MAX.
            len: len as u32,
            hash,
        };
        self.offset += len;
        chunk
    }
}

/// Chunks and hashes a whole file held in memory.
pub fn chunk_file(data: &[u8]) -> Vec<ChunkInfo> {
    let mut stream = ChunkStream::new();
    let mut out = Vec::with_capacity(data.len() / TARGET_CHUNK_LEN + 1);
    stream.feed_into(data, &mut out);
    out.extend(stream.finish());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A simple, obviously right boundary rule (hash every byte of the chunk from zero) that
    /// the skipping, streaming chunker must agree with.
    fn reference_lengths(data: &[u8]) -> Vec<usize> {
        let mut out = Vec::new();
        let mut start = 0;
        while start < data.len() {
            let mut h = 0u64;
            let mut len = 0;
            for &b in &data[start..] {
                h = (h << 1).wrapping_add(gearhash::DEFAULT_TABLE[b as usize]);
                len += 1;
                if (len >= MIN_CHUNK_LEN && h & BOUNDARY_MASK == 0) || len == MAX_CHUNK_LEN {
                    break;
                }
            }
            out.push(len);
            start += len;
        }
        out
    }

    fn pseudo_random(n: usize, seed: u64) -> Vec<u8> {
        let mut x = seed;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect()
    }

    #[test]
    fn agrees_with_the_reference_rule() {
        let data = pseudo_random(3 << 20, 7);
        let lengths = chunk_lengths(&data);
        assert_eq!(lengths, reference_lengths(&data));
        assert!(lengths.len() > 20);
        assert_eq!(lengths.iter().sum::<usize>(), data.len());
    }

    #[test]
    fn constant_data_is_cut_at_the_maximum() {
        let data = vec![0u8; MAX_CHUNK_LEN * 3 + 5];
        assert_eq!(chunk_lengths(&data), reference_lengths(&data));
    }

    #[test]
    fn small_inputs() {
        assert!(chunk_lengths(&[]).is_empty());
        assert_eq!(chunk_lengths(&[1]), vec![1]);
        assert_eq!(
            chunk_lengths(&[9; MIN_CHUNK_LEN - 1]),
            vec![MIN_CHUNK_LEN - 1]
        );
    }

    #[test]
    fn any_slicing_gives_the_same_chunks() {
        let data = pseudo_random(1 << 20, 3);
        let whole = chunk_file(&data);
        for piece in [1usize, 7, 64, 65, 4096, 8127, 8128, 8129, 65536, 200_000] {
            let mut stream = ChunkStream::new();
            let mut out = Vec::new();
            for part in data.chunks(piece) {
                stream.feed_into(part, &mut out);
            }
            out.extend(stream.finish());
            assert_eq!(out, whole, "slices of {piece} bytes");
        }
        let mut start = 0;
        for c in &whole {
            assert_eq!(c.offset, start);
            assert_eq!(
                c.hash,
                crate::chunk_hash(&data[start as usize..][..c.len as usize])
            );
            start += c.len as u64;
        }
    }
}
