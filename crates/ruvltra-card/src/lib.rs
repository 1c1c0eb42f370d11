//! Text generated from the registry for the Hub repository: the model card (`README.md`),
//! its ModelScope twin, one Ollama Modelfile per GGUF model, and the llama.cpp/Ollama tag
//! compatibility report ([`compat`]).
//!
//! Everything here is pure and deterministic: a [`Registry`] (and the facts the uploader
//! read from the actual files, [`CardFacts`]) in, a `String` out; no file, clock,
//! environment or network access. The uploader publishes what these functions return.
//!
//! # Which models the card claims as available
//!
//! A model is *available* (listed in the files table, with download commands) when its
//! status is `published` or `deprecated`, or when it is `planned` but the uploader has its
//! file in hand for this very commit, which it says by putting the file in
//! [`CardFacts::files`]. Other planned models are listed under "Planned", never with a
//! download command. Models whose `repo` overrides the catalog's repository are not part of
//! this repository's card and are only mentioned with a link.

#![deny(missing_docs)]

use std::collections::BTreeMap;

mod card;
pub mod compat;
mod modelfile;
mod text;

pub use card::{front_matter, model_card, modelscope_card, modelscope_front_matter};
pub use modelfile::{modelfile, modelfile_path};
pub use text::const_name;

/// What the uploader learnt from the actual files, by repository path.
///
/// `CardFacts::default()` means "use the registry's values only". A value given here is used
/// only where the registry has none (the registry stays the source of truth; the uploader
/// refuses files that disagree with it before any card is generated).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CardFacts {
    /// Facts per repository path (`ruvltra-small-0.5b-q4_k_m.gguf`, `sona/x/adapter_config.json`).
    /// A planned model whose `file` is a key here is being published now and is shown as
    /// available.
    pub files: BTreeMap<String, FileFacts>,
}

/// Facts about one file, read from the file itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileFacts {
    /// Size in bytes.
    pub bytes: Option<u64>,
    /// Lowercase hex sha256.
    pub sha256: Option<String>,
    /// `{arch}.context_length` from the GGUF metadata; `None` when missing or not read.
    pub context_length: Option<u64>,
    /// Whether the GGUF carries `tokenizer.chat_template`; `None` when not checked.
    pub has_chat_template: Option<bool>,
}

impl CardFacts {
    /// Facts of one path, if any.
    pub fn get(&self, path: &str) -> Option<&FileFacts> {
        self.files.get(path)
    }
}

/// Why a Modelfile (or another generated text) cannot be produced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CardError {
    /// No model has this id.
    #[error("no model with id `{0}` in the registry; run `cargo xtask validate` to list the ids")]
    UnknownModel(String),
    /// The model is not a GGUF model, so Ollama cannot load it.
    #[error(
        "model `{id}` is of kind `{kind}`, not a GGUF model; Modelfiles exist only for GGUF models"
    )]
    NotGguf {
        /// The id asked for.
        id: String,
        /// Its kind, as written in the registry.
        kind: String,
    },
    /// A text would break the Modelfile syntax.
    #[error(
        "the {what} of model `{id}` contains `\"\"\"` or ends with `\"`, which a Modelfile cannot hold; reword it in registry.json"
    )]
    Unrepresentable {
        /// The model concerned.
        id: String,
        /// Which text (`description`, `system prompt`, ...).
        what: &'static str,
    },
}
