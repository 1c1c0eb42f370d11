//! The sections about models beyond the available GGUF files: adapters, planned models and
//! models published in another repository.

use std::fmt::Write as _;

use ruvltra_registry::Model;

use super::usage::py_str;
use super::view::{View, name_of};
use crate::text::{cell, human_bytes, short_sha};

pub(super) fn adapters(out: &mut String, view: &View<'_>) {
    let adapters: Vec<&Model> = view.adapters().collect();
    if adapters.is_empty() {
        return;
    }
    out.push_str("\n## Adapters (SONA)\n\n");
    out.push_str("SONA weight exports are LoRA adapters in PEFT format (`library_name: peft`, tags `sona`, `lora`, `adaptive-learning`): `adapter_model.safetensors`, `adapter_config.json`, and the learnt `patterns.jsonl` and `preferences.jsonl`. Each lives in its own folder of this repository.\n");
    // Group by base model id, in registry order of the bases, unknown bases last.
    let mut groups: Vec<(String, Vec<&Model>)> = Vec::new();
    for adapter in adapters {
        let base = adapter.base.clone().unwrap_or_default();
        match groups.iter_mut().find(|(b, _)| *b == base) {
            Some((_, list)) => list.push(adapter),
            None => groups.push((base, vec![adapter])),
        }
    }
    for (base, list) in groups {
        let base_model = view.reg.models.iter().find(|m| m.id == base);
        let heading = match base_model {
            Some(m) => format!("{} (`{}`)", name_of(m), m.id),
            None if base.is_empty() => "No base model given".to_owned(),
            None => format!("`{base}` (not in this registry)"),
        };
        let _ = writeln!(out, "\n### Adapters for {heading}\n");
        if let Some(upstream) = base_model.and_then(|m| m.base_model.as_deref()) {
            let _ = writeln!(
                out,
                "PEFT base model: [{upstream}](https://huggingface.co/{upstream}).\n"
            );
        }
        out.push_str("| Adapter | Files | Size | SHA-256 of the first file |\n|---|---|---|---|\n");
        for adapter in list {
            let files: Vec<String> = adapter
                .all_files()
                .map(|(p, _, _)| format!("`{p}`"))
                .collect();
            let size = view
                .model_bytes(adapter)
                .map_or_else(|| "not yet synced".to_owned(), human_bytes);
            let sha = view
                .sha256(&adapter.file, adapter.sha256.as_deref())
                .map_or_else(
                    || "not yet synced".to_owned(),
                    |s| format!("`{}…`", short_sha(&s)),
                );
            let _ = writeln!(
                out,
                "| {} (`{}`) | {} | {} | {} |",
                cell(&name_of(adapter)),
                adapter.id,
                files.join("<br>"),
                size,
                sha
            );
        }
    }
    let example = view.adapters().next();
    if let Some(adapter) = example {
        let folder = adapter.file.rsplit_once('/').map_or("", |(dir, _)| dir);
        let pattern = if folder.is_empty() {
            adapter.file.clone()
        } else {
            format!("{folder}/*")
        };
        let _ = writeln!(
            out,
            "\n```python\nfrom huggingface_hub import snapshot_download\n\nfolder = snapshot_download(repo_id={}, allow_patterns=[{}])\n```",
            py_str(&view.reg.repo),
            py_str(&pattern)
        );
    }
}

pub(super) fn planned(out: &mut String, view: &View<'_>) {
    if view.planned.is_empty() {
        return;
    }
    out.push_str("\n## Planned\n\nNot published yet, so not downloadable; listed so that their names are known.\n\n| Model | File | Quant | Kind |\n|---|---|---|---|\n");
    for model in &view.planned {
        let kind = model.kind.as_str();
        let _ = writeln!(
            out,
            "| {} | `{}` | {} | {} |",
            cell(&name_of(model)),
            model.file,
            model.quant.to_ascii_uppercase(),
            kind
        );
    }
}

pub(super) fn elsewhere(out: &mut String, view: &View<'_>) {
    if view.elsewhere.is_empty() {
        return;
    }
    out.push_str("\n## In other repositories\n\n");
    for model in &view.elsewhere {
        let repo = model.repo(view.reg);
        let _ = writeln!(
            out,
            "- {}: [`{repo}`](https://huggingface.co/{repo}), file `{}`",
            cell(&name_of(model)),
            model.file
        );
    }
}
