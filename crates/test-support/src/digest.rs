//! sha256 computed with `sha2`, independently of the clients and server under test, so that a
//! test compares their answer with a value they did not produce.

use std::path::Path;

use sha2::{Digest as _, Sha256};

/// The sha256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// The sha256 of `bytes` as 64 lowercase hex digits, as the Hub and `registry.json` write it.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(sha256(bytes))
}

/// The sha256 of the file at `path` as 64 lowercase hex digits.
#[track_caller]
pub fn sha256_file_hex(path: impl AsRef<Path>) -> String {
    let path = path.as_ref();
    let bytes =
        std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    sha256_hex(&bytes)
}
