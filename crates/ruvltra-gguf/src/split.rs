//! Split models (gguf-split): shard file names `-NNNNN-of-MMMMM.gguf` and the `split.*` keys.

use std::path::{Path, PathBuf};

use crate::reader::Header;

/// Key holding the 0-based shard number (u16).
pub const SPLIT_NO_KEY: &str = "split.no";
/// Key holding the number of shards (u16).
pub const SPLIT_COUNT_KEY: &str = "split.count";
/// Key holding the total tensor count over all shards (i32).
pub const SPLIT_TENSORS_COUNT_KEY: &str = "split.tensors.count";

/// What a shard's file name says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitName {
    /// 1-based shard number from the name.
    pub no: u32,
    /// Number of shards from the name.
    pub count: u32,
    /// The path of shard 00001, which carries the model's metadata.
    pub first_shard: PathBuf,
}

/// Recognises a shard name ending `-NNNNN-of-MMMMM.gguf` (exactly five digits each, 1-based,
/// number at most count); `None` for every other name.
pub fn split_name(path: &Path) -> Option<SplitName> {
    let file_name = path.file_name()?.to_str()?;
    let stem = file_name.strip_suffix(".gguf")?;
    // "-NNNNN-of-MMMMM" is 15 bytes of ASCII.
    let cut = stem.len().checked_sub(15)?;
    let (prefix, tail) = (stem.get(..cut)?, stem.get(cut..)?);
    let tail = tail.as_bytes();
    let digits = |b: &[u8]| -> Option<u32> {
        if b.len() == 5 && b.iter().all(u8::is_ascii_digit) {
            std::str::from_utf8(b).ok()?.parse().ok()
        } else {
            None
        }
    };
    if tail[0] != b'-' || &tail[6..10] != b"-of-" {
        return None;
    }
    let no = digits(&tail[1..6])?;
    let count = digits(&tail[10..15])?;
    if no == 0 || no > count || prefix.is_empty() {
        return None;
    }
    let first_shard = path.with_file_name(format!("{prefix}-00001-of-{count:05}.gguf"));
    Some(SplitName {
        no,
        count,
        first_shard,
    })
}

/// The `split.*` keys of a shard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SplitInfo {
    /// 0-based shard number (`split.no`).
    pub no: u64,
    /// Number of shards (`split.count`).
    pub count: u64,
    /// Total tensors over all shards (`split.tensors.count`), when present.
    pub tensors_count: Option<u64>,
}

impl SplitInfo {
    /// Whether this agrees with a file name (whose number is 1-based).
    pub fn matches_name(&self, name: &SplitName) -> bool {
        self.no.checked_add(1) == Some(u64::from(name.no)) && self.count == u64::from(name.count)
    }
}

/// Reads `split.no` and `split.count` (any integer width); `None` unless both are present.
pub fn split_info(header: &Header) -> Option<SplitInfo> {
    Some(SplitInfo {
        no: header.get_u64(SPLIT_NO_KEY)?,
        count: header.get_u64(SPLIT_COUNT_KEY)?,
        tensors_count: header.get_u64(SPLIT_TENSORS_COUNT_KEY),
    })
}
