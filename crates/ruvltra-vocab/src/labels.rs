//! The kinds and statuses of catalog entries, with the kebab-case labels `registry.json`
//! uses; the registry's serde and schema, the generated constants' doc comments, `ruvllm`'s
//! runtime and `sync`'s reports all spell them from here.

use std::fmt;

macro_rules! labelled_enum {
    (
        $(#[doc = $doc:literal])*
        pub enum $name:ident {
            $(#[doc = $variant_doc:literal] $(#[$default:ident])? $variant:ident = $label:literal,)*
        }
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $(#[doc = $variant_doc] $(#[$default])? $variant,)*
        }

        impl $name {
            /// Every case, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// Every label, in declaration order.
            pub const LABELS: &'static [&'static str] = &[$($label,)*];

            /// What the type means, one sentence (its doc comment).
            pub const DESCRIPTION: &'static str = doc_text(concat!($($doc),*));

            /// The kebab-case label used in `registry.json`.
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $label,)* }
            }

            /// The name of the Rust enum case (`GgufFullPrecision`), as generated code writes it.
            pub const fn case_name(self) -> &'static str {
                match self { $($name::$variant => stringify!($variant),)* }
            }

            /// What this case means, one sentence (its doc comment).
            pub const fn description(self) -> &'static str {
                match self { $($name::$variant => doc_text($variant_doc),)* }
            }

            /// The case with exactly this label.
            pub fn from_label(label: &str) -> Option<$name> {
                Self::ALL.iter().copied().find(|case| case.as_str() == label)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

labelled_enum! {
    /// What kind of artifact a registry entry is.
    pub enum ArtifactKind {
        /// A quantised GGUF model (Q4_K_M, Q8_0, ...), the default.
        #[default]
        Gguf = "gguf",
        /// A full-precision GGUF model (F16, BF16, F32), for fine-tuning.
        GgufFullPrecision = "gguf-full-precision",
        /// A LoRA-style adapter such as a SONA export; needs `base`.
        Adapter = "adapter",
        /// Any other file published with the catalog.
        File = "file",
    }
}

labelled_enum! {
    /// Whether a model is on the Hub yet.
    pub enum Status {
        /// Published on the Hub (ADR-013 phase 1 models).
        #[default]
        Published = "published",
        /// Planned but not uploaded yet (phase 2 variants).
        Planned = "planned",
        /// Still on the Hub, no longer recommended.
        Deprecated = "deprecated",
    }
}

impl ArtifactKind {
    /// True for both GGUF kinds, the ones a runtime can load on their own.
    pub const fn is_gguf(self) -> bool {
        matches!(self, Self::Gguf | Self::GgufFullPrecision)
    }
}

/// A one-line doc comment as text: without the space `///` leaves before it.
const fn doc_text(doc: &'static str) -> &'static str {
    match doc.as_bytes() {
        [b' ', rest @ ..] => match std::str::from_utf8(rest) {
            Ok(text) => text,
            Err(_) => doc,
        },
        _ => doc,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_round_trip() {
        for kind in ArtifactKind::ALL {
            assert_eq!(ArtifactKind::from_label(kind.as_str()), Some(*kind));
            assert_eq!(kind.to_string(), kind.as_str());
        }
        for status in Status::ALL {
            assert_eq!(Status::from_label(status.as_str()), Some(*status));
        }
        assert_eq!(Status::from_label("Published"), None);
        assert_eq!(
            ArtifactKind::LABELS,
            ["gguf", "gguf-full-precision", "adapter", "file"]
        );
        assert_eq!(Status::LABELS, ["published", "planned", "deprecated"]);
    }

    #[test]
    fn defaults_and_descriptions() {
        assert_eq!(ArtifactKind::default(), ArtifactKind::Gguf);
        assert_eq!(Status::default(), Status::Published);
        assert_eq!(Status::DESCRIPTION, "Whether a model is on the Hub yet.");
        assert_eq!(
            Status::Deprecated.description(),
            "Still on the Hub, no longer recommended."
        );
        assert!(ArtifactKind::GgufFullPrecision.is_gguf());
        for kind in ArtifactKind::ALL {
            assert_eq!(format!("{kind:?}"), kind.case_name());
        }
        assert_eq!(Status::Planned.case_name(), "Planned");
        assert!(!ArtifactKind::Adapter.is_gguf());
    }
}
