//! Tensor infos and ggml tensor types; unknown type ids are kept, never rejected.

use std::fmt;

macro_rules! ggml_types {
    ($( $variant:ident = $id:literal, $name:literal, $block:literal, $bytes:literal; )*) => {
        /// A ggml tensor type. New ids keep appearing upstream, so unknown ones are kept as
        /// [`GgmlType::Unknown`] instead of failing the whole file.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[allow(non_camel_case_types)]
        pub enum GgmlType {
            $(
                #[doc = concat!("Id ", stringify!($id), ": ", $name, ", ", stringify!($block),
                    " elements per ", stringify!($bytes), "-byte block.")]
                $variant,
            )*
            /// An id this crate does not know (yet).
            Unknown(u32),
        }

        impl GgmlType {
            /// Every known type, in id order.
            pub const KNOWN: &'static [GgmlType] = &[$(GgmlType::$variant),*];

            /// Maps a stored id to a type (unknown ids are kept).
            pub fn from_id(id: u32) -> GgmlType {
                match id {
                    $($id => GgmlType::$variant,)*
                    other => GgmlType::Unknown(other),
                }
            }

            /// The id stored in the file.
            pub fn id(self) -> u32 {
                match self {
                    $(GgmlType::$variant => $id,)*
                    GgmlType::Unknown(id) => id,
                }
            }

            /// The known type with ggml's name `name` (exact, upper case).
            pub fn from_name(name: &str) -> Option<GgmlType> {
                match name {
                    $($name => Some(GgmlType::$variant),)*
                    _ => None,
                }
            }

            /// ggml's name (`Q4_K`, `BF16`, ...), `None` when unknown.
            pub fn name(self) -> Option<&'static str> {
                match self {
                    $(GgmlType::$variant => Some($name),)*
                    GgmlType::Unknown(_) => None,
                }
            }

            /// (elements per block, bytes per block), `None` when unknown.
            pub fn block_layout(self) -> Option<(u64, u64)> {
                match self {
                    $(GgmlType::$variant => Some(($block, $bytes)),)*
                    GgmlType::Unknown(_) => None,
                }
            }
        }
    };
}

ggml_types! {
    F32 = 0, "F32", 1, 4;
    F16 = 1, "F16", 1, 2;
    Q4_0 = 2, "Q4_0", 32, 18;
    Q4_1 = 3, "Q4_1", 32, 20;
    Q5_0 = 6, "Q5_0", 32, 22;
    Q5_1 = 7, "Q5_1", 32, 24;
    Q8_0 = 8, "Q8_0", 32, 34;
    Q8_1 = 9, "Q8_1", 32, 40;
    Q2_K = 10, "Q2_K", 256, 84;
    Q3_K = 11, "Q3_K", 256, 110;
    Q4_K = 12, "Q4_K", 256, 144;
    Q5_K = 13, "Q5_K", 256, 176;
    Q6_K = 14, "Q6_K", 256, 210;
    Q8_K = 15, "Q8_K", 256, 292;
    IQ2_XXS = 16, "IQ2_XXS", 256, 66;
    IQ2_XS = 17, "IQ2_XS", 256, 74;
    IQ3_XXS = 18, "IQ3_XXS", 256, 98;
    IQ1_S = 19, "IQ1_S", 256, 50;
    IQ4_NL = 20, "IQ4_NL", 32, 18;
    IQ3_S = 21, "IQ3_S", 256, 110;
    IQ2_S = 22, "IQ2_S", 256, 82;
    IQ4_XS = 23, "IQ4_XS", 256, 136;
    I8 = 24, "I8", 1, 1;
    I16 = 25, "I16", 1, 2;
    I32 = 26, "I32", 1, 4;
    I64 = 27, "I64", 1, 8;
    F64 = 28, "F64", 1, 8;
    IQ1_M = 29, "IQ1_M", 256, 56;
    BF16 = 30, "BF16", 1, 2;
    TQ1_0 = 34, "TQ1_0", 256, 54;
    TQ2_0 = 35, "TQ2_0", 256, 66;
    MXFP4 = 39, "MXFP4", 32, 17;
    NVFP4 = 40, "NVFP4", 64, 36;
    Q1_0 = 41, "Q1_0", 128, 18;
}

impl GgmlType {
    /// Bytes of data a tensor of this type and shape occupies (before alignment padding).
    ///
    /// `None` when the type is unknown, the innermost dimension is not a whole number of
    /// blocks, or the size overflows.
    pub fn data_size(self, dims: &[u64]) -> Option<u64> {
        let (block, bytes) = self.block_layout()?;
        let first = dims.first().copied().unwrap_or(1);
        if first % block != 0 {
            return None;
        }
        let rows = dims
            .iter()
            .skip(1)
            .try_fold(1u64, |acc, &d| acc.checked_mul(d))?;
        (first / block).checked_mul(bytes)?.checked_mul(rows)
    }
}

impl fmt::Display for GgmlType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "UNKNOWN({})", self.id()),
        }
    }
}

/// One tensor info of the header: where a tensor's data is and how to read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorInfo {
    /// The tensor name, e.g. `blk.0.attn_q.weight`.
    pub name: String,
    /// Dimensions, innermost first (ggml's `ne`), at most [`crate::Limits::max_dims`].
    pub dims: Vec<u64>,
    /// The data type.
    pub ggml_type: GgmlType,
    /// Offset of the data relative to the start of the data section.
    pub offset: u64,
    /// Offset of this tensor info in the file.
    pub info_offset: u64,
}

impl TensorInfo {
    /// Number of elements (the product of the dimensions; the parser checked it fits an i64).
    pub fn n_elements(&self) -> u64 {
        self.dims
            .iter()
            .try_fold(1u64, |acc, &d| acc.checked_mul(d))
            .unwrap_or(u64::MAX)
    }

    /// Bytes of data, `None` for unknown types or shapes that are not whole blocks.
    pub fn data_size(&self) -> Option<u64> {
        self.ggml_type.data_size(&self.dims)
    }
}
