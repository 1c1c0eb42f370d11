//! What a publisher needs to know about a model file, computed from its header.

use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::quant::{FILE_TYPE_KEY, QuantLabel, quant_label};
use crate::reader::{Header, read_header};
use crate::split::{SplitInfo, split_info, split_name};

/// The facts of a header that decide how a file is named, labelled and described.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// The format version.
    pub version: u32,
    /// `general.architecture`, e.g. `qwen2`.
    pub architecture: Option<String>,
    /// `general.name`.
    pub name: Option<String>,
    /// `general.size_label`, e.g. `494M`.
    pub size_label: Option<String>,
    /// The quant label and whether it was guessed.
    pub quant: Option<QuantLabel>,
    /// `general.file_type` as stored (any integer width).
    pub file_type: Option<u64>,
    /// `{architecture}.context_length` (any integer width).
    pub context_length: Option<u64>,
    /// Sum over tensors of the product of their dimensions (saturating).
    pub parameter_count: u64,
    /// Whether `tokenizer.chat_template` is present.
    pub has_chat_template: bool,
    /// `general.license`.
    pub license: Option<String>,
    /// Number of tensors in this file.
    pub tensor_count: u64,
    /// Number of metadata pairs in this file.
    pub kv_count: u64,
    /// Where the tensor data starts.
    pub data_offset: u64,
    /// The data alignment.
    pub alignment: u32,
    /// `split.no` / `split.count` when this file is a shard.
    pub split: Option<SplitInfo>,
}

impl Summary {
    /// Summarises a parsed header.
    pub fn from_header(header: &Header) -> Summary {
        let architecture = header.architecture().map(str::to_owned);
        let context_length = architecture
            .as_deref()
            .and_then(|arch| header.get_u64(&format!("{arch}.context_length")));
        let own = |key: &str| header.get_str(key).map(str::to_owned);
        Summary {
            version: header.version,
            name: own("general.name"),
            size_label: own("general.size_label"),
            quant: quant_label(header),
            file_type: header.get_u64(FILE_TYPE_KEY),
            context_length,
            parameter_count: header
                .tensors
                .iter()
                .fold(0u64, |acc, t| acc.saturating_add(t.n_elements())),
            has_chat_template: header.get("tokenizer.chat_template").is_some(),
            license: own("general.license"),
            tensor_count: header.tensor_count(),
            kv_count: header.kv_count(),
            data_offset: header.data_offset,
            alignment: header.alignment,
            split: split_info(header),
            architecture,
        }
    }
}

/// Reads the header that describes the model a file belongs to: the file itself, or shard
/// 00001 when the file is a later shard of a split model (only the first shard carries the
/// full metadata). Returns the path actually read with its header.
pub fn read_model_header(path: impl AsRef<Path>) -> Result<(PathBuf, Header)> {
    let path = path.as_ref();
    let target = match split_name(path) {
        Some(name) if name.no != 1 => name.first_shard,
        _ => path.to_path_buf(),
    };
    let header = read_header(&target)?;
    Ok((target, header))
}
