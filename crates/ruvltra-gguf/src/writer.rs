//! A small GGUF v3 writer so test suites make their own fixtures of any quant, size and metadata.
//!
//! It writes arbitrary metadata (duplicates included, on purpose, for negative tests), tensor
//! infos of any ggml type and shape at correctly aligned offsets, and tensor data of the right
//! size: zeros (written as a sparse hole, so a multi-GB file takes milliseconds) or a
//! deterministic byte pattern. [`sample_model`] builds a plausible qwen2-like model.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{GgufError, Result};
use crate::quant::FILE_TYPE_KEY;
use crate::reader::{ALIGNMENT_KEY, DEFAULT_ALIGNMENT, MAGIC};
use crate::tensor::GgmlType;
use crate::value::{Array, Value};

/// What the data section holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DataFill {
    /// All zero bytes; files write it as a hole (sparse), streams as zeros.
    #[default]
    Zeros,
    /// A deterministic pattern that differs per tensor (see [`pattern_byte`]).
    Pattern,
}

/// Byte `index` of tensor number `tensor` under [`DataFill::Pattern`].
pub fn pattern_byte(tensor: usize, index: u64) -> u8 {
    (index as u8).wrapping_mul(31).wrapping_add(7) ^ (tensor as u8)
}

#[derive(Debug, Clone)]
struct TensorSpec {
    name: String,
    dims: Vec<u64>,
    ggml_type: GgmlType,
    size: Option<u64>,
}

/// Where everything lands in a written file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// End of the tensor infos.
    pub header_end: u64,
    /// Start of the data section.
    pub data_offset: u64,
    /// Per tensor: (offset relative to the data section, data bytes).
    pub tensors: Vec<(u64, u64)>,
    /// Total file length (every tensor's data padded to the alignment, like ggml and gguf-py).
    pub file_len: u64,
}

/// Builds a GGUF file in memory (header) and streams it out (data).
#[derive(Debug, Clone)]
pub struct GgufWriter {
    version: u32,
    alignment: u32,
    metadata: Vec<(String, Value)>,
    tensors: Vec<TensorSpec>,
    fill: DataFill,
}

impl Default for GgufWriter {
    fn default() -> Self {
        GgufWriter::new()
    }
}

impl GgufWriter {
    /// An empty version-3 file with the default alignment.
    pub fn new() -> GgufWriter {
        GgufWriter {
            version: 3,
            alignment: DEFAULT_ALIGNMENT,
            metadata: Vec::new(),
            tensors: Vec::new(),
            fill: DataFill::Zeros,
        }
    }

    /// Sets the version field (anything, so tests can write unsupported versions).
    pub fn version(&mut self, version: u32) -> &mut Self {
        self.version = version;
        self
    }

    /// Sets the alignment used for offsets and writes it as `general.alignment` (u32).
    pub fn alignment(&mut self, alignment: u32) -> &mut Self {
        self.alignment = alignment;
        self.set_kv(ALIGNMENT_KEY, Value::U32(alignment))
    }

    /// Appends a key/value pair, even when the key is already there.
    pub fn kv(&mut self, key: impl Into<String>, value: impl Into<Value>) -> &mut Self {
        self.metadata.push((key.into(), value.into()));
        self
    }

    /// Replaces the value of a key in place, or appends it.
    pub fn set_kv(&mut self, key: impl Into<String>, value: impl Into<Value>) -> &mut Self {
        let key = key.into();
        let value = value.into();
        match self.metadata.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.metadata.push((key, value)),
        }
        self
    }

    /// Removes every pair with this key.
    pub fn remove_kv(&mut self, key: &str) -> &mut Self {
        self.metadata.retain(|(k, _)| k != key);
        self
    }

    /// The metadata in write order.
    pub fn metadata(&self) -> &[(String, Value)] {
        &self.metadata
    }

    /// Appends a tensor of a known type; its data size follows from type and shape.
    pub fn tensor(
        &mut self,
        name: impl Into<String>,
        dims: &[u64],
        ggml_type: GgmlType,
    ) -> &mut Self {
        self.tensors.push(TensorSpec {
            name: name.into(),
            dims: dims.to_vec(),
            ggml_type,
            size: None,
        });
        self
    }

    /// Appends a tensor with an explicit data size (needed for unknown types).
    pub fn tensor_with_size(
        &mut self,
        name: impl Into<String>,
        dims: &[u64],
        ggml_type: GgmlType,
        size: u64,
    ) -> &mut Self {
        self.tensors.push(TensorSpec {
            name: name.into(),
            dims: dims.to_vec(),
            ggml_type,
            size: Some(size),
        });
        self
    }

    /// Chooses what the data section holds.
    pub fn fill(&mut self, fill: DataFill) -> &mut Self {
        self.fill = fill;
        self
    }

    /// Sum of the products of the tensor dimensions.
    pub fn parameter_count(&self) -> u64 {
        self.tensors.iter().fold(0u64, |acc, t| {
            let n = t.dims.iter().fold(1u64, |a, &d| a.saturating_mul(d));
            acc.saturating_add(n)
        })
    }

    /// Computes offsets and sizes without writing anything.
    pub fn layout(&self) -> Result<Layout> {
        Ok(self.encode()?.1)
    }

    /// The header bytes, padding included (everything before the data section).
    pub fn header_bytes(&self) -> Result<Vec<u8>> {
        Ok(self.encode()?.0)
    }

    fn encode(&self) -> Result<(Vec<u8>, Layout)> {
        if !self.alignment.is_power_of_two() {
            return Err(invalid(format!(
                "alignment {} is not a power of two",
                self.alignment
            )));
        }
        let align = u64::from(self.alignment);
        let mut out = Vec::new();
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&self.version.to_le_bytes());
        out.extend_from_slice(&(self.tensors.len() as u64).to_le_bytes());
        out.extend_from_slice(&(self.metadata.len() as u64).to_le_bytes());
        for (key, value) in &self.metadata {
            put_str(&mut out, key);
            out.extend_from_slice(&value.value_type().id().to_le_bytes());
            put_value(&mut out, value);
        }
        let mut placed = Vec::with_capacity(self.tensors.len());
        let mut next = 0u64;
        for t in &self.tensors {
            let size = match t.size {
                Some(size) => size,
                None => t.ggml_type.data_size(&t.dims).ok_or_else(|| {
                    invalid(format!(
                        "tensor {:?}: type {} with dimensions {:?} has no whole-block size; give it one with tensor_with_size",
                        t.name, t.ggml_type, t.dims
                    ))
                })?,
            };
            put_str(&mut out, &t.name);
            out.extend_from_slice(&(t.dims.len() as u32).to_le_bytes());
            for d in &t.dims {
                out.extend_from_slice(&d.to_le_bytes());
            }
            out.extend_from_slice(&t.ggml_type.id().to_le_bytes());
            out.extend_from_slice(&next.to_le_bytes());
            placed.push((next, size));
            next = size
                .checked_next_multiple_of(align)
                .and_then(|padded| next.checked_add(padded))
                .ok_or_else(|| invalid("the data section overflows u64".to_owned()))?;
        }
        let header_end = out.len() as u64;
        let data_offset = header_end.next_multiple_of(align);
        out.resize(data_offset as usize, 0);
        let file_len = data_offset
            .checked_add(next)
            .ok_or_else(|| invalid("the file length overflows u64".to_owned()))?;
        Ok((
            out,
            Layout {
                header_end,
                data_offset,
                tensors: placed,
                file_len,
            },
        ))
    }

    /// Streams the whole file (header and data) into `out`; returns its layout.
    pub fn write_to<W: Write>(&self, out: W) -> Result<Layout> {
        let (header, layout) = self.encode()?;
        let stream = PathBuf::from("<stream>");
        let mut out = BufWriter::with_capacity(1 << 16, out);
        let wrap = |source| GgufError::Write {
            path: stream.clone(),
            source,
        };
        out.write_all(&header).map_err(wrap)?;
        self.write_data(&mut out, &layout).map_err(wrap)?;
        out.flush().map_err(wrap)?;
        Ok(layout)
    }

    fn write_data<W: Write>(&self, out: &mut W, layout: &Layout) -> std::io::Result<()> {
        let mut chunk = vec![0u8; 1 << 16];
        let mut written = 0u64;
        for (k, &(offset, size)) in layout.tensors.iter().enumerate() {
            let pad = offset - written;
            write_zeros(out, pad, &mut chunk)?;
            let mut done = 0u64;
            while done < size {
                let n = (size - done).min(chunk.len() as u64) as usize;
                for (i, b) in chunk[..n].iter_mut().enumerate() {
                    *b = match self.fill {
                        DataFill::Zeros => 0,
                        DataFill::Pattern => pattern_byte(k, done + i as u64),
                    };
                }
                out.write_all(&chunk[..n])?;
                done += n as u64;
            }
            written = offset + size;
        }
        chunk.fill(0);
        write_zeros(
            out,
            layout.file_len - layout.data_offset - written,
            &mut chunk,
        )
    }

    /// Writes the file atomically (temporary file in the same directory, fsync, rename, fsync
    /// of the directory). Zero data becomes a sparse hole, so size costs no time.
    pub fn write_file(&self, path: impl AsRef<Path>) -> Result<Layout> {
        let path = path.as_ref();
        let (header, layout) = self.encode()?;
        let wrap = |source| GgufError::Write {
            path: path.to_path_buf(),
            source,
        };
        atomic_file::write_with(path, |file| {
            let mut out = BufWriter::with_capacity(1 << 16, &*file);
            out.write_all(&header)?;
            match self.fill {
                DataFill::Zeros => {
                    out.flush()?;
                    drop(out);
                    file.set_len(layout.file_len)
                }
                DataFill::Pattern => {
                    self.write_data(&mut out, &layout)?;
                    out.flush()
                }
            }
        })
        .map_err(wrap)?;
        Ok(layout)
    }
}

fn invalid(reason: String) -> GgufError {
    GgufError::InvalidWrite { reason }
}

fn write_zeros<W: Write>(out: &mut W, mut n: u64, zeros: &mut [u8]) -> std::io::Result<()> {
    zeros.fill(0);
    while n > 0 {
        let k = n.min(zeros.len() as u64) as usize;
        out.write_all(&zeros[..k])?;
        n -= k as u64;
    }
    Ok(())
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u64).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn put_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::U8(v) => out.extend_from_slice(&v.to_le_bytes()),
        Value::I8(v) => out.extend_from_slice(&v.to_le_bytes()),
        Value::U16(v) => out.extend_from_slice(&v.to_le_bytes()),
        Value::I16(v) => out.extend_from_slice(&v.to_le_bytes()),
        Value::U32(v) => out.extend_from_slice(&v.to_le_bytes()),
        Value::I32(v) => out.extend_from_slice(&v.to_le_bytes()),
        Value::F32(v) => out.extend_from_slice(&v.to_le_bytes()),
        Value::Bool(v) => out.push(u8::from(*v)),
        Value::String(s) => put_str(out, s),
        Value::Array(a) => put_array(out, a),
        Value::U64(v) => out.extend_from_slice(&v.to_le_bytes()),
        Value::I64(v) => out.extend_from_slice(&v.to_le_bytes()),
        Value::F64(v) => out.extend_from_slice(&v.to_le_bytes()),
    }
}

fn put_array(out: &mut Vec<u8>, array: &Array) {
    out.extend_from_slice(&array.element_type().id().to_le_bytes());
    out.extend_from_slice(&(array.len() as u64).to_le_bytes());
    fn each<T>(out: &mut Vec<u8>, items: &[T], f: impl Fn(&mut Vec<u8>, &T)) {
        for item in items {
            f(out, item);
        }
    }
    match array {
        Array::U8(v) => out.extend_from_slice(v),
        Array::I8(v) => each(out, v, |o, x| o.extend_from_slice(&x.to_le_bytes())),
        Array::U16(v) => each(out, v, |o, x| o.extend_from_slice(&x.to_le_bytes())),
        Array::I16(v) => each(out, v, |o, x| o.extend_from_slice(&x.to_le_bytes())),
        Array::U32(v) => each(out, v, |o, x| o.extend_from_slice(&x.to_le_bytes())),
        Array::I32(v) => each(out, v, |o, x| o.extend_from_slice(&x.to_le_bytes())),
        Array::F32(v) => each(out, v, |o, x| o.extend_from_slice(&x.to_le_bytes())),
        Array::Bool(v) => each(out, v, |o, x| o.push(u8::from(*x))),
        Array::String(v) => each(out, v, |o, x| put_str(o, x)),
        Array::Array(v) => each(out, v, put_array),
        Array::U64(v) => each(out, v, |o, x| o.extend_from_slice(&x.to_le_bytes())),
        Array::I64(v) => each(out, v, |o, x| o.extend_from_slice(&x.to_le_bytes())),
        Array::F64(v) => each(out, v, |o, x| o.extend_from_slice(&x.to_le_bytes())),
    }
}

macro_rules! value_from {
    ($($t:ty => $variant:ident),* $(,)?) => {
        $(impl From<$t> for Value {
            fn from(v: $t) -> Value {
                Value::$variant(v)
            }
        })*
    };
}

value_from!(
    u8 => U8, i8 => I8, u16 => U16, i16 => I16, u32 => U32, i32 => I32, f32 => F32,
    bool => Bool, String => String, Array => Array, u64 => U64, i64 => I64, f64 => F64,
);

impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::String(v.to_owned())
    }
}

/// The ChatML template Qwen2 models carry in `tokenizer.chat_template`.
pub const CHATML_TEMPLATE: &str = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

/// The tensor types a llama.cpp quantisation of this `general.file_type` mostly uses: the main
/// type of the weight matrices, and the higher-precision type some matrices get in `_M`/`_L`
/// mixes ([`ruvltra_vocab::Quant::tensor_types`]). `None` for removed or unknown file types.
pub fn tensor_types_for_file_type(file_type: u32) -> Option<(GgmlType, Option<GgmlType>)> {
    let (main, mix) = ruvltra_vocab::Quant::from_file_type(file_type)?.tensor_types();
    let main = GgmlType::from_name(main)?;
    match mix {
        Some(mix) => Some((main, Some(GgmlType::from_name(mix)?))),
        None => Some((main, None)),
    }
}

/// Formats a parameter count the way `general.size_label` does: `494M`, `1.5B`, `72K`.
pub fn size_label(params: u64) -> String {
    let p = params as f64;
    if p >= 1e9 {
        format!("{:.1}B", p / 1e9)
    } else if p >= 1e6 {
        format!("{:.0}M", p / 1e6)
    } else {
        format!("{:.0}K", p / 1e3)
    }
}

/// A plausible qwen2-like model: the metadata convert_hf_to_gguf writes and one tensor per
/// weight of every layer, sized to roughly the requested parameter count.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleModel {
    /// `general.architecture` and the prefix of the model keys.
    pub arch: String,
    /// `general.file_type`; also picks the tensor types.
    pub file_type: u32,
    /// Approximate parameter count wanted.
    pub n_params: u64,
    /// `general.name`.
    pub name: String,
    /// Tokens in the vocabulary (keep small: they are all in the header).
    pub vocab_size: u32,
    /// `{arch}.context_length`.
    pub context_length: u32,
    /// `tokenizer.chat_template`, omitted when `None`.
    pub chat_template: Option<String>,
    /// `general.license`, omitted when `None`.
    pub license: Option<String>,
    /// Whether to write `general.file_type` (without it, readers must guess the quant).
    pub write_file_type: bool,
    /// What the data section holds.
    pub fill: DataFill,
}

impl SampleModel {
    /// Defaults: name "RuvLTRA Sample", 1024 tokens, 32768 context, ChatML, Apache-2.0.
    pub fn new(arch: &str, file_type: u32, n_params: u64) -> SampleModel {
        SampleModel {
            arch: arch.to_owned(),
            file_type,
            n_params,
            name: "RuvLTRA Sample".to_owned(),
            vocab_size: 1024,
            context_length: 32_768,
            chat_template: Some(CHATML_TEMPLATE.to_owned()),
            license: Some("apache-2.0".to_owned()),
            write_file_type: true,
            fill: DataFill::Zeros,
        }
    }

    /// The writer for this model (add or change metadata on it before writing).
    pub fn build(&self) -> Result<GgufWriter> {
        let (main, secondary) = tensor_types_for_file_type(self.file_type).ok_or_else(|| {
            invalid(format!(
                "file type {} is removed or unknown; use one of the values in quant::FILE_TYPES",
                self.file_type
            ))
        })?;
        if self.arch.is_empty()
            || !self
                .arch
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        {
            return Err(invalid(format!(
                "architecture {:?} must match [a-z0-9]+",
                self.arch
            )));
        }
        let vocab = u64::from(self.vocab_size.max(16));
        // Shape: hidden size h (a multiple of 256 so every block type fits), ffn = 5h, layers
        // L ~ h/40; one layer holds about 17.5 h^2 weights, the embeddings 2 V h.
        let target = self.n_params.max(1) as f64;
        let h = ((target * 40.0 / 17.5).cbrt() / 256.0).round().max(1.0) as u64 * 256;
        let per_layer = 17.5 * (h * h) as f64;
        let layers = ((target - 2.0 * (vocab * h) as f64) / per_layer)
            .round()
            .max(1.0) as u64;
        let ffn = 5 * h;
        let n_head = h / 64;
        let n_kv = (n_head / 4).max(1);
        let kv = n_kv * 64;
        let second = secondary.unwrap_or(main);
        let f32t = GgmlType::F32;

        let mut w = GgufWriter::new();
        w.fill(self.fill);
        let arch = self.arch.as_str();
        w.kv("general.architecture", arch)
            .kv("general.type", "model")
            .kv("general.name", self.name.as_str());
        let mut tensors: Vec<(String, Vec<u64>, GgmlType)> = Vec::new();
        tensors.push(("token_embd.weight".into(), vec![h, vocab], main));
        for i in 0..layers {
            let b = |s: &str| format!("blk.{i}.{s}");
            tensors.push((b("attn_norm.weight"), vec![h], f32t));
            tensors.push((b("attn_q.weight"), vec![h, h], main));
            tensors.push((b("attn_q.bias"), vec![h], f32t));
            tensors.push((b("attn_k.weight"), vec![h, kv], main));
            tensors.push((b("attn_k.bias"), vec![kv], f32t));
            tensors.push((b("attn_v.weight"), vec![h, kv], second));
            tensors.push((b("attn_v.bias"), vec![kv], f32t));
            tensors.push((b("attn_output.weight"), vec![h, h], main));
            tensors.push((b("ffn_norm.weight"), vec![h], f32t));
            tensors.push((b("ffn_gate.weight"), vec![h, ffn], main));
            tensors.push((b("ffn_up.weight"), vec![h, ffn], main));
            let down = if i % 2 == 0 { second } else { main };
            tensors.push((b("ffn_down.weight"), vec![ffn, h], down));
        }
        tensors.push(("output_norm.weight".into(), vec![h], f32t));
        tensors.push(("output.weight".into(), vec![h, vocab], second));
        let params: u64 = tensors
            .iter()
            .map(|(_, d, _)| d.iter().product::<u64>())
            .sum();

        w.kv("general.size_label", size_label(params));
        if let Some(license) = &self.license {
            w.kv("general.license", license.as_str());
        }
        let ctx = |s: &str| format!("{arch}.{s}");
        let to_u32 =
            |v: u64| u32::try_from(v).map_err(|_| invalid(format!("{v} does not fit a u32")));
        w.kv(ctx("block_count"), to_u32(layers)?)
            .kv(ctx("context_length"), self.context_length)
            .kv(ctx("embedding_length"), to_u32(h)?)
            .kv(ctx("feed_forward_length"), to_u32(ffn)?)
            .kv(ctx("attention.head_count"), to_u32(n_head)?)
            .kv(ctx("attention.head_count_kv"), to_u32(n_kv)?)
            .kv(ctx("rope.freq_base"), 1_000_000f32)
            .kv(ctx("attention.layer_norm_rms_epsilon"), 1e-6f32);
        if self.write_file_type {
            w.kv(FILE_TYPE_KEY, self.file_type);
        }
        w.kv("general.quantization_version", 2u32);
        let specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"];
        let normal = vocab - specials.len() as u64;
        let mut tokens: Vec<String> = (0..normal).map(|i| format!("tok{i}")).collect();
        tokens.extend(specials.iter().map(|s| (*s).to_owned()));
        let mut token_types = vec![1i32; normal as usize];
        token_types.extend([3i32; 3]);
        w.kv("tokenizer.ggml.model", "gpt2")
            .kv("tokenizer.ggml.pre", "qwen2")
            .kv("tokenizer.ggml.tokens", Array::String(tokens))
            .kv("tokenizer.ggml.token_type", Array::I32(token_types))
            .kv("tokenizer.ggml.eos_token_id", to_u32(vocab - 1)?)
            .kv("tokenizer.ggml.padding_token_id", to_u32(normal)?)
            .kv("tokenizer.ggml.bos_token_id", to_u32(normal)?)
            .kv("tokenizer.ggml.add_bos_token", false);
        if let Some(template) = &self.chat_template {
            w.kv("tokenizer.chat_template", template.as_str());
        }
        for (name, dims, t) in tensors {
            w.tensor(name, &dims, t);
        }
        Ok(w)
    }
}

/// [`SampleModel::new`] then [`SampleModel::build`]: a qwen2-like writer of about `n_params`
/// parameters quantised as `file_type` (a `general.file_type` value, e.g. 15 for Q4_K_M).
pub fn sample_model(arch: &str, file_type: u32, n_params: u64) -> Result<GgufWriter> {
    SampleModel::new(arch, file_type, n_params).build()
}
