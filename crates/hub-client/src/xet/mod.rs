//! The Hub's Xet storage, client side (`docs/XET-NOTES.md`): the Hub hands out CAS access
//! tokens, the CAS answers reconstructions (which xorb ranges rebuild a file) and signed URLs
//! serve the xorb bytes. This module keeps the HTTP shapes only; the formats themselves
//! (hashes, xorbs) are `xet-format`'s, and what a download does with the bytes is the caller's.
//!
//! * `read.rs`: what `HEAD resolve` says about a Xet file ([`XetFileInfo`]), reconstructions
//!   and ranged xorb reads through a [`XetReader`].

mod read;

pub use read::{
    REFRESH_MARGIN, Reconstruction, ReconstructionTerm, XetFileInfo, XetReader, XorbFetch,
};
