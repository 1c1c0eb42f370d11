//! The one error type of this crate: every way a GGUF file (or a request to write one) can be wrong.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Which configurable cap of [`crate::Limits`] a file exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LimitKind {
    /// Byte length of one metadata key.
    KeyLength,
    /// Byte length of one metadata string value.
    StringLength,
    /// Byte length of one tensor name.
    TensorNameLength,
    /// Number of array elements, summed over every array of the file.
    ArrayElements,
    /// Number of metadata key/value pairs.
    KvCount,
    /// Number of tensor infos.
    TensorCount,
    /// Nesting depth of arrays inside arrays.
    ArrayDepth,
    /// Number of dimensions of one tensor.
    Dimensions,
    /// Bytes of memory the parsed header may occupy in total.
    MemoryBudget,
}

impl LimitKind {
    /// The name of the matching field of [`crate::Limits`].
    pub fn field_name(self) -> &'static str {
        match self {
            LimitKind::KeyLength => "max_key_len",
            LimitKind::StringLength => "max_string_len",
            LimitKind::TensorNameLength => "max_tensor_name_len",
            LimitKind::ArrayElements => "max_array_elements",
            LimitKind::KvCount => "max_kv_count",
            LimitKind::TensorCount => "max_tensor_count",
            LimitKind::ArrayDepth => "max_array_depth",
            LimitKind::Dimensions => "max_dims",
            LimitKind::MemoryBudget => "max_total_bytes",
        }
    }
}

impl fmt::Display for LimitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            LimitKind::KeyLength => "metadata key length",
            LimitKind::StringLength => "string length",
            LimitKind::TensorNameLength => "tensor name length",
            LimitKind::ArrayElements => "total array elements",
            LimitKind::KvCount => "metadata key/value count",
            LimitKind::TensorCount => "tensor count",
            LimitKind::ArrayDepth => "array nesting depth",
            LimitKind::Dimensions => "tensor dimension count",
            LimitKind::MemoryBudget => "header memory budget in bytes",
        };
        f.write_str(text)
    }
}

/// Everything that can go wrong reading or writing a GGUF file.
///
/// Offsets are byte positions from the start of the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GgufError {
    /// The file could not be opened or its length read.
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
    /// The input ended inside the header.
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
    /// The first four bytes are not `GGUF`.
    #[error("not a gguf file: the first bytes are {found:02x?}, expected 47 47 55 46 (\"GGUF\")")]
    BadMagic {
        /// The four bytes found.
        found: [u8; 4],
    },
    /// A version other than 2 or 3 (version 1 is also refused by llama.cpp).
    #[error(
        "gguf version {version} is not supported (only 2 and 3); re-convert the model with a current llama.cpp"
    )]
    UnsupportedVersion {
        /// The version field.
        version: u32,
    },
    /// The version field only makes sense read big-endian.
    #[error(
        "the file is big-endian (version field {raw:#010x}); only little-endian gguf is supported, re-convert the model without --bigendian"
    )]
    BigEndian {
        /// The version field read little-endian.
        raw: u32,
    },
    /// A metadata value type id outside 0..=12.
    #[error(
        "unknown metadata value type {type_id} at byte {offset}; the file is corrupt or from a newer gguf revision"
    )]
    UnknownValueType {
        /// Where the type id sits.
        offset: u64,
        /// The id found.
        type_id: u32,
    },
    /// A bool byte other than 0 or 1.
    #[error(
        "invalid bool byte {byte} at byte {offset} (only 0 and 1 are valid); the file is corrupt"
    )]
    InvalidBool {
        /// Where the byte sits.
        offset: u64,
        /// The byte found.
        byte: u8,
    },
    /// A key, string value or tensor name that is not UTF-8.
    #[error("{what} at byte {offset} is not valid utf-8; the file is corrupt")]
    InvalidUtf8 {
        /// Where the string's bytes start.
        offset: u64,
        /// Which kind of string.
        what: &'static str,
    },
    /// A count, length, depth or the memory budget is over its cap.
    #[error(
        "{kind} {value} at byte {offset} exceeds the limit {max}; the file is corrupt or hostile, or raise Limits::{field} if it is genuine",
        field = kind.field_name()
    )]
    LimitExceeded {
        /// Which cap.
        kind: LimitKind,
        /// The value the file asked for (saturated at `u64::MAX`).
        value: u64,
        /// The cap.
        max: u64,
        /// Where the field sits.
        offset: u64,
    },
    /// The same metadata key twice (ggml refuses such files).
    #[error("duplicate metadata key {key:?} at byte {offset}; the file is corrupt, re-convert it")]
    DuplicateKey {
        /// The key.
        key: String,
        /// Where the second occurrence starts.
        offset: u64,
    },
    /// The same tensor name twice (ggml refuses such files).
    #[error("duplicate tensor name {name:?} at byte {offset}; the file is corrupt, re-convert it")]
    DuplicateTensorName {
        /// The name.
        name: String,
        /// Where the second occurrence starts.
        offset: u64,
    },
    /// `general.alignment` is not a non-zero power of two stored as u32.
    #[error("bad general.alignment: {reason}; it must be a u32 power of two such as 32")]
    BadAlignment {
        /// What is wrong with it.
        reason: String,
    },
    /// A tensor whose element count does not fit in an i64.
    #[error(
        "tensor {name:?} has dimensions {dims:?} whose element count overflows; the file is corrupt"
    )]
    TensorTooLarge {
        /// The tensor name.
        name: String,
        /// Its dimensions.
        dims: Vec<u64>,
    },
    /// A tensor whose data is not where the layout rules put it.
    #[error("tensor {name:?}: {reason}; the file is corrupt or was cut short")]
    BadTensorData {
        /// The tensor name.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// The header's end or data offset overflows a u64.
    #[error("the header is larger than 2^64 bytes at byte {offset}; the file is corrupt")]
    OffsetOverflow {
        /// Where the computation overflowed.
        offset: u64,
    },
    /// A writer was asked for something that cannot be written.
    #[error("cannot write this gguf: {reason}")]
    InvalidWrite {
        /// What is wrong with the request.
        reason: String,
    },
}

/// Shorthand for results of this crate.
pub type Result<T, E = GgufError> = std::result::Result<T, E>;
