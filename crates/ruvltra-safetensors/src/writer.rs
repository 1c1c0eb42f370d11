//! A small writer of valid safetensors files (all data zero) and whole SONA export folders, for
//! tests and demos. Every file is written atomically: a temporary file in the same folder,
//! fsync, rename, fsync of the folder.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::Path;

use crate::adapter::{
    ADAPTER_CONFIG, ADAPTER_MODEL, AdapterSummary, PATTERNS, PREFERENCES, check_adapter_dir,
};
use crate::header::{METADATA_KEY, SafetensorsHeader, TensorInfo};
use crate::{Dtype, Result, SafetensorsError};

fn invalid(reason: impl Into<String>) -> SafetensorsError {
    SafetensorsError::InvalidWrite {
        reason: reason.into(),
    }
}

/// Lays out tensors as the reference writer does (larger dtypes first, then by name, so every
/// tensor is aligned to its element size), and returns the first `8 + N` bytes of the file (the
/// length and the JSON header, space-padded to a multiple of 8) and the header they describe.
/// The data section that follows is `header.data_len` bytes.
pub fn encode_header<S: AsRef<str>, V: AsRef<[u64]>>(
    tensors: &[(S, Dtype, V)],
    metadata: &BTreeMap<String, String>,
) -> Result<(Vec<u8>, SafetensorsHeader)> {
    let mut order: Vec<(&str, Dtype, &[u64])> = tensors
        .iter()
        .map(|(n, d, s)| (n.as_ref(), *d, s.as_ref()))
        .collect();
    let mut names = BTreeSet::new();
    for (name, _, _) in &order {
        if *name == METADATA_KEY {
            return Err(invalid(format!("{METADATA_KEY} cannot be a tensor name")));
        }
        if !names.insert(*name) {
            return Err(invalid(format!("the tensor name {name:?} is given twice")));
        }
    }
    order.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));

    let mut infos = Vec::with_capacity(order.len());
    let mut offset = 0u64;
    for (name, dtype, shape) in order {
        let bits = shape
            .iter()
            .try_fold(1u64, |acc, &d| acc.checked_mul(d))
            .and_then(|n| n.checked_mul(dtype.bits()))
            .ok_or_else(|| invalid(format!("tensor {name:?} of shape {shape:?} overflows")))?;
        if bits % 8 != 0 {
            return Err(invalid(format!(
                "tensor {name:?} of dtype {dtype} and shape {shape:?} is not a whole number of bytes"
            )));
        }
        let end = offset
            .checked_add(bits / 8)
            .ok_or_else(|| invalid("the data section overflows a u64"))?;
        infos.push(TensorInfo {
            name: name.to_owned(),
            dtype,
            shape: shape.to_vec(),
            data_offsets: (offset, end),
        });
        offset = end;
    }

    let mut json = String::from("{");
    let mut first = true;
    let mut push_key = |json: &mut String, key: &str| {
        if !first {
            json.push(',');
        }
        first = false;
        json.push_str(&serde_json::Value::from(key).to_string());
        json.push(':');
    };
    if !metadata.is_empty() {
        push_key(&mut json, METADATA_KEY);
        let map = serde_json::to_string(metadata)
            .map_err(|e| invalid(format!("the metadata does not serialize: {e}")))?;
        json.push_str(&map);
    }
    for t in &infos {
        push_key(&mut json, &t.name);
        let shape: Vec<String> = t.shape.iter().map(u64::to_string).collect();
        json.push_str(&format!(
            "{{\"dtype\":\"{}\",\"shape\":[{}],\"data_offsets\":[{},{}]}}",
            t.dtype,
            shape.join(","),
            t.data_offsets.0,
            t.data_offsets.1
        ));
    }
    json.push('}');
    while json.len() % 8 != 0 {
        json.push(' ');
    }
    let header_len = json.len() as u64;
    let mut bytes = Vec::with_capacity(8 + json.len());
    bytes.extend_from_slice(&header_len.to_le_bytes());
    bytes.extend_from_slice(json.as_bytes());
    let header = SafetensorsHeader {
        header_len,
        data_start: 8 + header_len,
        data_len: offset,
        tensors: infos,
        metadata: (!metadata.is_empty()).then(|| metadata.clone()),
    };
    Ok((bytes, header))
}

/// Writes a safetensors file whose tensors are all zero (the data is a sparse hole on file
/// systems that support it, so large shapes cost little disk). Returns the header written.
pub fn write_adapter_safetensors<S: AsRef<str>, V: AsRef<[u64]>>(
    path: impl AsRef<Path>,
    tensors: &[(S, Dtype, V)],
    metadata: &BTreeMap<String, String>,
) -> Result<SafetensorsHeader> {
    let (bytes, header) = encode_header(tensors, metadata)?;
    let file_len = header.file_len();
    write_atomically(path.as_ref(), |file| {
        let mut out = BufWriter::new(file);
        out.write_all(&bytes)?;
        out.flush()?;
        drop(out);
        file.set_len(file_len)
    })?;
    Ok(header)
}

/// Writes `path` atomically with [`atomic_file::write_with`]: `fill` writes a temporary file in
/// the same folder, which is fsynced, renamed over `path`, and the folder fsynced. On error the
/// temporary file is removed and `path` is untouched.
pub(crate) fn write_atomically(
    path: &Path,
    fill: impl FnOnce(&File) -> io::Result<()>,
) -> Result<()> {
    atomic_file::write_with(path, |file| fill(file)).map_err(|source| SafetensorsError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Hidden size of Qwen2.5-0.5B, the base of the RuvLTRA 0.5B models.
pub const SAMPLE_HIDDEN: u64 = 896;
/// Output size of Qwen2.5-0.5B's `v_proj` (2 key/value heads of 64).
pub const SAMPLE_KV_DIM: u64 = 128;
/// How many decoder layers the sample adapter wraps.
pub const SAMPLE_LAYERS: u64 = 2;

/// The tensors of the sample adapter: LoRA A and B of `q_proj` and `v_proj` of the first
/// [`SAMPLE_LAYERS`] layers, F32, with Qwen2.5-0.5B's shapes and PEFT's names.
pub fn sample_lora_tensors(rank: u64) -> Vec<(String, Dtype, Vec<u64>)> {
    let mut tensors = Vec::new();
    for layer in 0..SAMPLE_LAYERS {
        for (module, out) in [("q_proj", SAMPLE_HIDDEN), ("v_proj", SAMPLE_KV_DIM)] {
            let prefix = format!("base_model.model.model.layers.{layer}.self_attn.{module}");
            tensors.push((
                format!("{prefix}.lora_A.weight"),
                Dtype::F32,
                vec![rank, SAMPLE_HIDDEN],
            ));
            tensors.push((
                format!("{prefix}.lora_B.weight"),
                Dtype::F32,
                vec![out, rank],
            ));
        }
    }
    tensors
}

/// Creates (or replaces) a small, valid SONA export in `dir`: `adapter_model.safetensors` from
/// [`sample_lora_tensors`], a PEFT `adapter_config.json` for `base_model` (LoRA, rank `rank`,
/// alpha `2 * rank`, `q_proj`/`v_proj`), and a few records in `patterns.jsonl` and
/// `preferences.jsonl`. The folder is created if needed. Returns its [`check_adapter_dir`] summary,
/// so the result is known to pass the publisher's checks.
pub fn sample_sona_export(
    dir: impl AsRef<Path>,
    base_model: &str,
    rank: u64,
) -> Result<AdapterSummary> {
    let dir = dir.as_ref();
    if rank == 0 || rank > SAMPLE_HIDDEN {
        return Err(invalid(format!(
            "the rank must be between 1 and {SAMPLE_HIDDEN}, not {rank}"
        )));
    }
    if base_model.trim().is_empty() {
        return Err(invalid("the base model must not be empty"));
    }
    fs::create_dir_all(dir).map_err(|source| SafetensorsError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let metadata = BTreeMap::from([("format".to_owned(), "pt".to_owned())]);
    write_adapter_safetensors(
        dir.join(ADAPTER_MODEL),
        &sample_lora_tensors(rank),
        &metadata,
    )?;

    let config = serde_json::json!({
        "alpha_pattern": {},
        "base_model_name_or_path": base_model,
        "bias": "none",
        "fan_in_fan_out": false,
        "inference_mode": true,
        "init_lora_weights": true,
        "lora_alpha": 2 * rank,
        "lora_dropout": 0.0,
        "modules_to_save": null,
        "peft_type": "LORA",
        "r": rank,
        "rank_pattern": {},
        "revision": null,
        "target_modules": ["q_proj", "v_proj"],
        "task_type": "CAUSAL_LM",
        "use_dora": false,
        "use_rslora": false
    });
    let config = serde_json::to_string_pretty(&config)
        .map_err(|e| invalid(format!("the config does not serialize: {e}")))?
        + "\n";
    write_text(&dir.join(ADAPTER_CONFIG), &config)?;

    let patterns = [
        serde_json::json!({"id": "pattern-0001", "kind": "tool_use", "trigger": "cargo test fails", "action": "read the first error", "quality": 0.91, "uses": 12}),
        serde_json::json!({"id": "pattern-0002", "kind": "code_style", "trigger": "new rust module", "action": "open with a //! line", "quality": 0.84, "uses": 7}),
        serde_json::json!({"id": "pattern-0003", "kind": "reasoning", "trigger": "ambiguous request", "action": "ask one question", "quality": 0.77, "uses": 3}),
    ];
    write_text(&dir.join(PATTERNS), &jsonl(&patterns))?;
    let preferences = [
        serde_json::json!({"prompt": "Write a function that reads a file.", "chosen": "fn read(p: &Path) -> io::Result<String> { fs::read_to_string(p) }", "rejected": "fn read(p: &str) -> String { fs::read_to_string(p).unwrap() }", "score": 0.8}),
        serde_json::json!({"prompt": "Name a temporary file.", "chosen": "a hidden name in the same folder, renamed when complete", "rejected": "/tmp/out", "score": 0.6}),
    ];
    write_text(&dir.join(PREFERENCES), &jsonl(&preferences))?;
    check_adapter_dir(dir)
}

fn jsonl(records: &[serde_json::Value]) -> String {
    records.iter().map(|r| format!("{r}\n")).collect()
}

fn write_text(path: &Path, text: &str) -> Result<()> {
    write_atomically(path, |file| {
        let mut out = BufWriter::new(file);
        out.write_all(text.as_bytes())?;
        out.flush()
    })
}
