//! Xet, the Hub's content-addressed storage for large files, as the client speaks it
//! (`docs/XET-NOTES.md`): CAS tokens and the session that keeps one fresh (`token.rs`), and
//! the CAS calls of an upload: xorbs, shards, global dedup queries (`cas.rs`), and the LFS
//! batch call offering `xet` (`batch.rs`).
//!
//! The formats themselves (chunks, hashes, xorbs, shards) are the pure crate `xet-format`'s;
//! this module only moves them over HTTP.

mod batch;
mod cas;
mod token;

pub use batch::BatchTransfer;
pub use cas::{DEDUP_PREFIX, ShardUploaded, XorbUploaded};
/// The transport's body types a xorb upload is built from, re-exported so that callers of the
/// Hub client need no second crate.
pub use http_transport::{Body, BodyStream, BoxError, MakeStream, SendProgress};

pub use token::{REFRESH_MARGIN_SECS, SESSION_HEADER, XetAccess, XetSession, XetToken};
