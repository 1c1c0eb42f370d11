//! The Xet storage formats of the Hugging Face Hub as pure, deterministic functions: chunking,
//! hashes, xorbs and shards, with no I/O, no HTTP and no threads. The local server's CAS and
//! the client's uploads and downloads both build on it, so it is checked against the official
//! implementation (`hf_xet`), never only against itself; `docs/XET-NOTES.md` says
//! where the published spec is silent or wrong.
//!
//! * [`ChunkStream`] (or [`Chunker`] for boundaries only) cuts a byte stream fed in slices of
//!   any size into content-defined chunks and hashes them; [`file_hash`] of the chunks is the
//!   file's Xet hash, [`xorb_hash`] of a xorb's chunks its name.
//! * [`XorbEncoder`] writes a xorb a chunk at a time into the caller's buffer and
//!   [`XorbDecoder`] reads one from slices, checking and hashing each chunk.
//! * [`Shard`] encodes and decodes shards, with and without footer, and builds global dedup
//!   answers ([`Shard::dedup_answer`]).
//! * Decoders take untrusted bytes: every failure is a typed error saying what was wrong, never
//!   a panic, and allocations are bounded by the input and the limits
//!   ([`XorbLimits`], [`MAX_SHARD_BYTES`]).

#![deny(missing_docs)]

mod chunking;
mod compression;
mod dedup;
mod error;
mod hash;
mod shard;
mod xorb;

pub use chunking::{
    BOUNDARY_MASK, Boundaries, ChunkInfo, ChunkStream, Chunker, MAX_CHUNK_LEN, MIN_CHUNK_LEN,
    TARGET_CHUNK_LEN, chunk_file, chunk_lengths,
};
pub use compression::{
    CompressionPolicy, RETEST_INTERVAL, Scheme, bg4_recommended, bg4_regroup, bg4_split,
    choose_scheme, compress, lz4_frame,
};
pub use dedup::{
    GLOBAL_DEDUP_MODULUS, OFFICIAL_QUERY_SPACING, global_dedup_queries, is_global_dedup_key,
};
pub use error::{ShardError, XorbError};
pub use hash::{
    ChunkHasher, DATA_KEY, INTERNAL_NODE_KEY, ParseHashError, VERIFICATION_KEY, XetHash,
    chunk_hash, file_hash, merkle_node, merkle_root, term_verification_hash, xorb_hash,
};
pub use shard::{
    CHUNK_FLAG_GLOBAL_DEDUP, CasChunk, CasInfo, FILE_FLAG_SHA256, FILE_FLAG_VERIFICATION,
    FOOTER_LEN, FileInfo, FileTerm, HEADER_LEN, MAX_SHARD_BYTES, RECORD_LEN, SHARD_TAG, Shard,
    ShardFooter,
};
pub use xorb::{
    CHUNK_HEADER_LEN, ChunkHeader, DecodedChunk, DecodedXorb, MAX_STORED_CHUNK_LEN,
    MAX_XORB_CHUNKS, MAX_XORB_RAW_BYTES, MAX_XORB_SERIALIZED_BYTES, XorbChunk, XorbDecoder,
    XorbEncoder, XorbLimits, XorbSummary, decode_xorb, decode_xorb_with_limits, encode_xorb,
    fits_in_xorb, write_chunk,
};
