//! The benchmark code's layers depend one way (ARCHITECTURE.md, `xtask/`): the benches use
//! the harness and the report, the harness uses the report, and neither the harness nor the
//! report names a bench; the benches do not name one another.

use std::fs;
use std::path::{Path, PathBuf};

/// The layer of `bench/`'s modules each file belongs to.
fn layer(rel: &Path) -> String {
    let parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    match parts.as_slice() {
        [only] if only == "mod" => "bench".to_owned(),
        [only] => only.clone(),
        [dir, ..] => dir.clone(),
        [] => unreachable!("a file has a name"),
    }
}

/// Every `.rs` file under `dir`, relative to it.
fn rust_files(dir: &Path, base: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, base, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path.strip_prefix(base).unwrap().to_owned());
        }
    }
}

/// The `bench` layers a file's text names through `crate::bench::X` or, in a file directly
/// under `bench/`, `super::X`.
fn named_layers(text: &str, directly_under_bench: bool) -> Vec<String> {
    let mut prefixes = vec!["crate::bench::"];
    if directly_under_bench {
        prefixes.push("super::");
    }
    let mut out = Vec::new();
    for prefix in prefixes {
        for (at, _) in text.match_indices(prefix) {
            let name: String = text[at + prefix.len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.push(name);
            }
        }
    }
    out
}

#[test]
fn bench_modules_depend_one_way() {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/bench");
    let mut files = Vec::new();
    rust_files(&base, &base, &mut files);
    files.sort();
    let layers: Vec<String> = files.iter().map(|f| layer(f)).collect();
    for needed in [
        "bench", "harness", "report", "hash", "publish", "download", "codegen",
    ] {
        assert!(
            layers.iter().any(|l| l == needed),
            "no {needed} module in {}: {files:?}",
            base.display()
        );
    }
    // What each layer may name; the command line (`bench`) may name every layer.
    let allowed = |from: &str, to: &str| match from {
        "bench" => true,
        "report" => false,
        "harness" => to == "report",
        _bench => to == "harness" || to == "report",
    };
    let mut wrong = Vec::new();
    for (file, from) in files.iter().zip(&layers) {
        let text = fs::read_to_string(base.join(file)).unwrap();
        let directly_under_bench = file.components().count() == 1;
        for to in named_layers(&text, directly_under_bench) {
            if to != *from && layers.contains(&to) && !allowed(from, &to) {
                wrong.push(format!("{} ({from}) names {to}", file.display()));
            }
        }
    }
    wrong.sort();
    wrong.dedup();
    assert!(
        wrong.is_empty(),
        "bench layers must depend one way (benches -> harness, report; harness -> report):\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_layer_check_sees_a_back_edge() {
    // The check above would pass on an empty scan; this shows it reads both path forms.
    assert_eq!(
        named_layers("use crate::bench::hash::run; use super::report;", true),
        ["hash", "report"]
    );
    assert_eq!(
        named_layers("use super::sample;", false),
        Vec::<String>::new()
    );
    assert_eq!(layer(Path::new("harness/sample.rs")), "harness");
    assert_eq!(layer(Path::new("mod.rs")), "bench");
    assert_eq!(layer(Path::new("report.rs")), "report");
}
