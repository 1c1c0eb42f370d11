//! The quantisation schemes of llama.cpp (`llama_ftype`): one table that gives every user what
//! it needs, the upper-case GGUF name, the lowercase file-name label, the `general.file_type`
//! number, whether it is full precision, and the tensor types a file of it mostly holds.

use std::fmt;
use std::str::FromStr;

macro_rules! quants {
    ($($variant:ident = $label:literal, $file_type:literal, $full:literal, $main:ident $(+ $mix:ident)?;)*) => {
        /// A llama.cpp quantisation scheme, as it appears (lowercase) in GGUF file names.
        ///
        /// Cases are declared, and so ordered, by `general.file_type`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[allow(non_camel_case_types)]
        pub enum Quant {
            $(
                #[doc = concat!(
                    "`", stringify!($variant), "` (`", $label, "` in file names), `general.file_type` ",
                    stringify!($file_type), "."
                )]
                $variant,
            )*
        }

        impl Quant {
            /// Every known quant, in `general.file_type` order.
            pub const ALL: &'static [Quant] = &[$(Quant::$variant,)*];

            /// The lowercase label used in file names and `registry.json` (`q4_k_m`).
            pub const fn label(self) -> &'static str {
                match self { $(Quant::$variant => $label,)* }
            }

            /// The upper-case name llama.cpp, GGUF tools and Ollama tags use (`Q4_K_M`).
            pub const fn name(self) -> &'static str {
                match self { $(Quant::$variant => stringify!($variant),)* }
            }

            /// The `general.file_type` value (llama_ftype) of this scheme.
            pub const fn file_type(self) -> u32 {
                match self { $(Quant::$variant => $file_type,)* }
            }

            /// True for unquantised (full or half precision) schemes.
            pub const fn is_full_precision(self) -> bool {
                match self { $(Quant::$variant => $full,)* }
            }

            /// The ggml tensor types a file of this scheme mostly holds, by their GGUF names:
            /// the type of most weight matrices, and the higher-precision type some matrices
            /// get in `_M`/`_L` mixes (`("Q4_K", Some("Q6_K"))` for Q4_K_M).
            pub const fn tensor_types(self) -> (&'static str, Option<&'static str>) {
                match self { $(Quant::$variant => (stringify!($main), quants!(@mix $($mix)?)),)* }
            }
        }
    };
    (@mix) => { None };
    (@mix $mix:ident) => { Some(stringify!($mix)) };
}

// The one table of quantisation schemes. Each line is
//
//     NAME = "file-name label", general.file_type, full precision, main tensor type [+ mix type];
//
// Adding a quant is one line here (a made-up example: `Q3_K_XL = "q3_k_xl", 41, false, Q3_K +
// Q6_K;`), then the files generated from the table are brought up to date and committed:
//
//     UPDATE_FIXTURES=1 UPDATE_SCHEMA=1 INSTA_UPDATE=always \
//         cargo test -p ruvltra-codegen -p ruvltra-registry --no-fail-fast
//
// run again until it passes (a run that rewrites a file fails on purpose, and the fixture is
// rewritten before its snapshot): `every_quant.json` and its code snapshot, and
// `registry.schema.json`, then `cargo test` without the variables. Nothing else is edited:
// the registry's validation and schema, the generated `Quant` cases `ruvllm` compiles, the model
// card, and the GGUF reader's `general.file_type` table and sample writer all derive from this
// list. A test compares it with gguf-py's `LlamaFileType` (so a quant gguf-py does not know yet
// fails there); a tensor type new to `ruvltra_gguf::GgmlType` is added to that type's own table,
// which is also checked against gguf-py.
quants! {
    F32 = "f32", 0, true, F32;
    F16 = "f16", 1, true, F16;
    Q4_0 = "q4_0", 2, false, Q4_0;
    Q4_1 = "q4_1", 3, false, Q4_1;
    Q8_0 = "q8_0", 7, false, Q8_0;
    Q5_0 = "q5_0", 8, false, Q5_0;
    Q5_1 = "q5_1", 9, false, Q5_1;
    Q2_K = "q2_k", 10, false, Q2_K + Q4_K;
    Q3_K_S = "q3_k_s", 11, false, Q3_K;
    Q3_K_M = "q3_k_m", 12, false, Q3_K + Q5_K;
    Q3_K_L = "q3_k_l", 13, false, Q3_K + Q5_K;
    Q4_K_S = "q4_k_s", 14, false, Q4_K;
    Q4_K_M = "q4_k_m", 15, false, Q4_K + Q6_K;
    Q5_K_S = "q5_k_s", 16, false, Q5_K;
    Q5_K_M = "q5_k_m", 17, false, Q5_K + Q6_K;
    Q6_K = "q6_k", 18, false, Q6_K;
    IQ2_XXS = "iq2_xxs", 19, false, IQ2_XXS;
    IQ2_XS = "iq2_xs", 20, false, IQ2_XS;
    Q2_K_S = "q2_k_s", 21, false, Q2_K;
    IQ3_XS = "iq3_xs", 22, false, IQ3_S;
    IQ3_XXS = "iq3_xxs", 23, false, IQ3_XXS;
    IQ1_S = "iq1_s", 24, false, IQ1_S;
    IQ4_NL = "iq4_nl", 25, false, IQ4_NL;
    IQ3_S = "iq3_s", 26, false, IQ3_S;
    IQ3_M = "iq3_m", 27, false, IQ3_S;
    IQ2_S = "iq2_s", 28, false, IQ2_XS;
    IQ2_M = "iq2_m", 29, false, IQ2_S;
    IQ4_XS = "iq4_xs", 30, false, IQ4_XS;
    IQ1_M = "iq1_m", 31, false, IQ1_M;
    BF16 = "bf16", 32, true, BF16;
    TQ1_0 = "tq1_0", 36, false, TQ1_0;
    TQ2_0 = "tq2_0", 37, false, TQ2_0;
    MXFP4_MOE = "mxfp4_moe", 38, false, MXFP4;
    NVFP4 = "nvfp4", 39, false, NVFP4;
    Q1_0 = "q1_0", 40, false, Q1_0;
}

impl Quant {
    /// Looks a label up, case-insensitively (`Q4_K_M` and `q4_k_m` both work).
    pub fn from_label(label: &str) -> Option<Quant> {
        Self::ALL
            .iter()
            .copied()
            .find(|q| q.label().eq_ignore_ascii_case(label))
    }

    /// Maps a `general.file_type` value to its scheme; `None` for removed or unknown values.
    pub fn from_file_type(file_type: u32) -> Option<Quant> {
        Self::ALL
            .iter()
            .copied()
            .find(|q| q.file_type() == file_type)
    }

    /// The upper-case name as an owned string ([`Quant::name`]).
    pub fn upper(self) -> String {
        self.name().to_owned()
    }
}

impl fmt::Display for Quant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// The error of parsing an unknown quant label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownQuant(pub String);

impl fmt::Display for UnknownQuant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown quant label `{}` (expected a llama.cpp label such as q4_k_m, q8_0 or f16)",
            self.0
        )
    }
}

impl std::error::Error for UnknownQuant {}

impl FromStr for Quant {
    type Err = UnknownQuant;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Quant::from_label(s).ok_or_else(|| UnknownQuant(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_the_lowercase_names_and_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for quant in Quant::ALL {
            assert_eq!(
                quant.label(),
                quant.name().to_ascii_lowercase(),
                "{quant:?}"
            );
            assert_eq!(format!("{quant:?}"), quant.name());
            assert_eq!(quant.to_string(), quant.label());
            assert_eq!(Quant::from_label(quant.name()), Some(*quant));
            assert_eq!(quant.name().parse::<Quant>(), Ok(*quant));
            assert_eq!(Quant::from_file_type(quant.file_type()), Some(*quant));
            assert!(seen.insert(quant.file_type()), "{quant:?}: file type twice");
        }
    }

    #[test]
    fn the_order_is_the_file_type_order() {
        let types: Vec<u32> = Quant::ALL.iter().map(|q| q.file_type()).collect();
        let mut sorted = types.clone();
        sorted.sort_unstable();
        assert_eq!(types, sorted);
        assert!(Quant::ALL.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn facts_of_a_few_schemes() {
        assert_eq!(Quant::Q4_K_M.file_type(), 15);
        assert_eq!(Quant::Q4_K_M.tensor_types(), ("Q4_K", Some("Q6_K")));
        assert_eq!(Quant::Q8_0.tensor_types(), ("Q8_0", None));
        assert_eq!(Quant::MXFP4_MOE.tensor_types(), ("MXFP4", None));
        let full: Vec<Quant> = Quant::ALL
            .iter()
            .copied()
            .filter(|q| q.is_full_precision())
            .collect();
        assert_eq!(full, [Quant::F32, Quant::F16, Quant::BF16]);
        for removed in [4, 5, 6, 33, 34, 35, 1024] {
            assert_eq!(Quant::from_file_type(removed), None, "{removed}");
        }
        assert_eq!(
            "q4_k_x".parse::<Quant>().unwrap_err().to_string(),
            "unknown quant label `q4_k_x` (expected a llama.cpp label such as q4_k_m, q8_0 or f16)"
        );
    }
}
