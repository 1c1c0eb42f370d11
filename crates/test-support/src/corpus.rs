//! The inputs of a fuzz target under `tests/fuzz`, for the suites that replay them on stable
//! (`cargo xtask fuzz` grows the corpora; a crash once found stays fixed).

use std::path::PathBuf;

/// Every input of `target`'s corpus (`tests/fuzz/corpus/TARGET`) and of its fixed crashes
/// (`tests/fuzz/artifacts/TARGET`), with its bytes, sorted by path. A missing folder adds
/// nothing; callers check that the seeds they need are there.
pub fn fuzz_inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let root = crate::workspace_file("tests/fuzz");
    let mut out = Vec::new();
    for dir in [
        root.join("corpus").join(target),
        root.join("artifacts").join(target),
    ] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_file() {
                let bytes = std::fs::read(&path)
                    .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
                out.push((path, bytes));
            }
        }
    }
    out.sort();
    out
}
