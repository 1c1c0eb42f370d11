//! The repository's `README.md` (ADR-013 section 5) and its ModelScope variant, built from
//! the registry and the facts the uploader read from the files.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use ruvltra_registry::{ArtifactKind, Model, Registry, Status};

use crate::CardFacts;
use crate::compat::{self, FileReach};
use crate::modelfile::modelfile_path;
use crate::text::{
    cell, const_name, human_bytes, human_mib, license_name, number, short_sha, yaml_scalar,
};

/// Tags every GGUF repository carries (GGUF-AND-ECOSYSTEM.md section 2).
const GGUF_TAGS: &[&str] = &["gguf", "quantized", "llama-cpp"];
/// Tags of a repository that also holds SONA adapters.
const ADAPTER_TAGS: &[&str] = &["sona", "lora", "adaptive-learning"];

/// The registry seen from one repository: which models are here and which are available.
struct View<'a> {
    reg: &'a Registry,
    facts: &'a CardFacts,
    /// Available models of this repository, in registry order.
    available: Vec<&'a Model>,
    /// Planned models of this repository whose file is not being published now.
    planned: Vec<&'a Model>,
    /// Models published in another repository.
    elsewhere: Vec<&'a Model>,
}

impl<'a> View<'a> {
    fn new(reg: &'a Registry, facts: &'a CardFacts) -> Self {
        let mut view = View {
            reg,
            facts,
            available: Vec::new(),
            planned: Vec::new(),
            elsewhere: Vec::new(),
        };
        for model in &reg.models {
            if model.repo(reg) != reg.repo {
                view.elsewhere.push(model);
            } else if model.status != Status::Planned || facts.files.contains_key(&model.file) {
                view.available.push(model);
            } else {
                view.planned.push(model);
            }
        }
        view
    }

    fn ggufs(&self) -> impl Iterator<Item = &'a Model> + '_ {
        self.available.iter().copied().filter(|m| m.kind.is_gguf())
    }

    fn adapters(&self) -> impl Iterator<Item = &'a Model> + '_ {
        self.available
            .iter()
            .copied()
            .filter(|m| m.kind == ArtifactKind::Adapter)
    }

    /// Size of one file: the registry's, else the uploader's.
    fn bytes(&self, path: &str, registry: Option<u64>) -> Option<u64> {
        registry.or_else(|| self.facts.get(path).and_then(|f| f.bytes))
    }

    /// sha256 of one file: the registry's, else the uploader's.
    fn sha256(&self, path: &str, registry: Option<&'a str>) -> Option<String> {
        registry
            .map(str::to_owned)
            .or_else(|| self.facts.get(path).and_then(|f| f.sha256.clone()))
    }

    /// Total size of every file of a model, when all are known.
    fn model_bytes(&self, model: &Model) -> Option<u64> {
        model
            .all_files()
            .map(|(path, bytes, _)| self.bytes(path, bytes))
            .sum()
    }

    fn context_length(&self, model: &Model) -> Option<u64> {
        model
            .context_length
            .or_else(|| self.facts.get(&model.file).and_then(|f| f.context_length))
    }

    /// Every path of every available model: what the repository holds for `compat`.
    fn repo_paths(&self) -> Vec<&'a str> {
        self.available
            .iter()
            .flat_map(|m| m.all_files().map(|(path, _, _)| path))
            .collect()
    }

    fn license(&self) -> Option<String> {
        if let Some(license) = &self.reg.catalog.license {
            return Some(license.clone());
        }
        let all: BTreeSet<&str> = self
            .available
            .iter()
            .filter_map(|m| m.license.as_deref())
            .collect();
        match all.len() {
            0 => None,
            1 => all.into_iter().next().map(str::to_owned),
            _ => Some("other".to_owned()),
        }
    }

    fn languages(&self) -> Vec<String> {
        let mut langs: BTreeSet<String> = self.reg.catalog.languages.iter().cloned().collect();
        for model in &self.available {
            langs.extend(model.languages.iter().cloned());
        }
        langs.into_iter().collect()
    }

    /// Upstream Hub ids of the available GGUF models, sorted.
    fn base_models(&self) -> Vec<String> {
        let set: BTreeSet<&str> = self
            .ggufs()
            .filter_map(|m| m.base_model.as_deref())
            .collect();
        set.into_iter().map(str::to_owned).collect()
    }

    fn architectures(&self) -> Vec<String> {
        let set: BTreeSet<&str> = self
            .ggufs()
            .filter_map(|m| m.architecture.as_deref())
            .collect();
        set.into_iter().map(str::to_owned).collect()
    }

    fn tags(&self) -> Vec<String> {
        let mut tags: Vec<String> = GGUF_TAGS.iter().map(|t| (*t).to_owned()).collect();
        tags.extend(self.architectures());
        let mut rest: BTreeSet<String> = self.reg.catalog.tags.iter().cloned().collect();
        for model in &self.available {
            rest.extend(model.tags.iter().cloned());
        }
        if self.adapters().next().is_some() {
            rest.extend(ADAPTER_TAGS.iter().map(|t| (*t).to_owned()));
        }
        for tag in rest {
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
        tags
    }

    fn title(&self) -> String {
        self.reg
            .catalog
            .title
            .clone()
            .unwrap_or_else(|| "RuvLTRA".to_owned())
    }

    /// The model the usage examples use: a published Q4_K_M single file when there is one.
    fn example(&self) -> Option<&'a Model> {
        let single = |m: &&Model| !m.extra_files.iter().any(|f| f.file.ends_with(".gguf"));
        let current = |m: &&Model| m.status != Status::Deprecated;
        let mut ggufs: Vec<&Model> = self.ggufs().filter(single).collect();
        if ggufs.is_empty() {
            ggufs = self.ggufs().collect();
        }
        ggufs
            .iter()
            .copied()
            .find(|m| current(m) && m.quant.eq_ignore_ascii_case("q4_k_m"))
            .or_else(|| ggufs.iter().copied().find(current))
            .or_else(|| ggufs.first().copied())
    }
}

fn name_of(model: &Model) -> String {
    model.name.clone().unwrap_or_else(|| model.id.clone())
}

/// The YAML front matter (between `---` lines, newline-terminated) of the registry's card,
/// from the registry alone (as `model_card` with `CardFacts::default()`).
pub fn front_matter(reg: &Registry) -> String {
    front_matter_of(&View::new(reg, &CardFacts::default()))
}

fn front_matter_of(view: &View<'_>) -> String {
    let mut out = String::from("---\n");
    if let Some(license) = view.license() {
        let extra = |key: &str| view.reg.catalog.extra.get(key).and_then(|v| v.as_str());
        // Only an id on the Hub's list goes in `license`: the Hub refuses any other.
        if ruvltra_vocab::is_hub_license(&license) && license != "other" {
            let _ = writeln!(out, "license: {}", yaml_scalar(&license));
        } else {
            // The Hub wants `license_name` (a slug) and `license_link` with `other`; the
            // catalog may give both as extra keys. An id the Hub does not know becomes the name.
            out.push_str("license: other\n");
            let name = match extra("license_name") {
                Some(name) => slug(name),
                None if license != "other" => slug(&license),
                None => slug(&view.title()),
            };
            let _ = writeln!(out, "license_name: {}", yaml_scalar(&name));
            if let Some(link) = extra("license_link") {
                let _ = writeln!(out, "license_link: {}", yaml_scalar(link));
            }
        }
    }
    list(&mut out, "language", &view.languages());
    out.push_str("library_name: gguf\npipeline_tag: text-generation\n");
    let bases = view.base_models();
    match bases.as_slice() {
        [] => {}
        [one] => {
            let _ = writeln!(out, "base_model: {}", yaml_scalar(one));
        }
        many => list(&mut out, "base_model", many),
    }
    if !bases.is_empty() {
        out.push_str("base_model_relation: quantized\n");
    }
    list(&mut out, "tags", &view.tags());
    out.push_str("---\n");
    out
}

fn list(out: &mut String, key: &str, items: &[String]) {
    if items.is_empty() {
        return;
    }
    let _ = writeln!(out, "{key}:");
    for item in items {
        let _ = writeln!(out, "- {}", yaml_scalar(item));
    }
}

/// `license_name` must be a lowercase slug.
fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_owned()
}

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

fn capabilities(out: &mut String, view: &View<'_>) {
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

fn models_table(out: &mut String, view: &View<'_>) {
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

fn group_digits(n: u64) -> String {
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

fn files_table(out: &mut String, view: &View<'_>) {
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

fn hardware_table(out: &mut String, view: &View<'_>) {
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

fn usage(out: &mut String, view: &View<'_>, reach: &BTreeMap<String, FileReach>) {
    let Some(example) = view.example() else {
        return;
    };
    let repo = &view.reg.repo;
    let revision = example.revision(view.reg);
    let file = &example.file;
    let constant = const_name(&example.id);
    let split = example
        .extra_files
        .iter()
        .any(|f| f.file.ends_with(".gguf"));

    out.push_str("\n## Usage\n\n");
    let _ = writeln!(
        out,
        "The examples use `{file}`; the table at the end of this section gives the commands for every file."
    );

    out.push_str("\n### Rust (`ruvllm`)\n\n```rust\nuse ruvllm::hub::registry;\n\n");
    out.push_str("// Downloads the file into the Hugging Face cache (or reuses it) and checks its size and sha256.\n");
    let _ = writeln!(
        out,
        "let path = ruvllm::hub::download(&registry::{constant})?;\n```"
    );

    let rev_arg = if revision == "main" {
        String::new()
    } else {
        format!(", revision={}", py_str(revision))
    };
    out.push_str("\n### Python\n\n```python\n");
    if split {
        let stem = file.trim_end_matches(".gguf");
        let prefix = stem
            .get(..stem.len().saturating_sub("-00001-of-00002".len()))
            .unwrap_or(stem);
        let _ = writeln!(
            out,
            "from huggingface_hub import snapshot_download\n\n# A split model: fetch every shard; llama.cpp loads the rest from the first.\nfolder = snapshot_download(repo_id={}, allow_patterns=[{}]{rev_arg})",
            py_str(repo),
            py_str(&format!("{prefix}-*.gguf"))
        );
    } else {
        let _ = writeln!(
            out,
            "from huggingface_hub import hf_hub_download\n\npath = hf_hub_download(repo_id={}, filename={}{rev_arg})",
            py_str(repo),
            py_str(file)
        );
    }
    out.push_str("```\n\nWith [llama-cpp-python](https://github.com/abetlen/llama-cpp-python):\n\n```python\nfrom llama_cpp import Llama\n\n");
    let _ = writeln!(
        out,
        "llm = Llama.from_pretrained(repo_id={}, filename={})\nprint(llm.create_chat_completion(messages=[{{\"role\": \"user\", \"content\": \"Write a Rust function that reverses a string.\"}}]))\n```",
        py_str(repo),
        py_str(file)
    );

    out.push_str(
        "\n### Command line\n\n[llama.cpp](https://github.com/ggml-org/llama.cpp):\n\n```sh\n",
    );
    let _ = writeln!(
        out,
        "llama-cli --hf-repo {repo} --hf-file {file} -p \"Write a Rust function that reverses a string.\"\n```"
    );
    out.push_str("\n[Ollama](https://ollama.com):\n\n```sh\n");
    match reach.get(file.as_str()).and_then(FileReach::ollama_tag) {
        Some(tag) => {
            let _ = writeln!(out, "ollama run hf.co/{repo}:{tag}\n```");
        }
        None => {
            let mf = modelfile_path(example);
            let _ = writeln!(
                out,
                "# No hf.co tag reaches exactly this file, so use its Modelfile from the repository.\nhf download {repo} {file} {mf} --local-dir ruvltra\nollama create {id} -f ruvltra/{mf}\nollama run {id}\n```",
                id = example.id
            );
        }
    }

    out.push_str("\n### Commands for every file\n\n");
    out.push_str("Each command reaches exactly the file of its row. A tag is shown only when it matches that file alone; otherwise use `--hf-file` or the file's Modelfile.\n\n");
    out.push_str("| File | `ruvllm` constant | llama.cpp | Ollama |\n|---|---|---|---|\n");
    for model in view.ggufs() {
        let Some(r) = reach.get(model.file.as_str()) else {
            continue;
        };
        let llama = match r.llama_tag() {
            Some(tag) => format!("`llama-cli -hf {repo}:{tag}`"),
            None => format!("`llama-cli --hf-repo {repo} --hf-file {}`", model.file),
        };
        let ollama = match r.ollama_tag() {
            Some(tag) => format!("`ollama run hf.co/{repo}:{tag}`"),
            None => format!("Modelfile: `{}`", modelfile_path(model)),
        };
        let _ = writeln!(
            out,
            "| `{}` | `registry::{}` | {} | {} |",
            model.file,
            const_name(&model.id),
            cell(&llama),
            cell(&ollama)
        );
    }
    let ambiguous = compat::ambiguous_tags(&view.repo_paths());
    if !ambiguous.is_empty() {
        out.push_str("\nTags that match several files (the tools take the first one listed):\n\n");
        for a in ambiguous {
            let _ = writeln!(
                out,
                "- `:{}` matches {}",
                a.tag,
                a.files
                    .iter()
                    .map(|f| format!("`{f}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
}

/// A Python string literal (JSON's escaping is valid Python).
fn py_str(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

fn benchmarks(out: &mut String, view: &View<'_>) {
    let rows: Vec<(&Model, &ruvltra_registry::Benchmark)> = view
        .available
        .iter()
        .flat_map(|m| m.benchmarks.iter().map(move |b| (*m, b)))
        .collect();
    if rows.is_empty() {
        return;
    }
    out.push_str(
        "\n## Benchmarks\n\n| Model | Benchmark | Result | Hardware |\n|---|---|---|---|\n",
    );
    for (model, b) in rows {
        let value = match &b.unit {
            Some(unit) if unit == "%" => format!("{}%", number(b.value)),
            Some(unit) => format!("{} {}", number(b.value), unit),
            None => number(b.value),
        };
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} |",
            model.id,
            cell(&b.name),
            cell(&value),
            cell(b.hardware.as_deref().unwrap_or("–"))
        );
    }
}

fn adapters(out: &mut String, view: &View<'_>) {
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

fn planned(out: &mut String, view: &View<'_>) {
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

fn elsewhere(out: &mut String, view: &View<'_>) {
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

/// The `license_name` among a catalog's or a model's extra keys.
fn license_name_in(extra: &BTreeMap<String, serde_json::Value>) -> Option<&str> {
    extra.get("license_name").and_then(|v| v.as_str())
}

fn licence(out: &mut String, view: &View<'_>) {
    out.push_str("\n## Licence\n\n");
    match view.license() {
        Some(id) => match license_name(&id) {
            Some((name, link)) => {
                let _ = writeln!(out, "Released under the [{name}]({link}) (`{id}`).");
            }
            None => {
                let extra = |key: &str| view.reg.catalog.extra.get(key).and_then(|v| v.as_str());
                let name = extra("license_name").unwrap_or(&id);
                match extra("license_link") {
                    Some(link) => {
                        let _ = writeln!(out, "Released under the licence [`{name}`]({link}).");
                    }
                    None => {
                        let _ = writeln!(out, "Released under the licence `{name}`.");
                    }
                }
            }
        },
        None => out.push_str("No licence is declared in the registry yet.\n"),
    }
    let differing: Vec<&Model> = view
        .available
        .iter()
        .copied()
        .filter(|m| {
            // Two `other` licences differ by their `license_name`.
            m.license.as_ref().is_some_and(|l| {
                Some(l) != view.reg.catalog.license.as_ref()
                    || (l == "other"
                        && license_name_in(&m.extra) != license_name_in(&view.reg.catalog.extra))
            })
        })
        .collect();
    if view.reg.catalog.license.is_some() {
        for model in differing {
            // A model under `other` names its licence with its own `license_name` and
            // `license_link`, as the catalog does.
            let extra = |key: &str| model.extra.get(key).and_then(|v| v.as_str());
            let license = model.license.as_deref().unwrap_or_default();
            let name = match extra("license_name") {
                Some(name) if license == "other" => name,
                _ => license,
            };
            match extra("license_link").filter(|_| license == "other") {
                Some(link) => {
                    let _ = writeln!(
                        out,
                        "\n`{}` is under its own licence, [`{name}`]({link}).",
                        model.id
                    );
                }
                None => {
                    let _ = writeln!(out, "\n`{}` is under its own licence, `{name}`.", model.id);
                }
            }
        }
    }
    let bases = view.base_models();
    if !bases.is_empty() {
        let _ = writeln!(
            out,
            "\nDerived from {}; {} and terms apply as well.",
            bases
                .iter()
                .map(|b| format!("[{b}](https://huggingface.co/{b})"))
                .collect::<Vec<_>>()
                .join(", "),
            if bases.len() == 1 {
                "its licence"
            } else {
                "their licences"
            }
        );
    }
}

/// The ModelScope front matter: `license`, `language`, `tasks`, `frameworks`,
/// `base_model`, `tags` (GGUF-AND-ECOSYSTEM.md section 5).
pub fn modelscope_front_matter(reg: &Registry) -> String {
    modelscope_front_matter_of(&View::new(reg, &CardFacts::default()))
}

fn modelscope_front_matter_of(view: &View<'_>) -> String {
    let mut out = String::from("---\n");
    if let Some(license) = view.license() {
        let _ = writeln!(out, "license: {}", yaml_scalar(&license));
    }
    list(&mut out, "language", &view.languages());
    out.push_str("tasks:\n- text-generation\nframeworks:\n- gguf\n");
    list(&mut out, "base_model", &view.base_models());
    list(&mut out, "tags", &view.tags());
    out.push_str("---\n");
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
