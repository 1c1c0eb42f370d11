//! Checks the crate against the official implementation, `hf_xet` (the workspace venv's,
//! found through `dev-python`), never against itself: file hashes of generated files equal
//! `hf_xet.hash_files`, and the xorbs and shards `hf_xet.upload_files` sends to a loopback
//! stand-in of the CAS decode, encode again to the same bytes and carry the hashes this crate
//! computes. Everything is generated at test time; without the venv these tests fail, they
//! never skip.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use dev_python::Python;
use serde_json::Value as Json;
use xet_format::{
    CasInfo, ChunkInfo, ChunkStream, CompressionPolicy, MAX_CHUNK_LEN, MIN_CHUNK_LEN,
    OFFICIAL_QUERY_SPACING, Shard, XetHash, XorbEncoder, chunk_hash, decode_xorb, file_hash,
    fits_in_xorb, global_dedup_queries, is_global_dedup_key, term_verification_hash, xorb_hash,
};

/// Deterministic pseudo-random bytes (xorshift64*), eight at a time so debug builds stay fast.
fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
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

/// Chunks a file as a streaming reader would, in slices of an odd size.
fn chunks_of(data: &[u8]) -> Vec<ChunkInfo> {
    let mut stream = ChunkStream::new();
    let mut out = Vec::new();
    for piece in data.chunks(1_000_003) {
        stream.feed_into(piece, &mut out);
    }
    out.extend(stream.finish());
    out
}

fn xet_file_hash(data: &[u8]) -> XetHash {
    let leaves: Vec<(XetHash, u64)> = chunks_of(data)
        .iter()
        .map(|c| (c.hash, c.len.into()))
        .collect();
    file_hash(&leaves)
}

fn write(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, data).unwrap();
    path
}

fn python() -> Python {
    Python::with_modules(&["hf_xet"])
}

/// The official client's hashes of `paths`, in order.
fn official_hashes(dir: &Path, paths: &[PathBuf]) -> Vec<String> {
    let code = "import hf_xet, json, sys\n\
                print(json.dumps([i.hash for i in hf_xet.hash_files(sys.argv[1:])]))";
    let out = python()
        .snippet(code)
        .args(paths)
        .env("HF_XET_CACHE", dir.join("xet-cache"))
        .env("HF_XET_TELEMETRY_ENABLED", "0")
        .run();
    serde_json::from_str(out.stdout.trim()).expect("hash_files prints a JSON list")
}

/// A small real GGUF from the project's test writer, with patterned tensor data.
fn gguf_bytes(dir: &Path) -> Vec<u8> {
    let mut model = ruvltra_gguf::writer::SampleModel::new("qwen2", 15, 3_000_000);
    model.fill = ruvltra_gguf::writer::DataFill::Pattern;
    let path = dir.join("model.gguf");
    model.build().unwrap().write_file(&path).unwrap();
    std::fs::read(&path).unwrap()
}

#[test]
fn file_hashes_equal_the_official_ones() {
    let dir = tempfile::tempdir().unwrap();
    let zeros = vec![0u8; 5 * MAX_CHUNK_LEN + 1000];
    // Zero bytes never meet the boundary rule, so every chunk but the last is cut at 128 KiB.
    let zero_chunks = chunks_of(&zeros);
    assert!(
        zero_chunks[..zero_chunks.len() - 1]
            .iter()
            .all(|c| c.len as usize == MAX_CHUNK_LEN)
    );
    let big = random_bytes(65 << 20, 1);
    let big_chunks = chunks_of(&big);
    // More than 9^3 chunks: a Merkle tree of nodes of at most 9 children is at least 4 levels
    // deep, and more than 64 MiB is more than one xorb.
    assert!(big_chunks.len() > 729, "{} chunks", big_chunks.len());
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("one-byte", vec![0x42]),
        ("min-minus-1", random_bytes(MIN_CHUNK_LEN - 1, 2)),
        ("min", random_bytes(MIN_CHUNK_LEN, 3)),
        ("min-plus-1", random_bytes(MIN_CHUNK_LEN + 1, 4)),
        ("max-cuts", zeros),
        ("random", random_bytes(3_000_017, 5)),
        ("gguf", gguf_bytes(dir.path())),
        ("over-one-xorb", big),
    ];
    let paths: Vec<PathBuf> = cases
        .iter()
        .map(|(name, data)| write(dir.path(), name, data))
        .collect();
    let official = official_hashes(dir.path(), &paths);
    assert_eq!(official.len(), cases.len());
    for ((name, data), expected) in cases.iter().zip(&official) {
        assert_eq!(
            xet_file_hash(data).to_hex(),
            *expected,
            "{name}: {} bytes",
            data.len()
        );
    }
}

/// The key chunks of the probe file: two close to its start, and around chunk 256.
const PROBE_KEYS: [usize; 5] = [1, 3, 255, 256, 258];

/// A file of 259 chunks, all exactly 128 KiB, whose key chunks (for global dedup) are those
/// of [`PROBE_KEYS`]: each chunk is an 8-byte counter followed by zeros (the counter lies where
/// the chunker does not hash, and zeros never make a boundary), with counters searched until
/// each chunk hash has the wanted key property.
fn key_chunk_probe() -> (Vec<u8>, Vec<XetHash>) {
    let mut data = Vec::new();
    let mut hashes = Vec::new();
    let mut counter = 0u64;
    for want_key in (0..259).map(|i| PROBE_KEYS.contains(&i)) {
        loop {
            counter += 1;
            let mut chunk = vec![0u8; MAX_CHUNK_LEN];
            chunk[..8].copy_from_slice(&counter.to_le_bytes());
            let h = chunk_hash(&chunk);
            if is_global_dedup_key(&h) == want_key {
                data.extend_from_slice(&chunk);
                hashes.push(h);
                break;
            }
        }
    }
    let found: Vec<XetHash> = chunks_of(&data).iter().map(|c| c.hash).collect();
    assert_eq!(found, hashes, "the probe's chunks are not the planned ones");
    (data, hashes)
}

/// What the loopback CAS stand-in received.
struct Capture {
    dir: PathBuf,
    summary: Json,
}

impl Capture {
    fn strings(&self, key: &str, field: &str) -> Vec<String> {
        self.summary[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v[field].as_str().unwrap().to_owned())
            .collect()
    }
}

/// Uploads `paths` with `hf_xet.upload_files` to a loopback server that records every xorb,
/// shard and dedup query (tests/python/xet_capture.py), with a fresh chunk cache.
fn upload_with_official_client(work: &Path, paths: &[PathBuf]) -> Capture {
    let out_dir = work.join("captured");
    std::fs::create_dir_all(&out_dir).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/xet_capture.py");
    let out = python()
        .script(script)
        .arg(&out_dir)
        .args(paths)
        .env("HF_XET_CACHE", work.join("xet-cache"))
        .env("HF_HOME", work.join("hf-home"))
        .env("HF_XET_TELEMETRY_ENABLED", "0")
        .env("PYTHONWARNINGS", "ignore")
        .run();
    let summary: Json = serde_json::from_str(out.stdout.trim())
        .unwrap_or_else(|e| panic!("the capture script printed no JSON ({e}): {}", out.stdout));
    Capture {
        dir: out_dir,
        summary,
    }
}

#[test]
fn official_uploads_decode_and_encode_to_the_same_bytes() {
    let work = tempfile::tempdir().unwrap();
    let text: Vec<u8> = (0..20_000)
        .flat_map(|i| {
            format!("line {i}: the quick brown fox jumps over the lazy dog\n").into_bytes()
        })
        .collect();
    let floats: Vec<u8> = (0..600_000u32)
        .flat_map(|i| (1.0f32 + (i % 5000) as f32 * 1e-4 + (i / 5000) as f32).to_le_bytes())
        .collect();
    let (probe, probe_hashes) = key_chunk_probe();
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("tiny.txt", b"hello".to_vec()),
        ("text.txt", text),
        ("floats.bin", floats),
        ("random.bin", random_bytes(3_000_000, 11)),
        ("model.gguf", gguf_bytes(work.path())),
        ("probe.bin", probe),
        ("big.bin", random_bytes(65 << 20, 12)),
    ];
    let paths: Vec<PathBuf> = files
        .iter()
        .map(|(name, data)| write(work.path(), name, data))
        .collect();
    let capture = upload_with_official_client(work.path(), &paths);

    // The client reports each file's Xet hash and sha256; ours agree.
    let reported = capture.summary["files"].as_array().unwrap();
    let mut by_hash: BTreeMap<XetHash, &[u8]> = BTreeMap::new();
    for ((name, data), info) in files.iter().zip(reported) {
        let hash = xet_file_hash(data);
        assert_eq!(hash.to_hex(), info["hash"].as_str().unwrap(), "{name}");
        assert_eq!(
            test_support::sha256_hex(data),
            info["sha256"].as_str().unwrap(),
            "{name}"
        );
        by_hash.insert(hash, data);
    }

    // Every xorb decodes, has the hash it was sent under, and encodes to the same bytes, both
    // chunk by chunk with the schemes it holds and from scratch with the automatic policy.
    let prefixes = capture.strings("xorbs", "prefix");
    assert!(prefixes.iter().all(|p| p == "default"), "{prefixes:?}");
    let names = capture.strings("xorbs", "hash");
    assert!(
        names.len() >= 2,
        "the 65 MiB file needs two xorbs: {names:?}"
    );
    let mut xorbs = BTreeMap::new();
    for name in &names {
        let bytes = std::fs::read(capture.dir.join(format!("xorb-{name}"))).unwrap();
        let decoded = decode_xorb(&bytes).unwrap_or_else(|e| panic!("xorb {name}: {e}"));
        assert_eq!(decoded.summary.hash.to_hex(), *name);
        assert!(
            decoded.reencode() == bytes,
            "xorb {name} re-encodes differently"
        );
        xorbs.insert(decoded.summary.hash, (bytes, decoded));
    }
    let schemes: BTreeSet<u8> = xorbs
        .values()
        .flat_map(|(_, d)| d.summary.chunks.iter().map(|c| c.scheme.byte()))
        .collect();
    assert_eq!(
        schemes,
        BTreeSet::from([0, 1, 2]),
        "the files exercise every scheme"
    );

    // The cut rule: the big file's first xorb holds its leading chunks up to the limits, so
    // planning from the chunk list alone gives its hash.
    let big_chunks = chunks_of(&files.last().unwrap().1);
    let mut planned = Vec::new();
    let mut raw = 0;
    for c in &big_chunks {
        if !fits_in_xorb(raw, planned.len(), c.len as usize) {
            break;
        }
        planned.push((c.hash, u64::from(c.len)));
        raw += u64::from(c.len);
    }
    assert!(planned.len() < big_chunks.len());
    assert!(
        xorbs.contains_key(&xorb_hash(&planned)),
        "the planned first xorb was not sent"
    );

    // The shards decode and encode to the same bytes.
    let mut shards = Vec::new();
    for name in capture.summary["shards"].as_array().unwrap() {
        let bytes = std::fs::read(capture.dir.join(name.as_str().unwrap())).unwrap();
        let shard = Shard::decode(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(shard.footer.is_none(), "uploaded shards carry no footer");
        assert!(
            shard.encode().unwrap() == bytes,
            "{name} re-encodes differently"
        );
        shards.push(shard);
    }
    let cas: BTreeMap<XetHash, &CasInfo> = shards
        .iter()
        .flat_map(|s| s.xorbs.iter().map(|x| (x.hash, x)))
        .collect();
    assert_eq!(
        cas.keys().collect::<Vec<_>>(),
        xorbs.keys().collect::<Vec<_>>(),
        "the shards describe exactly the uploaded xorbs"
    );
    for (hash, entry) in &cas {
        let mut expected = CasInfo::from_summary(&xorbs[hash].1.summary);
        // hf_xet 1.8.0 leaves the serialized size at 0.
        expected.serialized_bytes = 0;
        assert_eq!(**entry, expected, "CAS entry of {hash}");
    }

    // Each file: rebuilt from its terms it is the file; its verification hashes, sha256 and
    // hash are those this crate computes.
    let mut file_starts: BTreeMap<XetHash, BTreeSet<usize>> = BTreeMap::new();
    let file_infos: Vec<_> = shards.iter().flat_map(|s| s.files.iter()).collect();
    assert_eq!(file_infos.len(), files.len());
    for info in file_infos {
        let data = by_hash[&info.hash];
        assert_eq!(info.sha256, Some(test_support::sha256(data)));
        let verification = info
            .verification
            .as_ref()
            .expect("uploads carry verification");
        let mut rebuilt = Vec::new();
        let mut leaves = Vec::new();
        let mut first_chunk_in: BTreeMap<XetHash, u32> = BTreeMap::new();
        for (term, v) in info.terms.iter().zip(verification) {
            let (_, xorb) = &xorbs[&term.xorb];
            let range = term.chunk_start as usize..term.chunk_end as usize;
            let chunks = &xorb.summary.chunks[range.clone()];
            let hashes: Vec<XetHash> = chunks.iter().map(|c| c.hash).collect();
            assert_eq!(term_verification_hash(&hashes), *v);
            for i in range {
                rebuilt.extend_from_slice(xorb.chunk_data(i));
            }
            leaves.extend(chunks.iter().map(|c| (c.hash, u64::from(c.raw_len))));
            let first = first_chunk_in.entry(term.xorb).or_insert(term.chunk_start);
            *first = (*first).min(term.chunk_start);
        }
        // The files do not share data, so a file's data in a xorb starts at the first chunk
        // of that xorb it uses.
        for (xorb, first) in first_chunk_in {
            file_starts.entry(xorb).or_default().insert(first as usize);
        }
        assert!(rebuilt == data, "file {} rebuilt differently", info.hash);
        assert_eq!(info.len(), data.len() as u64);
        assert_eq!(file_hash(&leaves), info.hash);
    }

    // The automatic policy picks the client's schemes, given where each file's data starts.
    for (hash, (bytes, decoded)) in &xorbs {
        let starts = &file_starts[hash];
        let mut encoder = XorbEncoder::new(CompressionPolicy::Auto);
        let mut out = Vec::new();
        for i in 0..decoded.summary.chunks.len() {
            if starts.contains(&i) {
                encoder.start_file();
            }
            encoder.push_chunk(decoded.chunk_data(i), &mut out).unwrap();
        }
        assert!(
            out == *bytes,
            "xorb {hash} encodes differently from scratch"
        );
        assert_eq!(encoder.finish().unwrap(), decoded.summary);
    }

    // Global dedup queries: the first chunk of each file and key chunks, at least 256 chunks
    // after the previous query of the same file. The probe shows the spacing: its key chunks
    // 1, 3 and 255 are not asked about, 256 is (256 after the first chunk), 258 is not.
    let queries = capture.strings("chunk_queries", "hash");
    let query_prefixes = capture.strings("chunk_queries", "prefix");
    assert!(
        query_prefixes.iter().all(|p| p == "default"),
        "{query_prefixes:?}"
    );
    let asked: BTreeSet<String> = queries.iter().cloned().collect();
    assert_eq!(asked.len(), queries.len(), "a chunk was asked about twice");
    let probe_asked: Vec<usize> = (0..probe_hashes.len())
        .filter(|&i| asked.contains(&probe_hashes[i].to_hex()))
        .collect();
    assert_eq!(probe_asked, [0, 256]);
    let mut expected = BTreeSet::new();
    for (_, data) in &files {
        let hashes: Vec<XetHash> = chunks_of(data).iter().map(|c| c.hash).collect();
        for i in global_dedup_queries(&hashes, OFFICIAL_QUERY_SPACING) {
            expected.insert(hashes[i].to_hex());
        }
    }
    assert_eq!(asked, expected);
}
