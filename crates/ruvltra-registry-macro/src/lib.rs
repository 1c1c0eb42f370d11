//! `ruvltra_registry!("registry.json")`: the typed model constants of a registry file,
//! compiled into the calling crate by a proc-macro, so a program with its own catalog needs
//! no build script.
//!
//! The macro is a front end and nothing more: [`ruvltra_registry::load`] reads and validates
//! the file and [`ruvltra_codegen::generate`] makes the tokens, so the expansion is exactly the
//! module `ruvllm`'s `build.rs` writes to `OUT_DIR/registry.rs` for the same file (`REPO`,
//! `REVISION`, one `ModelSpec` constant per model, `MODELS`, `CATALOG`, `Variant` and the
//! lookups), followed by one unnamed constant that makes the compiler track the file:
//!
//! ```text
//! const _: &[u8] = ::core::include_bytes!("/absolute/path/to/registry.json");
//! ```
//!
//! Stable Rust has no `proc_macro::tracked_path`, so without that line cargo would not know
//! that the crate depends on the JSON and an edited registry would leave stale constants
//! behind. With it, the file is in the crate's dep-info: changing it recompiles the crate,
//! which runs the macro again. The constant is never used, so no byte of the file reaches the
//! binary.
//!
//! # Usage
//!
//! The path is a string literal, relative to the `Cargo.toml` of the crate that calls the
//! macro (its `CARGO_MANIFEST_DIR`), or absolute. The generated code names the hand-written
//! types of `ruvllm::hub::registry` unqualified (`ModelSpec`, `Quant`, `Catalog`, ...), as the
//! included `registry.rs` does, so call the macro in a module that imports
//! `ruvllm::hub::registry::prelude::*`; the calling crate depends on `ruvllm` for those types
//! and on this crate for the macro.
//!
//! ```
//! mod catalog {
//!     use ruvllm::hub::registry::prelude::*;
//!
//!     // Relative to this crate's Cargo.toml; a crate of your own would write "registry.json".
//!     ruvltra_registry_macro::ruvltra_registry!("../ruvltra-codegen/tests/fixtures/one_model.json");
//! }
//!
//! let spec = catalog::RUVLTRA_CLAUDE_CODE_0_5B_Q4_K_M;
//! assert_eq!(spec.file, "ruvltra-claude-code-0.5b-q4_k_m.gguf");
//! assert_eq!(catalog::by_id("ruvltra-claude-code-0.5b-q4_k_m"), Some(&spec));
//! assert_eq!(catalog::MODELS.len(), 1);
//! assert_eq!(catalog::Variant::of(&spec), Some(catalog::Variant::ClaudeCode));
//! ```
//!
//! Each call expands to items at the call site, so two registries need two modules.
//!
//! # Errors
//!
//! A registry that cannot be read, parsed, validated or generated is a compile error at the
//! path literal, never a panic: one error per line of the message `ruvllm`'s build script
//! prints for the same file (a first line naming the file, then one line per problem with its
//! JSON path and model id).
//!
//! ```text
//! error: registry /work/app/registry.json has 2 problems; fix them:
//!  --> src/main.rs:3:47
//!   |
//! 3 |     ruvltra_registry_macro::ruvltra_registry!("registry.json");
//!   |                                               ^^^^^^^^^^^^^^^
//!
//! error: /models/0/sha256 (ruvltra-small-0.5b-q4_k_m): sha256 `ABC` is not 64 lowercase hex digits; leave it out until sync or publish fills it
//!  --> src/main.rs:3:47
//!
//! error: /models/0/quant (ruvltra-small-0.5b-q4_k_m): unknown quant label `q4_k_x`; use a llama.cpp label such as q4_k_m, q8_0 or f16
//!  --> src/main.rs:3:47
//! ```
//!
//! **Architecture invariant:** a pure front end. The macro reads exactly one file, the one
//! named by its argument, and nothing else (no network, no other file, no environment
//! variable but `CARGO_MANIFEST_DIR`); it writes nothing. `ruvllm` never depends on this
//! crate, so the runtime never pulls `syn` or `quote` into its normal dependencies.

use std::path::{Path, PathBuf};

use proc_macro2::TokenStream;
use quote::quote;
use syn::LitStr;
use syn::parse::{Parse, ParseStream};

/// Expands to the typed constants of the registry file at the given path (relative to the
/// calling crate's `Cargo.toml`, or absolute); see the crate documentation.
#[proc_macro]
pub fn ruvltra_registry(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from);
    expand(input.into(), manifest_dir.as_deref()).into()
}

/// The whole expansion: the generated module, or `compile_error!`s at the path literal.
fn expand(input: TokenStream, manifest_dir: Option<&Path>) -> TokenStream {
    try_expand(input, manifest_dir).unwrap_or_else(|err| err.to_compile_error())
}

/// The generated module, or every error, each spanned at the path literal (or at whatever
/// stands where the literal should be).
fn try_expand(input: TokenStream, manifest_dir: Option<&Path>) -> syn::Result<TokenStream> {
    let Input(literal) = syn::parse2(input)?;
    registry_module(&literal, manifest_dir).map_err(|err| err.to_syn(&literal))
}

/// The macro's argument: one string literal, optionally followed by a comma.
struct Input(LitStr);

impl Parse for Input {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let usage = "expected the registry path as one string literal, \
                     such as ruvltra_registry!(\"registry.json\")";
        let literal: LitStr = input
            .parse()
            .map_err(|err| syn::Error::new(err.span(), usage))?;
        if input.peek(syn::Token![,]) {
            input.parse::<syn::Token![,]>()?;
        }
        if !input.is_empty() {
            return Err(input.error(usage));
        }
        Ok(Input(literal))
    }
}

/// Why the macro could not expand.
#[derive(Debug, thiserror::Error)]
enum Error {
    /// A relative path needs the calling crate's directory, which only cargo provides.
    #[error(
        "CARGO_MANIFEST_DIR is not set, so the relative registry path `{path}` has no base; \
         build with cargo or give an absolute path"
    )]
    NoManifestDir {
        /// The path as written in the macro call.
        path: String,
    },
    /// `include_bytes!` takes a string, so the compiler cannot track a non-UTF-8 path.
    #[error(
        "the registry path {} is not valid UTF-8, so the compiler cannot track changes to it; \
         move the registry to a path that is",
        path.display()
    )]
    NotUtf8 {
        /// The resolved path.
        path: PathBuf,
    },
    /// The file cannot be read, is not a registry, or breaks validation rules.
    #[error(transparent)]
    Load(#[from] ruvltra_registry::LoadError),
    /// The registry is valid but cannot become Rust constants (clashing names, ...), or the
    /// generator failed; the message is the one `ruvllm`'s build script prints.
    #[error("{}", source.for_registry_file(path))]
    Generate {
        /// The registry file.
        path: PathBuf,
        /// Every problem, one per line.
        source: ruvltra_codegen::Error,
    },
}

impl Error {
    /// One compile error per line of the message, each at the path literal, so that every
    /// problem is its own diagnostic.
    fn to_syn(&self, literal: &LitStr) -> syn::Error {
        let text = self.to_string();
        let mut lines = text.lines().filter(|line| !line.is_empty());
        let first = lines.next().unwrap_or("the registry cannot be compiled in");
        let mut error = syn::Error::new(literal.span(), first);
        for line in lines {
            error.combine(syn::Error::new(literal.span(), line));
        }
        error
    }
}

/// The registry file the literal names: itself when absolute, else under `manifest_dir`.
fn resolve(written: &str, manifest_dir: Option<&Path>) -> Result<PathBuf, Error> {
    let path = Path::new(written);
    if path.is_absolute() {
        return Ok(path.to_owned());
    }
    match manifest_dir {
        Some(dir) => Ok(dir.join(path)),
        None => Err(Error::NoManifestDir {
            path: written.to_owned(),
        }),
    }
}

/// [`ruvltra_codegen::generate`]'s tokens for the registry, then the constant that makes
/// the compiler track the file.
fn registry_module(literal: &LitStr, manifest_dir: Option<&Path>) -> Result<TokenStream, Error> {
    let path = resolve(&literal.value(), manifest_dir)?;
    let Some(tracked) = path.to_str() else {
        return Err(Error::NotUtf8 { path });
    };
    let tracked = LitStr::new(tracked, literal.span());
    let registry = ruvltra_registry::load(&path)?;
    let mut tokens = ruvltra_codegen::generate(&registry).map_err(|source| Error::Generate {
        path: path.clone(),
        source,
    })?;
    tokens.extend(quote! {
        const _: &[u8] = ::core::include_bytes!(#tracked);
    });
    Ok(tokens)
}

/// The logic of `ruvllm`'s build script, whose messages the macro's errors must repeat.
#[cfg(test)]
#[path = "../../ruvllm/build/registry_source.rs"]
#[allow(dead_code)]
mod build_script;

#[cfg(test)]
mod tests;
