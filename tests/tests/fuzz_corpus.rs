//! Replays the corpora of the fuzz targets in `tests/fuzz` (seeds and every interesting input
//! `cargo xtask fuzz` kept) on stable, so a crash once found stays fixed. The GGUF target's
//! corpus is replayed by `crates/ruvltra-gguf/tests/fuzz_corpus.rs`.

use std::path::{Path, PathBuf};

use ruvltra_tests::fuzz_checks::{self, ServerTarget};

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let mut dirs = vec![
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/corpus")
            .join(target),
    ];
    // Crashes reproduced and fixed are kept next to the corpus under artifacts/.
    dirs.push(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/artifacts")
            .join(target),
    );
    let mut out = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            if path.is_file() {
                let bytes = std::fs::read(&path).unwrap();
                out.push((path, bytes));
            }
        }
    }
    out.sort();
    out
}

/// Each input and every one-byte truncation point of the first 64 bytes, plus a few byte
/// flips, so the replay explores a little around each kept input.
fn variants(data: &[u8]) -> Vec<Vec<u8>> {
    let mut out = vec![data.to_vec()];
    for cut in (0..data.len()).step_by((data.len() / 16).max(1)) {
        out.push(data[..cut].to_vec());
    }
    for i in (0..data.len()).step_by((data.len() / 8).max(1)) {
        let mut v = data.to_vec();
        v[i] ^= 0x5a;
        out.push(v);
    }
    out
}

#[test]
fn registry_corpus_never_panics_and_round_trips() {
    let inputs = corpus("registry");
    assert!(inputs.len() >= 8, "the registry corpus is missing");
    let mut parsed = 0;
    for (path, data) in &inputs {
        if ruvltra_registry::parse_bytes(data).is_ok() {
            parsed += 1;
        }
        for v in variants(data) {
            let r = std::panic::catch_unwind(|| fuzz_checks::registry(&v));
            assert!(
                r.is_ok(),
                "{} (a variant of it) fails the check",
                path.display()
            );
        }
    }
    assert!(parsed >= 7, "the seeds are valid registries, got {parsed}");
}

#[test]
fn server_commit_and_batch_corpora_get_answers_below_500() {
    let commits = corpus("server_commit");
    let batches = corpus("server_lfs_batch");
    assert!(
        commits.len() >= 8 && batches.len() >= 5,
        "the server corpora are missing"
    );
    let server = ServerTarget::start();
    for (_, data) in &commits {
        for v in variants(data) {
            server.commit(&v);
        }
    }
    for (_, data) in &batches {
        for v in variants(data) {
            server.lfs_batch(&v);
        }
    }
}
