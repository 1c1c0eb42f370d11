//! The properties the xorb and shard fuzz targets check (`tests/fuzz`, `cargo +nightly fuzz
//! run xet_xorb`), shared with the stable replay of their corpora (`tests/fuzz_corpus.rs`) so
//! that every input the fuzzer keeps stays a regression test.

use xet_format::{Shard, XetHash, XorbDecoder, XorbLimits, decode_xorb, decode_xorb_with_limits};

/// Limits small enough for fast fuzzing; the checks are the same at the format's limits.
pub const FUZZ_LIMITS: XorbLimits = XorbLimits {
    max_serialized_bytes: 1 << 20,
    max_raw_bytes: 4 << 20,
    max_chunks: 512,
};

/// Any bytes given to the xorb decoder give a xorb or a typed error, never a panic; the same
/// bytes fed in two slices give the same answer; a xorb that decodes encodes again to bytes
/// that decode to the same chunks and hash. Returns whether the input decoded.
pub fn xorb(data: &[u8]) -> bool {
    let whole = decode_xorb_with_limits(data, FUZZ_LIMITS);
    let mut split = XorbDecoder::with_limits(FUZZ_LIMITS);
    let cut = data.first().map_or(0, |b| usize::from(*b)).min(data.len());
    let mut streamed = Vec::new();
    let fed = split
        .feed(&data[..cut], |c| streamed.extend_from_slice(c.data))
        .and_then(|()| split.feed(&data[cut..], |c| streamed.extend_from_slice(c.data)))
        .and_then(|()| split.finish());
    match whole {
        Ok(x) => {
            let summary =
                fed.unwrap_or_else(|e| panic!("decodes whole but not in two slices: {e}"));
            assert_eq!(summary, x.summary, "two slices decode differently");
            assert_eq!(streamed, x.data, "two slices give other bytes");
            let again = decode_xorb(&x.reencode())
                .unwrap_or_else(|e| panic!("a re-encoded xorb does not decode: {e}"));
            assert_eq!(again.data, x.data);
            assert_eq!(again.summary.hash, x.summary.hash);
            true
        }
        Err(e) => {
            assert!(fed.is_err(), "decodes in two slices but not whole: {e}");
            assert!(!e.to_string().is_empty());
            false
        }
    }
}

/// Any bytes given to the shard decoder give a shard or a typed error, never a panic; a shard
/// that decodes encodes to bytes that decode to the same shard, and the server's dedup
/// helpers work on it. Returns whether the input decoded.
pub fn shard(data: &[u8]) -> bool {
    match Shard::decode(data) {
        Ok(shard) => {
            let bytes = shard
                .encode()
                .unwrap_or_else(|e| panic!("a decoded shard does not encode: {e}"));
            assert_eq!(bytes.len(), shard.encoded_len());
            let again = Shard::decode(&bytes)
                .unwrap_or_else(|e| panic!("an encoded shard does not decode: {e}"));
            assert_eq!(again, shard, "the shard changes through encode and decode");
            let _ = shard.global_dedup_chunks();
            let answer = shard.dedup_answer(XetHash::from_words([1, 2, 3, 4]), 5, 6);
            let answer_bytes = answer.encode().expect("dedup answers encode");
            assert_eq!(Shard::decode(&answer_bytes).as_ref(), Ok(&answer));
            true
        }
        Err(e) => {
            assert!(!e.to_string().is_empty());
            false
        }
    }
}
