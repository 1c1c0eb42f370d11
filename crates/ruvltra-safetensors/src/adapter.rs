//! Checks of a SONA weight export (a PEFT LoRA adapter folder) before it is published: the
//! safetensors header, `adapter_config.json`, the two jsonl files, and that the LoRA weights
//! agree with the config.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::header::{Limits, SafetensorsHeader, read_header_with};
use crate::{Result, SafetensorsError};

/// The weights of the adapter.
pub const ADAPTER_MODEL: &str = "adapter_model.safetensors";
/// The PEFT config.
pub const ADAPTER_CONFIG: &str = "adapter_config.json";
/// SONA's learned patterns, one JSON object a line.
pub const PATTERNS: &str = "patterns.jsonl";
/// SONA's learned preferences, one JSON object a line.
pub const PREFERENCES: &str = "preferences.jsonl";

/// Every file a SONA export folder must hold, in the order they are checked.
pub const ADAPTER_FILES: [&str; 4] = [ADAPTER_MODEL, ADAPTER_CONFIG, PATTERNS, PREFERENCES];

/// Caps for the small files of an adapter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdapterLimits {
    /// Limits of the safetensors header.
    pub header: Limits,
    /// The largest `adapter_config.json` accepted, in bytes (PEFT writes about 1 KB).
    pub max_config_len: u64,
    /// The longest line of a jsonl file, in bytes, without its line ending.
    pub max_jsonl_line: u64,
}

impl Default for AdapterLimits {
    fn default() -> Self {
        AdapterLimits {
            header: Limits::default(),
            max_config_len: 1 << 20,
            max_jsonl_line: 1 << 20,
        }
    }
}

/// `target_modules` of a PEFT config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetModules {
    /// Module names, matched as the last components of a module path (`q_proj` matches
    /// `model.layers.0.self_attn.q_proj`).
    List(Vec<String>),
    /// One string: a regular expression over module paths, or PEFT's `all-linear`.
    Pattern(String),
}

/// The fields of a PEFT `adapter_config.json` that publishing relies on.
#[derive(Debug, Clone, PartialEq)]
pub struct AdapterConfig {
    /// Always `LORA` (other PEFT types are refused).
    pub peft_type: String,
    /// The base model the adapter applies to (a Hub repo id or a path).
    pub base_model_name_or_path: String,
    /// The LoRA rank.
    pub r: u64,
    /// The LoRA scaling numerator.
    pub lora_alpha: f64,
    /// The modules the adapter wraps.
    pub target_modules: TargetModules,
    /// PEFT's `task_type` (e.g. `CAUSAL_LM`), when present.
    pub task_type: Option<String>,
    /// Whether a non-empty `rank_pattern` gives some modules another rank than `r`.
    pub has_rank_pattern: bool,
}

/// What a jsonl file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct JsonlSummary {
    /// JSON objects (non-empty lines).
    pub records: u64,
    /// Lines, counting empty ones and a last line without a newline.
    pub lines: u64,
    /// Bytes of the file.
    pub bytes: u64,
}

/// A checked SONA export folder.
#[derive(Debug, Clone, PartialEq)]
pub struct AdapterSummary {
    /// The folder.
    pub dir: PathBuf,
    /// The PEFT config.
    pub config: AdapterConfig,
    /// The header of `adapter_model.safetensors`.
    pub header: SafetensorsHeader,
    /// `patterns.jsonl`.
    pub patterns: JsonlSummary,
    /// `preferences.jsonl`.
    pub preferences: JsonlSummary,
    /// Each file of [`ADAPTER_FILES`] with its size in bytes, in that order.
    pub files: Vec<(&'static str, u64)>,
}

/// Checks a PEFT `adapter_config.json`: a JSON object with `peft_type` `"LORA"`, a non-empty
/// `base_model_name_or_path`, an integer `r` > 0, a positive number `lora_alpha` and
/// `target_modules` as a non-empty list of names or one non-empty string. Every problem is
/// reported at once.
pub fn check_adapter_config(json: &[u8]) -> Result<AdapterConfig> {
    check_config_at(json, Path::new(ADAPTER_CONFIG))
}

fn check_config_at(json: &[u8], path: &Path) -> Result<AdapterConfig> {
    let not_object = |reason: String| SafetensorsError::AdapterConfigJson {
        path: path.to_path_buf(),
        reason,
    };
    let value: Value = serde_json::from_slice(json).map_err(|e| not_object(e.to_string()))?;
    let Value::Object(obj) = value else {
        return Err(not_object(format!("the top level is {}", kind(&value))));
    };
    let mut problems = Vec::new();
    let peft_type = match obj.get("peft_type") {
        Some(Value::String(s)) if s == "LORA" => s.clone(),
        Some(Value::String(s)) => {
            problems.push(format!(
                "peft_type is {s:?}, only \"LORA\" adapters can be published"
            ));
            s.clone()
        }
        other => {
            problems.push(missing("peft_type", "the string \"LORA\"", other));
            String::new()
        }
    };
    let base_model_name_or_path = match obj.get("base_model_name_or_path") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        other => {
            problems.push(missing(
                "base_model_name_or_path",
                "a non-empty string naming the base model",
                other,
            ));
            String::new()
        }
    };
    let r = match obj.get("r").and_then(Value::as_u64) {
        Some(r) if r > 0 => r,
        _ => {
            problems.push(missing("r", "an integer rank above 0", obj.get("r")));
            0
        }
    };
    let lora_alpha = match obj.get("lora_alpha").and_then(Value::as_f64) {
        Some(a) if a.is_finite() && a > 0.0 => a,
        _ => {
            problems.push(missing(
                "lora_alpha",
                "a number above 0",
                obj.get("lora_alpha"),
            ));
            0.0
        }
    };
    let target_modules = target_modules(&obj, &mut problems);
    let task_type = match obj.get("task_type") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            problems.push(format!(
                "task_type must be a string or null, found {}",
                kind(other)
            ));
            None
        }
    };
    let has_rank_pattern = match obj.get("rank_pattern") {
        None | Some(Value::Null) => false,
        Some(Value::Object(m)) => !m.is_empty(),
        Some(other) => {
            problems.push(format!(
                "rank_pattern must be an object, found {}",
                kind(other)
            ));
            false
        }
    };
    if !problems.is_empty() {
        return Err(SafetensorsError::AdapterConfig {
            path: path.to_path_buf(),
            problems,
        });
    }
    Ok(AdapterConfig {
        peft_type,
        base_model_name_or_path,
        r,
        lora_alpha,
        target_modules,
        task_type,
        has_rank_pattern,
    })
}

fn target_modules(obj: &Map<String, Value>, problems: &mut Vec<String>) -> TargetModules {
    const WANT: &str = "a non-empty list of module names or one non-empty string";
    match obj.get("target_modules") {
        Some(Value::String(s)) if !s.is_empty() => TargetModules::Pattern(s.clone()),
        Some(Value::Array(items)) if !items.is_empty() => {
            let mut names = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                match item {
                    Value::String(s) if !s.is_empty() => names.push(s.clone()),
                    other => problems.push(format!(
                        "target_modules[{i}] must be a non-empty string, found {}",
                        kind(other)
                    )),
                }
            }
            TargetModules::List(names)
        }
        other => {
            problems.push(missing("target_modules", WANT, other));
            TargetModules::List(Vec::new())
        }
    }
}

fn missing(field: &str, want: &str, found: Option<&Value>) -> String {
    match found {
        None => format!("{field} is missing, it must be {want}"),
        Some(v) => format!("{field} must be {want}, found {}", kind_and_value(v)),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn kind_and_value(v: &Value) -> String {
    match v {
        Value::Number(_) | Value::Bool(_) => format!("{} ({v})", kind(v)),
        Value::String(s) if s.len() <= 64 => format!("the string {s:?}"),
        _ => kind(v).to_owned(),
    }
}

/// Checks a jsonl file: every non-empty line (after trimming whitespace) is one JSON object, and
/// no line is longer than `max_line` bytes.
pub fn check_jsonl(path: impl AsRef<Path>, max_line: u64) -> Result<JsonlSummary> {
    let path = path.as_ref();
    let file = File::open(path).map_err(|source| SafetensorsError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    check_jsonl_from(BufReader::new(file), path, max_line)
}

/// Checks jsonl text from a reader; `path` only names the source in errors.
pub fn check_jsonl_from<R: BufRead>(
    mut reader: R,
    path: &Path,
    max_line: u64,
) -> Result<JsonlSummary> {
    let mut summary = JsonlSummary::default();
    let mut line = Vec::new();
    loop {
        line.clear();
        // Two bytes more than the cap leave room for a "\r\n" ending, so a line is only refused
        // when its content is too long.
        let n = (&mut reader)
            .take(max_line.saturating_add(2))
            .read_until(b'\n', &mut line)
            .map_err(|source| {
                in_file(
                    path,
                    SafetensorsError::Read {
                        offset: summary.bytes,
                        source,
                    },
                )
            })?;
        if n == 0 {
            break;
        }
        summary.bytes += n as u64;
        summary.lines += 1;
        let mut content = line.as_slice();
        if let Some(rest) = content.strip_suffix(b"\n") {
            content = rest.strip_suffix(b"\r").unwrap_or(rest);
        }
        if content.len() as u64 > max_line {
            return Err(SafetensorsError::JsonlLineTooLong {
                path: path.to_path_buf(),
                line: summary.lines,
                max: max_line,
            });
        }
        if content.trim_ascii().is_empty() {
            continue;
        }
        let bad = |reason: String| SafetensorsError::JsonlLine {
            path: path.to_path_buf(),
            line: summary.lines,
            reason,
        };
        match serde_json::from_slice::<Value>(content) {
            Ok(Value::Object(_)) => summary.records += 1,
            Ok(other) => return Err(bad(format!("found {}, not an object", kind(&other)))),
            Err(e) => return Err(bad(format!("not valid json ({e})"))),
        }
    }
    Ok(summary)
}

/// Checks a SONA export folder with the default [`AdapterLimits`]; see [`check_adapter_dir_with`].
pub fn check_adapter_dir(dir: impl AsRef<Path>) -> Result<AdapterSummary> {
    check_adapter_dir_with(dir, &AdapterLimits::default())
}

/// Checks a SONA export folder: the four files of [`ADAPTER_FILES`] exist as regular files, the
/// safetensors header is valid ([`crate::read_header`]), the config is a PEFT LoRA config
/// ([`check_adapter_config`]), both jsonl files hold only objects ([`check_jsonl`]), and the
/// weights agree with the config ([`check_weights_match_config`]).
pub fn check_adapter_dir_with(
    dir: impl AsRef<Path>,
    limits: &AdapterLimits,
) -> Result<AdapterSummary> {
    let dir = dir.as_ref();
    let mut files = Vec::with_capacity(ADAPTER_FILES.len());
    for name in ADAPTER_FILES {
        let path = dir.join(name);
        match std::fs::metadata(&path) {
            Ok(m) if m.is_file() => files.push((name, m.len())),
            _ => return Err(SafetensorsError::MissingFile { path }),
        }
    }
    let model_path = dir.join(ADAPTER_MODEL);
    let header = read_header_with(&model_path, &limits.header)?;

    let config_path = dir.join(ADAPTER_CONFIG);
    let config_bytes = read_small(&config_path, limits.max_config_len)?;
    let config = check_config_at(&config_bytes, &config_path)?;

    let patterns = check_jsonl(dir.join(PATTERNS), limits.max_jsonl_line)?;
    let preferences = check_jsonl(dir.join(PREFERENCES), limits.max_jsonl_line)?;

    let problems = check_weights_match_config(&header, &config);
    if !problems.is_empty() {
        return Err(SafetensorsError::AdapterMismatch {
            path: model_path,
            problems,
        });
    }
    Ok(AdapterSummary {
        dir: dir.to_path_buf(),
        config,
        header,
        patterns,
        preferences,
        files,
    })
}

/// `err` wrapped with the file it happened in, for errors that do not name it themselves.
fn in_file(path: &Path, err: SafetensorsError) -> SafetensorsError {
    SafetensorsError::InFile {
        path: path.to_path_buf(),
        inner: Box::new(err),
    }
}

/// Reads a file of at most `max` bytes.
fn read_small(path: &Path, max: u64) -> Result<Vec<u8>> {
    let open = |source| SafetensorsError::Open {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(open)?;
    let mut bytes = Vec::new();
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|source| in_file(path, SafetensorsError::Read { offset: 0, source }))?;
    if bytes.len() as u64 > max {
        let len = std::fs::metadata(path).map_or(bytes.len() as u64, |m| m.len());
        return Err(SafetensorsError::FileTooLarge {
            path: path.to_path_buf(),
            len,
            max,
        });
    }
    Ok(bytes)
}

/// Which of the two LoRA matrices a tensor is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum LoraHalf {
    /// `lora_A`, shape `[r, in]`.
    A,
    /// `lora_B`, shape `[out, r]`.
    B,
}

/// Where `.lora_A.` / `.lora_B.` sits in a PEFT tensor name, and which of the two it is.
fn lora_part(name: &str) -> Option<(usize, LoraHalf)> {
    if let Some(i) = name.find(".lora_A.") {
        return Some((i, LoraHalf::A));
    }
    name.find(".lora_B.").map(|i| (i, LoraHalf::B))
}

/// Compares LoRA weights with their config and returns every disagreement (empty when they agree):
/// there is at least one `lora_A`/`lora_B` pair; every `lora_A` has its `lora_B` and the
/// reverse; both are 2-D with the rank `r` as `lora_A`'s first and `lora_B`'s second dimension
/// (unless the config has a `rank_pattern`); and, when `target_modules` is a list, every wrapped
/// module ends with one of its names.
pub fn check_weights_match_config(
    header: &SafetensorsHeader,
    config: &AdapterConfig,
) -> Vec<String> {
    let mut problems = Vec::new();
    let names: BTreeSet<&str> = header.tensors.iter().map(|t| t.name.as_str()).collect();
    let mut pairs = 0u64;
    for t in &header.tensors {
        let Some((at, which)) = lora_part(&t.name) else {
            continue;
        };
        let (other, rank_dim) = match which {
            LoraHalf::A => (t.name.replacen(".lora_A.", ".lora_B.", 1), 0),
            LoraHalf::B => (t.name.replacen(".lora_B.", ".lora_A.", 1), 1),
        };
        if !names.contains(other.as_str()) {
            problems.push(format!("{:?} has no matching {other:?}", t.name));
        } else if which == LoraHalf::A {
            pairs += 1;
        }
        if t.shape.len() != 2 {
            problems.push(format!(
                "{:?} has shape {:?}, a LoRA matrix must be 2-D",
                t.name, t.shape
            ));
        } else if !config.has_rank_pattern && t.shape[rank_dim] != config.r {
            problems.push(format!(
                "{:?} has shape {:?}, whose rank dimension is not r = {}",
                t.name, t.shape, config.r
            ));
        }
        if let crate::TargetModules::List(targets) = &config.target_modules {
            let module = &t.name[..at];
            let targeted = targets
                .iter()
                .any(|m| module == m || module.ends_with(&format!(".{m}")));
            if !targeted {
                problems.push(format!(
                    "{:?} wraps module {module:?}, which is not in target_modules {targets:?}",
                    t.name
                ));
            }
        }
    }
    if pairs == 0 {
        problems.push(
            "no LoRA weights: expected tensors named like \
             base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight and its lora_B"
                .to_owned(),
        );
    }
    problems
}
