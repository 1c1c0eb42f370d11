//! Quantisation labels: the llama.cpp `llama_ftype` names, lowercase in file names.

use std::fmt;
use std::str::FromStr;

macro_rules! quants {
    ($($variant:ident = $label:literal, $ftype:expr, $full:expr;)*) => {
        /// A llama.cpp quantisation scheme, as it appears (lowercase) in GGUF file names.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[allow(non_camel_case_types, missing_docs)]
        pub enum Quant { $($variant,)* }

        impl Quant {
            /// Every known quant, in `general.file_type` order.
            pub const ALL: &'static [Quant] = &[$(Quant::$variant,)*];

            /// The lowercase label used in file names and `registry.json` (`q4_k_m`).
            pub const fn label(self) -> &'static str {
                match self { $(Quant::$variant => $label,)* }
            }

            /// The `general.file_type` value (llama_ftype) of this scheme.
            pub const fn file_type(self) -> u32 {
                match self { $(Quant::$variant => $ftype,)* }
            }

            /// True for unquantised (full or half precision) schemes.
            pub const fn is_full_precision(self) -> bool {
                match self { $(Quant::$variant => $full,)* }
            }
        }
    };
}

quants! {
    F32 = "f32", 0, true;
    F16 = "f16", 1, true;
    Q4_0 = "q4_0", 2, false;
    Q4_1 = "q4_1", 3, false;
    Q8_0 = "q8_0", 7, false;
    Q5_0 = "q5_0", 8, false;
    Q5_1 = "q5_1", 9, false;
    Q2_K = "q2_k", 10, false;
    Q3_K_S = "q3_k_s", 11, false;
    Q3_K_M = "q3_k_m", 12, false;
    Q3_K_L = "q3_k_l", 13, false;
    Q4_K_S = "q4_k_s", 14, false;
    Q4_K_M = "q4_k_m", 15, false;
    Q5_K_S = "q5_k_s", 16, false;
    Q5_K_M = "q5_k_m", 17, false;
    Q6_K = "q6_k", 18, false;
    IQ2_XXS = "iq2_xxs", 19, false;
    IQ2_XS = "iq2_xs", 20, false;
    Q2_K_S = "q2_k_s", 21, false;
    IQ3_XS = "iq3_xs", 22, false;
    IQ3_XXS = "iq3_xxs", 23, false;
    IQ1_S = "iq1_s", 24, false;
    IQ4_NL = "iq4_nl", 25, false;
    IQ3_S = "iq3_s", 26, false;
    IQ3_M = "iq3_m", 27, false;
    IQ2_S = "iq2_s", 28, false;
    IQ2_M = "iq2_m", 29, false;
    IQ4_XS = "iq4_xs", 30, false;
    IQ1_M = "iq1_m", 31, false;
    BF16 = "bf16", 32, true;
    TQ1_0 = "tq1_0", 36, false;
    TQ2_0 = "tq2_0", 37, false;
    MXFP4_MOE = "mxfp4_moe", 38, false;
    NVFP4 = "nvfp4", 39, false;
    Q1_0 = "q1_0", 40, false;
}

impl Quant {
    /// Looks a label up, case-insensitively (`Q4_K_M` and `q4_k_m` both work).
    pub fn from_label(label: &str) -> Option<Quant> {
        Self::ALL
            .iter()
            .copied()
            .find(|q| q.label().eq_ignore_ascii_case(label))
    }

    /// Maps a `general.file_type` value to its scheme.
    pub fn from_file_type(file_type: u32) -> Option<Quant> {
        Self::ALL
            .iter()
            .copied()
            .find(|q| q.file_type() == file_type)
    }

    /// The upper-case label llama.cpp and Ollama tags use (`Q4_K_M`).
    pub fn upper(self) -> String {
        self.label().to_ascii_uppercase()
    }
}

impl fmt::Display for Quant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// The error of parsing an unknown quant label.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown quant label `{0}` (expected a llama.cpp label such as q4_k_m, q8_0 or f16)")]
pub struct UnknownQuant(pub String);

impl FromStr for Quant {
    type Err = UnknownQuant;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Quant::from_label(s).ok_or_else(|| UnknownQuant(s.to_owned()))
    }
}
