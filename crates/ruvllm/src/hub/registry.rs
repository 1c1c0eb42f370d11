//! The compile-time model registry: hand-written types plus the constants that `build.rs`
//! generates from `registry.json`.
//!
//! Everything below the types is produced by `ruvltra-codegen` into `OUT_DIR/registry.rs` and
//! included at the end of this file, so a typo in a model id is a compile error and a changed
//! checksum shows up as a diff of `registry.json` in review. The generated code names the types
//! of this file unqualified; [`prelude`] lists them for crates that include a generated registry
//! of another catalog.
//!
//! **Architecture invariant:** nothing here allocates or parses at start-up; a [`ModelSpec`] is
//! plain `'static` data built in `const` context.

/// The Hub endpoint used by [`ModelSpec::download_url`].
pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";

/// The names generated registry code expects in scope; `use` it before `include!`ing one.
pub mod prelude {
    pub use super::{ArtifactKind, Catalog, FileSpec, Hardware, ModelSpec, Quant, Status};
}

/// The shared vocabulary: quantisation schemes, artifact kinds and statuses are defined once,
/// in the dependency-free `ruvltra-vocab`, and named here unqualified by the generated code.
pub use ruvltra_vocab::{ArtifactKind, Quant, Status};

/// What a model needs to run. Memory figures are in MiB; `None` means not stated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Hardware {
    /// Minimum system RAM in MiB.
    pub min_ram_mib: Option<u64>,
    /// Recommended system RAM in MiB.
    pub recommended_ram_mib: Option<u64>,
    /// Minimum accelerator memory in MiB, when a GPU is used.
    pub min_vram_mib: Option<u64>,
    /// Accelerators the runtime supports for this model (`cpu`, `metal`, `cuda`, ...).
    pub accelerators: &'static [&'static str],
}

impl Hardware {
    /// Nothing stated.
    pub const UNKNOWN: Hardware = Hardware {
        min_ram_mib: None,
        recommended_ram_mib: None,
        min_vram_mib: None,
        accelerators: &[],
    };
}

/// One file of an artifact: its path in the repository, size and checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileSpec {
    /// Path in the repository (`ruvltra-small-0.5b-q4_k_m.gguf`, `sona/x/adapter_config.json`).
    pub file: &'static str,
    /// Size in bytes; `None` until synced or published.
    pub bytes: Option<u64>,
    /// The sha256 of the file; `None` until synced or published, never made up.
    pub sha256: Option<[u8; 32]>,
}

impl FileSpec {
    /// The checksum as lowercase hex, as the Hub shows it.
    pub fn sha256_hex(&self) -> Option<String> {
        self.sha256.map(|digest| hex_lower(&digest))
    }
}

/// One artifact of the catalog, as generated from `registry.json`.
///
/// Every field is plain `'static` data, so specs are built in `const` context and cost
/// nothing at run time. Catalog defaults (repository, revision, licence, languages) are
/// already resolved into each spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ModelSpec {
    /// Unique id, the file stem (`ruvltra-claude-code-0.5b-q4_k_m`).
    pub id: &'static str,
    /// Path of the (first) file in the repository.
    pub file: &'static str,
    /// Human name, when the registry gives one.
    pub name: Option<&'static str>,
    /// One or two sentences about the model.
    pub description: Option<&'static str>,
    /// What the artifact is.
    pub kind: ArtifactKind,
    /// Whether it is on the Hub yet.
    pub status: Status,
    /// The quantisation scheme.
    pub quant: Quant,
    /// Parameter-count label as in the file name (`0.5b`).
    pub size: &'static str,
    /// The variant as written in `registry.json` (`claude-code`), if any.
    pub variant: Option<&'static str>,
    /// `general.architecture` of the GGUF (`qwen2`).
    pub architecture: Option<&'static str>,
    /// Exact parameter count when known.
    pub parameters: Option<u64>,
    /// Context length in tokens when known.
    pub context_length: Option<u64>,
    /// Upstream model this one derives from, as a Hub id.
    pub base_model: Option<&'static str>,
    /// For adapters: the id of the model the adapter applies to.
    pub base: Option<&'static str>,
    /// Hub licence id (the model's, else the catalog's).
    pub license: Option<&'static str>,
    /// ISO 639-1 language codes (the model's, else the catalog's).
    pub languages: &'static [&'static str],
    /// What the model needs to run.
    pub hardware: Hardware,
    /// Free-form tags.
    pub tags: &'static [&'static str],
    /// Hub repository holding the model (its override, else the catalog's).
    pub repo: &'static str,
    /// Revision downloads read from (its pin, else the catalog's).
    pub revision: &'static str,
    /// Size of `file` in bytes; `None` until synced or published.
    pub bytes: Option<u64>,
    /// The sha256 of `file`; `None` until synced or published, never made up.
    pub sha256: Option<[u8; 32]>,
    /// Further files of the artifact: the other shards of a split GGUF, adapter data.
    pub extra_files: &'static [FileSpec],
    /// Direct https URLs to try, in order, when the Hub fails.
    pub fallback_urls: &'static [&'static str],
}

impl ModelSpec {
    /// A spec with every optional field unset, kind `Gguf` and status `Published` (the
    /// defaults of `registry.json`).
    ///
    /// Generated constants write the fields a model sets and take the rest from here with
    /// `..ModelSpec::EMPTY`; the identity fields (`id`, `file`, `quant`, `size`, `repo`,
    /// `revision`) are always written, so the placeholders below never reach a real spec.
    pub const EMPTY: ModelSpec = ModelSpec {
        id: "",
        file: "",
        name: None,
        description: None,
        kind: ArtifactKind::Gguf,
        status: Status::Published,
        quant: Quant::F32,
        size: "",
        variant: None,
        architecture: None,
        parameters: None,
        context_length: None,
        base_model: None,
        base: None,
        license: None,
        languages: &[],
        hardware: Hardware::UNKNOWN,
        tags: &[],
        repo: "",
        revision: "",
        bytes: None,
        sha256: None,
        extra_files: &[],
        fallback_urls: &[],
    };

    /// The main file as a [`FileSpec`].
    pub const fn main_file(&self) -> FileSpec {
        FileSpec {
            file: self.file,
            bytes: self.bytes,
            sha256: self.sha256,
        }
    }

    /// Every file of the artifact, the main file first.
    pub fn files(&self) -> impl Iterator<Item = FileSpec> + use<> {
        std::iter::once(self.main_file()).chain(self.extra_files.iter().copied())
    }

    /// True when the artifact has more than one file (a split GGUF or an adapter bundle).
    pub const fn is_multi_file(&self) -> bool {
        !self.extra_files.is_empty()
    }

    /// True for adapters.
    pub const fn is_adapter(&self) -> bool {
        matches!(self.kind, ArtifactKind::Adapter)
    }

    /// True when the spec is on the Hub and recommended (neither planned nor deprecated).
    pub const fn is_available(&self) -> bool {
        matches!(self.status, Status::Published)
    }

    /// Bytes of all files together, when every size is known.
    pub const fn total_bytes(&self) -> Option<u64> {
        let Some(mut total) = self.bytes else {
            return None;
        };
        let mut i = 0;
        while i < self.extra_files.len() {
            match self.extra_files[i].bytes {
                Some(bytes) => total += bytes,
                None => return None,
            }
            i += 1;
        }
        Some(total)
    }

    /// RAM in MiB the model needs: the larger of the stated minimum and the size of its files,
    /// or `None` when neither is known.
    pub const fn ram_needed_mib(&self) -> Option<u64> {
        let from_files = match self.total_bytes() {
            Some(bytes) => Some(bytes.div_ceil(1024 * 1024)),
            None => None,
        };
        match (self.hardware.min_ram_mib, from_files) {
            (Some(a), Some(b)) => Some(if a > b { a } else { b }),
            (Some(a), None) => Some(a),
            (None, b) => b,
        }
    }

    /// The main file's checksum as lowercase hex.
    pub fn sha256_hex(&self) -> Option<String> {
        self.main_file().sha256_hex()
    }

    /// `https://huggingface.co/{repo}/resolve/{revision}/{file}` for the main file, honouring
    /// the model's repository override and revision pin.
    pub fn download_url(&self) -> String {
        self.download_url_at(DEFAULT_ENDPOINT)
    }

    /// [`download_url`](Self::download_url) against another Hub endpoint (a mirror or a
    /// local test server), given without a trailing slash.
    pub fn download_url_at(&self, endpoint: &str) -> String {
        self.file_url_at(endpoint, self.file)
    }

    /// The resolve URL of any file of this artifact (for example an extra shard).
    ///
    /// The revision is percent-encoded as one path segment (`refs/pr/1` becomes
    /// `refs%2Fpr%2F1`) and the file keeps its slashes, as the Hub clients send them.
    pub fn file_url_at(&self, endpoint: &str, file: &str) -> String {
        let mut url = String::with_capacity(endpoint.len() + self.repo.len() + file.len() + 64);
        url.push_str(endpoint.trim_end_matches('/'));
        url.push('/');
        url.push_str(self.repo);
        url.push_str("/resolve/");
        percent_encode_into(&mut url, self.revision, false);
        url.push('/');
        percent_encode_into(&mut url, file, true);
        url
    }
}

/// A whole generated catalog: its defaults and every spec, sorted by id.
///
/// The generated code defines one `CATALOG` constant and free functions that call these
/// methods; use them directly when holding a catalog of another registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Catalog {
    /// The catalog's default Hub repository.
    pub repo: &'static str,
    /// The catalog's default revision.
    pub revision: &'static str,
    /// Every spec, sorted by id.
    pub models: &'static [ModelSpec],
}

impl Catalog {
    /// The spec with this exact id.
    pub const fn by_id(self, id: &str) -> Option<&'static ModelSpec> {
        let models = self.models;
        let mut i = 0;
        while i < models.len() {
            if str_eq(models[i].id, id) {
                return Some(&models[i]);
            }
            i += 1;
        }
        None
    }

    /// The spec owning this repository path, as its main file or one of its extra files.
    pub const fn by_file(self, file: &str) -> Option<&'static ModelSpec> {
        let models = self.models;
        let mut i = 0;
        while i < models.len() {
            if str_eq(models[i].file, file) {
                return Some(&models[i]);
            }
            let extra = models[i].extra_files;
            let mut j = 0;
            while j < extra.len() {
                if str_eq(extra[j].file, file) {
                    return Some(&models[i]);
                }
                j += 1;
            }
            i += 1;
        }
        None
    }

    /// Specs of this variant (as written in `registry.json`), in id order.
    pub fn by_variant(self, variant: &str) -> impl Iterator<Item = &'static ModelSpec> + '_ {
        self.models
            .iter()
            .filter(move |m| m.variant == Some(variant))
    }

    /// Specs with this quantisation, in id order.
    pub fn by_quant(self, quant: Quant) -> impl Iterator<Item = &'static ModelSpec> {
        self.models.iter().filter(move |m| m.quant == quant)
    }

    /// Adapters whose base is the model with this id, in id order.
    pub fn adapters_of(self, base_id: &str) -> impl Iterator<Item = &'static ModelSpec> + '_ {
        self.models
            .iter()
            .filter(move |m| m.is_adapter() && m.base == Some(base_id))
    }

    /// The largest available GGUF model whose RAM need fits in `ram_mib`.
    ///
    /// Only published GGUF models with a known need ([`ModelSpec::ram_needed_mib`]) take
    /// part. "Largest" means most parameters, then most bytes; a tie goes to the first id.
    pub fn largest_fitting(self, ram_mib: u64) -> Option<&'static ModelSpec> {
        let mut best: Option<&'static ModelSpec> = None;
        for spec in self.models {
            if !(spec.kind.is_gguf() && spec.is_available()) {
                continue;
            }
            match spec.ram_needed_mib() {
                Some(need) if need <= ram_mib => {}
                _ => continue,
            }
            let key = |m: &ModelSpec| (m.parameters.unwrap_or(0), m.total_bytes().unwrap_or(0));
            if best.is_none_or(|b| key(spec) > key(b)) {
                best = Some(spec);
            }
        }
        best
    }
}

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

fn hex_lower(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0xf)]));
    }
    out
}

/// Percent-encodes like Python's `urllib.parse.quote`: letters, digits and `_.-~` stay, and
/// `/` stays only when `keep_slash` is set.
fn percent_encode_into(out: &mut String, text: &str, keep_slash: bool) {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    for &byte in text.as_bytes() {
        let plain = byte.is_ascii_alphanumeric()
            || matches!(byte, b'_' | b'.' | b'-' | b'~')
            || (keep_slash && byte == b'/');
        if plain {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(DIGITS[usize::from(byte >> 4)]));
            out.push(char::from(DIGITS[usize::from(byte & 0xf)]));
        }
    }
}

include!(concat!(env!("OUT_DIR"), "/registry.rs"));
