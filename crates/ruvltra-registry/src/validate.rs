//! The rules a registry must follow beyond its JSON shape. Every problem is collected, each
//! with the model id and the JSON pointer of the offending value, so one run shows them all.
//!
//! Every check is linear in the size of the registry (hash maps for uniqueness and base
//! lookups), so a registry of a hundred thousand models validates in bounded time.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use serde_json::Value;

use crate::Quant;
use crate::model::{ArtifactKind, Hardware, HubState, Model, Registry, SCHEMA_VERSION};
use crate::naming;

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The id of the model the problem is in, when it is in one.
    pub model_id: Option<String>,
    /// JSON pointer of the offending value (`/models/2/sha256`).
    pub path: String,
    /// What is wrong and what to do, lowercase without a trailing period.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.model_id {
            Some(id) => write!(f, "{} ({}): {}", self.path, cut(id), self.message),
            None => write!(f, "{}: {}", self.path, self.message),
        }
    }
}

/// Every problem of a registry, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problems(pub Vec<Problem>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, problem) in self.0.iter().enumerate() {
            if n > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}

/// Checks every rule and returns every problem at once.
pub fn validate(reg: &Registry) -> Result<(), Problems> {
    let mut checker = Checker {
        registry: reg,
        problems: Vec::new(),
        model_id: None,
        first_index_of_id: HashMap::with_capacity(reg.models.len()),
        first_use_of_file: HashMap::with_capacity(reg.models.len()),
    };
    checker.check_registry();
    if checker.problems.is_empty() {
        Ok(())
    } else {
        Err(Problems(checker.problems))
    }
}

/// Parses a sha256 written as 64 lowercase hex digits, the only form the registry stores.
pub fn parse_sha256(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(hex, &mut out).ok()?;
    Some(out)
}

/// A JSON pointer that is only turned into text when a problem is reported, so that checking
/// a valid registry allocates nothing per value.
#[derive(Clone, Copy)]
struct Pointer<'p> {
    parent: Option<&'p Pointer<'p>>,
    segment: Segment<'p>,
}

#[derive(Clone, Copy)]
enum Segment<'p> {
    Root,
    Key(&'p str),
    Index(usize),
}

impl<'p> Pointer<'p> {
    const ROOT: Pointer<'static> = Pointer {
        parent: None,
        segment: Segment::Root,
    };

    fn key(&'p self, key: &'p str) -> Pointer<'p> {
        Pointer {
            parent: Some(self),
            segment: Segment::Key(key),
        }
    }

    fn index(&'p self, index: usize) -> Pointer<'p> {
        Pointer {
            parent: Some(self),
            segment: Segment::Index(index),
        }
    }

    fn render(&self) -> String {
        let mut segments = Vec::new();
        let mut at = Some(self);
        while let Some(pointer) = at {
            segments.push(pointer.segment);
            at = pointer.parent;
        }
        let mut text = String::new();
        for segment in segments.iter().rev() {
            match segment {
                Segment::Root => {}
                Segment::Key(key) => {
                    // RFC 6901 escapes; only unknown keys from the file can hold these.
                    text.push('/');
                    text.push_str(&key.replace('~', "~0").replace('/', "~1"));
                }
                Segment::Index(index) => {
                    text.push('/');
                    text.push_str(&index.to_string());
                }
            }
        }
        text
    }
}

/// Where a file was first listed: its model and, for an extra file, its index there.
type FileUse = (usize, Option<usize>);

fn file_use_pointer((model, extra): FileUse) -> String {
    match extra {
        None => format!("/models/{model}/file"),
        Some(n) => format!("/models/{model}/extra_files/{n}/file"),
    }
}

struct Checker<'a> {
    registry: &'a Registry,
    problems: Vec<Problem>,
    /// The id of the model being checked, attached to every problem found in it.
    model_id: Option<&'a str>,
    first_index_of_id: HashMap<&'a str, usize>,
    /// (repository, lowercase file) -> its first use.
    first_use_of_file: HashMap<(&'a str, String), FileUse>,
}

impl<'a> Checker<'a> {
    fn report(&mut self, path: Pointer<'_>, message: impl Into<String>) {
        self.problems.push(Problem {
            model_id: self.model_id.filter(|id| !id.is_empty()).map(str::to_owned),
            path: path.render(),
            message: message.into(),
        });
    }

    fn check_registry(&mut self) {
        let reg = self.registry;
        if reg.schema_version != SCHEMA_VERSION {
            self.report(
                Pointer::ROOT.key("schema_version"),
                format!(
                    "unsupported schema_version {}: this tool reads version {SCHEMA_VERSION}; \
                     use a matching tool or convert the file",
                    reg.schema_version
                ),
            );
        }
        self.repo_id(Pointer::ROOT.key("repo"), &reg.repo, true);
        self.revision(Pointer::ROOT.key("revision"), &reg.revision);

        let catalog = &reg.catalog;
        let catalog_at = Pointer::ROOT.key("catalog");
        self.non_empty(catalog_at.key("title"), catalog.title.as_deref());
        self.non_empty(
            catalog_at.key("description"),
            catalog.description.as_deref(),
        );
        self.license(catalog_at.key("license"), catalog.license.as_deref());
        self.languages(catalog_at.key("languages"), &catalog.languages);
        self.tags(catalog_at.key("tags"), &catalog.tags);
        if let Some(repo) = &catalog.modelscope_repo {
            self.repo_id(catalog_at.key("modelscope_repo"), repo, true);
        }
        self.unknown_keys(Pointer::ROOT, &reg.extra, REGISTRY_KEYS);
        self.unknown_keys(catalog_at, &catalog.extra, CATALOG_KEYS);

        // Ids first, so that an adapter may name a base listed after it.
        for (index, model) in reg.models.iter().enumerate() {
            self.first_index_of_id.entry(&model.id).or_insert(index);
        }
        for (index, model) in reg.models.iter().enumerate() {
            self.model_id = Some(&model.id);
            self.check_model(index, model);
        }
        self.model_id = None;
    }

    fn check_model(&mut self, index: usize, model: &'a Model) {
        let models = Pointer::ROOT.key("models");
        let here = models.index(index);
        let at = |key| here.key(key);

        // Identity.
        if let Some(problem) = id_problem(&model.id) {
            self.report(at("id"), problem);
        }
        let first = self.first_index_of_id[model.id.as_str()];
        if first != index {
            self.report(
                at("id"),
                format!(
                    "duplicate id {}, first used at /models/{first}/id; ids must be unique",
                    show(&model.id)
                ),
            );
        }

        // Files.
        let repo = model.repo.as_deref().unwrap_or(&self.registry.repo);
        self.file(at("file"), repo, &model.file, (index, None));
        self.bytes(at("bytes"), model.bytes);
        self.sha256(at("sha256"), model.sha256.as_deref());
        for (n, extra) in model.extra_files.iter().enumerate() {
            let extra_files = here.key("extra_files");
            let path = extra_files.index(n);
            self.file(path.key("file"), repo, &extra.file, (index, Some(n)));
            self.unknown_keys(path, &extra.extra, EXTRA_FILE_KEYS);
            self.bytes(path.key("bytes"), extra.bytes);
            self.sha256(path.key("sha256"), extra.sha256.as_deref());
        }

        // Labels.
        let quant = self.quant(at("quant"), &model.quant);
        if !naming::is_size_label(&model.size) {
            self.report(
                at("size"),
                format!(
                    "size {} is not a parameter label; write digits, an optional fraction and \
                     `b` or `m`, lowercase (`0.5b`, `1.1b`, `3b`, `494m`)",
                    show(&model.size)
                ),
            );
        }
        if let Some(variant) = &model.variant
            && !naming::is_variant(variant)
        {
            self.report(
                at("variant"),
                format!(
                    "variant {} may only hold lowercase letters, digits and single inner \
                     hyphens (`claude-code`)",
                    show(variant)
                ),
            );
        }

        // Kind-specific rules.
        if model.kind.is_gguf() {
            self.gguf(index, model, quant);
        }
        self.adapter_base(index, model);

        // Where it lives.
        if let Some(repo) = &model.repo {
            self.repo_id(at("repo"), repo, true);
        }
        if let Some(revision) = &model.revision {
            self.revision(at("revision"), revision);
        }
        if let Some(repo) = &model.modelscope_repo {
            self.repo_id(at("modelscope_repo"), repo, true);
        }
        if let Some(base_model) = &model.base_model {
            self.repo_id(at("base_model"), base_model, false);
        }
        self.fallback_urls(at("fallback_urls"), &model.fallback_urls);

        // Descriptive fields.
        self.non_empty(at("name"), model.name.as_deref());
        self.non_empty(at("description"), model.description.as_deref());
        if let Some(architecture) = &model.architecture
            && (architecture.is_empty()
                || !architecture.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-' | b'.')
                }))
        {
            self.report(
                at("architecture"),
                format!(
                    "architecture {} is not a GGUF `general.architecture` value such as `qwen2` \
                     (lowercase letters, digits, `_`, `-`, `.`)",
                    show(architecture)
                ),
            );
        }
        self.positive(at("parameters"), model.parameters);
        self.positive(at("context_length"), model.context_length);
        self.license(at("license"), model.license.as_deref());
        self.languages(at("languages"), &model.languages);
        self.tags(at("tags"), &model.tags);
        if let Some(hardware) = &model.hardware {
            self.hardware(at("hardware"), hardware);
        }
        for (n, benchmark) in model.benchmarks.iter().enumerate() {
            let benchmarks = here.key("benchmarks");
            let path = benchmarks.index(n);
            self.non_empty(path.key("name"), Some(&benchmark.name));
            if !benchmark.value.is_finite() {
                self.report(path.key("value"), "benchmark value must be a finite number");
            }
            self.non_empty(path.key("unit"), benchmark.unit.as_deref());
            self.non_empty(path.key("hardware"), benchmark.hardware.as_deref());
            self.unknown_keys(path, &benchmark.extra, BENCHMARK_KEYS);
        }
        if let Some(hub) = &model.hub {
            self.hub(at("hub"), hub);
        }
        if let Some(mirror) = &model.modelscope {
            self.hub(at("modelscope"), mirror);
        }
        self.unknown_keys(here, &model.extra, MODEL_KEYS);
    }

    /// The naming convention, its agreement with the fields, and the shards of a split model.
    fn gguf(&mut self, index: usize, model: &Model, quant: Option<Quant>) {
        let models = Pointer::ROOT.key("models");
        let here = models.index(index);
        let at = |key| here.key(key);
        if let Some(quant) = quant {
            match (model.kind, quant.is_full_precision()) {
                (ArtifactKind::Gguf, true) => self.report(
                    at("kind"),
                    format!("quant {quant} is full precision: set `kind` to `gguf-full-precision`"),
                ),
                (ArtifactKind::GgufFullPrecision, false) => self.report(
                    at("kind"),
                    format!(
                        "kind `gguf-full-precision` needs an f16, bf16 or f32 quant, not \
                         {quant}; use kind `gguf` for quantised models"
                    ),
                ),
                _ => {}
            }
        }
        let Some(parsed) = naming::parse_file_name(&model.file) else {
            self.report(
                at("file"),
                format!(
                    "GGUF file name {} does not follow the naming convention \
                     `ruvltra-[variant-]{{size}}-{{quant}}.gguf` (e.g. \
                     `ruvltra-claude-code-0.5b-q4_k_m.gguf`); rename the file or fix `kind`",
                    show(last_segment(&model.file))
                ),
            );
            return;
        };
        let stem = parsed.stem();
        if model.id != stem {
            self.report(
                at("id"),
                format!(
                    "id {} must be the file stem {}",
                    show(&model.id),
                    show(&stem)
                ),
            );
        }
        // An unknown or upper-case label is reported already.
        if quant.is_some() && model.quant != parsed.quant.label() {
            self.report(
                at("quant"),
                format!(
                    "quant {} disagrees with the file name, which says `{}`",
                    show(&model.quant),
                    parsed.quant
                ),
            );
        }
        if model.size != parsed.size {
            self.report(
                at("size"),
                format!(
                    "size {} disagrees with the file name, which says {}",
                    show(&model.size),
                    show(&parsed.size)
                ),
            );
        }
        if model.variant != parsed.variant {
            let message = match (&model.variant, &parsed.variant) {
                (Some(variant), None) => format!(
                    "variant {} is not in the file name; remove it or rename the file",
                    show(variant)
                ),
                (_, Some(named)) => format!(
                    "the file name says variant {}; set `variant` to it",
                    show(named)
                ),
                (None, None) => unreachable!("the variants differ"),
            };
            self.report(at("variant"), message);
        }
        if let Some((no, count)) = parsed.split {
            if no != 1 {
                self.report(
                    at("file"),
                    format!(
                        "`file` of a split GGUF must be its first shard \
                         (`-00001-of-{count:05}`); list the other shards in `extra_files`"
                    ),
                );
            }
            // Checking each missing shard is bounded by the number of extra files listed, so
            // a huge shard count cannot make validation slow.
            let listed: HashSet<&str> = model.extra_files.iter().map(|f| f.file.as_str()).collect();
            let needed = usize::try_from(count - 1).unwrap_or(usize::MAX);
            if needed > listed.len() {
                self.report(
                    at("extra_files"),
                    format!(
                        "a split GGUF of {count} shards needs shards 2 to {count} in \
                         `extra_files`, but only {} extra files are listed",
                        listed.len()
                    ),
                );
            } else {
                let dir = model.file.rsplit_once('/').map(|(dir, _)| dir);
                for shard in 2..=count {
                    let name = parsed.shard_file_name(shard).expect("the model is split");
                    let path = match dir {
                        Some(dir) => format!("{dir}/{name}"),
                        None => name,
                    };
                    if !listed.contains(path.as_str()) {
                        self.report(
                            at("extra_files"),
                            format!(
                                "shard {} of the split GGUF is missing from `extra_files`",
                                show(&path)
                            ),
                        );
                    }
                }
            }
        }
    }

    /// Adapters name an existing GGUF model as `base`; other artifacts have no `base`.
    fn adapter_base(&mut self, index: usize, model: &Model) {
        let models = Pointer::ROOT.key("models");
        let here = models.index(index);
        let path = here.key("base");
        match (model.kind, &model.base) {
            (ArtifactKind::Adapter, None) => self.report(
                path,
                "an adapter must name the id of the model it applies to in `base`",
            ),
            (ArtifactKind::Adapter, Some(base)) => {
                match self.first_index_of_id.get(base.as_str()) {
                    None => self.report(
                        path,
                        format!(
                            "base {} is not the id of any model in this registry; add that \
                             model or fix the id",
                            show(base)
                        ),
                    ),
                    Some(&base_index) => {
                        let kind = self.registry.models[base_index].kind;
                        if !kind.is_gguf() {
                            self.report(
                                path,
                                format!(
                                    "base {} (/models/{base_index}) is of kind `{}`; an adapter's \
                                     base must be a GGUF model",
                                    show(base),
                                    kind.as_str()
                                ),
                            );
                        }
                    }
                }
            }
            (kind, Some(_)) => self.report(
                path,
                format!(
                    "only adapters have `base`, this is of kind `{}`; use `base_model` for the \
                     upstream Hub model",
                    kind.as_str()
                ),
            ),
            (_, None) => {}
        }
    }

    fn file(&mut self, path: Pointer<'_>, repo: &'a str, file: &str, this_use: FileUse) {
        if let Some(problem) = repo_path_problem(file) {
            self.report(path, format!("file {} {problem}", show(file)));
            return;
        }
        match self.first_use_of_file.entry((repo, file.to_lowercase())) {
            std::collections::hash_map::Entry::Occupied(first) => {
                let first = file_use_pointer(*first.get());
                self.report(
                    path,
                    format!(
                        "file {} is already listed at {first}; every file of a repository must \
                         be unique, ignoring case",
                        show(file)
                    ),
                );
            }
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(this_use);
            }
        }
    }

    fn quant(&mut self, path: Pointer<'_>, label: &str) -> Option<Quant> {
        match Quant::from_label(label) {
            Some(quant) if quant.label() == label => Some(quant),
            Some(quant) => {
                self.report(
                    path,
                    format!("quant {} must be lowercase: `{quant}`", show(label)),
                );
                None
            }
            None => {
                self.report(
                    path,
                    format!(
                        "unknown quant label {}; use a llama.cpp label such as q4_k_m, q8_0 or f16",
                        show(label)
                    ),
                );
                None
            }
        }
    }

    fn sha256(&mut self, path: Pointer<'_>, sha256: Option<&str>) {
        if let Some(sha256) = sha256
            && parse_sha256(sha256).is_none()
        {
            self.report(
                path,
                format!(
                    "sha256 {} is not 64 lowercase hex digits; leave it out until sync or \
                     publish fills it",
                    show(sha256)
                ),
            );
        }
    }

    fn bytes(&mut self, path: Pointer<'_>, bytes: Option<u64>) {
        if bytes == Some(0) {
            self.report(
                path,
                "bytes must be positive; leave it out until sync or publish fills it",
            );
        }
    }

    fn positive(&mut self, path: Pointer<'_>, value: Option<u64>) {
        if value == Some(0) {
            self.report(path, "must be positive; leave it out when unknown");
        }
    }

    fn non_empty(&mut self, path: Pointer<'_>, text: Option<&str>) {
        if text.is_some_and(|text| text.trim().is_empty()) {
            self.report(path, "is empty; fill it or leave the key out");
        }
    }

    fn repo_id(&mut self, path: Pointer<'_>, id: &str, namespace_required: bool) {
        if let Some(problem) = repo_id_problem(id, namespace_required) {
            self.report(
                path,
                format!(
                    "{} is not a Hub repo id: {problem} (expected `namespace/name` such as \
                     `ruv/ruvltra`)",
                    show(id)
                ),
            );
        }
    }

    fn revision(&mut self, path: Pointer<'_>, revision: &str) {
        if revision.is_empty() {
            self.report(
                path,
                "revision is empty; use a branch, tag or 40-hex commit such as `main`",
            );
            return;
        }
        let problem = if revision
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
        {
            Some("contains whitespace or a control character")
        } else if revision.contains("..") {
            Some("contains `..`")
        } else if revision.len() > 255 {
            Some("is longer than 255 bytes")
        } else {
            None
        };
        if let Some(problem) = problem {
            self.report(
                path,
                format!(
                    "revision {} {problem}; use a branch, tag or 40-hex commit such as `main`",
                    show(revision)
                ),
            );
        }
    }

    fn license(&mut self, path: Pointer<'_>, license: Option<&str>) {
        if let Some(license) = license
            && (license.is_empty()
                || !license.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'.')
                }))
        {
            self.report(
                path,
                format!(
                    "license {} is not a Hub licence id such as `apache-2.0` (lowercase letters, \
                     digits, `-`, `.`)",
                    show(license)
                ),
            );
        } else if let Some(license) = license
            && !ruvltra_vocab::is_hub_license(license)
        {
            // The card's front matter reads the catalog's `license_name` and `license_link`;
            // a model's own ones name its licence in the card's licence section.
            let owner = if self.model_id.is_some() {
                "the model"
            } else {
                "the catalog"
            };
            self.report(
                path,
                format!(
                    "license {} is not one of the Hub's licence ids (such as `apache-2.0`, `mit`, \
                     `llama3.1`) and the Hub would refuse the card; set `license` to `other` and \
                     give {owner} `license_name` (a lowercase slug) and `license_link` (the \
                     licence's URL), which the card writes",
                    show(license)
                ),
            );
        }
    }

    fn languages(&mut self, path: Pointer<'_>, languages: &[String]) {
        for (n, language) in languages.iter().enumerate() {
            if !(2..=3).contains(&language.len())
                || !language.bytes().all(|b| b.is_ascii_lowercase())
            {
                self.report(
                    path.index(n),
                    format!(
                        "language {} is not an ISO 639 code such as `en` (two or three \
                         lowercase letters)",
                        show(language)
                    ),
                );
            }
        }
    }

    fn tags(&mut self, path: Pointer<'_>, tags: &[String]) {
        for (n, tag) in tags.iter().enumerate() {
            if tag.trim().is_empty() || tag.chars().any(char::is_control) {
                self.report(
                    path.index(n),
                    format!(
                        "tag {} must be non-empty text without control characters",
                        show(tag)
                    ),
                );
            }
        }
    }

    fn hardware(&mut self, path: Pointer<'_>, hardware: &Hardware) {
        self.unknown_keys(path, &hardware.extra, HARDWARE_KEYS);
        self.positive(path.key("min_ram_mib"), hardware.min_ram_mib);
        self.positive(
            path.key("recommended_ram_mib"),
            hardware.recommended_ram_mib,
        );
        self.positive(path.key("min_vram_mib"), hardware.min_vram_mib);
        if let (Some(min), Some(recommended)) = (hardware.min_ram_mib, hardware.recommended_ram_mib)
            && min > recommended
        {
            self.report(
                path.key("min_ram_mib"),
                format!(
                    "min_ram_mib {min} exceeds recommended_ram_mib {recommended}; swap or fix them"
                ),
            );
        }
        for (n, accelerator) in hardware.accelerators.iter().enumerate() {
            if accelerator.is_empty()
                || !accelerator.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_')
                })
            {
                self.report(
                    path.key("accelerators").index(n),
                    format!(
                        "accelerator {} must be a lowercase name such as `cpu`, `metal`, `ane` \
                         or `cuda`",
                        show(accelerator)
                    ),
                );
            }
        }
    }

    fn hub(&mut self, path: Pointer<'_>, hub: &HubState) {
        self.unknown_keys(path, &hub.extra, HUB_STATE_KEYS);
        let is_commit = hub.commit.len() == 40
            && hub
                .commit
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if !is_commit {
            self.report(
                path.key("commit"),
                format!(
                    "commit {} is not a 40-hex lowercase git commit id; run `cargo xtask sync` \
                     to refresh it",
                    show(&hub.commit)
                ),
            );
        }
        if !is_rfc3339(&hub.synced_at) {
            self.report(
                path.key("synced_at"),
                format!(
                    "synced_at {} is not an RFC 3339 time such as `2026-01-20T12:00:00Z`",
                    show(&hub.synced_at)
                ),
            );
        }
        self.tags(path.key("tags"), &hub.tags);
    }

    /// Unknown keys are kept, but one that looks like a misspelt known key is most likely a
    /// mistake that would silently lose its value (`sha265`, `Bytes`, `base-model`).
    fn unknown_keys(&mut self, at: Pointer<'_>, extra: &BTreeMap<String, Value>, known: &[&str]) {
        for key in extra.keys() {
            if key.starts_with("x_") || key.starts_with('$') {
                continue;
            }
            if let Some(similar) = known.iter().find(|known| looks_like(key, known)) {
                self.report(
                    at.key(key),
                    format!(
                        "unknown key {} looks like a misspelling of `{similar}`; fix it, or start \
                         custom keys with `x_`",
                        show(key)
                    ),
                );
            }
        }
    }

    fn fallback_urls(&mut self, list: Pointer<'_>, urls: &[String]) {
        let mut seen = HashSet::with_capacity(urls.len());
        for (n, url) in urls.iter().enumerate() {
            let path = list.index(n);
            if let Some(problem) = fallback_url_problem(url) {
                self.report(path, format!("fallback URL {} {problem}", show(url)));
            } else if !seen.insert(url.as_str()) {
                self.report(path, format!("fallback URL {} is listed twice", show(url)));
            }
        }
    }
}

/// The keys each struct of the format knows; a test keeps them in step with the types.
const REGISTRY_KEYS: &[&str] = &["schema_version", "repo", "revision", "catalog", "models"];
const CATALOG_KEYS: &[&str] = &[
    "title",
    "description",
    "license",
    "languages",
    "tags",
    "modelscope_repo",
];
const MODEL_KEYS: &[&str] = &[
    "id",
    "file",
    "quant",
    "size",
    "variant",
    "kind",
    "status",
    "name",
    "description",
    "architecture",
    "parameters",
    "context_length",
    "base_model",
    "base",
    "license",
    "languages",
    "hardware",
    "tags",
    "benchmarks",
    "fallback_urls",
    "repo",
    "revision",
    "bytes",
    "sha256",
    "extra_files",
    "modelscope_repo",
    "hub",
    "modelscope",
    "needs_review",
];
const EXTRA_FILE_KEYS: &[&str] = &["file", "bytes", "sha256"];
const HARDWARE_KEYS: &[&str] = &[
    "min_ram_mib",
    "recommended_ram_mib",
    "min_vram_mib",
    "accelerators",
];
const BENCHMARK_KEYS: &[&str] = &["name", "value", "unit", "hardware"];
const HUB_STATE_KEYS: &[&str] = &["commit", "synced_at", "tags"];

/// True when `key` is a known key spelt differently: other case or separators, or one edit
/// (a letter added, dropped, changed or two swapped) away; two edits for keys of eight or
/// more letters.
fn looks_like(key: &str, known: &str) -> bool {
    let normal = |s: &str| s.to_ascii_lowercase().replace(['-', ' '], "_");
    if normal(key) == known {
        return true;
    }
    let limit = if known.len() >= 8 { 2 } else { 1 };
    key.len().abs_diff(known.len()) <= limit && edit_distance(key, known) <= limit
}

/// The optimal-string-alignment distance over bytes (Levenshtein plus swaps of neighbours);
/// only called on keys of similar length to a short known key.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    for i in 0..=a.len() {
        for j in 0..=b.len() {
            d[i * width + j] = if i == 0 || j == 0 {
                i + j
            } else {
                let cost = usize::from(a[i - 1] != b[j - 1]);
                let mut best = (d[(i - 1) * width + j] + 1)
                    .min(d[i * width + j - 1] + 1)
                    .min(d[(i - 1) * width + j - 1] + cost);
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    best = best.min(d[(i - 2) * width + j - 2] + 1);
                }
                best
            };
        }
    }
    d[a.len() * width + b.len()]
}

fn last_segment(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Quotes a value from the file for a message: escaped, in backticks, and cut short when long
/// so that a hostile file cannot flood the report.
fn show(value: &str) -> String {
    format!("`{}`", cut(value))
}

/// Escapes control characters and cuts a value short at 80 characters.
fn cut(value: &str) -> String {
    const MAX_CHARS: usize = 80;
    let mut shown: String = value
        .chars()
        .take(MAX_CHARS)
        .flat_map(char::escape_debug)
        .collect();
    if value.chars().nth(MAX_CHARS).is_some() {
        shown.push('…');
    }
    shown
}

/// Ids are lowercase and safe everywhere they end up: file names, URLs and Rust identifiers.
fn id_problem(id: &str) -> Option<String> {
    if id.is_empty() {
        return Some("id is empty; use the file stem such as `ruvltra-small-0.5b-q4_k_m`".into());
    }
    let valid = id.len() <= 255
        && id.as_bytes()[0].is_ascii_alphanumeric()
        && id.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'.' | b'_')
        });
    (!valid).then(|| {
        format!(
            "id {} may only hold lowercase letters, digits, `-`, `.` and `_`, start with a letter \
             or digit and be at most 255 bytes",
            show(id)
        )
    })
}

/// The Hub's repo id rules: `namespace/name`, each part `[A-Za-z0-9._-]`, at most 96
/// characters, no `--` or `..`, not starting or ending with `-` or `.`.
fn repo_id_problem(id: &str, namespace_required: bool) -> Option<String> {
    let parts: Vec<&str> = id.split('/').collect();
    match parts.len() {
        1 if namespace_required => return Some("it has no namespace".into()),
        1 | 2 => {}
        _ => return Some("it has more than one `/`".into()),
    }
    for part in parts {
        let problem = if part.is_empty() {
            "a part is empty"
        } else if part.len() > 96 {
            "a part is longer than 96 characters"
        } else if !part
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        {
            "only letters, digits, `.`, `_` and `-` are allowed"
        } else if part.contains("--") || part.contains("..") {
            "`--` and `..` are not allowed"
        } else if part.starts_with(['-', '.']) || part.ends_with(['-', '.']) {
            "a part starts or ends with `-` or `.`"
        } else {
            continue;
        };
        return Some(problem.into());
    }
    None
}

/// A path inside a repository that is safe to use as a local path on every platform.
fn repo_path_problem(path: &str) -> Option<&'static str> {
    let bytes = path.as_bytes();
    Some(if path.is_empty() {
        "is empty"
    } else if path.starts_with('/') {
        "is absolute; paths are relative to the repository root"
    } else if path.contains('\\') {
        "contains a backslash; separate folders with `/`"
    } else if bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
        "starts with a drive letter; paths are relative to the repository root"
    } else if path.contains('\0') {
        "contains a NUL byte"
    } else if path.chars().any(char::is_control) {
        "contains a control character"
    } else if path.len() > 1024 {
        "is longer than 1024 bytes"
    } else {
        let mut problem = None;
        for segment in path.split('/') {
            problem = match segment {
                "" => Some("has an empty segment (`//` or a trailing `/`)"),
                "." => Some("has a `.` segment"),
                ".." => Some("has a `..` segment, which would leave the repository"),
                _ if segment.len() > 255 => Some("has a segment longer than 255 bytes"),
                _ => continue,
            };
            break;
        }
        return problem;
    })
}

/// Fallback URLs must be https; plain http only to a loopback host, for tests.
fn fallback_url_problem(raw: &str) -> Option<String> {
    let url = match url::Url::parse(raw) {
        Ok(url) => url,
        Err(err) => return Some(format!("is not a URL ({err}); write an absolute https URL")),
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Some("carries credentials; never put secrets in the registry".into());
    }
    let Some(host) = url.host() else {
        return Some("has no host; write an absolute https URL".into());
    };
    let scheme_problem = match url.scheme() {
        "https" => None,
        "http" if is_loopback(&host) => None,
        "http" => {
            Some("uses plain http; use https (http is only allowed for loopback hosts)".into())
        }
        other => Some(format!("uses the scheme `{other}`; use https")),
    };
    // URL parsers disagree on odd spellings (`https:///host`, tabs, backslashes, upper case);
    // only the normal form means the same to every client.
    scheme_problem.or_else(|| {
        (url.as_str() != raw)
            .then(|| format!("is not in normal form; write it as {}", show(url.as_str())))
    })
}

fn is_loopback(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(domain) => *domain == "localhost",
        url::Host::Ipv4(ip) => *ip == std::net::Ipv4Addr::LOCALHOST,
        url::Host::Ipv6(ip) => *ip == std::net::Ipv6Addr::LOCALHOST,
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, with the fields in range.
fn is_rfc3339(text: &str) -> bool {
    let b = text.as_bytes();
    if b.len() < 20 || !text.is_ascii() {
        return false;
    }
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = &text[range];
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let date_time_ok = b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && num(0..4).is_some()
        && num(5..7).is_some_and(|m| (1..=12).contains(&m))
        && num(8..10).is_some_and(|d| (1..=31).contains(&d))
        && num(11..13).is_some_and(|h| h < 24)
        && num(14..16).is_some_and(|m| m < 60)
        && num(17..19).is_some_and(|s| s <= 60);
    if !date_time_ok {
        return false;
    }
    let mut rest = &text[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return false;
        }
        rest = &fraction[digits..];
    }
    if rest == "Z" {
        return true;
    }
    let o = rest.as_bytes();
    o.len() == 6
        && matches!(o[0], b'+' | b'-')
        && o[3] == b':'
        && rest[1..3].parse::<u32>().is_ok_and(|h| h < 24)
        && rest[4..6].parse::<u32>().is_ok_and(|m| m < 60)
        && rest[1..3]
            .bytes()
            .chain(rest[4..6].bytes())
            .all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The key lists used for misspelling hints match the properties of the JSON Schema,
    /// which is derived from the types.
    #[test]
    fn known_key_lists_match_the_types() {
        let schema = crate::json_schema();
        let keys = |definition: &Value| -> Vec<String> {
            let mut keys: Vec<String> = definition["properties"]
                .as_object()
                .unwrap()
                .keys()
                .filter(|key| *key != "$schema")
                .cloned()
                .collect();
            keys.sort();
            keys
        };
        let sorted = |list: &[&str]| {
            let mut list: Vec<String> = list.iter().map(|key| key.to_string()).collect();
            list.sort();
            list
        };
        assert_eq!(keys(&schema), sorted(REGISTRY_KEYS));
        for (name, list) in [
            ("CatalogInfo", CATALOG_KEYS),
            ("Model", MODEL_KEYS),
            ("ExtraFile", EXTRA_FILE_KEYS),
            ("Hardware", HARDWARE_KEYS),
            ("Benchmark", BENCHMARK_KEYS),
            ("HubState", HUB_STATE_KEYS),
        ] {
            assert_eq!(keys(&schema["$defs"][name]), sorted(list), "{name}");
        }
    }

    #[test]
    fn misspellings_are_recognised() {
        for (key, known) in [
            ("sha265", "sha256"),
            ("Bytes", "bytes"),
            ("base-model", "base_model"),
            ("contextlength", "context_length"),
            ("quantt", "quant"),
            ("titel", "title"),
            ("revison", "revision"),
            ("sha_256", "sha256"),
        ] {
            assert!(looks_like(key, known), "{key} ~ {known}");
        }
        for (key, known) in [
            ("notes", "bytes"),
            ("x", "id"),
            ("size_on_disk", "size"),
            ("min_ram", "min_ram_mib"),
        ] {
            assert!(!looks_like(key, known), "{key} !~ {known}");
        }
    }
}
