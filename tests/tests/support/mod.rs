//! Shared fixtures of the reliability suite: sample GGUF files, a registry describing them and
//! helpers to run the suite's child processes.

#![allow(dead_code)]

use std::path::Path;
use std::time::{Duration, Instant};

use ruvltra_gguf::writer::SampleModel;
use ruvltra_registry::Quant;
use test_support::catalog;

pub const REPO: &str = "ruv/ruvltra";

/// The quants of the sample catalog, one file each.
pub const QUANTS: [Quant; 4] = [Quant::Q4_K_M, Quant::Q5_K_M, Quant::Q6_K, Quant::Q8_0];

pub fn id(quant: Quant) -> String {
    format!("ruvltra-small-0.5b-{}", quant.label())
}

pub fn file(quant: Quant) -> String {
    format!("{}.gguf", id(quant))
}

/// Writes one sample GGUF per quant into `files` (about `bytes` each, contents differ by
/// `seed`) and a registry describing them at `registry`; returns the file sizes by quant.
pub fn catalog(
    files: &Path,
    registry: &Path,
    quants: &[Quant],
    bytes: u64,
    seed: &str,
) -> Vec<u64> {
    std::fs::create_dir_all(files).unwrap();
    let mut sizes = Vec::new();
    for &q in quants {
        let path = files.join(file(q));
        let mut sample = SampleModel::new("qwen2", q.file_type(), bytes);
        sample.name = format!("{} {seed}", id(q));
        sample.build().unwrap().write_file(&path).unwrap();
        sizes.push(std::fs::metadata(&path).unwrap().len());
    }
    std::fs::write(registry, registry_json(quants)).unwrap();
    sizes
}

/// A valid registry.json text with one published model per quant, without sizes or sha256.
pub fn registry_json(quants: &[Quant]) -> String {
    let models = quants
        .iter()
        .map(|q| catalog::model("small", "0.5b", q.label()))
        .collect();
    serde_json::to_string_pretty(&catalog::registry(REPO, models)).unwrap()
}

/// Polls `check` every 20 ms until it holds; panics naming `what` after `limit`.
pub fn wait_until(what: &str, limit: Duration, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}
