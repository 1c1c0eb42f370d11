//! The usage section: how to load a model from Rust, Python and the command line, with the
//! routes llama.cpp and Ollama can take to each file.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::view::View;
use crate::compat::{self, FileReach};
use crate::modelfile::modelfile_path;
use crate::text::{cell, const_name};

pub(super) fn usage(out: &mut String, view: &View<'_>, reach: &BTreeMap<String, FileReach>) {
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
pub(super) fn py_str(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}
