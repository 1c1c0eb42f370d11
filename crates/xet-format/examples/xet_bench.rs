//! Measures the speed of the Xet pieces a publish runs over every byte: chunk boundaries
//! alone, chunking with chunk hashing (what the check pass does), the file hash, and xorb
//! encoding and decoding. Run in release, on one core:
//!
//! ```text
//! cargo run --release -p xet-format --example xet_bench -- 512
//! ```
//!
//! The argument is the amount of pseudo-random data in MiB (default 256), fed in 1 MiB slices
//! as a file reader would; each figure is the best of three runs.

use std::time::Instant;

use xet_format::{
    ChunkStream, Chunker, CompressionPolicy, Scheme, XetHash, XorbDecoder, XorbEncoder, file_hash,
};

fn random_bytes(len: usize) -> Vec<u8> {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        out.extend_from_slice(&x.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Runs `f` three times and prints the best throughput over `bytes`.
fn measure<T>(what: &str, bytes: usize, mut f: impl FnMut() -> T) -> T {
    let mut best = f64::MAX;
    let mut out = None;
    for _ in 0..3 {
        let start = Instant::now();
        let r = f();
        best = best.min(start.elapsed().as_secs_f64());
        out = Some(r);
    }
    println!("{what:<44} {:>8.0} MB/s", bytes as f64 / best / 1e6);
    out.expect("three runs")
}

fn main() {
    let mib: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(256);
    let data = random_bytes(mib << 20);
    println!("{mib} MiB of pseudo-random data, 1 MiB slices");

    let n = measure("chunk boundaries (gear hash)", data.len(), || {
        let mut chunker = Chunker::new();
        let mut n = 0usize;
        for piece in data.chunks(1 << 20) {
            n += chunker.boundaries(piece).count();
        }
        n + usize::from(chunker.finish().is_some())
    });
    println!("  {n} chunks, {} bytes on average", data.len() / n);

    let chunks = measure("chunking + chunk hashes (check pass)", data.len(), || {
        let mut stream = ChunkStream::new();
        let mut out = Vec::new();
        for piece in data.chunks(1 << 20) {
            stream.feed_into(piece, &mut out);
        }
        out.extend(stream.finish());
        out
    });

    measure("keyed BLAKE3 alone, 64 KiB pieces", data.len(), || {
        data.chunks(64 << 10)
            .fold(0u8, |acc, c| acc ^ xet_format::chunk_hash(c).0[0])
    });

    let leaves: Vec<(XetHash, u64)> = chunks.iter().map(|c| (c.hash, c.len.into())).collect();
    let start = Instant::now();
    let hash = file_hash(&leaves);
    println!(
        "file hash of {} chunks (Merkle tree)          {:>8.2} ms ({hash})",
        leaves.len(),
        start.elapsed().as_secs_f64() * 1e3
    );

    // One xorb of up to 64 MiB, as an upload builds it.
    let mut first = Vec::new();
    let mut raw = 0usize;
    for c in &chunks {
        if raw + c.len as usize > 64 << 20 {
            break;
        }
        first.push(&data[c.offset as usize..][..c.len as usize]);
        raw += c.len as usize;
    }
    for (name, policy) in [
        (
            "xorb encode, auto policy (random data)",
            CompressionPolicy::Auto,
        ),
        (
            "xorb encode, stored (no compression)",
            CompressionPolicy::Fixed(Scheme::None),
        ),
    ] {
        let bytes = measure(name, raw, || {
            let mut enc = XorbEncoder::new(policy);
            let mut out = Vec::with_capacity(raw + 65536);
            for chunk in &first {
                enc.push_chunk(chunk, &mut out).expect("chunks fit");
            }
            enc.finish().expect("not empty");
            out
        });
        measure("  decode it again (1 MiB slices)", raw, || {
            let mut dec = XorbDecoder::new();
            for piece in bytes.chunks(1 << 20) {
                dec.feed(piece, |_| {}).expect("valid");
            }
            dec.finish().expect("valid").hash
        });
    }
    let mut text: Vec<u8> = (0..raw / 48)
        .flat_map(|i| format!("{i:>10}: the quick brown fox jumps over the dog\n").into_bytes())
        .collect();
    text.truncate(raw);
    let text_chunks: Vec<&[u8]> = text.chunks(64 << 10).collect();
    let bytes = measure("xorb encode, auto policy (text, LZ4)", text.len(), || {
        let mut enc = XorbEncoder::new(CompressionPolicy::Auto);
        let mut out = Vec::new();
        for chunk in &text_chunks {
            enc.push_chunk(chunk, &mut out).expect("chunks fit");
        }
        out
    });
    println!("  {} -> {} bytes", text.len(), bytes.len());
    measure("  decode it again (1 MiB slices)", text.len(), || {
        let mut dec = XorbDecoder::new();
        for piece in bytes.chunks(1 << 20) {
            dec.feed(piece, |_| {}).expect("valid");
        }
        dec.finish().expect("valid").hash
    });
}
