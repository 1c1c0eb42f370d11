//! The sections that say what the repository holds: capabilities and the models, files and
//! hardware tables.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use ruvltra_registry::{Model, Status};

use super::view::{View, name_of};
use crate::text::{cell, human_bytes, human_mib, short_sha};

pub(super) fn capabilities(out: &mut String, view: &View<'_>) {
    out.push_str("\n## Capabilities\n\n");
    let from_registry = view
        .reg
        .catalog
        .extra
        .get("capabilities")
        .and_then(|v| v.as_array())
        .map(|items| items.iter().filter_map(|i| i.as_str()).collect::<Vec<_>>())
        .unwrap_or_default();
    for item in from_registry {
        let _ = writeln!(out, "- {}", item.trim());
    }
    for model in view.ggufs() {
        if let Some(description) = &model.description {
            let _ = writeln!(out, "- **{}**: {}", name_of(model), description.trim());
        }
    }
    let quants: BTreeSet<String> = view.ggufs().map(|m| m.quant.to_ascii_uppercase()).collect();
    if !quants.is_empty() {
        let _ = writeln!(
            out,
            "- GGUF files for llama.cpp, Ollama, LM Studio and the `ruvllm` runtime, in {}.",
            quants.into_iter().collect::<Vec<_>>().join(", ")
        );
    }
    let max_ctx = view.ggufs().filter_map(|m| view.context_length(m)).max();
    if let Some(ctx) = max_ctx {
        let _ = writeln!(out, "- Context window of up to {ctx} tokens.");
    }
    let accel: BTreeSet<&str> = view
        .ggufs()
        .filter_map(|m| m.hardware.as_ref())
        .flat_map(|h| h.accelerators.iter().map(String::as_str))
        .collect();
    if !accel.is_empty() {
        let _ = writeln!(
            out,
            "- Runs on {}.",
            accel
                .into_iter()
                .map(|a| format!("`{a}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if view.adapters().next().is_some() {
        out.push_str("- SONA adaptive-learning adapters (LoRA, PEFT format) for some models; see [Adapters](#adapters-sona).\n");
    }
}

pub(super) fn models_table(out: &mut String, view: &View<'_>) {
    if view.ggufs().next().is_none() {
        return;
    }
    out.push_str("\n## Models\n\n| Model | Parameters | Context | Architecture | Base model |\n|---|---|---|---|---|\n");
    let mut notes = Vec::new();
    for model in view.ggufs() {
        let params = match (model.parameters, &model.size) {
            (Some(p), size) => format!("{} ({})", size.to_ascii_uppercase(), group_digits(p)),
            (None, size) => size.to_ascii_uppercase(),
        };
        let ctx = view
            .context_length(model)
            .map_or_else(|| "unknown".to_owned(), |c| c.to_string());
        let base = model.base_model.as_deref().map_or_else(
            || "–".to_owned(),
            |b| format!("[{b}](https://huggingface.co/{b})"),
        );
        let _ = writeln!(
            out,
            "| {} (`{}`) | {} | {} | {} | {} |",
            cell(&name_of(model)),
            model.id,
            params,
            ctx,
            cell(model.architecture.as_deref().unwrap_or("unknown")),
            base
        );
        if view
            .facts
            .get(&model.file)
            .is_some_and(|f| f.has_chat_template == Some(false))
        {
            notes.push(format!(
                "`{}` has no embedded chat template: use its Modelfile (below) or pass a template.",
                model.file
            ));
        }
    }
    for note in notes {
        let _ = writeln!(out, "\n> Note: {note}");
    }
}

pub(super) fn group_digits(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub(super) fn files_table(out: &mut String, view: &View<'_>) {
    if view.ggufs().next().is_none() {
        return;
    }
    out.push_str("\n## Files\n\n| File | Model | Quant | Size | SHA-256 | Min RAM |\n|---|---|---|---|---|---|\n");
    let mut checksums = Vec::new();
    for model in view.ggufs() {
        let shards = model
            .all_files()
            .filter(|(p, _, _)| p.ends_with(".gguf"))
            .count();
        let file = if shards > 1 {
            format!(
                "`{}` (+{} more shard{})",
                model.file,
                shards - 1,
                if shards == 2 { "" } else { "s" }
            )
        } else {
            format!("`{}`", model.file)
        };
        let size = view
            .model_bytes(model)
            .map_or_else(|| "not yet synced".to_owned(), human_bytes);
        let sha = view.sha256(&model.file, model.sha256.as_deref());
        let sha_cell = sha.as_deref().map_or_else(
            || "not yet synced".to_owned(),
            |s| format!("`{}…`", short_sha(s)),
        );
        let ram = model
            .hardware
            .as_ref()
            .and_then(|h| h.min_ram_mib)
            .map_or_else(|| "–".to_owned(), human_mib);
        let name = match model.status {
            Status::Deprecated => format!("{} (deprecated)", name_of(model)),
            _ => name_of(model),
        };
        let _ = writeln!(
            out,
            "| {file} | {} | {} | {size} | {sha_cell} | {ram} |",
            cell(&name),
            model.quant.to_ascii_uppercase()
        );
        for (path, _, registry_sha) in model.all_files() {
            if let Some(sha) = view.sha256(path, registry_sha) {
                checksums.push(format!("{sha}  {path}"));
            }
        }
    }
    // Adapters are checksummed like model files; their full checksums go in the same list.
    for adapter in view.adapters() {
        for (path, _, registry_sha) in adapter.all_files() {
            if let Some(sha) = view.sha256(path, registry_sha) {
                checksums.push(format!("{sha}  {path}"));
            }
        }
    }
    if !checksums.is_empty() {
        out.push_str("\n<details>\n<summary>Full SHA-256 checksums (for <code>sha256sum -c</code>)</summary>\n\n```text\n");
        for line in checksums {
            let _ = writeln!(out, "{line}");
        }
        out.push_str("```\n\n</details>\n");
    }
}

pub(super) fn hardware_table(out: &mut String, view: &View<'_>) {
    let with_hw: Vec<&Model> = view.ggufs().filter(|m| m.hardware.is_some()).collect();
    if with_hw.is_empty() {
        return;
    }
    out.push_str("\n## Hardware requirements\n\n| Model | Min RAM | Recommended RAM | Min VRAM | Accelerators |\n|---|---|---|---|---|\n");
    for model in with_hw {
        let Some(hw) = &model.hardware else { continue };
        let mib = |v: Option<u64>| v.map_or_else(|| "–".to_owned(), human_mib);
        let accel = if hw.accelerators.is_empty() {
            "–".to_owned()
        } else {
            hw.accelerators.join(", ")
        };
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} |",
            model.id,
            mib(hw.min_ram_mib),
            mib(hw.recommended_ram_mib),
            mib(hw.min_vram_mib),
            cell(&accel)
        );
    }
}
