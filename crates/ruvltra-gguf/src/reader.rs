//! The streaming, bounded header parser: every length and count is checked against [`Limits`]
//! before anything is allocated, and tensor data is never read.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::mem::size_of;
use std::path::Path;

use crate::error::{GgufError, LimitKind, Result};
use crate::tensor::{GgmlType, TensorInfo};
use crate::value::{Array, Value, ValueType};

/// The magic bytes every GGUF file starts with.
pub const MAGIC: [u8; 4] = *b"GGUF";
/// The alignment of the data section when `general.alignment` is absent.
pub const DEFAULT_ALIGNMENT: u32 = 32;
/// The key that overrides the alignment.
pub const ALIGNMENT_KEY: &str = "general.alignment";
/// Size of the buffer put in front of the input.
const BUFFER_SIZE: usize = 64 * 1024;
/// Elements reserved up front for a vector whose final length comes from the file; the
/// vector grows as data really arrives, so a lying count on a short input allocates little.
const INITIAL_RESERVE: usize = 1024;
/// The deepest array nesting ever parsed, whatever the limits say: each level is one recursion.
const MAX_ARRAY_DEPTH_CEILING: u32 = 64;

/// Caps applied to an untrusted header before any allocation.
///
/// The defaults accept every real model seen so far (a 262k-token vocabulary, chat templates of
/// a few hundred KiB) with a wide margin, and bound the memory of a hostile header to
/// [`Limits::max_total_bytes`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of one metadata key (the spec allows at most 65,535).
    pub max_key_len: u64,
    /// Bytes of one string value (chat templates are the long ones).
    pub max_string_len: u64,
    /// Bytes of one tensor name (ggml itself stops at 63).
    pub max_tensor_name_len: u64,
    /// Array elements summed over the whole header.
    pub max_array_elements: u64,
    /// Metadata key/value pairs.
    pub max_kv_count: u64,
    /// Tensor infos.
    pub max_tensor_count: u64,
    /// Arrays nested in arrays: 1 allows a flat array, 2 an array of arrays, and so on.
    /// Parsing recurses once per level, so values above 64 are treated as 64.
    pub max_array_depth: u32,
    /// Dimensions of one tensor (ggml has 4).
    pub max_dims: u32,
    /// Bytes the parsed header may occupy in memory, counted as it is built.
    pub max_total_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_key_len: 65_535,
            max_string_len: 16 * 1024 * 1024,
            max_tensor_name_len: 65_535,
            max_array_elements: 16 * 1024 * 1024,
            max_kv_count: 1024 * 1024,
            max_tensor_count: 1024 * 1024,
            max_array_depth: 4,
            max_dims: 4,
            max_total_bytes: 256 * 1024 * 1024,
        }
    }
}

/// One metadata key/value pair, in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct MetadataEntry {
    /// The key, e.g. `general.architecture`.
    pub key: String,
    /// The value.
    pub value: Value,
    /// Offset of the key in the file.
    pub offset: u64,
}

/// Everything a GGUF file says before its tensor data.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// The format version (2 or 3).
    pub version: u32,
    /// Metadata in file order; look keys up with [`Header::get`].
    pub metadata: Vec<MetadataEntry>,
    /// Tensor infos in file order.
    pub tensors: Vec<TensorInfo>,
    /// The data alignment (`general.alignment` or 32).
    pub alignment: u32,
    /// Where the tensor infos end, before padding.
    pub header_end: u64,
    /// Where the data section starts: `header_end` rounded up to the alignment.
    pub data_offset: u64,
    /// Indices into `metadata`, sorted by key, for lookups.
    sorted_keys: Vec<usize>,
}

impl Header {
    /// The value of a key.
    pub fn get(&self, key: &str) -> Option<&Value> {
        // `metadata` is public: when a caller has changed it since parsing, the sorted index
        // no longer matches and a linear search answers instead.
        if self.sorted_keys.len() != self.metadata.len() {
            return self
                .metadata
                .iter()
                .find(|e| e.key == key)
                .map(|e| &e.value);
        }
        let entry = |i: usize| self.metadata.get(i).map(|e| e.key.as_str());
        self.sorted_keys
            .binary_search_by(|&i| entry(i).unwrap_or_default().cmp(key))
            .ok()
            .and_then(|pos| self.metadata.get(self.sorted_keys[pos]))
            .filter(|e| e.key == key)
            .map(|e| &e.value)
    }

    /// A string value (`None` when absent or of another type).
    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Value::as_str)
    }

    /// A non-negative integer of any width.
    pub fn get_u64(&self, key: &str) -> Option<u64> {
        self.get(key).and_then(Value::as_u64)
    }

    /// Number of metadata pairs.
    pub fn kv_count(&self) -> u64 {
        self.metadata.len() as u64
    }

    /// Number of tensors.
    pub fn tensor_count(&self) -> u64 {
        self.tensors.len() as u64
    }

    /// `general.architecture`.
    pub fn architecture(&self) -> Option<&str> {
        self.get_str("general.architecture")
    }

    /// Checks the data section against the layout rules and the real file length: every tensor
    /// of a known type starts at a multiple of the alignment, no two overlap, and each ends
    /// within `file_len`. Tensors of unknown types are skipped (their size is unknown).
    pub fn check_data_section(&self, file_len: u64) -> Result<()> {
        let mut spans = Vec::with_capacity(self.tensors.len());
        for t in &self.tensors {
            if t.offset % u64::from(self.alignment) != 0 {
                return Err(GgufError::BadTensorData {
                    name: t.name.clone(),
                    reason: format!(
                        "data offset {} is not a multiple of the alignment {}",
                        t.offset, self.alignment
                    ),
                });
            }
            let Some(size) = t.data_size() else { continue };
            let end = self
                .data_offset
                .checked_add(t.offset)
                .and_then(|s| s.checked_add(size));
            match end {
                Some(end) if end <= file_len => spans.push((t.offset, size, &t.name)),
                _ => {
                    return Err(GgufError::BadTensorData {
                        name: t.name.clone(),
                        reason: format!(
                            "its {size} bytes at data offset {} end past the file length {file_len}",
                            t.offset
                        ),
                    });
                }
            }
        }
        spans.sort();
        for pair in spans.windows(2) {
            let (start_a, size_a, _) = pair[0];
            let (start_b, _, name_b) = pair[1];
            if start_a.saturating_add(size_a) > start_b {
                return Err(GgufError::BadTensorData {
                    name: name_b.clone(),
                    reason: format!("its data at offset {start_b} overlaps the previous tensor"),
                });
            }
        }
        Ok(())
    }
}

/// Reads and checks the header of the GGUF file at `path` with the default [`Limits`].
///
/// Besides parsing, it checks the tensor layout against the file's real length
/// ([`Header::check_data_section`]), so a file cut short in its data section is refused too.
/// Only the header is read, never the tensor data.
pub fn read_header(path: impl AsRef<Path>) -> Result<Header> {
    read_header_with(path, &Limits::default())
}

/// [`read_header`] with explicit limits.
pub fn read_header_with(path: impl AsRef<Path>, limits: &Limits) -> Result<Header> {
    let path = path.as_ref();
    let open_err = |source| GgufError::Open {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(open_err)?;
    let file_len = file.metadata().map_err(open_err)?.len();
    let header = read_header_from(file, limits)?;
    header.check_data_section(file_len)?;
    Ok(header)
}

/// Parses a header from any reader, wrapped in a 64 KiB buffer.
///
/// The reader is consumed up to the end of the header padding; the buffer may have pulled at
/// most 64 KiB beyond it. Nothing here checks the data section (see [`read_header`]).
pub fn read_header_from<R: Read>(reader: R, limits: &Limits) -> Result<Header> {
    let mut parser = Parser {
        input: BufReader::with_capacity(BUFFER_SIZE, reader),
        pos: 0,
        limits,
        budget_left: limits.max_total_bytes,
        array_elements_left: limits.max_array_elements,
    };
    parser.header()
}

struct Parser<'l, R> {
    input: BufReader<R>,
    pos: u64,
    limits: &'l Limits,
    budget_left: u64,
    array_elements_left: u64,
}

/// The in-memory cost charged per element of an array of the given type.
fn element_cost(t: ValueType) -> u64 {
    let size = match t {
        ValueType::U8 | ValueType::I8 | ValueType::Bool => 1,
        ValueType::U16 | ValueType::I16 => 2,
        ValueType::U32 | ValueType::I32 | ValueType::F32 => 4,
        ValueType::U64 | ValueType::I64 | ValueType::F64 => 8,
        ValueType::String => size_of::<String>(),
        ValueType::Array => size_of::<Array>(),
    };
    size as u64
}

impl<R: Read> Parser<'_, R> {
    fn limit(&self, kind: LimitKind, value: u64, max: u64, offset: u64) -> GgufError {
        GgufError::LimitExceeded {
            kind,
            value,
            max,
            offset,
        }
    }

    /// Charges `bytes` against the memory budget before they are allocated.
    fn charge(&mut self, bytes: u64, offset: u64) -> Result<()> {
        match self.budget_left.checked_sub(bytes) {
            Some(left) => {
                self.budget_left = left;
                Ok(())
            }
            None => Err(self.limit(
                LimitKind::MemoryBudget,
                (self.limits.max_total_bytes - self.budget_left).saturating_add(bytes),
                self.limits.max_total_bytes,
                offset,
            )),
        }
    }

    fn fill(&mut self, buf: &mut [u8], what: &'static str) -> Result<()> {
        let start = self.pos;
        let mut done = 0;
        while done < buf.len() {
            match self.input.read(&mut buf[done..]) {
                Ok(0) => {
                    return Err(GgufError::Truncated {
                        offset: start,
                        what,
                        needed: buf.len() as u64,
                    });
                }
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(source) => {
                    return Err(GgufError::Read {
                        offset: start,
                        source,
                    });
                }
            }
        }
        self.advance(buf.len() as u64)
    }

    fn advance(&mut self, n: u64) -> Result<()> {
        self.pos = self
            .pos
            .checked_add(n)
            .ok_or(GgufError::OffsetOverflow { offset: self.pos })?;
        Ok(())
    }

    fn bytes<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N]> {
        let mut buf = [0u8; N];
        self.fill(&mut buf, what)?;
        Ok(buf)
    }

    fn u32(&mut self, what: &'static str) -> Result<u32> {
        self.bytes(what).map(u32::from_le_bytes)
    }

    fn u64(&mut self, what: &'static str) -> Result<u64> {
        self.bytes(what).map(u64::from_le_bytes)
    }

    /// Reads a u64 length and then that many UTF-8 bytes, refusing lengths over `max`.
    fn string(&mut self, max: u64, kind: LimitKind, what: &'static str) -> Result<String> {
        let len_offset = self.pos;
        let len = self.u64(what)?;
        if len > max {
            return Err(self.limit(kind, len, max, len_offset));
        }
        self.charge(len.saturating_add(size_of::<String>() as u64), len_offset)?;
        // `len <= max` and the budget both bound this allocation.
        let len_usize = usize::try_from(len).map_err(|_| self.limit(kind, len, max, len_offset))?;
        let mut buf = vec![0u8; len_usize];
        let start = self.pos;
        self.fill(&mut buf, what)?;
        String::from_utf8(buf).map_err(|_| GgufError::InvalidUtf8 {
            offset: start,
            what,
        })
    }

    fn value_type(&mut self) -> Result<ValueType> {
        let offset = self.pos;
        let id = self.u32("value type")?;
        ValueType::from_id(id).ok_or(GgufError::UnknownValueType {
            offset,
            type_id: id,
        })
    }

    fn bool(&mut self) -> Result<bool> {
        let offset = self.pos;
        let [byte] = self.bytes::<1>("bool value")?;
        match byte {
            0 => Ok(false),
            1 => Ok(true),
            byte => Err(GgufError::InvalidBool { offset, byte }),
        }
    }

    fn value(&mut self, t: ValueType, depth: u32) -> Result<Value> {
        Ok(match t {
            ValueType::U8 => Value::U8(u8::from_le_bytes(self.bytes("u8 value")?)),
            ValueType::I8 => Value::I8(i8::from_le_bytes(self.bytes("i8 value")?)),
            ValueType::U16 => Value::U16(u16::from_le_bytes(self.bytes("u16 value")?)),
            ValueType::I16 => Value::I16(i16::from_le_bytes(self.bytes("i16 value")?)),
            ValueType::U32 => Value::U32(u32::from_le_bytes(self.bytes("u32 value")?)),
            ValueType::I32 => Value::I32(i32::from_le_bytes(self.bytes("i32 value")?)),
            ValueType::F32 => Value::F32(f32::from_le_bytes(self.bytes("f32 value")?)),
            ValueType::Bool => Value::Bool(self.bool()?),
            ValueType::String => Value::String(self.string(
                self.limits.max_string_len,
                LimitKind::StringLength,
                "string value",
            )?),
            ValueType::Array => Value::Array(self.array(depth + 1)?),
            ValueType::U64 => Value::U64(u64::from_le_bytes(self.bytes("u64 value")?)),
            ValueType::I64 => Value::I64(i64::from_le_bytes(self.bytes("i64 value")?)),
            ValueType::F64 => Value::F64(f64::from_le_bytes(self.bytes("f64 value")?)),
        })
    }

    /// Reads `count` fixed-size elements with `decode`, growing the vector as data arrives.
    fn fixed<T, const N: usize>(
        &mut self,
        count: u64,
        what: &'static str,
        decode: fn([u8; N]) -> T,
    ) -> Result<Vec<T>> {
        let mut out = Vec::with_capacity(reserve(count));
        for _ in 0..count {
            out.push(decode(self.bytes::<N>(what)?));
        }
        Ok(out)
    }

    /// Reads an array at nesting level `depth` (1 for a top-level array).
    fn array(&mut self, depth: u32) -> Result<Array> {
        let offset = self.pos;
        let max_depth = self.limits.max_array_depth.min(MAX_ARRAY_DEPTH_CEILING);
        if depth > max_depth {
            return Err(self.limit(
                LimitKind::ArrayDepth,
                u64::from(depth),
                u64::from(max_depth),
                offset,
            ));
        }
        let elem = self.value_type()?;
        let count_offset = self.pos;
        let count = self.u64("array length")?;
        match self.array_elements_left.checked_sub(count) {
            Some(left) => self.array_elements_left = left,
            None => {
                let used = self.limits.max_array_elements - self.array_elements_left;
                return Err(self.limit(
                    LimitKind::ArrayElements,
                    used.saturating_add(count),
                    self.limits.max_array_elements,
                    count_offset,
                ));
            }
        }
        self.charge(count.saturating_mul(element_cost(elem)), count_offset)?;
        Ok(match elem {
            ValueType::U8 => Array::U8(self.fixed(count, "u8 element", u8::from_le_bytes)?),
            ValueType::I8 => Array::I8(self.fixed(count, "i8 element", i8::from_le_bytes)?),
            ValueType::U16 => Array::U16(self.fixed(count, "u16 element", u16::from_le_bytes)?),
            ValueType::I16 => Array::I16(self.fixed(count, "i16 element", i16::from_le_bytes)?),
            ValueType::U32 => Array::U32(self.fixed(count, "u32 element", u32::from_le_bytes)?),
            ValueType::I32 => Array::I32(self.fixed(count, "i32 element", i32::from_le_bytes)?),
            ValueType::F32 => Array::F32(self.fixed(count, "f32 element", f32::from_le_bytes)?),
            ValueType::U64 => Array::U64(self.fixed(count, "u64 element", u64::from_le_bytes)?),
            ValueType::I64 => Array::I64(self.fixed(count, "i64 element", i64::from_le_bytes)?),
            ValueType::F64 => Array::F64(self.fixed(count, "f64 element", f64::from_le_bytes)?),
            ValueType::Bool => {
                let mut out = Vec::with_capacity(reserve(count));
                for _ in 0..count {
                    out.push(self.bool()?);
                }
                Array::Bool(out)
            }
            ValueType::String => {
                let mut out = Vec::with_capacity(reserve(count));
                for _ in 0..count {
                    out.push(self.string(
                        self.limits.max_string_len,
                        LimitKind::StringLength,
                        "string element",
                    )?);
                }
                Array::String(out)
            }
            ValueType::Array => {
                let mut out = Vec::with_capacity(reserve(count));
                for _ in 0..count {
                    out.push(self.array(depth + 1)?);
                }
                Array::Array(out)
            }
        })
    }

    fn tensor_info(&mut self) -> Result<TensorInfo> {
        let info_offset = self.pos;
        let name = self.string(
            self.limits.max_tensor_name_len,
            LimitKind::TensorNameLength,
            "tensor name",
        )?;
        let dims_offset = self.pos;
        let n_dims = self.u32("tensor dimension count")?;
        if n_dims > self.limits.max_dims {
            return Err(self.limit(
                LimitKind::Dimensions,
                u64::from(n_dims),
                u64::from(self.limits.max_dims),
                dims_offset,
            ));
        }
        self.charge(u64::from(n_dims) * 8, dims_offset)?;
        let mut dims = Vec::with_capacity(n_dims as usize);
        for _ in 0..n_dims {
            dims.push(self.u64("tensor dimension")?);
        }
        let fits = dims
            .iter()
            .try_fold(1u64, |acc, &d| acc.checked_mul(d))
            .is_some_and(|n| i64::try_from(n).is_ok());
        if !fits {
            return Err(GgufError::TensorTooLarge { name, dims });
        }
        let ggml_type = GgmlType::from_id(self.u32("tensor type")?);
        let offset = self.u64("tensor data offset")?;
        Ok(TensorInfo {
            name,
            dims,
            ggml_type,
            offset,
            info_offset,
        })
    }

    fn header(&mut self) -> Result<Header> {
        let magic = self.bytes::<4>("magic")?;
        if magic != MAGIC {
            return Err(GgufError::BadMagic { found: magic });
        }
        let version = self.u32("version")?;
        if version & 0xFFFF == 0 {
            return Err(GgufError::BigEndian { raw: version });
        }
        if version != 2 && version != 3 {
            return Err(GgufError::UnsupportedVersion { version });
        }
        let count_offset = self.pos;
        let tensor_count = self.u64("tensor count")?;
        if tensor_count > self.limits.max_tensor_count {
            return Err(self.limit(
                LimitKind::TensorCount,
                tensor_count,
                self.limits.max_tensor_count,
                count_offset,
            ));
        }
        let kv_offset = self.pos;
        let kv_count = self.u64("metadata count")?;
        if kv_count > self.limits.max_kv_count {
            return Err(self.limit(
                LimitKind::KvCount,
                kv_count,
                self.limits.max_kv_count,
                kv_offset,
            ));
        }

        let mut metadata = Vec::with_capacity(reserve(kv_count));
        for _ in 0..kv_count {
            let offset = self.pos;
            self.charge(
                (size_of::<MetadataEntry>() + size_of::<usize>()) as u64,
                offset,
            )?;
            let key = self.string(
                self.limits.max_key_len,
                LimitKind::KeyLength,
                "metadata key",
            )?;
            let t = self.value_type()?;
            let value = self.value(t, 0)?;
            metadata.push(MetadataEntry { key, value, offset });
        }
        let sorted_keys =
            sorted_unique(&metadata, |e| (&e.key, e.offset)).map_err(|(key, offset)| {
                GgufError::DuplicateKey {
                    key: key.clone(),
                    offset,
                }
            })?;

        let mut tensors = Vec::with_capacity(reserve(tensor_count));
        for _ in 0..tensor_count {
            self.charge(
                (size_of::<TensorInfo>() + size_of::<usize>()) as u64,
                self.pos,
            )?;
            tensors.push(self.tensor_info()?);
        }
        sorted_unique(&tensors, |t| (&t.name, t.info_offset)).map_err(|(name, offset)| {
            GgufError::DuplicateTensorName {
                name: name.clone(),
                offset,
            }
        })?;

        let mut header = Header {
            version,
            metadata,
            tensors,
            alignment: DEFAULT_ALIGNMENT,
            header_end: self.pos,
            data_offset: 0,
            sorted_keys,
        };
        header.alignment = match header.get(ALIGNMENT_KEY) {
            None => DEFAULT_ALIGNMENT,
            Some(Value::U32(a)) if a.is_power_of_two() => *a,
            Some(Value::U32(a)) => {
                return Err(GgufError::BadAlignment {
                    reason: format!("{a} is not a power of two"),
                });
            }
            Some(other) => {
                return Err(GgufError::BadAlignment {
                    reason: format!("it is stored as {} instead of UINT32", other.value_type()),
                });
            }
        };
        let align = u64::from(header.alignment);
        header.data_offset = header
            .header_end
            .checked_next_multiple_of(align)
            .ok_or(GgufError::OffsetOverflow { offset: self.pos })?;
        if !header.tensors.is_empty() {
            // The padding must be there (zero bytes by convention, not checked): a file cut
            // inside it has lost its data section.
            let mut left = header.data_offset - header.header_end;
            let mut pad = [0u8; 64];
            while left > 0 {
                let n = left.min(pad.len() as u64) as usize;
                self.fill(&mut pad[..n], "padding before the tensor data")?;
                left -= n as u64;
            }
        }
        Ok(header)
    }
}

/// Capacity to reserve for a vector of `count` elements read from the file.
fn reserve(count: u64) -> usize {
    usize::try_from(count.min(INITIAL_RESERVE as u64)).unwrap_or(INITIAL_RESERVE)
}

/// Sorts indices of `items` by name and returns them, or the name and offset of the
/// later occurrence of the first duplicate found.
fn sorted_unique<'a, T>(
    items: &'a [T],
    key: impl Fn(&'a T) -> (&'a String, u64),
) -> std::result::Result<Vec<usize>, (&'a String, u64)> {
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by(|&a, &b| key(&items[a]).cmp(&key(&items[b])));
    let mut duplicate: Option<(&String, u64)> = None;
    for pair in order.windows(2) {
        let (name_a, _) = key(&items[pair[0]]);
        let (name_b, offset_b) = key(&items[pair[1]]);
        if name_a == name_b && duplicate.is_none_or(|(_, o)| offset_b < o) {
            duplicate = Some((name_b, offset_b));
        }
    }
    match duplicate {
        Some(d) => Err(d),
        None => Ok(order),
    }
}
