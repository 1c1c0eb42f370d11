//! Ollama Modelfiles, one per GGUF model, published at `ollama/<id>/Modelfile` in the
//! repository so that `ollama create` gets the right template, stop strings and parameters
//! for files no `hf.co/...:TAG` reaches unambiguously.
//!
//! The `FROM` line is relative to the Modelfile (Ollama resolves relative paths from the
//! Modelfile's folder), and the Modelfile sits two folders below the repository root, so it
//! reads `FROM ../../<file>`: after `hf download ruv/ruvltra <file> ollama/<id>/Modelfile
//! --local-dir ruvltra`, `ollama create <id> -f ruvltra/ollama/<id>/Modelfile` finds the GGUF.

use ruvltra_registry::{Model, Registry};

use crate::CardError;
use crate::text::{is_license_id, license_name};

/// The folder of the repository holding the Modelfiles.
pub const OLLAMA_DIR: &str = "ollama";

/// Context length used when neither the registry nor the file says (Ollama's own default is
/// smaller, 2048, which truncates most coding sessions).
pub const DEFAULT_NUM_CTX: u64 = 4096;

/// The ChatML template of Qwen2 models, in Ollama's Go template syntax (the `ChatML`
/// example of Ollama's `docs/template.md`; the system prompt reaches it as a message).
pub const CHATML_TEMPLATE: &str = "{{- range .Messages }}<|im_start|>{{ .Role }}
{{ .Content }}<|im_end|>
{{ end }}<|im_start|>assistant
";

/// Architectures whose models speak ChatML.
const CHATML_ARCHITECTURES: &[&str] = &["qwen2", "qwen2moe", "qwen2vl", "qwen3", "qwen3moe"];

/// Where the Modelfile of `model` is published: `ollama/<id>/Modelfile`.
pub fn modelfile_path(model: &Model) -> String {
    format!("{OLLAMA_DIR}/{}/Modelfile", model.id)
}

/// The Ollama Modelfile of GGUF model `model_id`.
///
/// Sampling parameters are Qwen2.5's recommended generation settings (its
/// `generation_config.json`: temperature 0.7, top_p 0.8, top_k 20, repetition penalty
/// 1.05). The system prompt is the registry's `system_prompt` key of the model, else of the
/// catalog, else one built from the model's name and description. For an architecture
/// other than Qwen2's family no TEMPLATE is written: Ollama then uses the chat template
/// embedded in the GGUF.
pub fn modelfile(reg: &Registry, model_id: &str) -> Result<String, CardError> {
    let model = reg
        .models
        .iter()
        .find(|m| m.id == model_id)
        .ok_or_else(|| CardError::UnknownModel(model_id.to_owned()))?;
    if !model.kind.is_gguf() {
        return Err(CardError::NotGguf {
            id: model.id.clone(),
            kind: model.kind.as_str().to_owned(),
        });
    }

    let name = model.name.clone().unwrap_or_else(|| model.id.clone());
    let mut out = String::new();
    out.push_str(&format!(
        "# Ollama Modelfile of {name} (`{}`), generated from registry.json; do not edit.\n",
        model.id
    ));
    out.push_str(&format!(
        "# Build it next to the GGUF as laid out in the repository:\n#   ollama create {} -f {}\n",
        model.id,
        modelfile_path(model)
    ));
    if model.extra_files.iter().any(|f| f.file.ends_with(".gguf")) {
        out.push_str(
            "# This model is a split GGUF: Ollama loads single files only, so merge the shards\n\
             # first (llama-gguf-split --merge) and point FROM at the merged file.\n",
        );
    }
    out.push_str(&format!("FROM ../../{}\n", model.file));

    let arch = model.architecture.as_deref().unwrap_or("");
    if CHATML_ARCHITECTURES.contains(&arch) {
        out.push_str(&format!("\nTEMPLATE \"\"\"{CHATML_TEMPLATE}\"\"\"\n"));
        out.push_str("PARAMETER stop \"<|im_start|>\"\nPARAMETER stop \"<|im_end|>\"\n");
    } else {
        out.push_str(&format!(
            "\n# Architecture `{}`: no TEMPLATE, Ollama uses the chat template embedded in the GGUF.\n",
            if arch.is_empty() { "unknown" } else { arch }
        ));
    }

    let num_ctx = model.context_length.unwrap_or(DEFAULT_NUM_CTX);
    out.push_str(&format!(
        "PARAMETER num_ctx {num_ctx}\n\
         PARAMETER temperature 0.7\n\
         PARAMETER top_p 0.8\n\
         PARAMETER top_k 20\n\
         PARAMETER repeat_penalty 1.05\n"
    ));

    let system = system_prompt(reg, model, &name);
    out.push_str(&format!(
        "\nSYSTEM \"\"\"{}\"\"\"\n",
        checked(&system, model, "system prompt")?
    ));

    let license = model.license.as_deref().or(reg.catalog.license.as_deref());
    if let Some(license) = license {
        let extra = |key: &str| reg.catalog.extra.get(key).and_then(|v| v.as_str());
        let text = match (license_name(license), license) {
            (Some((full, link)), _) => format!("{full} ({license}): {link}"),
            // A custom licence: the catalog's `license_name` and `license_link` say which.
            (None, "other") => match (extra("license_name"), extra("license_link")) {
                (Some(name), Some(link)) => format!("{name}: {link}"),
                (Some(name), None) => name.to_owned(),
                (None, Some(link)) => format!("Custom licence: {link}"),
                (None, None) => "Custom licence (see the model card)".to_owned(),
            },
            (None, _) if is_license_id(license) => format!("Licence `{license}`"),
            (None, _) => license.to_owned(),
        };
        out.push_str(&format!(
            "\nLICENSE \"\"\"{}\"\"\"\n",
            checked(&text, model, "licence")?
        ));
    }
    Ok(out)
}

fn system_prompt(reg: &Registry, model: &Model, name: &str) -> String {
    let key = |extra: &std::collections::BTreeMap<String, serde_json::Value>| {
        extra
            .get("system_prompt")
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    if let Some(prompt) = key(&model.extra).or_else(|| key(&reg.catalog.extra)) {
        return prompt;
    }
    // Registry descriptions are written for the card ("planned, not published yet"); only
    // their first sentence, which says what the model is, belongs in a system prompt.
    match model.description.as_deref().map(first_sentence) {
        Some(sentence) if !sentence.is_empty() => {
            format!("You are {name}, a helpful assistant. {sentence}")
        }
        _ => format!("You are {name}, a helpful assistant."),
    }
}

/// Text up to and including the first `.` that ends the text or is followed by white space.
fn first_sentence(text: &str) -> &str {
    let text = text.trim();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '.' && chars.peek().is_none_or(|&(_, next)| next.is_whitespace()) {
            return &text[..=i];
        }
    }
    text
}

fn checked<'a>(text: &'a str, model: &Model, what: &'static str) -> Result<&'a str, CardError> {
    if text.contains("\"\"\"") || text.ends_with('"') {
        return Err(CardError::Unrepresentable {
            id: model.id.clone(),
            what,
        });
    }
    Ok(text)
}
