//! Replays the corpora of the `xet_xorb` and `xet_shard` fuzz targets (`tests/fuzz` at the
//! workspace root: the seeds, two of them captured from `hf_xet`, and every input `cargo xtask
//! fuzz` keeps) with the targets' own checks, on stable, with every single-byte mutation and
//! truncation of each seed, so a crash once found stays fixed.

mod fuzz_checks;

use std::path::Path;

fn is_seed(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with("seed-"))
}

/// Runs `check` on each input; on each seed (which must pass) also on every truncation and
/// on four mutations of every byte. Returns how many variants passed and how many were refused.
fn replay(target: &str, min_seeds: usize, check: fn(&[u8]) -> bool) -> (u64, u64) {
    let inputs = test_support::fuzz_inputs(target);
    let seeds = inputs.iter().filter(|(p, _)| is_seed(p)).count();
    assert!(seeds >= min_seeds, "the {target} corpus is missing seeds");
    let (mut passed, mut refused) = (0, 0);
    let mut count = |ok: bool| if ok { passed += 1 } else { refused += 1 };
    for (path, data) in &inputs {
        let ok = check(data);
        if is_seed(path) {
            assert!(ok, "seed {} must decode", path.display());
        } else {
            count(ok);
            continue;
        }
        for cut in 0..data.len() {
            count(check(&data[..cut]));
        }
        let mut v = data.clone();
        for i in 0..v.len() {
            let original = v[i];
            for b in [0x00, 0xFF, original.wrapping_add(1), original ^ 0x80] {
                v[i] = b;
                count(check(&v));
            }
            v[i] = original;
        }
    }
    (passed, refused)
}

#[test]
fn xorb_corpus_never_panics_and_round_trips() {
    let (passed, refused) = replay("xet_xorb", 4, fuzz_checks::xorb);
    // Mutated stored bytes still decode, mutated headers do not.
    assert!(
        passed > 100 && refused > 100,
        "{passed} passed, {refused} refused"
    );
}

#[test]
fn shard_corpus_never_panics_and_round_trips() {
    let (passed, refused) = replay("xet_shard", 5, fuzz_checks::shard);
    assert!(
        passed > 100 && refused > 100,
        "{passed} passed, {refused} refused"
    );
}
