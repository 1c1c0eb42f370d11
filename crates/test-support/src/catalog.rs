//! Sample catalogs as `registry.json` values, written the way the test suites need them: one
//! catalog header and one model shape, built here instead of as literals in every suite. They
//! are JSON (not `ruvltra_registry` types) so that every crate, the registry's own included,
//! can use them; parse them with `ruvltra_registry::parse` where types are wanted.

use serde_json::{Value, json};

/// The id the naming convention gives: `ruvltra-{variant}-{size}-{quant}`.
pub fn model_id(variant: &str, size: &str, quant: &str) -> String {
    format!("ruvltra-{variant}-{size}-{quant}")
}

/// A model with only what the naming convention needs: id, file, quant, size and variant.
pub fn bare_model(variant: &str, size: &str, quant: &str) -> Value {
    let id = model_id(variant, size, quant);
    json!({
        "id": id,
        "file": format!("{id}.gguf"),
        "quant": quant,
        "size": size,
        "variant": variant,
    })
}

/// A published GGUF model as the card needs it: [`bare_model`] plus a name, a description,
/// the `qwen2` architecture, its context length, base model and RAM need; no size or sha256
/// (sync and publish fill those).
pub fn model(variant: &str, size: &str, quant: &str) -> Value {
    let mut model = bare_model(variant, size, quant);
    let fields = json!({
        "name": format!("RuvLTRA {variant} {size} {}", quant.to_ascii_uppercase()),
        "description": "A test model.",
        "architecture": "qwen2",
        "context_length": 32768,
        "base_model": "Qwen/Qwen2.5-0.5B-Instruct",
        "hardware": { "min_ram_mib": 1024 }
    });
    let (Value::Object(model_fields), Value::Object(more)) = (&mut model, fields) else {
        unreachable!("both are JSON objects");
    };
    model_fields.extend(more);
    model
}

/// A valid registry of `models` in `repo` on `main`, with the test catalog's title,
/// description, license, languages and tags.
pub fn registry(repo: &str, models: Vec<Value>) -> Value {
    json!({
        "schema_version": 1,
        "repo": repo,
        "revision": "main",
        "catalog": {
            "title": "RuvLTRA",
            "description": "Test catalog.",
            "license": "apache-2.0",
            "languages": ["en"],
            "tags": ["ruvltra", "gguf"]
        },
        "models": models
    })
}
