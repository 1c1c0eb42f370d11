//! The errors of the crate: one variant per way an input can be wrong, each saying what was
//! wrong and where, so that a server can answer it in a 4xx and a client can report it.

use crate::hash::XetHash;

/// A serialized xorb that cannot be decoded, or chunks that cannot form one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XorbError {
    /// More serialized bytes than the limit.
    #[error(
        "the xorb is larger than {limit} bytes; a xorb holds at most 64 MiB of chunks, send the rest in another xorb"
    )]
    TooLarge {
        /// The limit, in serialized bytes.
        limit: u64,
    },
    /// More chunk bytes (uncompressed) than the limit.
    #[error(
        "the xorb's chunks hold more than {limit} bytes uncompressed; cut a new xorb before that"
    )]
    RawTooLarge {
        /// The limit, in uncompressed bytes.
        limit: u64,
    },
    /// More chunks than the limit.
    #[error("the xorb has more than {limit} chunks; cut a new xorb before that")]
    TooManyChunks {
        /// The limit.
        limit: usize,
    },
    /// No chunk at all.
    #[error("the xorb is empty; a xorb holds at least one chunk")]
    Empty,
    /// The bytes end inside a chunk header.
    #[error(
        "the xorb ends inside the header of chunk {index} at byte {offset}: it is truncated, send it whole"
    )]
    TruncatedHeader {
        /// The chunk's index.
        index: usize,
        /// Where its header starts.
        offset: u64,
    },
    /// The bytes end inside a chunk's payload.
    #[error(
        "the xorb ends inside chunk {index} (its {need}-byte payload starts at byte {offset}): it is truncated, send it whole"
    )]
    TruncatedPayload {
        /// The chunk's index.
        index: usize,
        /// Where its payload starts.
        offset: u64,
        /// The payload length its header declares.
        need: u32,
    },
    /// The bytes hold a xorb footer (the `XETBLOB` object info), which uploads do not carry.
    #[error(
        "the xorb carries a footer (\"XETBLOB\" at byte {offset}); upload xorbs without their footer"
    )]
    Footer {
        /// Where the footer starts.
        offset: u64,
    },
    /// A chunk header of an unknown version.
    #[error("chunk {index} has header version {version}, only version 0 exists")]
    Version {
        /// The chunk's index.
        index: usize,
        /// The version byte.
        version: u8,
    },
    /// A chunk stored with an unknown compression scheme.
    #[error(
        "chunk {index} uses compression scheme {scheme}; the schemes are 0 (none), 1 (LZ4 frame) and 2 (byte grouping 4 + LZ4)"
    )]
    Scheme {
        /// The chunk's index.
        index: usize,
        /// The scheme byte.
        scheme: u8,
    },
    /// A chunk of no bytes.
    #[error("chunk {index} is empty; chunks hold 1 to 131072 bytes")]
    EmptyChunk {
        /// The chunk's index.
        index: usize,
    },
    /// A chunk longer than the largest chunk the chunker makes.
    #[error("chunk {index} holds {len} bytes, more than the largest chunk ({limit} bytes)")]
    ChunkTooLarge {
        /// The chunk's index.
        index: usize,
        /// Its uncompressed length.
        len: u64,
        /// The limit.
        limit: u32,
    },
    /// A compressed payload longer than any encoder writes.
    #[error("chunk {index} declares a {len}-byte compressed payload, more than {limit} bytes")]
    CompressedTooLarge {
        /// The chunk's index.
        index: usize,
        /// The declared compressed length.
        len: u32,
        /// The limit.
        limit: u32,
    },
    /// A chunk stored uncompressed whose two lengths differ.
    #[error(
        "chunk {index} is stored uncompressed but declares {stored} stored and {raw} uncompressed bytes"
    )]
    StoredLength {
        /// The chunk's index.
        index: usize,
        /// The stored length.
        stored: u32,
        /// The uncompressed length.
        raw: u32,
    },
    /// A compressed payload that does not decompress.
    #[error("chunk {index} does not decompress ({reason}): the xorb is corrupt")]
    Decompress {
        /// The chunk's index.
        index: usize,
        /// What the LZ4 decoder said.
        reason: String,
    },
    /// A payload that decompresses to another length than its header declares.
    #[error(
        "chunk {index} decompresses to {actual} bytes but its header declares {declared}: the xorb is corrupt"
    )]
    LengthMismatch {
        /// The chunk's index.
        index: usize,
        /// The declared uncompressed length.
        declared: u32,
        /// The length it decompressed to (at most one byte past the declared one).
        actual: u64,
    },
    /// The xorb's content does not have the hash it was sent under.
    #[error(
        "the xorb's content hashes to {actual}, not {expected}: send the xorb under its own hash"
    )]
    HashMismatch {
        /// The hash it was sent under.
        expected: XetHash,
        /// The hash of its chunks.
        actual: XetHash,
    },
}

/// A serialized shard that cannot be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    /// More bytes than the limit.
    #[error(
        "the shard is {len} bytes, more than the {limit}-byte limit; split it into several shards"
    )]
    TooLarge {
        /// The shard's length.
        len: u64,
        /// The limit.
        limit: u64,
    },
    /// The bytes end inside a part of the shard.
    #[error("the shard ends inside {part} at byte {offset}: it is truncated, send it whole")]
    Truncated {
        /// What was being read.
        part: &'static str,
        /// Where that part starts.
        offset: u64,
    },
    /// The header does not start with the shard tag.
    #[error("the bytes do not start with the shard tag: this is not a xet shard")]
    Tag,
    /// A header version other than 2.
    #[error("the shard header has version {0}; only version 2 is understood")]
    Version(u64),
    /// A footer size other than 0 or 200.
    #[error(
        "the shard header declares a {0}-byte footer; a shard has no footer (0) or a 200-byte one"
    )]
    FooterSize(u64),
    /// A footer version other than 1.
    #[error("the shard footer has version {0}; only version 1 is understood")]
    FooterVersion(u64),
    /// A footer field that does not point where it must.
    #[error("the shard footer's {field} is {found}, but that section is at {expected}")]
    FooterOffset {
        /// The footer field.
        field: &'static str,
        /// Its value.
        found: u64,
        /// Where the section is.
        expected: u64,
    },
    /// A footer lookup table outside the space between the CAS section and the footer.
    #[error(
        "the shard footer's {table} table ({count} entries at byte {offset}) lies outside the lookup space {start}..{end}"
    )]
    LookupTable {
        /// Which table.
        table: &'static str,
        /// Its offset.
        offset: u64,
        /// Its entry count.
        count: u64,
        /// Where the lookup space starts (the end of the CAS section).
        start: u64,
        /// Where it ends (the footer).
        end: u64,
    },
    /// Bytes after the last section of a shard without footer.
    #[error(
        "the shard has {extra} bytes after its CAS section at byte {offset}, but its header declares no footer"
    )]
    Trailing {
        /// Where the extra bytes start.
        offset: u64,
        /// How many there are.
        extra: u64,
    },
    /// A file term of no chunks, or one whose range is backwards.
    #[error(
        "term {term} of file {file} covers chunks {start}..{end}; a term covers at least one chunk"
    )]
    EmptyTerm {
        /// The file hash.
        file: XetHash,
        /// The term's index.
        term: usize,
        /// Its first chunk.
        start: u32,
        /// Its end (exclusive).
        end: u32,
    },
    /// A file to encode whose verification hashes do not match its terms one to one.
    #[error("file {file} has {terms} terms but {records} verification hashes; give one per term")]
    VerificationCount {
        /// The file hash.
        file: XetHash,
        /// Its terms.
        terms: usize,
        /// Its verification hashes.
        records: usize,
    },
    /// A record count larger than the bytes left could hold.
    #[error(
        "{what} at byte {offset} declares {count} records, more than the {left} bytes left can hold: the shard is truncated or corrupt"
    )]
    Count {
        /// What declares the count.
        what: &'static str,
        /// Where.
        offset: u64,
        /// The declared count.
        count: u64,
        /// The bytes left in the shard.
        left: u64,
    },
}
