//! Replays the corpora of the fuzz targets in `tests/fuzz` (seeds and every interesting input
//! `cargo xtask fuzz` kept) on stable, so a crash once found stays fixed. The GGUF target's
//! corpus is replayed by `crates/ruvltra-gguf/tests/fuzz_corpus.rs`.

use std::path::Path;

use ruvltra_tests::fuzz_checks::{self, ServerTarget};

/// The input itself and, for the hand-made `seed-*` inputs, 16 truncations and 8 byte flips,
/// so the replay explores a little around each seed; inputs kept by `cargo xtask fuzz` (there
/// may be hundreds) are replayed as they are.
fn variants(path: &Path, data: &[u8]) -> Vec<Vec<u8>> {
    let mut out = vec![data.to_vec()];
    let seed = path
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with("seed-"));
    if !seed {
        return out;
    }
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
    let inputs = test_support::fuzz_inputs("registry");
    assert!(inputs.len() >= 8, "the registry corpus is missing");
    let mut parsed = 0;
    for (path, data) in &inputs {
        if ruvltra_registry::parse_bytes(data).is_ok() {
            parsed += 1;
        }
        for v in variants(path, data) {
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
    let commits = test_support::fuzz_inputs("server_commit");
    let batches = test_support::fuzz_inputs("server_lfs_batch");
    assert!(
        commits.len() >= 8 && batches.len() >= 5,
        "the server corpora are missing"
    );
    let server = ServerTarget::start();
    for (path, data) in &commits {
        for v in variants(path, data) {
            server.commit(&v);
        }
    }
    for (path, data) in &batches {
        for v in variants(path, data) {
            server.lfs_batch(&v);
        }
    }
}
