//! Shared fixtures of the reliability suite: sample GGUF files, a registry describing them and
//! helpers to run the suite's child processes.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ruvltra_gguf::writer::SampleModel;
use ruvltra_registry::Quant;

pub const TOKEN: &str = "hf_test_write";
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
    let models: Vec<serde_json::Value> = quants
        .iter()
        .map(|&q| {
            serde_json::json!({
                "id": id(q),
                "file": file(q),
                "quant": q.label(),
                "size": "0.5b",
                "variant": "small",
                "name": format!("RuvLTRA small 0.5b {}", q.upper()),
                "description": "A test model.",
                "architecture": "qwen2",
                "context_length": 32768,
                "base_model": "Qwen/Qwen2.5-0.5B-Instruct",
                "hardware": { "min_ram_mib": 1024 }
            })
        })
        .collect();
    serde_json::to_string_pretty(&serde_json::json!({
        "schema_version": 1,
        "repo": REPO,
        "revision": "main",
        "catalog": {
            "title": "RuvLTRA",
            "description": "Test catalog.",
            "license": "apache-2.0",
            "languages": ["en"],
            "tags": ["ruvltra", "gguf"]
        },
        "models": models
    }))
    .unwrap()
}

/// Polls `check` every 20 ms until it holds; panics naming `what` after `limit`.
pub fn wait_until(what: &str, limit: Duration, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Every regular file under `dir`, recursively, sorted.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}
