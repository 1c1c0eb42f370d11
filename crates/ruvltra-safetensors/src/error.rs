//! The one error type of this crate: every way a safetensors file, a PEFT adapter config, a
//! jsonl file or an adapter folder (or a request to write one) can be wrong.

use std::io;
use std::path::PathBuf;

/// Everything that can go wrong reading, checking or writing safetensors files and adapters.
///
/// Byte offsets named `offset` are positions from the start of the file; tensor `data_offsets`
/// are relative to the start of the data section, as in the format itself.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SafetensorsError {
    /// A file could not be opened or its length read.
    #[error("cannot open {path}: {source}; check the path and its permissions")]
    Open {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        source: io::Error,
    },
    /// The underlying reader failed for a reason other than end of file.
    #[error("read error at byte {offset}: {source}; check the disk or the source of the stream")]
    Read {
        /// Where the failed read started.
        offset: u64,
        /// The operating system's reason.
        source: io::Error,
    },
    /// Writing a file failed.
    #[error("cannot write {path}: {source}; check free space and permissions")]
    Write {
        /// The file being written (its final name).
        path: PathBuf,
        /// The operating system's reason.
        source: io::Error,
    },
    /// A problem of the file at `path` (any variant below, read through [`crate::read_header`],
    /// or a read error of [`crate::check_adapter_dir`] or [`crate::check_jsonl`]);
    /// [`SafetensorsError::root`] gives it.
    #[error("{path}: {inner}")]
    InFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        inner: Box<SafetensorsError>,
    },
    /// The input ended inside the 8-byte length or the JSON header.
    #[error(
        "file is truncated: {what} at byte {offset} needs {needed} bytes but the input ended; the download or copy is incomplete"
    )]
    Truncated {
        /// Where the incomplete field starts.
        offset: u64,
        /// Which field was being read.
        what: &'static str,
        /// How many bytes the field needs.
        needed: u64,
    },
    /// The 8-byte header length is over the cap of [`crate::Limits::max_header_len`].
    #[error(
        "the json header claims {len} bytes, over the limit of {max}; the file is corrupt or not safetensors, or raise Limits::max_header_len if it is genuine"
    )]
    HeaderTooLarge {
        /// The length found in the first 8 bytes.
        len: u64,
        /// The cap.
        max: u64,
    },
    /// The 8-byte header length points past the end of the file.
    #[error(
        "the json header claims {len} bytes but the file has only {available} after the 8-byte length; the file is truncated or not safetensors"
    )]
    HeaderBeyondFile {
        /// The length found in the first 8 bytes.
        len: u64,
        /// `file_len - 8`.
        available: u64,
    },
    /// The JSON header is empty or does not start with `{` (the format requires it).
    #[error(
        "the json header must start with '{{' but starts with {found}; the file is corrupt or not safetensors"
    )]
    HeaderStart {
        /// A description of the first byte (or that the header is empty).
        found: String,
    },
    /// The JSON header is not UTF-8.
    #[error("the json header is not valid utf-8 at byte {offset}; the file is corrupt")]
    HeaderNotUtf8 {
        /// The file offset of the first invalid byte.
        offset: u64,
    },
    /// The JSON header does not parse, or has the wrong shape (e.g. a shape that is not a list of
    /// non-negative integers, or `__metadata__` values that are not strings).
    #[error(
        "the json header is invalid: {source}; the file is corrupt or was written by a broken tool"
    )]
    HeaderJson {
        /// The parser's reason, with line and column inside the header.
        source: serde_json::Error,
    },
    /// The same key twice in the header (the format forbids duplicate keys).
    #[error(
        "the json header has the key {key:?} twice; duplicate keys are forbidden, re-export the file"
    )]
    DuplicateKey {
        /// The repeated key.
        key: String,
    },
    /// More tensors than [`crate::Limits::max_tensors`].
    #[error(
        "the header lists {count} tensors, over the limit of {max}; raise Limits::max_tensors if the file is genuine"
    )]
    TooManyTensors {
        /// The number of tensors.
        count: u64,
        /// The cap.
        max: u64,
    },
    /// A dtype the format does not define.
    #[error(
        "tensor {tensor:?} has unknown dtype {dtype:?}; safetensors defines {known}, re-export the file with one of them",
        known = crate::Dtype::ALL_NAMES
    )]
    UnknownDtype {
        /// The tensor name.
        tensor: String,
        /// The dtype string found.
        dtype: String,
    },
    /// More dimensions than [`crate::Limits::max_dims`].
    #[error(
        "tensor {tensor:?} has {dims} dimensions, over the limit of {max}; the file is corrupt, or raise Limits::max_dims"
    )]
    TooManyDims {
        /// The tensor name.
        tensor: String,
        /// The number of dimensions.
        dims: u64,
        /// The cap.
        max: u64,
    },
    /// The element count or the byte size of a tensor overflows a u64.
    #[error(
        "tensor {tensor:?} has shape {shape:?} whose size in bytes overflows a 64-bit integer; the file is corrupt or hostile"
    )]
    ShapeOverflow {
        /// The tensor name.
        tensor: String,
        /// The shape.
        shape: Vec<u64>,
    },
    /// A sub-byte dtype (F4, F6_*) whose tensor does not fill a whole number of bytes.
    #[error(
        "tensor {tensor:?} of dtype {dtype} and shape {shape:?} is {bits} bits, not a whole number of bytes; the file is corrupt"
    )]
    NotWholeBytes {
        /// The tensor name.
        tensor: String,
        /// The dtype.
        dtype: crate::Dtype,
        /// The shape.
        shape: Vec<u64>,
        /// The size in bits.
        bits: u64,
    },
    /// `data_offsets` with begin after end.
    #[error(
        "tensor {tensor:?} has data_offsets [{begin}, {end}] with begin after end; the file is corrupt"
    )]
    OffsetsReversed {
        /// The tensor name.
        tensor: String,
        /// The first offset.
        begin: u64,
        /// The second offset.
        end: u64,
    },
    /// A tensor's data ends past the end of the data section.
    #[error(
        "tensor {tensor:?} has data_offsets [{begin}, {end}] but the data section is only {data_len} bytes; the file is truncated or corrupt"
    )]
    OffsetOutOfBounds {
        /// The tensor name.
        tensor: String,
        /// The first offset.
        begin: u64,
        /// The second offset.
        end: u64,
        /// The size of the data section (`file_len - 8 - N`).
        data_len: u64,
    },
    /// A tensor's byte range does not match its dtype and shape.
    #[error(
        "tensor {tensor:?} of dtype {dtype} and shape {shape:?} needs {expected} bytes but its data_offsets span {found}; the file is corrupt"
    )]
    ByteSizeMismatch {
        /// The tensor name.
        tensor: String,
        /// The dtype.
        dtype: crate::Dtype,
        /// The shape.
        shape: Vec<u64>,
        /// `product(shape) * dtype size`.
        expected: u64,
        /// `end - begin`.
        found: u64,
    },
    /// Two tensors share bytes.
    #[error(
        "tensors {first:?} [{first_begin}, {first_end}] and {second:?} [{second_begin}, {second_end}] overlap; the file is corrupt or hostile"
    )]
    Overlap {
        /// The tensor that starts first.
        first: String,
        /// Its first offset.
        first_begin: u64,
        /// Its second offset.
        first_end: u64,
        /// The tensor that starts inside it.
        second: String,
        /// Its first offset.
        second_begin: u64,
        /// Its second offset.
        second_end: u64,
    },
    /// Bytes of the data section that no tensor covers, before a tensor or at the end.
    #[error(
        "bytes [{begin}, {end}) of the data section belong to no tensor; safetensors forbids holes (they can hide a second file), re-export the file"
    )]
    Hole {
        /// The first uncovered byte (relative to the data section).
        begin: u64,
        /// One past the last uncovered byte.
        end: u64,
    },
    /// `adapter_config.json` is not a JSON object.
    #[error("{path} is not a json object: {reason}; write a PEFT adapter_config.json")]
    AdapterConfigJson {
        /// The file (or `adapter_config.json` when checked from bytes).
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// `adapter_config.json` lacks required PEFT fields or has wrong values.
    #[error("{path} is not a usable PEFT LoRA config: {}; fix these fields", problems.join("; "))]
    AdapterConfig {
        /// The file (or `adapter_config.json` when checked from bytes).
        path: PathBuf,
        /// Every problem found, each naming its field.
        problems: Vec<String>,
    },
    /// A line of a jsonl file is not a JSON object.
    #[error("{path} line {line}: {reason}; every non-empty line must be one json object")]
    JsonlLine {
        /// The file.
        path: PathBuf,
        /// The 1-based line number.
        line: u64,
        /// What is wrong.
        reason: String,
    },
    /// A line of a jsonl file is longer than [`crate::adapter::AdapterLimits::max_jsonl_line`].
    #[error(
        "{path} line {line} is longer than {max} bytes; split the record, or raise AdapterLimits::max_jsonl_line if it is genuine"
    )]
    JsonlLineTooLong {
        /// The file.
        path: PathBuf,
        /// The 1-based line number.
        line: u64,
        /// The cap.
        max: u64,
    },
    /// A small file of an adapter is larger than its cap.
    #[error(
        "{path} is {len} bytes, over the limit of {max}; the file is wrong, or raise the matching AdapterLimits field"
    )]
    FileTooLarge {
        /// The file.
        path: PathBuf,
        /// Its size.
        len: u64,
        /// The cap.
        max: u64,
    },
    /// A required file of an adapter folder is missing or not a regular file.
    #[error("{path} is missing or not a regular file; a SONA export needs {}", crate::adapter::ADAPTER_FILES.join(", "))]
    MissingFile {
        /// The expected file.
        path: PathBuf,
    },
    /// The safetensors file and the config disagree (e.g. a LoRA rank differs from `r`).
    #[error("{path}: {}; re-export the adapter so the weights match adapter_config.json", problems.join("; "))]
    AdapterMismatch {
        /// The safetensors file.
        path: PathBuf,
        /// Every disagreement found.
        problems: Vec<String>,
    },
    /// A writer was asked for something that cannot be written.
    #[error("cannot write this safetensors file or adapter: {reason}")]
    InvalidWrite {
        /// What is wrong with the request.
        reason: String,
    },
}

impl SafetensorsError {
    /// The error itself, without the file name [`SafetensorsError::InFile`] adds.
    pub fn root(&self) -> &SafetensorsError {
        match self {
            SafetensorsError::InFile { inner, .. } => inner.root(),
            other => other,
        }
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = SafetensorsError> = std::result::Result<T, E>;
