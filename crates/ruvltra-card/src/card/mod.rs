//! The repository's `README.md` (ADR-013 section 5) and its ModelScope variant, built from
//! the registry and the facts the uploader read from the files.

mod benchmarks;
mod front_matter;
mod licence;
mod other_models;
mod tables;
mod usage;
mod view;

pub use front_matter::{front_matter, modelscope_front_matter};

use std::collections::BTreeMap;
use std::fmt::Write as _;

use ruvltra_registry::Registry;

use crate::CardFacts;
use crate::compat::{self, FileReach};
use benchmarks::benchmarks;
use front_matter::{front_matter_of, modelscope_front_matter_of};
use licence::licence;
use other_models::{adapters, elsewhere, planned};
use tables::{capabilities, files_table, hardware_table, models_table};
use usage::{py_str, usage};
use view::View;

/// The repository's `README.md`: front matter, description, capabilities, files, hardware,
/// usage (Rust, Python, CLI), benchmarks, adapters, planned models and licence.
///
/// See the crate documentation for which models are claimed as available.
pub fn model_card(reg: &Registry, facts: &CardFacts) -> String {
    let view = View::new(reg, facts);
    let paths = view.repo_paths();
    let reach: BTreeMap<String, FileReach> = compat::report_for(&reg.repo, &paths)
        .into_iter()
        .map(|r| (r.file.clone(), r))
        .collect();

    let mut out = front_matter_of(&view);
    let _ = writeln!(out, "\n# {}\n", view.title());
    if let Some(description) = &reg.catalog.description {
        let _ = writeln!(out, "{}\n", description.trim());
    }
    out.push_str(
        "<!-- Generated from registry.json by ruvltra-card: edit the registry, not this file. -->\n",
    );

    capabilities(&mut out, &view);
    models_table(&mut out, &view);
    files_table(&mut out, &view);
    hardware_table(&mut out, &view);
    usage(&mut out, &view, &reach);
    benchmarks(&mut out, &view);
    adapters(&mut out, &view);
    planned(&mut out, &view);
    elsewhere(&mut out, &view);
    licence(&mut out, &view);
    out
}

/// The ModelScope card of the catalog's ModelScope mirror (`catalog.modelscope_repo`, else
/// the Hub repository's name): ModelScope front matter, the same description, files and
/// hardware tables, a `modelscope download` example and the licence.
pub fn modelscope_card(reg: &Registry, facts: &CardFacts) -> String {
    let view = View::new(reg, facts);
    let repo = reg
        .catalog
        .modelscope_repo
        .clone()
        .unwrap_or_else(|| reg.repo.clone());
    let mut out = modelscope_front_matter_of(&view);
    let _ = writeln!(out, "\n# {}\n", view.title());
    if let Some(description) = &reg.catalog.description {
        let _ = writeln!(out, "{}\n", description.trim());
    }
    let _ = writeln!(
        out,
        "Mirror of [huggingface.co/{hub}](https://huggingface.co/{hub}).\n\n<!-- Generated from registry.json by ruvltra-card: edit the registry, not this file. -->",
        hub = reg.repo
    );
    capabilities(&mut out, &view);
    files_table(&mut out, &view);
    hardware_table(&mut out, &view);
    if let Some(example) = view.example() {
        let _ = writeln!(
            out,
            "\n## Usage\n\n```sh\nmodelscope download --model {repo} {}\n```\n\n```python\nfrom modelscope import snapshot_download\n\nfolder = snapshot_download({}, allow_patterns=[{}])\n```",
            example.file,
            py_str(&repo),
            py_str(&example.file)
        );
    }
    planned(&mut out, &view);
    licence(&mut out, &view);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_only_repository_uses_snapshot_download() {
        let reg: Registry = serde_json::from_value(serde_json::json!({
            "schema_version": 1,
            "repo": "ruv/ruvltra",
            "revision": "main",
            "models": [{
                "id": "ruvltra-3b-f16",
                "file": "ruvltra-3b-f16-00001-of-00002.gguf",
                "quant": "f16",
                "size": "3b",
                "kind": "gguf-full-precision",
                "bytes": 3000000000u64,
                "extra_files": [{"file": "ruvltra-3b-f16-00002-of-00002.gguf", "bytes": 2000000000u64}]
            }]
        }))
        .unwrap();
        let card = model_card(&reg, &CardFacts::default());
        assert!(
            card.contains(r#"allow_patterns=["ruvltra-3b-f16-*.gguf"]"#),
            "{card}"
        );
        assert!(card.contains("| `ruvltra-3b-f16-00001-of-00002.gguf` (+1 more shard) |"));
        assert!(
            card.contains("| 5.0 GB |"),
            "sizes of all shards are added up"
        );
        // A single GGUF in the repository: `:F16` reaches it for llama.cpp, but Ollama cannot
        // load a split model, so the Modelfile route is shown.
        assert!(card.contains("`llama-cli -hf ruv/ruvltra:F16`"));
        assert!(card.contains("Modelfile: `ollama/ruvltra-3b-f16/Modelfile`"));
    }
}
