//! Property tests: whatever the input, chunking does not depend on how the bytes are sliced,
//! hashes survive their text form, and xorbs and shards come back unchanged through encode
//! and decode (and through a decoder fed in slices).

use proptest::prelude::*;
use xet_format::{
    CasChunk, CasInfo, ChunkStream, CompressionPolicy, FileInfo, FileTerm, Scheme, Shard,
    ShardFooter, XetHash, XorbDecoder, XorbEncoder, chunk_file, decode_xorb,
};

fn hash() -> impl Strategy<Value = XetHash> {
    any::<[u8; 32]>().prop_map(XetHash)
}

/// Chunk contents that compress (runs and repeats), do not (noise), or suit byte grouping.
fn chunk_data() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 1..3000),
        (any::<u8>(), 1usize..20_000).prop_map(|(b, n)| vec![b; n]),
        (prop::collection::vec(any::<u8>(), 1..40), 1usize..200)
            .prop_map(|(unit, n)| unit.repeat(n)),
        (0u32..1000, 1usize..3000).prop_map(|(base, n)| {
            (0..n as u32)
                .flat_map(|i| (base as f32 + i as f32 * 1e-3).to_le_bytes())
                .collect()
        }),
    ]
}

fn scheme() -> impl Strategy<Value = Scheme> {
    prop_oneof![
        Just(Scheme::None),
        Just(Scheme::Lz4),
        Just(Scheme::ByteGrouping4Lz4)
    ]
}

fn policy() -> impl Strategy<Value = CompressionPolicy> {
    prop_oneof![
        Just(CompressionPolicy::Auto),
        scheme().prop_map(CompressionPolicy::Fixed)
    ]
}

fn term() -> impl Strategy<Value = FileTerm> {
    (hash(), any::<u32>(), 0u32..10_000, 1u32..100).prop_map(|(xorb, bytes, start, n)| FileTerm {
        xorb,
        unpacked_bytes: bytes,
        chunk_start: start,
        chunk_end: start + n,
    })
}

fn file() -> impl Strategy<Value = FileInfo> {
    (
        hash(),
        prop::collection::vec(term(), 0..6),
        any::<bool>(),
        prop::option::of(any::<[u8; 32]>()),
        prop::collection::vec(hash(), 6),
    )
        .prop_map(|(hash, terms, verified, sha256, v)| FileInfo {
            hash,
            verification: verified.then(|| v[..terms.len()].to_vec()),
            terms,
            sha256,
        })
}

fn cas() -> impl Strategy<Value = CasInfo> {
    (
        hash(),
        any::<u32>(),
        any::<u32>(),
        prop::collection::vec(
            (hash(), any::<u32>(), any::<u32>(), any::<u32>()).prop_map(
                |(hash, raw_offset, raw_len, flags)| CasChunk {
                    hash,
                    raw_offset,
                    raw_len,
                    flags,
                },
            ),
            0..8,
        ),
    )
        .prop_map(|(hash, raw_bytes, serialized_bytes, chunks)| CasInfo {
            hash,
            raw_bytes,
            serialized_bytes,
            chunks,
        })
}

fn shard() -> impl Strategy<Value = Shard> {
    (
        prop::collection::vec(file(), 0..5),
        prop::collection::vec(cas(), 0..5),
        prop::option::of((hash(), any::<u64>(), any::<u64>()).prop_map(
            |(chunk_hash_key, created_at, key_expires_at)| ShardFooter {
                chunk_hash_key,
                created_at,
                key_expires_at,
            },
        )),
    )
        .prop_map(|(files, xorbs, footer)| Shard {
            files,
            xorbs,
            footer,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn hashes_survive_their_text_form(h in hash()) {
        prop_assert_eq!(XetHash::from_hex(&h.to_hex()), Ok(h));
        prop_assert_eq!(h.to_hex().len(), 64);
    }

    #[test]
    fn chunking_does_not_depend_on_slicing(
        seed in prop::collection::vec(any::<u8>(), 1..64),
        len in 0usize..600_000,
        cuts in prop::collection::vec(1usize..200_000, 1..8),
    ) {
        // Repeated seeds give both long runs without boundaries and ordinary cuts.
        let data: Vec<u8> = seed.iter().cycle().take(len).enumerate()
            .map(|(i, b)| b.wrapping_add((i / 997) as u8)).collect();
        let whole = chunk_file(&data);
        let mut stream = ChunkStream::new();
        let mut out = Vec::new();
        let mut rest = &data[..];
        for cut in cuts.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let n = (*cut).min(rest.len());
            stream.feed_into(&rest[..n], &mut out);
            rest = &rest[n..];
        }
        out.extend(stream.finish());
        prop_assert_eq!(&out, &whole);
        prop_assert_eq!(whole.iter().map(|c| u64::from(c.len)).sum::<u64>(), len as u64);
    }

    #[test]
    fn xorbs_round_trip(
        chunks in prop::collection::vec(chunk_data(), 1..12),
        policy in policy(),
        file_starts in prop::collection::vec(any::<bool>(), 12),
        slice in 1usize..5000,
    ) {
        let mut encoder = XorbEncoder::new(policy);
        let mut bytes = Vec::new();
        for (i, c) in chunks.iter().enumerate() {
            if file_starts[i] {
                encoder.start_file();
            }
            encoder.push_chunk(c, &mut bytes).unwrap();
        }
        let summary = encoder.finish().unwrap();
        prop_assert_eq!(summary.serialized_bytes, bytes.len() as u64);
        let decoded = decode_xorb(&bytes).unwrap();
        prop_assert_eq!(&decoded.summary, &summary);
        prop_assert_eq!(&decoded.data, &chunks.concat());
        prop_assert_eq!(&decoded.reencode(), &bytes);
        let mut decoder = XorbDecoder::new();
        let mut streamed = Vec::new();
        for part in bytes.chunks(slice) {
            decoder.feed(part, |c| streamed.extend_from_slice(c.data)).unwrap();
        }
        prop_assert_eq!(decoder.finish().unwrap(), summary);
        prop_assert_eq!(streamed, decoded.data);
    }

    #[test]
    fn shards_round_trip(s in shard()) {
        let bytes = s.encode().unwrap();
        prop_assert_eq!(bytes.len(), s.encoded_len());
        let decoded = Shard::decode(&bytes).unwrap();
        prop_assert_eq!(&decoded, &s);
        prop_assert_eq!(decoded.encode().unwrap(), bytes);
    }

    #[test]
    fn decoders_refuse_noise_without_panicking(noise in prop::collection::vec(any::<u8>(), 0..2000)) {
        let _ = decode_xorb(&noise);
        let _ = Shard::decode(&noise);
    }
}
