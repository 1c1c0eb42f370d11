//! The global deduplication rule: which chunks a client asks the CAS about (`/v1/chunks`) and
//! a server indexes.

use crate::hash::XetHash;

/// A chunk is a key chunk when its rule word ([`XetHash::rule_word`], bytes 24..32 as a
/// little-endian `u64`) is divisible by this.
pub const GLOBAL_DEDUP_MODULUS: u64 = 1024;

/// The spacing, in chunks of one file, that `hf_xet` 1.8.0 keeps between two of its queries:
/// a key chunk is asked about only 256 chunks or more after the previous query, the file's
/// first chunk included. Checked on the wire (the crate's `official_client` test: of key
/// chunks 1, 3, 255, 256 and 258, only 256 is asked about); the xet-core sources suggest no
/// spacing at all, the released client does space its queries.
pub const OFFICIAL_QUERY_SPACING: usize = 256;

/// Whether `hash` is a key chunk for global dedup.
pub fn is_global_dedup_key(hash: &XetHash) -> bool {
    hash.rule_word().is_multiple_of(GLOBAL_DEDUP_MODULUS)
}

/// The indices of a file's chunks worth a global dedup query: the first chunk and every key
/// chunk, each at least `min_spacing` chunks after the previous query
/// ([`OFFICIAL_QUERY_SPACING`] is what the official client does). A client that already knows
/// some chunks (its local index) leaves them out of `chunk_hashes` first, as the official one
/// only asks about chunks it cannot deduplicate locally.
pub fn global_dedup_queries(chunk_hashes: &[XetHash], min_spacing: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut next_allowed = 0;
    for (i, h) in chunk_hashes.iter().enumerate() {
        if (i == 0 || is_global_dedup_key(h)) && i >= next_allowed {
            out.push(i);
            next_allowed = i + min_spacing;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_and_key_chunks_with_spacing() {
        let key = XetHash::from_words([5, 6, 7, 4096]);
        let plain = XetHash::from_words([5, 6, 7, 4097]);
        assert!(is_global_dedup_key(&key));
        assert!(!is_global_dedup_key(&plain));
        let hashes = [plain, key, plain, key, plain, key];
        assert_eq!(global_dedup_queries(&hashes, 0), vec![0, 1, 3, 5]);
        assert_eq!(global_dedup_queries(&hashes, 2), vec![0, 3, 5]);
        assert_eq!(global_dedup_queries(&hashes, 256), vec![0]);
        assert!(global_dedup_queries(&[], 0).is_empty());
    }
}
