//! Reading and checking the header of a safetensors file: the 8-byte length, the JSON header and
//! every rule that ties tensor offsets to the data section. Tensor data is never read.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};

use crate::{Dtype, Result, SafetensorsError};

/// The key of the optional free-form string map in the header.
pub const METADATA_KEY: &str = "__metadata__";

/// Caps applied before anything is allocated or trusted.
///
/// The JSON header is read whole (never more than `max_header_len` bytes, and never more than the
/// stream delivers); its parsed form takes a few times its length at worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest JSON header accepted, in bytes. The reference implementation uses
    /// 100 000 000, which is also the default here.
    pub max_header_len: u64,
    /// The most tensors one file may list.
    pub max_tensors: u64,
    /// The most dimensions one tensor may have (NumPy's own limit is 64).
    pub max_dims: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_header_len: 100_000_000,
            max_tensors: 1_000_000,
            max_dims: 64,
        }
    }
}

/// One tensor of the header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorInfo {
    /// The tensor name (the header key).
    pub name: String,
    /// The element type.
    pub dtype: Dtype,
    /// The shape, outermost dimension first (row-major, as NumPy and PyTorch).
    pub shape: Vec<u64>,
    /// `[begin, end)` of the tensor's bytes, relative to the start of the data section.
    pub data_offsets: (u64, u64),
}

impl TensorInfo {
    /// The number of elements (the product of the shape; 1 for a scalar). The reader has checked
    /// that it fits in a u64.
    pub fn element_count(&self) -> u64 {
        // Saturating, so a hand-built TensorInfo cannot make this panic.
        self.shape.iter().fold(1u64, |n, &d| n.saturating_mul(d))
    }

    /// The number of bytes of the tensor's data.
    pub fn byte_len(&self) -> u64 {
        self.data_offsets.1.saturating_sub(self.data_offsets.0)
    }
}

/// A checked safetensors header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafetensorsHeader {
    /// N, the byte length of the JSON header (including any trailing space padding).
    pub header_len: u64,
    /// The file offset where the data section starts (`8 + N`).
    pub data_start: u64,
    /// The byte length of the data section (`file_len - 8 - N`), exactly covered by the tensors.
    pub data_len: u64,
    /// The tensors, in the order of their data (by `data_offsets`, then name).
    pub tensors: Vec<TensorInfo>,
    /// The `__metadata__` map, if the header has one.
    pub metadata: Option<BTreeMap<String, String>>,
}

impl SafetensorsHeader {
    /// The length of the whole file.
    pub fn file_len(&self) -> u64 {
        self.data_start.saturating_add(self.data_len)
    }

    /// The tensor with this name.
    pub fn tensor(&self, name: &str) -> Option<&TensorInfo> {
        self.tensors.iter().find(|t| t.name == name)
    }

    /// The sum of the element counts of every tensor (saturating, never overflows).
    pub fn parameter_count(&self) -> u64 {
        self.tensors
            .iter()
            .fold(0u64, |sum, t| sum.saturating_add(t.element_count()))
    }
}

/// Reads and checks the header of the safetensors file at `path` with the default [`Limits`].
pub fn read_header(path: impl AsRef<Path>) -> Result<SafetensorsHeader> {
    read_header_with(path, &Limits::default())
}

/// Reads and checks the header of the safetensors file at `path`. Errors other than
/// [`SafetensorsError::Open`] come wrapped in [`SafetensorsError::InFile`] naming the file.
pub fn read_header_with(path: impl AsRef<Path>, limits: &Limits) -> Result<SafetensorsHeader> {
    let path = path.as_ref();
    let open = |source| SafetensorsError::Open {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(open)?;
    let file_len = file.metadata().map_err(open)?.len();
    read_header_from(BufReader::new(file), file_len, limits).map_err(|e| SafetensorsError::InFile {
        path: path.to_path_buf(),
        inner: Box::new(e),
    })
}

/// Reads and checks a safetensors header from a stream positioned at the start of the file.
///
/// `file_len` is the length of the whole file; the header is checked against it (the reader
/// only reads `8 + N` bytes). If the stream ends before that, the result is
/// [`SafetensorsError::Truncated`], whatever `file_len` claimed.
pub fn read_header_from<R: Read>(
    mut reader: R,
    file_len: u64,
    limits: &Limits,
) -> Result<SafetensorsHeader> {
    if file_len < 8 {
        return Err(SafetensorsError::Truncated {
            offset: 0,
            what: "the 8-byte header length",
            needed: 8,
        });
    }
    let mut len_bytes = [0u8; 8];
    read_full(&mut reader, &mut len_bytes, 0, "the 8-byte header length")?;
    let header_len = u64::from_le_bytes(len_bytes);
    if header_len > limits.max_header_len {
        return Err(SafetensorsError::HeaderTooLarge {
            len: header_len,
            max: limits.max_header_len,
        });
    }
    let available = file_len - 8;
    if header_len > available {
        return Err(SafetensorsError::HeaderBeyondFile {
            len: header_len,
            available,
        });
    }
    let data_len = available - header_len;

    // The length is capped and within the claimed file, but the stream may still be shorter:
    // grow the buffer as bytes arrive rather than trusting the claim with one allocation.
    let mut json = Vec::with_capacity(usize::try_from(header_len.min(1 << 16)).unwrap_or(0));
    (&mut reader)
        .take(header_len)
        .read_to_end(&mut json)
        .map_err(|source| SafetensorsError::Read {
            offset: 8 + json.len() as u64,
            source,
        })?;
    if (json.len() as u64) < header_len {
        return Err(SafetensorsError::Truncated {
            offset: 8,
            what: "the json header",
            needed: header_len,
        });
    }
    let (tensors, metadata) = parse_json(&json, limits)?;
    let tensors = check_layout(tensors, data_len)?;
    Ok(SafetensorsHeader {
        header_len,
        data_start: 8 + header_len,
        data_len,
        tensors,
        metadata,
    })
}

/// Fills `buf` or reports truncation at `offset`.
fn read_full(
    reader: &mut impl Read,
    buf: &mut [u8],
    offset: u64,
    what: &'static str,
) -> Result<()> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => {
                return Err(SafetensorsError::Truncated {
                    offset,
                    what,
                    needed: buf.len() as u64,
                });
            }
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(source) => {
                return Err(SafetensorsError::Read {
                    offset: offset + filled as u64,
                    source,
                });
            }
        }
    }
    Ok(())
}

type Parsed = (Vec<TensorInfo>, Option<BTreeMap<String, String>>);

/// Parses the JSON header bytes into tensors (dtype and shape checked) and the metadata map.
fn parse_json(json: &[u8], limits: &Limits) -> Result<Parsed> {
    match json.first() {
        Some(b'{') => {}
        Some(&b) => {
            return Err(SafetensorsError::HeaderStart {
                found: format!("byte {b:#04x} ({:?})", char::from(b)),
            });
        }
        None => {
            return Err(SafetensorsError::HeaderStart {
                found: "nothing (the header length is 0)".to_owned(),
            });
        }
    }
    if let Err(e) = std::str::from_utf8(json) {
        return Err(SafetensorsError::HeaderNotUtf8 {
            offset: 8 + e.valid_up_to() as u64,
        });
    }
    let raw: RawHeader =
        serde_json::from_slice(json).map_err(|source| SafetensorsError::HeaderJson { source })?;

    let tensor_count = raw
        .entries
        .iter()
        .filter(|(_, e)| matches!(e, RawEntry::Tensor(_)))
        .count() as u64;
    if tensor_count > limits.max_tensors {
        return Err(SafetensorsError::TooManyTensors {
            count: tensor_count,
            max: limits.max_tensors,
        });
    }
    let mut seen = BTreeSet::new();
    let mut metadata = None;
    let mut tensors = Vec::new();
    for (key, entry) in raw.entries {
        if !seen.insert(key.clone()) {
            return Err(SafetensorsError::DuplicateKey { key });
        }
        match entry {
            // A null map is the same as none, as in the reference.
            RawEntry::Metadata(None) => {}
            RawEntry::Metadata(Some(pairs)) => {
                let mut map = BTreeMap::new();
                for (k, v) in pairs.0 {
                    if map.contains_key(&k) {
                        return Err(SafetensorsError::DuplicateKey {
                            key: format!("{METADATA_KEY}.{k}"),
                        });
                    }
                    map.insert(k, v);
                }
                metadata = Some(map);
            }
            RawEntry::Tensor(raw) => {
                tensors.push(check_tensor(key, raw, limits)?);
            }
        }
    }
    Ok((tensors, metadata))
}

/// Checks one tensor on its own: dtype, dimensions, size arithmetic and its byte range length.
fn check_tensor(name: String, raw: RawTensor, limits: &Limits) -> Result<TensorInfo> {
    let Some(dtype) = Dtype::from_name(&raw.dtype) else {
        return Err(SafetensorsError::UnknownDtype {
            tensor: name,
            dtype: raw.dtype,
        });
    };
    if raw.shape.len() as u64 > limits.max_dims {
        return Err(SafetensorsError::TooManyDims {
            tensor: name,
            dims: raw.shape.len() as u64,
            max: limits.max_dims,
        });
    }
    // Left to right with checked arithmetic, like the reference: a huge dimension overflows even
    // when a later one is 0. Counting bits (for F4 and F6) refuses tensors of 2^61 bytes or
    // more, which no file can hold anyway.
    let bits = raw
        .shape
        .iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(d))
        .and_then(|n| n.checked_mul(dtype.bits()));
    let Some(bits) = bits else {
        return Err(SafetensorsError::ShapeOverflow {
            tensor: name,
            shape: raw.shape,
        });
    };
    if bits % 8 != 0 {
        return Err(SafetensorsError::NotWholeBytes {
            tensor: name,
            dtype,
            shape: raw.shape,
            bits,
        });
    }
    let (begin, end) = raw.data_offsets;
    if begin > end {
        return Err(SafetensorsError::OffsetsReversed {
            tensor: name,
            begin,
            end,
        });
    }
    if end - begin != bits / 8 {
        return Err(SafetensorsError::ByteSizeMismatch {
            tensor: name,
            dtype,
            shape: raw.shape,
            expected: bits / 8,
            found: end - begin,
        });
    }
    Ok(TensorInfo {
        name,
        dtype,
        shape: raw.shape,
        data_offsets: raw.data_offsets,
    })
}

/// Sorts tensors by their data and checks that they lie in the data section, do not overlap and
/// cover it with no hole, as the format requires.
fn check_layout(mut tensors: Vec<TensorInfo>, data_len: u64) -> Result<Vec<TensorInfo>> {
    for t in &tensors {
        let (begin, end) = t.data_offsets;
        if end > data_len {
            return Err(SafetensorsError::OffsetOutOfBounds {
                tensor: t.name.clone(),
                begin,
                end,
                data_len,
            });
        }
    }
    tensors.sort_by(|a, b| {
        a.data_offsets
            .cmp(&b.data_offsets)
            .then_with(|| a.name.cmp(&b.name))
    });
    let mut previous: Option<&TensorInfo> = None;
    for t in &tensors {
        let (begin, end) = t.data_offsets;
        let covered = previous.map_or(0, |p| p.data_offsets.1);
        if begin > covered {
            return Err(SafetensorsError::Hole {
                begin: covered,
                end: begin,
            });
        }
        // Sorted by begin, so a tensor starting before the end of the previous one overlaps it.
        if let Some(p) = previous
            && begin < covered
        {
            return Err(SafetensorsError::Overlap {
                first: p.name.clone(),
                first_begin: p.data_offsets.0,
                first_end: p.data_offsets.1,
                second: t.name.clone(),
                second_begin: begin,
                second_end: end,
            });
        }
        previous = Some(t);
    }
    let covered = previous.map_or(0, |p| p.data_offsets.1);
    if covered < data_len {
        return Err(SafetensorsError::Hole {
            begin: covered,
            end: data_len,
        });
    }
    Ok(tensors)
}

/// The header as parsed, keys in file order and duplicates kept so they can be reported.
struct RawHeader {
    entries: Vec<(String, RawEntry)>,
}

enum RawEntry {
    Metadata(Option<Pairs>),
    Tensor(RawTensor),
}

/// A tensor entry before checks. Unknown extra fields are ignored, as in the reference.
#[derive(Deserialize)]
struct RawTensor {
    dtype: String,
    shape: Vec<u64>,
    data_offsets: (u64, u64),
}

/// A JSON object of strings, in file order with duplicates kept.
struct Pairs(Vec<(String, String)>);

impl<'de> Deserialize<'de> for RawHeader {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct HeaderVisitor;
        impl<'de> Visitor<'de> for HeaderVisitor {
            type Value = RawHeader;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a json object of tensor entries")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawHeader, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    let entry = if key == METADATA_KEY {
                        RawEntry::Metadata(map.next_value()?)
                    } else {
                        RawEntry::Tensor(map.next_value()?)
                    };
                    entries.push((key, entry));
                }
                Ok(RawHeader { entries })
            }
        }
        deserializer.deserialize_map(HeaderVisitor)
    }
}

impl<'de> Deserialize<'de> for Pairs {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PairsVisitor;
        impl<'de> Visitor<'de> for PairsVisitor {
            type Value = Pairs;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a json object of string values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Pairs, A::Error> {
                let mut pairs = Vec::new();
                while let Some(entry) = map.next_entry::<String, String>()? {
                    pairs.push(entry);
                }
                Ok(Pairs(pairs))
            }
        }
        deserializer.deserialize_map(PairsVisitor)
    }
}
